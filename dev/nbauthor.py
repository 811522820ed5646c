"""Shared by the dev/make_nbNN.py authoring scripts: the course's first cells and the writer.

Each script builds one reference notebook from Python strings (the .ipynb is then the source
of truth; outputs come from `faceid-lab course run --profile cpu --write-back`).
"""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from faceid_lab import source


class NotebookDraft:
    def __init__(self, name: str):
        self.name = name
        self.cells = []

    def md(self, text: str) -> None:
        self.cells.append(new_markdown_cell(text.strip()))

    def code(self, text: str, tags=()) -> None:
        self.cells.append(new_code_cell(text.strip(), metadata={"tags": list(tags)} if tags else {}))

    def opening(self, title: str, goals: list[str]) -> None:
        """Title, badges and learning goals; then the set-up cell every notebook starts with."""
        colab = source.colab_link(f"notebooks/{self.name}")
        lines = "\n".join(f"- {g}" for g in goals)
        self.md(f"""
# {title}

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})
![version: solution](https://img.shields.io/badge/version-solution-green)

**Learning goals**
{lines}
""")
        stem = self.name.removesuffix(".ipynb")
        self.code(f"""
# Set-up. On Colab this installs the course package (about a minute). Everywhere it prints the
# banner, then what this notebook will train and how long that takes on this machine.
USE_DRIVE = False  # Colab only: True keeps the trained models on your Google Drive (Colab asks first)

import sys

if "google.colab" in sys.modules:
    %pip install -q "{source.pip_spec()}"

from faceid_lab import course

env = course.setup(seed=0, use_drive=USE_DRIVE, notebook="{stem}")
""")

    def write(self) -> None:
        nb = new_notebook(cells=self.cells, metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        })
        nbformat.write(nb, f"notebooks/{self.name}")
        print("wrote", self.name)
