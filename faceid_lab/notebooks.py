"""Notebook tooling: student versions from reference solutions, and running the course.

Reference notebooks live in notebooks/NN_name.ipynb. A code cell tagged `solution`
holds imports and function definitions only; its student version keeps each
signature and docstring and replaces the body with

    raise NotImplementedError("<the cell's # HINT: lines>")

Cells tagged `check` call a checker from faceid_lab.exercises and stay as they are.
"""

from __future__ import annotations

import ast
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import course
from .source import colab_link

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = NOTEBOOKS / "exercises"
NB_VERSION = 4


class ExerciseError(ValueError):
    """A solution cell that cannot become a stub; the message names notebook and cell."""


def reference_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: notebook commands work in a clone of the "
                                f"repository installed with `pip install -e .` ({course.REPO_URL})")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def make_stub(source: str, where: str = "solution cell") -> str:
    """The student version of a solution cell's source (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ExerciseError(f"{where}: not valid Python ({e})") from e
    lines = source.splitlines()
    hints = [ln.split("HINT:", 1)[1].strip() for ln in lines if ln.strip().startswith("# HINT:")]
    hint = " ".join(hints) or "implement this function (the markdown above says what it must do)"
    out: list[str] = ["# EXERCISE: replace each `raise NotImplementedError` with your code."]
    functions = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(lines[node.lineno - 1:node.end_lineno])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions += 1
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            body = node.body
            has_doc = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                       and isinstance(body[0].value.value, str))
            header_end = body[0].end_lineno if has_doc else body[0].lineno - 1
            out.append("")
            out.extend(lines[first - 1:header_end])
            indent = " " * body[0].col_offset
            out.append(f"{indent}raise NotImplementedError({hint!r})")
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # a bare string: a note to the reader, dropped
        else:
            raise ExerciseError(f"{where}: line {node.lineno} is neither an import nor a function "
                                "definition; move it to a cell that is not tagged `solution`")
    if functions == 0:
        raise ExerciseError(f"{where}: a `solution` cell must define at least one function")
    return "\n".join(out) + "\n"


def student_version(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of reference notebook `nb` with stubs for solutions, no outputs, exercise badges."""
    out = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=NB_VERSION))
    for k, cell in enumerate(out.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code":
            if "solution" in tags:
                cell.source = make_stub(cell.source, f"{name} cell {k}")
                cell.metadata["tags"] = [t if t != "solution" else "exercise" for t in tags]
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = (cell.source
                           .replace(colab_link(f"notebooks/{name}"), colab_link(f"notebooks/exercises/{name}"))
                           .replace("badge/version-solution-green", "badge/version-exercise-orange")
                           .replace("![version: solution]", "![version: exercise]"))
    out.metadata.pop("widgets", None)
    return out


def build_exercises(write: bool = True) -> list[Path]:
    """Generate notebooks/exercises/*.ipynb; return the files that were (or would be) changed."""
    EXERCISES.mkdir(parents=True, exist_ok=True)
    changed = []
    for path in reference_notebooks():
        nb = nbformat.read(path, as_version=NB_VERSION)
        text = nbformat.writes(student_version(nb, path.name)) + "\n"
        target = EXERCISES / path.name
        if not target.exists() or target.read_text() != text:
            changed.append(target)
            if write:
                target.write_text(text)
    expected = {p.name for p in reference_notebooks()}
    for stale in EXERCISES.glob("*.ipynb"):
        if stale.name not in expected:
            changed.append(stale)
            if write:
                stale.unlink()
    return changed


@dataclass
class RunResult:
    notebook: str
    status: str
    seconds: float
    output: Path | None
    error: str = ""


def run_notebooks(profile: str | None = None, only: str | None = None, out_dir: Path | None = None,
                  timeout: int = 1800, write_back: bool = False) -> list[RunResult]:
    """Execute reference notebooks headless with nbclient into `out_dir` (default
    FACEID_LAB_HOME/runs/<profile>); the committed notebooks are only rewritten with
    `write_back=True` (how maintainers refresh the committed cpu-profile outputs)."""
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        from .errors import ConfigError

        raise ConfigError("running notebooks from a terminal needs the `lab` extra: pip install "
                          "'faceid-lab[lab]' (or `make course`, which installs it)") from None

    profile = profile or course.profile()
    if profile not in course.PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {course.PROFILES}")
    os.environ["FACEID_LAB_PROFILE"] = profile  # the kernel inherits the environment
    os.environ["FACEID_LAB_HEADLESS"] = "1"
    out_dir = Path(out_dir) if out_dir else course.home() / "runs" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = reference_notebooks()
    if only:
        paths = [p for p in paths if only in p.stem]
        if not paths:
            raise FileNotFoundError(f"no notebook in {NOTEBOOKS} matches {only!r}; "
                                    f"there are: {', '.join(p.stem for p in reference_notebooks())}")
    results = []
    for path in paths:
        nb = nbformat.read(path, as_version=NB_VERSION)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        began = time.perf_counter()
        status, error = "ok", ""
        try:
            client.execute()
        except CellExecutionError as e:
            status, error = "failed", _last_line(str(e))
        except Exception as e:  # noqa: BLE001 - a dead kernel or a timeout is a failed notebook
            status, error = "failed", f"{type(e).__name__}: {_last_line(str(e))}"
        seconds = time.perf_counter() - began
        target = path if (write_back and status == "ok") else out_dir / path.name
        if target == path:  # committed notebooks keep outputs, not per-cell timestamps (diff noise)
            for cell in nb.cells:
                cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, target)
        results.append(RunResult(path.stem, status, seconds, target, error))
    return results


def _last_line(text: str) -> str:
    lines = [ln for ln in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def format_table(results: list[RunResult]) -> str:
    width = max([len(r.notebook) for r in results] + [8])
    rows = [f"{'notebook':<{width}}  status  seconds", f"{'-' * width}  ------  -------"]
    for r in results:
        rows.append(f"{r.notebook:<{width}}  {r.status:<6}  {r.seconds:7.1f}")
        if r.error:
            rows.append(f"{'':<{width}}  -> {r.error}")
    return "\n".join(rows)
