"""FaceID-GAN's step against a hand-computed case: each player's loss, term by term.

`faceid_gan_step` updates D, then C, then G. A spy on the one optimiser update records the three
losses the step minimises; the test rebuilds each from the players as they were before the step
(D and C) or after their own update (G plays against the updated D and C), with the paper's
labels and signs written out here. A dropped term, a flipped sign, the N labels where 2N belong,
or a schedule the loop ignores each changes one of these numbers."""

import contextlib
import copy
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

from faceid_lab.profiles import faceidgan_checkpoint_name
from faceid_lab.train import faceidgan as game
from faceid_lab.train.faceidgan import FaceIdGanConfig, build_players, synth_weight_at, train_faceid_gan

# distinct weights, so a term that is dropped or counted twice changes the sum; no imprinting,
# because an imprinted 2N head starts with row N + i equal to row i (the N and 2N losses agree)
CFG = dict(width=4, resolution=32, z_dim=8, batch=4, pose_weight=0.7, recon_weight=0.9, id_weight=1.3,
           imprint=False)
K, SYNTH_WEIGHT = 0.3, 0.4  # BEGAN's k away from 0, so the sign of the fake term matters


def _batch(data, generator):
    labels = torch.tensor([0, 1, 2, 3])
    sources = data.sources[labels * data.per_identity].float() / 255                 # (4, 3, 32, 32)
    real = data.targets[labels * 4].float() / 255                                     # (4, 3, 32, 32)
    return sources, real, labels, data.f_pose[labels * 4], torch.randn(4, 8, generator=generator)


def _one_step(tiny_gan_world, monkeypatch, classifier: str, symmetric: bool, **levers):
    identity_net, pose_net, data = tiny_gan_world
    # the later fields (soften, feature_weight) off unless asked for, whatever their defaults
    cfg = FaceIdGanConfig(classifier=classifier, symmetric=symmetric, **CFG, **(game.BEFORE_FIELD | levers))
    p = build_players(cfg, identity_net, pose_net, 4, torch.device("cpu"), data)
    p.G.train()
    p.D.train()
    p.balance.k.fill_(K)
    before = copy.deepcopy(p)
    losses = []
    update = game.update

    def spy(loss, opt, scaler, last=True):
        losses.append(loss.detach().clone())
        update(loss, opt, scaler, last)

    monkeypatch.setattr(game, "update", spy)
    batch = _batch(data, torch.Generator().manual_seed(0))
    values = game.faceid_gan_step(p, *batch, SYNTH_WEIGHT, contextlib.nullcontext(), None, None)
    return p, before, batch, losses, dict(zip(game.LOG_KEYS, values.tolist(), strict=True))


@torch.no_grad()
def _by_hand(p, before, batch, classifier: str, symmetric: bool, soften: float = 0.0,
             adv_weight: float = 1.0) -> dict[str, float]:
    """The three losses of the paper's game, written out from the players, with the lever against
    adversarial texture (C and P see faces blurred by `soften`) and D's weight in G's loss."""
    sources, real, labels, f_pose, z = batch
    n = p.num_identities

    def seen(x):  # what C and P see
        if not soften:
            return x
        size = 2 * math.ceil(3 * soften) + 1
        return gaussian_blur(x, [size, size], [soften, soften])

    f_id = (before.C if (before.C is not None and symmetric) else before.identity_net).features(seen(sources))
    fake = before.G(f_id, f_pose, z)
    # D (BEGAN): reconstruct real faces, push fakes away by k:  R(real) - k R(fake)
    errors = (torch.cat([real, fake]) - before.D(torch.cat([real, fake]))).abs().flatten(1).mean(1)
    out = {"D": (errors[:4].mean() - K * errors[4:].mean()).item()}
    if before.C is not None and classifier != "frozen":  # a frozen C never trains
        # C: real photos (studio and wild) are class i; synthesized faces are N + i (2N) or i (N);
        # a real-only C gives them no weight
        logits = before.C.logits(before.C(seen(torch.cat([real, sources, fake]))))
        fake_labels = labels + n if classifier == "2n" else labels
        weight = 0.0 if classifier == "real" else SYNTH_WEIGHT
        out["C"] = (F.cross_entropy(logits[:8], torch.cat([labels, labels]))
                    + weight * F.cross_entropy(logits[8:], fake_labels)).item()
    # G: fool the updated D, show P the target pose, match the studio photo, keep the person for C
    played = adv_weight * p.D.recon_error(fake).mean()
    played = played + 0.7 * (p.pose_net(seen(fake)) / p.pose_scale - f_pose).abs().mean()
    if p.C is not None:
        f_anchor = f_id if symmetric else p.C(seen(sources))
        played = played + 1.3 * (1 - F.cosine_similarity(f_anchor, p.C(seen(fake)), dim=1)).mean()
    out["G"] = (0.9 * (fake - real).abs().mean() + played).item()
    return out


@pytest.mark.parametrize("classifier, symmetric", [("none", True), ("frozen", True), ("real", True), ("n", True),
                                                   ("2n", True), ("2n", False)])
def test_each_player_minimises_the_papers_loss(tiny_gan_world, monkeypatch, classifier, symmetric):
    p, before, batch, losses, logged = _one_step(tiny_gan_world, monkeypatch, classifier, symmetric)
    want = _by_hand(p, before, batch, classifier, symmetric)
    players = ["D", "G"] if classifier in ("none", "frozen") else ["D", "C", "G"]
    assert len(losses) == len(players)  # one update per player, in the paper's order
    for name, loss in zip(players, losses, strict=True):
        assert loss.item() == pytest.approx(want[name], rel=1e-5, abs=1e-6), f"{name}'s loss"
    gamma = FaceIdGanConfig().gamma
    assert logged["k"] == pytest.approx(K + 0.001 * (gamma * logged["r_real"] - logged["r_fake"]))  # k moves


@pytest.mark.parametrize("levers", [dict(soften=1.0), dict(soften=0.8), dict(adv_weight=0.25)])
def test_the_levers_against_texture_enter_the_losses_as_written(tiny_gan_world, monkeypatch, levers):
    p, before, batch, losses, _ = _one_step(tiny_gan_world, monkeypatch, "2n", True, **levers)
    want = _by_hand(p, before, batch, "2n", True, **levers)
    for name, loss in zip(["D", "C", "G"], losses, strict=True):
        assert loss.item() == pytest.approx(want[name], rel=1e-5, abs=1e-6), f"{name}'s loss"
    # each lever is sharp: the same step written without it misses
    plain = _by_hand(p, before, batch, "2n", True)
    assert losses[2].item() != pytest.approx(plain["G"], rel=1e-4)
    if "soften" in levers:
        assert losses[1].item() != pytest.approx(plain["C"], rel=1e-4)  # C learns from blurred faces too


def test_the_hand_computed_losses_tell_the_variants_apart(tiny_gan_world, monkeypatch):
    """The check is sharp: the N labels instead of 2N, or a term's sign flipped, miss by far."""
    p, before, batch, losses, _ = _one_step(tiny_gan_world, monkeypatch, "2n", True)
    assert losses[1].item() != pytest.approx(_by_hand(p, before, batch, "n", True)["C"], rel=1e-3)
    id_term = 1.3 * (1 - F.cosine_similarity(before.C.features(batch[0]),
                                              p.C(before.G(before.C.features(batch[0]), batch[3], batch[4])),
                                              dim=1)).mean().item()
    assert id_term > 1e-3  # flipping the identity term's sign moves G's loss by twice this


def test_the_loop_follows_cs_synthesized_weight_schedule(tiny_gan_world, monkeypatch):
    identity_net, pose_net, data = tiny_gan_world
    cfg = FaceIdGanConfig(classifier="2n", steps=5, **CFG)
    seen = []
    step = game.faceid_gan_step

    def spy(p, sources, real, labels, f_pose, z, synth_weight, autocast, scaler, pixel_weight=None, guide=None):
        seen.append(synth_weight)
        return step(p, sources, real, labels, f_pose, z, synth_weight, autocast, scaler, pixel_weight, guide)

    monkeypatch.setattr(game, "faceid_gan_step", spy)
    train_faceid_gan(data, identity_net, pose_net, cfg)
    assert seen == [synth_weight_at(s, cfg) for s in range(5)]
    assert seen[0] == cfg.synth_weight_start and seen[-1] == pytest.approx(cfg.synth_weight_end)


def test_a_frozen_c_never_changes_and_a_real_only_c_never_learns_from_g(tiny_gan_world, monkeypatch):
    p, before, *_ = _one_step(tiny_gan_world, monkeypatch, "frozen", True)
    assert p.opt_c is None
    after, start = p.C.state_dict().values(), before.C.state_dict().values()
    assert all(torch.equal(a, b) for a, b in zip(after, start, strict=True))
    assert not any(w.requires_grad for w in p.C.parameters())  # G's step did not turn it back on
    # real-only C: the synthesized faces' cross-entropy has weight 0, whatever the schedule says
    p, before, batch, losses, _ = _one_step(tiny_gan_world, monkeypatch, "real", True)
    with_fakes = _by_hand(p, before, batch, "n", True)["C"]
    assert losses[1].item() != pytest.approx(with_fakes, rel=1e-3)


def test_pixel_weights_count_the_faces_features_more_and_keep_the_mean():
    from faceid_lab.data.synthetic import PART_NAMES

    parts = torch.full((2, 8, 8), PART_NAMES.index("skin"), dtype=torch.uint8)
    parts[0, 2:4, 2:4] = PART_NAMES.index("eye")
    parts[0, 5, 3:5] = PART_NAMES.index("lips")
    w = game.pixel_weights(parts, 5.0)
    assert w.shape == (2, 1, 8, 8) and torch.allclose(w.mean(dim=(1, 2, 3)), torch.ones(2))
    assert w[0, 0, 2, 2] / w[0, 0, 0, 0] == pytest.approx(5.0) and w[0, 0, 5, 3] == w[0, 0, 2, 2]
    assert torch.equal(w[1], torch.ones(1, 8, 8))               # no features: plain L1
    assert torch.equal(game.pixel_weights(parts, 1.0), torch.ones(2, 1, 8, 8))


def test_g_weighs_its_l1_by_the_targets_features(tiny_gan_world, monkeypatch):
    identity_net, pose_net, data = tiny_gan_world
    assert data.target_parts is not None and data.target_parts.shape[0] == len(data.targets)
    cfg = FaceIdGanConfig(classifier="none", **CFG, **game.BEFORE_FIELD)
    p = build_players(cfg, identity_net, pose_net, 4, torch.device("cpu"), data)
    before, losses, update = copy.deepcopy(p), [], game.update
    monkeypatch.setattr(game, "update", lambda loss, opt, scaler, last=True: (losses.append(loss.detach()),
                                                                              update(loss, opt, scaler, last)))
    batch = _batch(data, torch.Generator().manual_seed(0))
    weight = game.pixel_weights(data.target_parts[torch.arange(4) * 4], 5.0)
    game.faceid_gan_step(p, *batch, SYNTH_WEIGHT, contextlib.nullcontext(), None, weight)
    plain = _by_hand(p, before, batch, "none", True)["G"]
    with torch.no_grad():
        fake = before.G(before.identity_net.features(batch[0]), batch[3], batch[4])
        l1 = (fake - batch[1]).abs()
    assert losses[1].item() == pytest.approx(plain - 0.9 * l1.mean().item() + 0.9 * (l1 * weight).mean().item(),
                                             rel=1e-5)
    # the loop hands the step its weights only when the config asks for them
    seen, step = [], game.faceid_gan_step

    def spy(*args):
        seen.append(args[9] if len(args) > 9 else None)
        return step(*args)

    monkeypatch.setattr(game, "faceid_gan_step", spy)
    train_faceid_gan(data, identity_net, pose_net,
                     FaceIdGanConfig(classifier="none", steps=2, feature_weight=1.0, **CFG))  # plain L1
    train_faceid_gan(data, identity_net, pose_net,
                     FaceIdGanConfig(classifier="none", steps=2, feature_weight=5.0, **CFG))
    assert seen[:2] == [None, None] and all(w is not None and w.shape == (4, 1, 32, 32) for w in seen[2:])


def test_a_later_config_field_at_its_default_keeps_old_checkpoint_names():
    cfg = FaceIdGanConfig(classifier="2n", **CFG, **game.BEFORE_FIELD)  # a config from before those fields
    assert not set(game.BEFORE_FIELD) & set(game.stored_config(cfg))
    named = faceidgan_checkpoint_name(cfg, 4, 16, "ci")
    for changed in (dict(feature_weight=5.0), dict(soften=1.0)):
        later = game.BEFORE_FIELD | changed
        assert faceidgan_checkpoint_name(FaceIdGanConfig(classifier="2n", **later, **CFG), 4, 16, "ci") != named
    # one default per field: the dataclass's (soften 1.0); BEFORE_FIELD is the value from before the field
    assert FaceIdGanConfig().soften == 1.0 and "soften" in game.stored_config(FaceIdGanConfig())
    for dropped in ("id_anchor", "warmup", "edge_weight", "angle_scale"):  # levers measured in #19 and dropped
        assert dropped not in {f.name for f in dataclasses.fields(FaceIdGanConfig)}
