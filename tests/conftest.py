import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CELEBA = SHARED_DATA / "celeba_wild_subset"  # 40 people x 20 wild CelebA photos, never copied here


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own FACEID_LAB_HOME, training lock and a known profile."""
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FACEID_LAB_PROFILE", "ci")
    monkeypatch.setenv("FACEID_LAB_HEADLESS", "1")
    monkeypatch.setenv("FACEID_LAB_TRAINING_LOCK", str(tmp_path / "training.lock"))  # tests/test_cores.py tests it
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


class PooledPixelJudge:
    """A stand-in judge for GAN logic tests: 8x8-pooled pixels, centred and unit length."""

    name = "pixels"

    def embed(self, images):
        import torch.nn.functional as F

        f = F.avg_pool2d(images.float(), 8).flatten(1)
        return F.normalize(f - f.mean(1, keepdim=True), dim=1)


def make_tiny_gan_world():
    """(identity_net, pose_net, data): untrained width-4 networks and 4 SynthFaces people at 32 px."""
    import numpy as np
    import torch

    from faceid_lab.models.identity import IdentityNet
    from faceid_lab.models.pose import PoseNet
    from faceid_lab.train.gan import make_gan_data

    torch.manual_seed(0)
    identity_net = IdentityNet(num_classes=4, width=4).eval()
    pose_net = PoseNet(width=4).eval()
    data = make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(4), sources_per_identity=2,
                         targets_per_identity=4, resolution=32)
    return identity_net, pose_net, data


@pytest.fixture(scope="module")
def tiny_gan_world():
    return make_tiny_gan_world()


def ghost_batch_norm(model, groups: int):
    """In one process, the batch norm that `groups` DDP ranks compute on CPU (gloo has no
    synchronised batch norm): each contiguous share of the batch is normalised by its own
    statistics, and only the first share (rank 0's) moves the running statistics, which DDP
    then copies to the other ranks. For reference runs in the distributed tests."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    for m in model.modules():
        if not isinstance(m, nn.modules.batchnorm._BatchNorm):
            continue

        def forward(x, m=m):
            if not m.training:
                return type(m).forward(m, x)
            m.num_batches_tracked += 1
            return torch.cat([F.batch_norm(share, m.running_mean if i == 0 else None,
                                           m.running_var if i == 0 else None, m.weight, m.bias, True, m.momentum,
                                           m.eps) for i, share in enumerate(x.chunk(groups))])

        m.forward = forward
    return model
