"""torch.distributed on CPU (gloo, 2 processes): DDP equals one process with the whole batch,
and a run resumes on another number of processes from the right step."""

import shutil

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from faceid_lab.data import synthetic as S
from faceid_lab.train.autoencoder import AutoencoderConfig, train_autoencoder
from faceid_lab.train.checkpoint import load_checkpoint
from faceid_lab.train.distributed import Dist


def _faces():
    ra = S.render(S.sample_identities(0, [1] * 16), S.sample_nuisance(0, [1] * 16, range(16)), 32)
    rb = S.render(S.sample_identities(0, [2] * 16), S.sample_nuisance(0, [2] * 16, range(16)), 32)
    return ra.to_uint8().permute(0, 3, 1, 2), rb.to_uint8().permute(0, 3, 1, 2), ra.mask, rb.mask


CFG = AutoencoderConfig(width=0.0625, resolution=32, steps=1, batch=8)


def _worker(rank: int, world: int, init_file: str, out: str, cfg: AutoencoderConfig, checkpoint: str | None,
            snapshot_at: int | None):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        fa, fb, ma, mb = _faces()

        def snapshot(step, history, _model):  # what a crash right after `snapshot_at` would leave on disk
            if step == snapshot_at:
                shutil.copy(checkpoint, checkpoint + ".crashed")

        model, _ = train_autoencoder(fa, fb, cfg, ma, mb, checkpoint=checkpoint, save_every_steps=2, log_every=1,
                                     on_log=snapshot if snapshot_at else None, dist=Dist(rank, world))
        if rank == 0:
            torch.save(model.state_dict(), out)
    finally:
        dist.destroy_process_group()


def _run_two(tmp_path, cfg, checkpoint=None, snapshot_at=None):
    out = tmp_path / "ddp.pt"
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(out), cfg, checkpoint, snapshot_at), nprocs=2, join=True)
    return torch.load(out, weights_only=True)


def test_two_processes_with_half_batches_equal_one_process_with_the_whole_batch(tmp_path):
    ddp = _run_two(tmp_path, CFG)
    fa, fb, ma, mb = _faces()
    single, _ = train_autoencoder(fa, fb, CFG, ma, mb)
    before, _ = train_autoencoder(fa, fb, AutoencoderConfig(**{**CFG.__dict__, "steps": 0}), ma, mb)
    moved = 0.0
    for (name, want), got, start in zip(single.state_dict().items(), ddp.values(), before.state_dict().values(),
                                        strict=True):
        assert torch.allclose(got, want, atol=1e-5), name
        moved = max(moved, (want - start).abs().max().item())
    assert moved > 1e-4  # the step really changed the weights


def test_a_two_process_run_resumes_on_one_process_from_the_right_step(tmp_path):
    cfg = AutoencoderConfig(**{**CFG.__dict__, "steps": 6})
    ckpt = str(tmp_path / "ae.pt")
    ddp = _run_two(tmp_path, cfg, checkpoint=ckpt, snapshot_at=3)
    crashed = load_checkpoint(ckpt + ".crashed")
    assert crashed["step"] == 2 and not crashed["finished"]  # saved every 2 steps by rank 0 only
    fa, fb, ma, mb = _faces()
    resumed, history = train_autoencoder(fa, fb, cfg, ma, mb, checkpoint=ckpt + ".crashed", log_every=1)
    assert history["step"] == [1, 2, 3, 4, 5, 6]  # steps 3..6 ran here, after 1..2 from the two processes
    for (name, want), got in zip(resumed.state_dict().items(), ddp.values(), strict=True):
        assert torch.allclose(got, want, atol=1e-5), name


def test_the_batch_must_divide_among_the_processes():
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        Dist(0, 3).share(8)


def test_torchrun_launches_the_cli_and_rank_0_alone_reports(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["--profile", "ci", "--steps", "4", "--batch", "8", "--frames", "16", "--test-frames", "4"]
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "faceid_lab", "train",
                           "autoencoder", *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)  # one JSON document: rank 1 prints nothing
    assert report["processes"] == 2 and report["steps"] == 4 and Path(report["checkpoint"]).exists()
    again = subprocess.run([sys.executable, "-m", "faceid_lab", "train", "autoencoder", *args], capture_output=True,
                           text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    loaded = json.loads(again.stdout)  # one process now: the finished two-process run is loaded, not retrained
    assert loaded["processes"] == 1 and loaded["checkpoint"] == report["checkpoint"]
    assert loaded["train_seconds"] == report["train_seconds"]
