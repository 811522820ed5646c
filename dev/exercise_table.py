"""The exercises at a glance: notebook, exercise, lines of the reference solution, and the cells after
the check that call the learner's code (what uses it downstream).

    python dev/exercise_table.py

Lines: the solution cell's code lines without blank lines, comments (hints included) and docstrings.
"""

from __future__ import annotations

import ast
import io
import statistics
import tokenize

import nbformat

from faceid_lab.notebooks import reference_notebooks


def code_lines(source: str) -> int:
    """Lines holding code: no blank lines, no comment-only lines, no docstrings."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)) and ast.get_docstring(node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def names_used(source: str) -> set[str]:
    """The plain names a code cell reads (IPython's % and ! lines left out)."""
    source = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def main() -> None:
    rows = []
    for path in reference_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        for k, cell in enumerate(cells):
            if "solution" not in cell.metadata.get("tags", []):
                continue
            names = [n.name for n in ast.parse(cell.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            users = [j for j, c in enumerate(cells) if j > k + 1 and c.cell_type == "code"
                     and "check" not in c.metadata.get("tags", []) and names_used(c.source) & set(names)]
            rows.append((path.stem, ", ".join(names), code_lines(cell.source), users))
    print("| notebook | exercise | lines | used by cells |")
    print("|---|---|---|---|")
    for nb, names, lines, users in rows:
        print(f"| {nb} | `{names}` | {lines} | {', '.join(map(str, users)) or '-'} |")
    used = sum(1 for r in rows if r[3])
    print(f"\n{len(rows)} exercises, {used} used downstream; median lines "
          f"{statistics.median(r[2] for r in rows)}")


if __name__ == "__main__":
    main()
