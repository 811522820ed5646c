"""The other games' steps against hand-computed cases, as tests/test_game_step.py does for FaceID-GAN.

Each game's `step()` updates through the one optimiser update (`train.loop.update`); a spy on it
records the loss each update minimises, and the test writes that loss out from the models as they
were before the step. A dropped term, a flipped sign or a wrong weight changes the number."""

import contextlib
import copy

import pytest
import torch
import torch.nn.functional as F

from faceid_lab.metrics import ssim
from faceid_lab.models.autoencoder import FaceSwapAutoencoder
from faceid_lab.models.pose import PoseNet
from faceid_lab.train import autoencoder, classifier, gan, pose
from faceid_lab.train.autoencoder import AutoencoderConfig, BothPeople, autoencoder_step
from faceid_lab.train.classifier import ClassifierConfig, Classify, build_classifier, classifier_step
from faceid_lab.train.gan import GanConfig, build_pose_gan, pose_gan_step
from faceid_lab.train.pose import pose_step

NO_AMP = contextlib.nullcontext()


def _spy(monkeypatch, module) -> list[torch.Tensor]:
    losses, update = [], module.update

    def spy(loss, opt, scaler, last=True):
        losses.append(loss.detach().clone())
        update(loss, opt, scaler, last)

    monkeypatch.setattr(module, "update", spy)
    return losses


def test_the_pose_gans_players_minimise_began_and_gs_three_terms(tiny_gan_world, monkeypatch):
    _, pose_net, data = tiny_gan_world
    # D's term at its own weight (not 1), so a dropped adv_weight shows
    cfg = GanConfig(width=4, resolution=32, z_dim=8, batch=4, pose_weight=0.7, recon_weight=0.9, adv_weight=0.6)
    p = build_pose_gan(cfg, pose_net, torch.device("cpu"))
    p.G.train()
    p.D.train()
    p.balance.k.fill_(0.3)  # k away from 0, so the sign of D's fake term matters
    before = copy.deepcopy(p)
    losses = _spy(monkeypatch, gan)
    real, f_id, f_pose = data.targets[:4].float() / 255, data.f_id[:4], data.f_pose[:4]
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    values = pose_gan_step(p, cfg, real, f_id, f_pose, z, NO_AMP, None)
    with torch.no_grad():
        fake = before.G(f_id, f_pose, z)
        d_loss = before.D.recon_error(real).mean() - 0.3 * before.D.recon_error(fake).mean()
        g_loss = (0.6 * p.D.recon_error(fake).mean() + 0.7 * (pose_net(fake) / p.pose_scale - f_pose).abs().mean()
                  + 0.9 * (fake - real).abs().mean())
    assert [x.item() for x in losses] == pytest.approx([d_loss.item(), g_loss.item()], rel=1e-4)
    # k moves by lambda_k (gamma R(real) - R(fake)) after both updates
    r_real, r_fake = values[0].item(), values[1].item()
    assert p.balance.k.item() == pytest.approx(0.3 + cfg.lambda_k * (cfg.gamma * r_real - r_fake), rel=1e-5)


def test_the_autoencoders_step_sums_both_peoples_mae_dssim_and_mask_terms(monkeypatch):
    torch.manual_seed(0)
    cfg = AutoencoderConfig(width=0.0625, resolution=32, batch=2, ssim_weight=0.6, mask_weight=0.4)
    model = FaceSwapAutoencoder(cfg.width, cfg.resolution, cfg.mask)
    before = copy.deepcopy(model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    pairs = [(torch.rand(2, 4, 32, 32), torch.rand(2, 4, 32, 32)) for _ in "AB"]
    losses = _spy(monkeypatch, autoencoder)
    values = autoencoder_step(BothPeople(model), opt, pairs, cfg, True, NO_AMP, None)
    expected = []
    with torch.no_grad():
        for (warped, target), person in zip(pairs, "AB", strict=True):
            face, mask = before(warped[:, :3], person)
            expected.append(F.l1_loss(face, target[:, :3]) + 0.6 * (1 - ssim(face, target[:, :3]))
                            + 0.4 * F.l1_loss(mask, target[:, 3:]))
    assert values.tolist() == pytest.approx([e.item() for e in expected], rel=1e-4)
    assert losses[0].item() == pytest.approx(sum(e.item() for e in expected), rel=1e-4)  # one update on the sum


def test_the_identity_networks_step_minimises_smoothed_cross_entropy(monkeypatch):
    cfg = ClassifierConfig(num_classes=5, width=4, label_smoothing=0.2)
    net = build_classifier(cfg).train()
    before = copy.deepcopy(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 4, 0])
    losses = _spy(monkeypatch, classifier)
    values = classifier_step(Classify(net), opt, x, y, cfg, NO_AMP, None)
    with torch.no_grad():
        logits = Classify(before)(x, y)
        expected = F.cross_entropy(logits, y, label_smoothing=0.2)
    assert losses[0].item() == pytest.approx(expected.item(), rel=1e-4)
    assert values[1].item() == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert not torch.equal(net.head.weight, before.head.weight)  # the step updated the network


def test_ps_step_minimises_smooth_l1_on_its_normalised_readings(monkeypatch):
    torch.manual_seed(0)
    net = PoseNet(width=4).train()
    before = copy.deepcopy(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(4, 3, 32, 32), torch.randn(4, 7) * 0.3
    losses = _spy(monkeypatch, pose)
    pose_step(net, opt, x, y)
    with torch.no_grad():
        expected = F.smooth_l1_loss(before.normalized(x), y, beta=0.05)
    assert losses[0].item() == pytest.approx(expected.item(), rel=1e-4)
    assert not torch.equal(net.head[-1].weight, before.head[-1].weight)  # the step updated P
