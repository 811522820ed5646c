import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CELEBA = SHARED_DATA / "celeba_wild_subset"  # 40 people x 20 wild CelebA photos, never copied here


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


@pytest.fixture(scope="session")
def celeba_shard(tmp_path_factory):
    """8 identities x 20 wild photos, aligned at 64 px with dlib (once per test session)."""
    from faceid_lab.data import real
    from faceid_lab.data.shards import Shard

    if not CELEBA.is_dir():
        pytest.skip(f"{CELEBA} is not here (the shared test photos; CI has them beside the clone)")
    out = tmp_path_factory.mktemp("celeba") / "shard"
    sources = real.celeba_sources(CELEBA, max_identities=8)
    report = real.prepare(sources, out, "celeba", {"source": "celeba"}, size=64)
    return report, Shard(out)
