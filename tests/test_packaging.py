"""pyproject.toml and environment.yml name the same packages with the same lower bounds."""

import re

import tomllib

from conftest import ROOT, run_cli

CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _req(text: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=\s*[0-9.]+)?", text)
    name = m.group(1).lower()
    return CONDA_NAMES.get(name, name), (m.group(2) or "").replace(" ", "")


def _environment_yml() -> dict[str, str]:
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s+(.+)$", line)
        if not m or m.group(1).startswith(("python=", "pip:", "-e", "conda-forge")) or m.group(1) == "pip":
            continue
        name, bound = _req(m.group(1))
        found[name] = bound
    return found


def test_pyproject_and_environment_yml_agree():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    wanted = dict(_req(r) for r in meta["dependencies"] + extras["lab"] + extras["dev"])
    assert _environment_yml() == wanted


def test_dependencies_are_ranges_not_pins():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in meta["dependencies"]:
        assert "==" not in req, f"{req}: use a range so Colab's own torch is accepted"


def test_the_core_is_what_a_notebook_needs_on_colab():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_req(r)[0] for r in meta["dependencies"]}
    assert not core & {"jupyterlab", "nbclient", "pytest", "nbval", "ruff", "selenium", "notebook"}
    assert "jupyterlab" in {_req(r)[0] for r in meta["optional-dependencies"]["lab"]}
    assert 'pip install -q -e ".[lab,dev,real]"' in (ROOT / "Makefile").read_text()


def test_console_script_and_module_entry_point():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["faceid-lab"] == "faceid_lab.cli:main"
    out = run_cli("--help").stdout
    for command in ("synth", "bench", "evaluate", "train", "exercises", "course", "kit", "source"):
        assert command in out


def test_ci_script_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make course" in readme
    assert "make test" in ci and "FACEID_LAB_PROFILE=ci" in ci
