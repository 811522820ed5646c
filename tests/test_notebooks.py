"""Every reference notebook opens the same way (COURSE.md: first cells of every notebook)."""

import nbformat
import pytest

from faceid_lab import course, source
from faceid_lab.notebooks import EXERCISES, reference_notebooks, typed_numbers

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_states_no_typed_measurement(path):
    found = typed_numbers(nbformat.read(path, as_version=4), path.stem)
    assert not found, "print measured numbers from code, not in markdown: " + "; ".join(map(str, found))


def test_a_planted_number_is_caught_and_parameters_are_not():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert typed_numbers(nb, NOTEBOOKS[0].stem) == []
    nb.cells.append(nbformat.v4.new_markdown_cell("G now scores 0.583 after about 12 minutes; pitch is off by +8°."))
    assert [t.number for t in typed_numbers(nb, NOTEBOOKS[0].stem)] == ["0.583", "12 minutes", "8°"]
    plain = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("MARGIN = 0.2"),
        nbformat.v4.new_markdown_cell("A margin of 0.2 (`lr=3e-4`, `0.75`), [v1.5.2](https://x.org/2.5), $x^{0.5}$, "
                                      "the 1.5-autoencoder, 95% intervals, 64 px faces, 2N classes."),
    ])
    assert typed_numbers(plain, "plain") == []
    assert [t.number for t in typed_numbers(plain, "08_frontalization")] == []
    plain.cells.append(nbformat.v4.new_markdown_cell("The paper reports 0.72."))
    assert [t.number for t in typed_numbers(plain, "plain")] == ["0.72"]
    assert typed_numbers(plain, "08_frontalization") == []  # a number quoted from the paper, listed with its source
