import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own FACEID_LAB_HOME and a known profile."""
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FACEID_LAB_PROFILE", "ci")
    monkeypatch.setenv("FACEID_LAB_HEADLESS", "1")
    yield


def run_cli(*args: str, env: dict | None = None, check: bool = True):
    import subprocess

    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "faceid_lab", *args], capture_output=True, text=True,
                          env=full_env, cwd=ROOT, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"faceid-lab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
