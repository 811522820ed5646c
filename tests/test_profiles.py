"""profiles: one place maps a profile to budgets, configs and checkpoint paths; `load` builds a
finished model from its checkpoint alone, and says what trains it when there is none."""

import pytest
import torch

from faceid_lab import profiles
from faceid_lab.train.checkpoint import CheckpointError


def test_load_builds_the_model_that_train_or_load_trained(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    trained = profiles.load_pose("ci", progress=False)
    loaded, history = profiles.load("pose", "ci")
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), loaded.state_dict().values(),
                                                 strict=True))
    assert history["step"][-1] == profiles.POSE_BUDGETS["ci"]["steps"]
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())


def test_load_renders_nothing_and_trains_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    profiles.load_identity_net("ci", progress=False)

    def forbidden(*args, **kwargs):
        raise AssertionError("load() must not render or train")

    monkeypatch.setattr(profiles, "_render_training_set", forbidden)
    monkeypatch.setattr(profiles, "train_classifier", forbidden)
    net, _ = profiles.load_identity_net("ci", progress=False)  # finished: load() alone
    assert net.head.out_features == profiles.IDENTITY_BUDGETS["ci"]["identities"]


def test_a_missing_model_names_its_file_and_what_trains_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    with pytest.raises(CheckpointError, match=r"pose_ci\.pt: no finished pose model .*faceid-lab train pose"):
        profiles.load("pose", "ci")
    with pytest.raises(CheckpointError, match=r"faceidgan_2n-nosym_ci_\w+\.pt: .*--variants 2n-nosym"):
        profiles.load("faceidgan", "ci", classifier="2n", symmetric=False)
    with pytest.raises(CheckpointError, match=r"segmenter_ci\.pt: .*faceid-lab train instruments --profile ci"):
        profiles.load("segmenter", "ci")


def test_checkpoint_paths_keep_the_names_earlier_checkpoints_have(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    assert profiles.checkpoint_path("identity", "cpu").name == "identity_cpu.pt"
    assert profiles.checkpoint_path("identity", "cpu", margin=0.2).name == "identity_cpu_margin0.2.pt"
    assert profiles.checkpoint_path("judge", "gpu").name == "judge_gpu.pt"
    # the cpu checkpoints shared before this module existed (dev/fingerprint_games.py printed these) keep
    # their names under the defaults they were trained with (before #19: weights 1, gamma 0.5, no
    # softening, 3000 steps)
    before_19 = dict(pose_weight=1.0, id_weight=1.0, gamma=0.5, soften=0.0, steps=3000, guided=False, adv_weight=1.0,
                     feature_weight=1.0)
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="2n",
                                    **before_19).name == "faceidgan_2n_cpu_ff0a7227ec.pt"
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="n",
                                    **before_19).name == "faceidgan_n_cpu_91e634efbe.pt"
    # the defaults of #19 (the vector G) name the checkpoints trained with them (on 2026-12-05)
    before_35 = dict(guided=False, adv_weight=1.0, pose_weight=0.1, id_weight=0.1, steps=2400, feature_weight=1.0)
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="2n",
                                    **before_35).name == "faceidgan_2n_cpu_997343e932.pt"
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="none",
                                    **before_35).name == "faceidgan_none_cpu_0ead8f1285.pt"
    # the guided G's first defaults (#35) name the one its ablation trained on 2026-12-07 ...
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="2n",
                                    feature_weight=1.0).name == "faceidgan_2n_cpu_bf498a38e6.pt"
    # ... and the feature-weighted L1 (weight 8) names the one its validation run trained the same day
    assert profiles.checkpoint_path("faceidgan", "cpu", classifier="2n").name == "faceidgan_2n_cpu_3c66b2bafc.pt"


def test_a_trained_variant_loads_as_it_was_trained_without_rendering_its_people(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    trained, history = profiles.load_faceid_gan("none", "ci")
    assert history["step"][-1] == profiles.FACEIDGAN_BUDGETS["ci"]["steps"]

    def forbidden(*args, **kwargs):
        raise AssertionError("loading a finished variant must not render its training people")

    monkeypatch.setattr(profiles, "faceidgan_data", forbidden)
    loaded, again = profiles.load_faceid_gan("none", "ci")
    assert again["step"] == history["step"] and loaded.checkpoint == trained.checkpoint
    for a, b in ((trained.G, loaded.G), (trained.D, loaded.D), (trained.balance, loaded.balance)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert not loaded.G.training
