"""Where the course comes from: the one place that names the repository and the ref.

Every Colab badge and every set-up cell's `%pip install` is built from REPOSITORY and
REF below. A notebook cannot import the package before installing it, so the links are
written into the notebooks (and the README) as text; `faceid-lab source set` rewrites
all of them, and `faceid-lab source check` (run by the tests) fails when one disagrees.

    faceid-lab source set --repository me/faceid-lab --ref my-branch   # a fork
    faceid-lab source set --ref v0.2.0                                  # a release
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ConfigError

REPOSITORY = "faceid-lab/faceid-lab"  # owner/name on GitHub
REF = "v0.1.0"  # a release tag: the notebooks install what they were written for, not a moving branch

_HERE = Path(__file__).resolve()
ROOT = _HERE.parent.parent
_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
# What a link to the course looks like, whichever repository and ref it names.
_COLAB = re.compile(r"https://colab\.research\.google\.com/github/([^/\s)]+/[^/\s)]+)/blob/([^\s)]+?)/(notebooks/\S+?\.ipynb)")
_PIP = re.compile(r"faceid-lab(?:\[[a-z,]+\])? ?@ ?git\+https://github\.com/([^/\s\"'@\\`)]+/[^/\s\"'@\\`)]+?)"
                  r"(?:\.git)?(?:@([^\s\"'\\`)#]+))?(?=[^\w./@-]|$)")


def pip_spec(repository: str = REPOSITORY, ref: str = REF) -> str:
    """What the set-up cell installs on Colab: the package's core dependencies only."""
    return f"faceid-lab @ git+https://github.com/{repository}@{ref}"


def colab_link(path: str, repository: str = REPOSITORY, ref: str = REF) -> str:
    """The Open-in-Colab address of a notebook, e.g. colab_link("notebooks/00_setup_and_data.ipynb")."""
    return f"https://colab.research.google.com/github/{repository}/blob/{ref}/{path}"


def repository_url(repository: str = REPOSITORY) -> str:
    return f"https://github.com/{repository}"


def files(root: Path = ROOT) -> list[Path]:
    """Every file that names the source: the notebooks (reference and student) and the README."""
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    exercises = sorted((root / "notebooks" / "exercises").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in [*notebooks, *exercises, root / "README.md"] if p.exists()]


def mismatches(root: Path = ROOT, repository: str = REPOSITORY, ref: str = REF) -> list[str]:
    """'file: what it names' for every link that names another repository or ref."""
    found = []
    if not (root / "notebooks").is_dir():
        return [f"{root}: no notebooks/ here; run this in a clone of the repository"]
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb" and not (_COLAB.search(text) and _PIP.search(text)):
            found.append(f"{path.relative_to(root)}: no Open-in-Colab link or no set-up %pip line")
        for m in _COLAB.finditer(text):
            if (m.group(1), m.group(2)) != (repository, ref):
                found.append(f"{path.relative_to(root)}: Colab link to {m.group(1)}@{m.group(2)}")
        for m in _PIP.finditer(text):
            if (m.group(1), m.group(2)) != (repository, ref):
                found.append(f"{path.relative_to(root)}: pip install from {m.group(1)}@{m.group(2) or '(no ref)'}")
    return found


def retarget(repository: str = REPOSITORY, ref: str = REF, root: Path = ROOT) -> list[Path]:
    """Point every link at `repository`@`ref` and record them here; returns the changed files."""
    if not _OWNER_NAME.match(repository):
        raise ConfigError(f"--repository {repository!r} is not owner/name on GitHub (e.g. faceid-lab/faceid-lab)")
    if not _REF.match(ref) or ".." in ref:
        raise ConfigError(f"--ref {ref!r} is not a git branch or tag name (e.g. v0.1.0)")
    if not (root / "notebooks").is_dir():
        raise ConfigError(f"{root} has no notebooks/: `source set` rewrites a clone of the repository")
    changed = []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        new = _COLAB.sub(lambda m: colab_link(m.group(3), repository, ref), text)
        new = _PIP.sub(pip_spec(repository, ref), new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    me = root / "faceid_lab" / "source.py"
    code = me.read_text(encoding="utf-8")
    new = re.sub(r'^REPOSITORY = "[^"]*"', f'REPOSITORY = "{repository}"', code, count=1, flags=re.M)
    new = re.sub(r'^REF = "[^"]*"', f'REF = "{ref}"', new, count=1, flags=re.M)
    if new != code:
        me.write_text(new, encoding="utf-8")
        changed.append(me)
    return changed
