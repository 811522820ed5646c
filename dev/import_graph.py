"""The package's import graph in numbers, for a restructuring's before and after.

    python dev/import_graph.py                 # this checkout
    python dev/import_graph.py /tmp/old        # another checkout (e.g. `git worktree add /tmp/old <commit>`)

Prints modules, direct import edges between the package's own modules (grimp, as import-linter
reads them), the cycles (strongly connected groups of more than one module), the imports hidden
inside functions (own modules / all), the largest module and the largest function of the CLI, in lines.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "faceid_lab"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every group of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def hidden_imports(source: str) -> tuple[int, int, list[str]]:
    """(imports of the package's own modules inside functions, all imports inside functions, the
    external modules those put off)."""
    own = every = 0
    external: list[str] = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            every += 1
            if any(n.startswith(".") or n.split(".")[0] == PACKAGE for n in names):
                own += 1
            else:
                external += names
    return own, every, external


def largest_function(source: str) -> tuple[str, int]:
    best = ("", 0)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > best[1]:
                best = (node.name, lines)
    return best


def main(root: Path) -> None:
    sys.path.insert(0, str(root))
    import grimp

    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    modules = sorted(graph.modules)
    edges = {m: {d for d in graph.find_modules_directly_imported_by(m) if d.split(".")[0] == PACKAGE}
             for m in modules}
    groups = strongly_connected(edges)
    print(f"modules: {len(modules)}, direct edges: {sum(len(v) for v in edges.values())}, cycles: {len(groups)}")
    for g in groups:
        print(f"  cycle of {len(g)}: {' '.join(m.removeprefix(PACKAGE + '.') for m in g)}")
    files = sorted((root / PACKAGE).rglob("*.py"))
    own = every = 0
    external: list[str] = []
    for f in files:
        o, e, x = hidden_imports(f.read_text())
        own, every, external = own + o, every + e, external + x
    print(f"imports inside functions: {own} of the package's own modules, {every} in all")
    print(f"  external ones put off: {', '.join(sorted(set(external)))}")
    sizes = sorted(((len(f.read_text().splitlines()), f.relative_to(root)) for f in files), reverse=True)
    print(f"largest module: {sizes[0][1]} ({sizes[0][0]} lines)")
    cli = [root / PACKAGE / "cli.py"] if (root / PACKAGE / "cli.py").exists() else sorted((root / PACKAGE / "cli").glob("*.py"))
    name, lines = max((largest_function(f.read_text()) for f in cli), key=lambda t: t[1])
    print(f"the CLI's largest function: {name} ({lines} lines)")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
