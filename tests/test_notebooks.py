"""Every reference notebook opens the same way (COURSE.md: first cells of every notebook)."""

import nbformat
import pytest

from faceid_lab import course, source
from faceid_lab.notebooks import EXERCISES, reference_notebooks

NOTEBOOKS = reference_notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cells(path):
    cells = nbformat.read(path, as_version=4).cells
    title = cells[0].source
    assert title.startswith("# ") and "Learning goals" in title
    assert source.colab_link(f"notebooks/{path.name}") in title and "colab-badge" in title
    assert "version-solution" in title
    setup = cells[1].source
    assert course.PIP_SPEC in setup and "course.setup(" in setup
    assert "USE_DRIVE = False" in setup and "use_drive=USE_DRIVE" in setup  # Drive only if the learner agrees
    assert f'notebook="{path.stem}"' in setup
    config = next(c for c in cells[2:5] if c.cell_type == "code").source
    assert "course.by_profile(" in config


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_links_and_is_clean(path):
    student = nbformat.read(EXERCISES / path.name, as_version=4)
    assert source.colab_link(f"notebooks/exercises/{path.name}") in student.cells[0].source
    assert "version-exercise" in student.cells[0].source
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_reference_outputs_are_committed_and_small(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code[:2]), "commit the cpu-profile outputs (course run --write-back)"
    assert path.stat().st_size < 3 * 1024 * 1024
    banner = "".join(o.get("text", "") for o in code[0].outputs)
    assert "profile cpu" in banner, "committed outputs must come from a cpu-profile run"
