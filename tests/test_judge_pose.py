"""The SynthFaces judge and P: train-or-load per profile, provenance, frozen, learning."""

import json

import numpy as np
import pytest
import torch

from conftest import run_cli
from faceid_lab import runtime
from faceid_lab.data.datasets import SynthSplit, render_split
from faceid_lab.judge import load_synth_judge
from faceid_lab.profiles import JUDGE_WORLD_SEED, load_pose
from faceid_lab.train.checkpoint import CheckpointError
from faceid_lab.train.pose import PoseConfig, pose_errors, pose_targets, predict_pose, train_pose


def test_judge_is_trained_once_then_loaded():
    judge = load_synth_judge("ci", progress=False)
    path = runtime.path("checkpoints", "judge_ci.pt")
    stamp = path.stat().st_mtime_ns
    again = load_synth_judge("ci", progress=False)
    assert path.stat().st_mtime_ns == stamp  # loaded, not retrained
    p = again.provenance
    assert p["world_seed"] == JUDGE_WORLD_SEED != 0 and p["used_as_training_signal"] is False
    assert p["profile"] == "ci" and p["width"] != 24  # its own width (the course's C uses 24)
    x = torch.rand(4, 3, 64, 64)
    f = judge.embed(x)
    assert f.shape == (4, 256) and torch.allclose(f.norm(dim=1), torch.ones(4), atol=1e-4)
    assert torch.allclose(judge.embed(x), again.embed(x), atol=1e-6)
    assert judge.embed(torch.rand(2, 3, 32, 32)).shape == (2, 256)  # other sizes are resized
    assert not any(q.requires_grad for q in judge.net.parameters())


def test_corrupt_judge_checkpoint_is_a_clear_error():
    path = runtime.path("checkpoints", "judge_ci.pt")
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"judge_ci\.pt is not a readable checkpoint"):
        load_synth_judge("ci", progress=False)


def test_pose_regressor_learns_pose_from_ground_truth():
    r, _, _, nu = render_split(SynthSplit(0, 32, 24, "train"), 32)
    images = r.to_uint8()
    net, history = train_pose(images, pose_targets(nu.to_vector()),
                              PoseConfig(width=8, steps=150, batch=64, warmup=10))
    assert history["loss"][-1] < history["loss"][0]
    assert not any(p.requires_grad for p in net.parameters())  # frozen after training
    r2, _, _, nu2 = render_split(SynthSplit(0, 8, 16, "test"), 32)
    errors = pose_errors(predict_pose(net, r2.image), pose_targets(nu2.to_vector()))
    constant = float(pose_targets(nu2.to_vector())[:, 0].abs().mean())  # predicting yaw = 0
    assert errors["yaw_mae"] < 0.6 * constant, (errors, constant)


def test_pose_load_is_train_or_load():
    net = load_pose("ci", progress=False)
    path = runtime.path("checkpoints", "pose_ci.pt")
    stamp = path.stat().st_mtime_ns
    load_pose("ci", progress=False)
    assert path.stat().st_mtime_ns == stamp
    out = predict_pose(net, torch.rand(3, 3, 64, 64))
    assert out.shape == (3, 7)


def test_evaluate_commands_report_json():
    judge = json.loads(run_cli("evaluate", "judge", "--profile", "ci").stdout)
    assert 0 <= judge["auc"] <= 1 and judge["test_identities"] == 50
    pose = json.loads(run_cli("evaluate", "pose", "--profile", "ci").stdout)
    assert {"yaw_mae", "pitch_mae", "roll_mae", "smile_mae"} <= set(pose)
    assert np.isfinite(pose["yaw_mae"])


def test_identity_network_train_or_load():
    from faceid_lab.profiles import load_identity_net

    net, history = load_identity_net("ci", progress=False)
    again, history2 = load_identity_net("ci", progress=False)
    assert history2 == history and len(history["loss"]) > 0
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values(), strict=True))
    assert not any(p.requires_grad for p in net.parameters())
