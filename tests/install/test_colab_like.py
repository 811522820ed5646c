"""The light install, as on Colab: a fresh venv that holds only Colab's kind of pre-installed
stack, the package installed the way the set-up cell does (pip, no extras), and notebook 00
run in the ci profile with its widgets built (headless off) under Colab's ipywidgets 7.

torch and torchvision (with everything they need) are linked in from the venv that runs the
tests instead of downloaded again: 3 GB that Colab has pre-installed. The rest of the stack
comes from the package index, at Colab's versions.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from conftest import ROOT

# Colab's pre-installed versions (late 2025) of what the notebooks touch besides torch.
COLAB_STACK = ["ipython>=7.34,<9", "ipykernel>=6.17,<7", "ipywidgets==7.7.1", "notebook==6.5.7",
               "plotly==5.24.1", "matplotlib>=3.8,<3.11"]
LINKED = ("torch", "torchvision")  # and their requirements, recursively
DEV_TOOLS = ("jupyterlab", "pytest", "nbval", "ruff", "selenium", "nbclient")


def closure(names) -> set[str]:
    """The distributions `names` need, recursively (extras included), as installed in this venv."""
    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    found: set[str] = set()
    todo = [(n, "") for n in names]
    while todo:
        name, extra = todo.pop()
        key = name.lower().replace("_", "-")
        if (key, extra) in seen:
            continue
        seen.add((key, extra))
        try:
            dist = md.distribution(key)
        except md.PackageNotFoundError:
            continue
        found.add(key)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            todo.extend((req.name, e) for e in (req.extras or {""}))
            if req.extras:
                todo.append((req.name, ""))
    return found


def link_stack(target: Path, names) -> list[str]:
    """Symlink each distribution's top-level files (packages, modules, .dist-info) into `target`."""
    target.mkdir(parents=True)
    linked = []
    for key in sorted(closure(names)):
        dist = md.distribution(key)
        base = Path(dist.locate_file(""))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            src = base / top
            if src.exists() and not (target / top).exists() and top != "__pycache__":
                (target / top).symlink_to(src)
        linked.append(f"{dist.metadata['Name']}=={dist.version}")
    return linked


def _pip(python: Path, *args: str, timeout: int = 900) -> str:
    proc = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"pip {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _installed(python: Path) -> set[str]:
    return {line.split("==")[0].lower() for line in _pip(python, "list", "--format=freeze").splitlines()}


def test_notebook_00_runs_in_a_colab_like_venv_with_the_light_install(tmp_path):
    from nbclient import NotebookClient

    began = time.monotonic()
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    linked = link_stack(tmp_path / "preinstalled", LINKED)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(python), "-c", purelib], text=True).strip())
    (site / "colab_preinstalled.pth").write_text(str(tmp_path / "preinstalled") + "\n")
    _pip(python, "install", "-q", *COLAB_STACK)
    stack_s = time.monotonic() - began
    before = _installed(python)

    # The set-up cell's install, from this checkout instead of GitHub (a plain install: core only).
    _pip(python, "install", "-q", str(ROOT))
    install_s = time.monotonic() - began - stack_s
    installed = _installed(python)
    added = sorted(installed - before)
    pulled_in = sorted(set(DEV_TOOLS) & set(added))
    assert not pulled_in, f"the light install pulled in {pulled_in}"
    assert "ipywidgets" in installed
    version = subprocess.check_output([str(python), "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                                      text=True).strip()
    assert version.startswith("7."), f"the install replaced Colab's ipywidgets 7 with {version}"

    kernels = tmp_path / "share" / "jupyter" / "kernels" / "colab-like"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "colab-like", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "FACEID_LAB_HEADLESS", "PYTHONPATH")}
    nb = nbformat.read(ROOT / "notebooks" / "00_setup_and_data.ipynb", as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env, JUPYTER_PATH=str(tmp_path / "share" / "jupyter"), FACEID_LAB_PROFILE="ci",
                      FACEID_LAB_HOME=str(tmp_path / "home"))
    try:
        NotebookClient(nb, timeout=600, kernel_name="colab-like", resources={"metadata": {"path": str(work)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    run_s = time.monotonic() - began - stack_s - install_s
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile ci" in text
    where = subprocess.check_output([str(python), "-c", "import faceid_lab; print(faceid_lab.__file__)"], text=True,
                                    cwd=work)
    assert str(site) in where, f"faceid_lab came from {where}, not the fresh venv"
    widgets = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "headless off, the explorer must be built as a widget"
    report = {"linked_from_this_venv": len(linked), "stack": COLAB_STACK, "stack_s": round(stack_s),
              "install_s": round(install_s), "notebook_00_s": round(run_s),
              "added_by_faceid_lab": added}
    print(json.dumps(report, indent=1))
    report_path = Path(os.environ.get("FACEID_LAB_INSTALL_REPORT", tmp_path / "report.json"))
    report_path.write_text(json.dumps(report, indent=1))
