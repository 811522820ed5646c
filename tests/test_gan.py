"""Notebook 03's GAN: G and BEGAN's D, the balance k, studio data, training with resume, the verdict."""

import shutil

import numpy as np
import pytest
import torch

from conftest import PooledPixelJudge as PixelJudge
from faceid_lab.data import synthetic as S
from faceid_lab.evaluate import GeneratorTest, judge_generator, run_generator_test
from faceid_lab.models.gan import BeganDiscriminator, Generator
from faceid_lab.models.pose import POSE_SCALE
from faceid_lab.train.checkpoint import load_checkpoint
from faceid_lab.train.gan import BeganBalance, GanConfig, studio_nuisance, train_pose_gan


def test_shapes():
    G, D = Generator(width=4, resolution=32, z_dim=8), BeganDiscriminator(width=4, resolution=32, code_dim=16)
    out = G(torch.randn(3, 256), torch.randn(3, 7), G.noise(3))
    assert out.shape == (3, 3, 32, 32) and 0 <= out.min() and out.max() <= 1
    assert D(out).shape == out.shape and D.recon_error(out).shape == (3,)
    with pytest.raises(ValueError, match="multiple of 16"):
        Generator(resolution=40)


def test_began_balance_follows_the_formula_and_stays_in_0_1():
    b = BeganBalance()
    m = b.update(torch.tensor(0.2), torch.tensor(0.05), gamma=0.5, lambda_k=0.1)
    assert torch.isclose(b.k, torch.tensor(0.1 * (0.5 * 0.2 - 0.05)))
    assert torch.isclose(m, torch.tensor(0.2 + abs(0.5 * 0.2 - 0.05)))
    for _ in range(100):
        b.update(torch.tensor(0.0), torch.tensor(1.0), 0.5, 0.1)
    assert b.k.item() == 0.0
    for _ in range(1000):
        b.update(torch.tensor(1.0), torch.tensor(0.0), 0.5, 0.1)
    assert b.k.item() == 1.0
    assert "k" in b.state_dict()  # checkpointed with the models


def test_studio_photos_have_standard_light_and_the_sampled_pose():
    nu = studio_nuisance(0, np.array([1, 2]), np.array([0, 0]))
    ref = S.Nuisance.reference(2)
    assert torch.equal(nu.light_dir, ref.light_dir) and torch.equal(nu.bg_colors, ref.bg_colors)
    assert not torch.equal(nu.pose[0], nu.pose[1]) and nu.pose.abs().max() > 1


@pytest.fixture(scope="module")
def tiny(tiny_gan_world):
    return tiny_gan_world


def test_gan_data_pairs_sources_and_targets_of_the_same_people(tiny):
    identity_net, pose_net, data = tiny
    assert data.sources.shape == (8, 3, 32, 32) and data.targets.shape == (16, 3, 32, 32)
    assert data.f_id.shape == (8, 256) and torch.allclose(data.f_id.norm(dim=1), torch.ones(8), atol=1e-5)
    assert torch.equal(data.source_labels, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))
    with torch.no_grad():
        want = pose_net(data.targets[:3].float() / 255) / POSE_SCALE
    assert torch.allclose(data.f_pose[:3], want, atol=1e-5)


def test_training_runs_and_a_crashed_run_resumes_to_the_same_weights(tiny, tmp_path):
    _, pose_net, data = tiny
    cfg = GanConfig(width=4, resolution=32, z_dim=8, steps=10, batch=4)
    G, D, hist = train_pose_gan(data, pose_net, cfg, log_every=5)
    assert len(hist["M"]) == 2 and all(0 <= k <= 1 for k in hist["k"])
    assert all(np.isfinite(hist[key]).all() for key in ("r_real", "r_fake", "pose", "l1"))
    path, crashed = tmp_path / "gan.pt", tmp_path / "crashed.pt"

    def snapshot(step, history, _G):  # the file as a crash at step 8 would leave it (saved at step 6)
        if step == 8:
            shutil.copy(path, crashed)

    train_pose_gan(data, pose_net, cfg, checkpoint=path, save_every_steps=6, log_every=4, on_log=snapshot)
    assert load_checkpoint(crashed)["step"] == 6
    G2, D2, _ = train_pose_gan(data, pose_net, cfg, checkpoint=crashed, log_every=4)
    for a, b in ((G, G2), (D, D2)):
        for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(v, w), k
    G3, _, _ = train_pose_gan(data, pose_net, cfg, checkpoint=path)  # finished: loaded
    assert all(torch.equal(v, w) for v, w in zip(G.state_dict().values(), G3.state_dict().values(), strict=True))


def test_judge_generator_scores_a_perfect_generator_like_a_genuine_pair(tiny):
    identity_net, pose_net, data = tiny
    G = Generator(width=4, resolution=32, z_dim=8)
    test = run_generator_test(G, lambda x: identity_net(x), pose_net, identities=3, per_identity=2, resolution=32)
    assert test.outputs.shape == test.targets.shape == (6, 3, 32, 32)
    perfect = GeneratorTest(test.sources, test.targets, test.true_pose, test.labels, test.targets.clone())
    v = judge_generator(perfect, PixelJudge(), pose_net)
    assert v["samples"] == 6 and v["l1_to_truth"] == 0.0 and v["ssim_to_truth"] > 0.999
    assert abs(v["id_similarity"] - v["genuine_pair_similarity"]) < 1e-6
    assert v["pose_error_deg"] == v["pose_error_real_deg"]
    copycat = GeneratorTest(test.sources, test.targets, test.true_pose, test.labels, test.sources.clone())
    v = judge_generator(copycat, PixelJudge(), pose_net)
    assert v["id_similarity"] > 0.999 and v["id_top1"] == 1.0
