"""Notebook tooling: student versions from reference solutions, and running the course.

Reference notebooks live in notebooks/NN_name.ipynb. A code cell tagged `solution`
holds imports and function definitions only; its student version keeps each
signature and docstring and replaces the body with

    raise NotImplementedError("<the cell's # HINT: lines>")

Under it, a collapsed markdown cell holds the reference solution. Cells tagged `check` call
`exercises.checked(checker, function)`, which falls back to the same reference (generated into
faceid_lab/solutions.py from these cells) while the learner's function does not pass.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import course, runtime
from .errors import ConfigError
from .source import colab_link

if TYPE_CHECKING:
    import nbformat


def _nbformat():
    """nbformat, imported when a notebook is first read or written."""
    import nbformat  # why: 1.7 s to import (jsonschema); only `exercises` and `course run` need it

    return nbformat

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

    def has_doc(body: list) -> bool:
        return (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str))

    def stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        body = node.body
        header_end = body[0].end_lineno if has_doc(body) else body[0].lineno - 1
        out.append("")
        out.extend(lines[first - 1:header_end])
        out.append(f"{' ' * body[0].col_offset}raise NotImplementedError({hint!r})")

    functions = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(lines[node.lineno - 1:node.end_lineno])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions += 1
            stub_function(node)
        elif isinstance(node, ast.ClassDef):  # a module to write: its header and docstring, each method a stub
            functions += 1
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            out.append("")
            out.extend(lines[first - 1:node.body[0].end_lineno if has_doc(node.body) else node.lineno])
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    stub_function(method)
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # a bare string: a note to the reader, dropped
        else:
            raise ExerciseError(f"{where}: line {node.lineno} is neither an import nor a function or class "
                                "definition; move it to a cell that is not tagged `solution`")
    if functions == 0:
        raise ExerciseError(f"{where}: a `solution` cell must define at least one function or class")
    return "\n".join(out) + "\n"


SOLUTIONS = ROOT / "faceid_lab" / "solutions.py"
SOLUTIONS_HEADER = '''"""The reference solutions of every exercise, one function per exercise.

Generated from the reference notebooks' `solution` cells by `faceid-lab exercises build`: edit the
notebook, not this file (`faceid-lab exercises check` fails when it is stale). A student notebook's
check cell (`exercises.checked`) falls back to these when the learner's version does not pass yet,
so a skipped exercise never stops the cells after it.
"""
'''


def _without_hints(lines: list[str]) -> list[str]:
    """A solution's lines without its `# HINT:` comments (they belong to the stub)."""
    return [ln for ln in lines if not ln.strip().startswith("# HINT:")]


def _import_key(line: str) -> tuple:
    module = line.split()[1]
    top = module.split(".")[0]
    section = 0 if top in sys.stdlib_module_names else 2 if top == "faceid_lab" else 1
    return section, line.startswith("from "), module.lower(), line


def solutions_source(paths: list[Path] | None = None) -> str:
    """The text of faceid_lab/solutions.py: every solution cell's imports (sorted once) and functions."""
    imports: set[str] = set()
    functions: list[str] = []
    seen: dict[str, str] = {}
    for path in paths or reference_notebooks():
        nb = _nbformat().read(path, as_version=NB_VERSION)
        for k, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "solution" not in cell.metadata.get("tags", []):
                continue
            make_stub(cell.source, f"{path.stem} cell {k}")  # the same rules: imports and functions only
            lines = cell.source.splitlines()
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    imports.update(lines[node.lineno - 1:node.end_lineno])
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    if node.name in seen:
                        raise ExerciseError(f"{path.stem} cell {k}: `{node.name}` is also an exercise of "
                                            f"{seen[node.name]}; give each exercise its own function name")
                    seen[node.name] = f"{path.stem} cell {k}"
                    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    body = _without_hints(lines[first - 1:node.end_lineno])
                    functions.append(f"# {path.stem}, cell {k}\n" + "\n".join(body))
    sections: dict[int, list[str]] = {}  # isort's sections: standard library, third party, first party
    for line in sorted(imports, key=_import_key):
        sections.setdefault(_import_key(line)[0], []).append(line)
    blocks = "\n\n".join("\n".join(lines) for lines in sections.values())
    return SOLUTIONS_HEADER + "\n" + blocks + "\n\n\n" + "\n\n\n".join(functions) + "\n"


def reference_cell(source: str, cell_id: str) -> nbformat.NotebookNode:
    """The student notebook's collapsed reference: the solution without its hint lines."""
    code = "\n".join(_without_hints(source.splitlines())).strip()
    return _nbformat().v4.new_markdown_cell(
        "<details><summary><b>Reference solution</b> (open it after you have tried; the check below "
        "falls back to it while yours does not pass)</summary>\n\n```python\n" + code + "\n```\n\n</details>",
        metadata={"tags": ["reference"]}, id=cell_id)


def unanswered(source: str, where: str = "answers cell") -> str:
    """An answers cell (`answers = {1: "b", ...}`) with every letter replaced by None."""
    pattern = re.compile(r'^answers = \{([^}]*)\}', re.MULTILINE)
    match = pattern.search(source)
    if match is None:
        raise ExerciseError(f"{where}: an answers cell must set `answers = {{1: \"a\", ...}}` on one line")
    numbers = re.findall(r"(\d+)\s*:", match.group(1))
    blank = "answers = {" + ", ".join(f"{n}: None" for n in numbers) + "}"
    return source[:match.start()] + blank + source[match.end():]


def student_version(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of reference notebook `nb` with stubs for solutions, no outputs, exercise badges."""
    out = _nbformat().from_dict(_nbformat().reads(_nbformat().writes(nb), as_version=NB_VERSION))
    cells = []
    for k, cell in enumerate(out.cells):
        cells.append(cell)
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code":
            if "solution" in tags:
                cells.append(reference_cell(cell.source, f"reference-{k}"))
                cell.source = make_stub(cell.source, f"{name} cell {k}")
                cell.metadata["tags"] = [t if t != "solution" else "exercise" for t in tags]
            if "check" in tags:  # a learner's check prints NOT YET: nothing for nbval to compare
                cell.source = cell.source.replace("# NBVAL_CHECK_OUTPUT\n", "")
            if "answers" in tags:  # the concept questions start unanswered
                cell.source = unanswered(cell.source.replace("# NBVAL_CHECK_OUTPUT\n", ""), f"{name} cell {k}")
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = (cell.source
                           .replace(colab_link(f"notebooks/{name}"), colab_link(f"notebooks/exercises/{name}"))
                           .replace("badge/version-solution-green", "badge/version-exercise-orange")
                           .replace("![version: solution]", "![version: exercise]"))
    out.cells = cells
    out.metadata.pop("widgets", None)
    return out


def build_exercises(write: bool = True) -> list[Path]:
    """Generate notebooks/exercises/*.ipynb and faceid_lab/solutions.py; return the files that were
    (or would be) changed."""
    EXERCISES.mkdir(parents=True, exist_ok=True)
    changed = []
    for path in reference_notebooks():
        nb = _nbformat().read(path, as_version=NB_VERSION)
        text = _nbformat().writes(student_version(nb, path.name)) + "\n"
        target = EXERCISES / path.name
        if not target.exists() or target.read_text() != text:
            changed.append(target)
            if write:
                target.write_text(text)
    solutions = solutions_source()
    if not SOLUTIONS.exists() or SOLUTIONS.read_text() != solutions:
        changed.append(SOLUTIONS)
        if write:
            SOLUTIONS.write_text(solutions)
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


def run_notebooks(profile: str, only: str | None = None, out_dir: Path | None = None,
                  timeout: int = 1800, write_back: bool = False) -> list[RunResult]:
    """Execute reference notebooks headless with nbclient into `out_dir` (default
    FACEID_LAB_HOME/runs/<profile>); the committed notebooks are only rewritten with
    `write_back=True` (how maintainers refresh the committed cpu-profile outputs)."""
    try:
        from nbclient import NotebookClient  # why: the `lab` extra, 2 s to import; `course run` only
        from nbclient.exceptions import CellExecutionError  # why: as above
    except ImportError:
        raise ConfigError("running notebooks from a terminal needs the `lab` extra: pip install "
                          "'faceid-lab[lab]' (or `make course`, which installs it)") from None

    if profile not in runtime.PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {runtime.PROFILES}")
    os.environ["FACEID_LAB_PROFILE"] = profile  # the kernel inherits the environment
    os.environ["FACEID_LAB_HEADLESS"] = "1"
    out_dir = Path(out_dir) if out_dir else runtime.home() / "runs" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = reference_notebooks()
    if only:
        paths = [p for p in paths if only in p.stem]
        if not paths:
            raise FileNotFoundError(f"no notebook in {NOTEBOOKS} matches {only!r}; "
                                    f"there are: {', '.join(p.stem for p in reference_notebooks())}")
    results = []
    for path in paths:
        nb = _nbformat().read(path, as_version=NB_VERSION)
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
        _nbformat().write(nb, target)
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


# --- Numbers in prose come from the run ------------------------------------------------------
# A markdown cell may not state a measured-looking number (a decimal, a percentage, a time, an
# angle) that the notebook does not compute: a typed result drifts the day the model changes.
# A bare number that is one of the notebook's own parameters (a literal in one of its code cells)
# and the constants below are allowed; a number with a unit (8°, 4 minutes, 30%) must be a
# constant. Measured values are printed by code cells instead.
# a number is whole: not inside a word or a version (v1.5.2), but it may end a sentence ("... 0.72.")
MEASURED_LOOKING = re.compile(
    r"(?<![\w.])[+-]?(\d+\.\d+|\d+(?:\.\d+)?\s?(?:%|minutes?|min|seconds?|sec|s|hours?|h|img/s|degrees|°|MB))"
    r"(?!\w|\.\d)")
CODE_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w|\.\d)")
PROSE_CONSTANTS = {
    "1.5": "the 1.5-autoencoder of the original deepfake (its name)",
    "95%": "the confidence level of every interval in the course",
    "75 degrees": "SynthFaces' largest yaw (the renderer's range)",
}
QUOTED_NUMBERS = {  # numbers quoted from a paper, with the sentence naming the paper
    "08_frontalization": {"0.72": "FaceID-GAN paper, reported mean similarity",
                          "0.47": "FaceID-GAN paper, DR-GAN's reported mean similarity"},
}


@dataclass
class TypedNumber:
    notebook: str
    cell: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.number!r} in \"...{self.context}...\""


def _prose(markdown: str) -> str:
    """Markdown without code, maths, link targets and addresses (numbers there are not claims)."""
    for pattern in (r"```.*?```", r"`[^`]*`", r"\$[^$]*\$", r"\]\([^)]*\)", r"https?://\S+", r"<[^>]+>"):
        markdown = re.sub(pattern, " ", markdown, flags=re.S)
    return markdown


def typed_numbers(nb: nbformat.NotebookNode, name: str) -> list[TypedNumber]:
    """The measured-looking numbers in `nb`'s markdown that its code does not compute or set."""
    literals = {m.group(0) for c in nb.cells if c.cell_type == "code" for m in CODE_NUMBER.finditer(c.source)}
    allowed = set(PROSE_CONSTANTS) | set(QUOTED_NUMBERS.get(name, {}))
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        prose = _prose(cell.source)
        for m in MEASURED_LOOKING.finditer(prose):
            token = m.group(1)
            number = re.match(r"\d+(?:\.\d+)?", token).group(0)
            if re.sub(r"\s+", " ", token) in allowed or (token == number and number in literals):
                continue  # a constant, or a bare number that the code sets (a parameter, not a result)
            context = re.sub(r"\s+", " ", prose[max(0, m.start() - 40): m.end() + 20]).strip()
            found.append(TypedNumber(name, i, token, context))
    return found
