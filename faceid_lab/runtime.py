"""Where the course runs: the profile's name, FACEID_LAB_HOME, and whether a person or a kernel is there.

The bottom of the package: train/, profiles and viz read these, and nothing here imports the
rest of the package. The notebook's set-up cell is `course.setup`, built on these.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from .errors import ConfigError

PROFILES = ("ci", "cpu", "gpu")


def in_colab() -> bool:
    return "google.colab" in sys.modules


def profile() -> str:
    """The active profile: FACEID_LAB_PROFILE, else `gpu` with CUDA, else `cpu`."""
    name = os.environ.get("FACEID_LAB_PROFILE", "").strip().lower()
    if not name:
        return "gpu" if torch.cuda.is_available() else "cpu"
    if name not in PROFILES:
        raise ConfigError(f"FACEID_LAB_PROFILE={name!r} is not a profile: set it to one of {', '.join(PROFILES)}, "
                          "or unset it (then: gpu with CUDA, else cpu)")
    return name


def home() -> Path:
    """FACEID_LAB_HOME (default ~/.cache/faceid_lab): shards, checkpoints, runs."""
    path = Path(os.environ.get("FACEID_LAB_HOME", Path.home() / ".cache" / "faceid_lab")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def path(*parts: str) -> Path:
    """A path under home(), its parent created: runtime.path("checkpoints", "judge_cpu.pt")."""
    p = home().joinpath(*parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def headless() -> bool:
    """True when no person is looking (tests, `course run`, CI): widgets get a static fallback."""
    return os.environ.get("FACEID_LAB_HEADLESS", "") == "1" or os.environ.get("CI", "") == "true"


def figure_widgets() -> bool:
    """Whether to build plotly FigureWidgets (live, linked to ipywidgets): yes in JupyterLab and
    VS Code, no on Colab, whose widget manager does not show them reliably; there the notebooks
    show plain plotly figures with frames and a slider, which render everywhere.
    FACEID_LAB_FIGUREWIDGET=1 or 0 overrides."""
    choice = os.environ.get("FACEID_LAB_FIGUREWIDGET", "")
    if choice in ("0", "1"):
        return choice == "1"
    return not in_colab()


def ipython_shell():
    """The running IPython shell (a notebook kernel), or None (a script, the CLI, a test)."""
    try:
        from IPython import get_ipython  # why: IPython is optional outside a notebook
    except ImportError:
        return None
    return get_ipython()
