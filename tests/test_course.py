import random

import numpy as np
import pytest
import torch

from faceid_lab import course, runtime


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("FACEID_LAB_PROFILE", "cpu")
    assert runtime.profile() == "cpu"
    assert course.by_profile(ci=1, cpu=2, gpu=3) == 2


def test_profile_auto_when_unset(monkeypatch):
    monkeypatch.delenv("FACEID_LAB_PROFILE")
    assert runtime.profile() == ("gpu" if torch.cuda.is_available() else "cpu")


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FACEID_LAB_PROFILE", "fast")
    with pytest.raises(ValueError, match="FACEID_LAB_PROFILE='fast'.*ci, cpu, gpu"):
        runtime.profile()


def test_by_profile_needs_every_profile():
    with pytest.raises(ValueError, match="missing"):
        course.by_profile(ci=1, cpu=2)


def test_gpu_profile_on_cpu_warns(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("FACEID_LAB_PROFILE", "gpu")
    with pytest.warns(UserWarning, match="running on the CPU"):
        assert course.device().type in ("cpu", "mps")


def test_seed_everything_is_reproducible():
    course.seed_everything(3)
    a = (random.random(), np.random.rand(), torch.rand(2))
    course.seed_everything(3)
    b = (random.random(), np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])


def test_dataloader_workers_are_seeded():
    ds = torch.utils.data.TensorDataset(torch.arange(8))

    class Noisy(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return np.random.rand()

    def draw():
        loader = torch.utils.data.DataLoader(Noisy(), batch_size=4, num_workers=2,
                                             worker_init_fn=course.seed_worker,
                                             generator=course.seed_everything(7))
        return torch.cat([b for b in loader])

    assert len(ds) == 8
    assert torch.equal(draw(), draw())


def test_home_and_path(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path / "h"))
    p = runtime.path("checkpoints", "x.pt")
    assert p.parent.is_dir() and p.parent.parent == tmp_path / "h"


def test_banner_names_package_torch_device_profile():
    text = course.banner(torch.device("cpu"))
    for word in ("faceid-lab", "torch", "device cpu", "profile ci"):
        assert word in text


def test_environment_report_has_no_missing_package():
    report = course.environment_report()
    assert not [k for k, v in report.items() if "MISSING" in v], report
    assert "writable" in report["home"]
