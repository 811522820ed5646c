"""FaceID-GAN: the 2N labels, C's and G's losses, the three variants, symmetry, resume, the toy."""

import json
import shutil

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from PIL import Image

from conftest import PooledPixelJudge as PixelJudge
from faceid_lab.evaluate import evaluate_faceid_gan
from faceid_lab.metrics import frechet_distance
from faceid_lab.models.identity import IdentityNet
from faceid_lab.toy2d import pull_table, toy_figure
from faceid_lab.train.checkpoint import load_checkpoint
from faceid_lab.train.faceidgan import (
    FaceIdGanConfig,
    classifier_loss,
    identity_loss,
    make_classifier,
    softened,
    synth_weight_at,
    train_faceid_gan,
    two_n_labels,
)
from faceid_lab.train.toy2d import ToyConfig, train_toy


def test_two_n_labels_put_synthesized_faces_in_their_own_classes():
    labels = torch.tensor([0, 3, 1, 3])
    synthesized = torch.tensor([False, False, True, True])
    assert two_n_labels(labels, synthesized, 5).tolist() == [0, 3, 6, 8]


def test_classifier_loss_is_real_ce_plus_weighted_synthesized_ce():
    g = torch.Generator().manual_seed(0)
    lr, lf = torch.randn(6, 8, generator=g), torch.randn(4, 8, generator=g)
    yr, yf = torch.tensor([0, 1, 2, 3, 0, 1]), torch.tensor([4, 5, 6, 7])
    want = F.cross_entropy(lr, yr) + 0.3 * F.cross_entropy(lf, yf)
    assert torch.isclose(classifier_loss(lr, yr, lf, yf, 0.3), want)
    assert torch.isclose(classifier_loss(lr, yr, lf, yf, 0.0), F.cross_entropy(lr, yr))


def test_identity_loss_is_one_minus_cosine_and_moves_only_the_output():
    f = F.normalize(torch.randn(5, 16), dim=1)
    assert identity_loss(f, f).abs() < 1e-6
    assert torch.isclose(identity_loss(f, -f), torch.tensor(2.0))
    out = torch.randn(5, 16, requires_grad=True)
    identity_loss(f, out).backward()
    assert out.grad.abs().sum() > 0


def test_synth_weight_schedule_falls_from_start_to_end():
    cfg = FaceIdGanConfig(steps=101, synth_weight_start=1.0, synth_weight_end=0.2)
    w = [synth_weight_at(s, cfg) for s in range(cfg.steps)]
    assert w[0] == pytest.approx(1.0) and w[-1] == pytest.approx(0.2)
    assert all(a >= b for a, b in zip(w, w[1:], strict=False))


def test_config_checks_the_classifier_and_no_c_means_no_symmetry():
    with pytest.raises(ValueError, match="none, frozen, real, n, 2n"):
        FaceIdGanConfig(classifier="3n")
    assert FaceIdGanConfig(classifier="none", symmetric=True).symmetric is False
    assert FaceIdGanConfig(classifier="frozen", symmetric=False).symmetric is True  # a frozen C is the same net
    with pytest.raises(TypeError, match="id_anchor"):  # a lever measured in #19 and dropped
        FaceIdGanConfig(id_anchor="target")


def test_c_starts_as_the_identity_network_with_a_fresh_head():
    torch.manual_seed(0)
    net = IdentityNet(num_classes=3, width=4, margin=0.2).eval()
    C = make_classifier(net, 10)
    x = torch.rand(2, 3, 32, 32)
    assert torch.allclose(C.features(x), net.features(x))
    assert C.logits(C.features(x)).shape == (2, 10) and C.margin == 0.0
    C.stem[0].weight.data.add_(1.0)  # C is a copy: training it never changes the frozen network
    assert not torch.allclose(C.features(x), net.features(x))


@pytest.fixture(scope="module")
def tiny(tiny_gan_world):
    return tiny_gan_world


def _cfg(classifier, **kw):
    return FaceIdGanConfig(classifier=classifier, width=4, resolution=32, z_dim=8, steps=6, batch=4, **kw)


@pytest.mark.parametrize("classifier, symmetric", [("none", False), ("n", True), ("2n", True), ("2n", False)])
def test_every_variant_trains_with_its_own_label_space_and_f_id(tiny, classifier, symmetric):
    identity_net, pose_net, data = tiny
    before = [v.clone() for v in identity_net.state_dict().values()]
    p, hist = train_faceid_gan(data, identity_net, pose_net, _cfg(classifier, symmetric=symmetric), log_every=3)
    assert len(hist["M"]) == 2 and all(np.isfinite(hist[k]).all() for k in hist if isinstance(hist[k], list))
    src = data.sources[:3].float() / 255
    if classifier == "none":
        assert p.C is None and hist["c_loss"] == [0.0, 0.0] and hist["id"] == [0.0, 0.0]
    else:
        assert p.C.head.out_features == 4 * (2 if classifier == "2n" else 1)
        assert min(hist["c_loss"]) > 0 and min(hist["id"]) > 0
    # information symmetry: G's f_id comes from C itself, which has moved away from the frozen network;
    # both see the source as C does in the game (softened)
    seen = softened(src, p.cfg.soften)
    assert p.cfg.soften > 0 and not torch.equal(seen, src)
    with torch.no_grad():
        frozen = identity_net.features(seen)
        want = p.C.features(seen) if symmetric else frozen
    assert torch.allclose(p.identity_features(src), want, atol=1e-6)
    if symmetric:
        assert not torch.allclose(want, frozen, atol=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(before, identity_net.state_dict().values(), strict=True))


def test_every_user_of_c_sees_faces_as_c_was_trained_to(tiny):
    """C trains on blurred faces (soften); its features, its 2N detector score and its verdicts
    elsewhere in the course must see faces through the same view, not sharp ones."""
    from faceid_lab.detection import CScore
    from faceid_lab.models import run_batched
    from faceid_lab.probe import ClassifierLogits

    identity_net, pose_net, data = tiny
    p, _ = train_faceid_gan(data, identity_net, pose_net, _cfg("2n"))
    faces = data.targets[:5]                                    # uint8, as the course stores them
    seen = softened(faces.float() / 255, p.cfg.soften)
    assert torch.equal(p.c_sees(faces.float() / 255), seen)
    with torch.no_grad():
        want = p.C.features(seen)
        logits = p.C.logits(want)
        score = CScore(p.C, p.num_identities)(seen)
    assert torch.allclose(p.c_features(faces), want, atol=1e-6)
    assert not torch.allclose(run_batched(p.C, faces), want, atol=1e-4)  # a sharp face is out of C's world
    assert torch.allclose(run_batched(ClassifierLogits(p.C, p.c_sees), faces), logits, atol=1e-5)
    assert torch.allclose(run_batched(CScore(p.C, p.num_identities, p.c_sees), faces), score, atol=1e-5)


def test_a_crashed_run_resumes_to_the_same_players(tiny, tmp_path):
    identity_net, pose_net, data = tiny
    cfg = _cfg("2n")
    p, _ = train_faceid_gan(data, identity_net, pose_net, cfg)
    path, crashed = tmp_path / "fig.pt", tmp_path / "crashed.pt"

    def snapshot(step, history, _G):  # the file as a crash at step 5 would leave it (saved at step 4)
        if step == 5:
            shutil.copy(path, crashed)

    train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, save_every_steps=4, log_every=1,
                     on_log=snapshot)
    assert load_checkpoint(crashed)["step"] == 4
    p2, _ = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=crashed)
    for a, b in ((p.G, p2.G), (p.D, p2.D), (p.C, p2.C), (p.balance, p2.balance)):
        for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(v, w), k
    with pytest.raises(Exception, match="2n|config"):  # another variant's file is refused, not half-loaded
        train_faceid_gan(data, identity_net, pose_net, _cfg("n"), checkpoint=path)


def test_evaluation_reports_identity_pose_pixels_and_frechet(tiny):
    identity_net, pose_net, data = tiny
    p, _ = train_faceid_gan(data, identity_net, pose_net, _cfg("2n"))
    v = evaluate_faceid_gan(p, PixelJudge(), identities=3, per_identity=2)
    assert v["samples"] == 6 and v["frechet_judge"] > 0
    assert {"id_similarity", "id_top1", "pose_error_deg", "l1_to_truth", "ssim_to_truth"} <= set(v)


def test_frechet_distance_matches_the_textbook_formula():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, 12, generator=g)
    b = torch.randn(200, 12, generator=g) @ torch.randn(12, 12, generator=g) * 0.3 + 1
    A, B = a.double().numpy(), b.double().numpy()
    ca, cb = np.cov(A.T), np.cov(B.T)
    want = ((A.mean(0) - B.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-6)
    assert abs(frechet_distance(a, a)) < 1e-8
    assert frechet_distance(a, a + 2) == pytest.approx(4 * 12, rel=1e-6)  # a pure shift: |mu_a - mu_b|^2
    with pytest.raises(ValueError, match="2 samples"):
        frechet_distance(a[:1], b)


def test_the_toy_2n_classifier_pulls_synthesized_points_to_the_real_centre():
    cfg = ToyConfig(steps=240, snapshot_every=40)
    runs = {name: train_toy(name, cfg, grid=24) for name in ("n", "2n")}
    rows = {r["classifier"]: r for r in pull_table(runs)}
    start = rows["n"]["distance at start"]
    assert start == pytest.approx(cfg.start_shift, rel=0.25)          # both start off their real cluster
    assert rows["2n"]["distance at end"] < 0.3 * start                 # 2N: pulled in
    assert rows["n"]["distance at end"] > 0.8 * start                  # N: left where it is
    assert runs["2n"].snapshots[-1].regions.max() >= cfg.identities    # C keeps synthesized classes
    chart = toy_figure(runs, static=True)  # first, middle and last snapshot of each run
    titles = [ax.get_title() for ax in chart.figure.axes]
    assert len(titles) == 6 and titles[0].startswith("N-class C, step 0") and "2N-class C, step 240" in titles[-1]
    fig = toy_figure(runs, static=False)
    assert len(fig.frames) == len(runs["n"].snapshots) == 7
    with pytest.raises(ValueError, match="'n' or '2n'"):
        train_toy("none", cfg)


def test_cli_trains_and_evaluates_the_variants(capsys, tmp_path):
    from faceid_lab.cli import main

    assert main(["train", "faceidgan", "--profile", "ci", "--classifier", "n", "--steps", "4"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["classifier"] == "n" and info["steps"] == 4 and info["checkpoint"].endswith(".pt")
    grid = tmp_path / "grids" / "faces.png"
    assert main(["evaluate", "faceidgan", "--profile", "ci", "--steps", "4", "--grid", str(grid)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert Image.open(grid).size[1] > 5 * 2 * 64  # source, none, N, 2N, truth: five rows of 8 faces at 2x
    assert set(out["variants"]) == {"none", "n", "2n"}
    assert out["variants"]["n"]["training"]["0"]["train_seconds"] == info["train_seconds"]  # loaded, not trained
    assert all(np.isfinite(v["summary"]["judge_similarity"]["mean"]) and np.isfinite(v["summary"]["kid"]["mean"])
               for v in out["variants"].values())


def test_two_n_probe_trains_a_2n_classifier_on_a_frozen_g(tiny):
    identity_net, pose_net, data = tiny
    p, _ = train_faceid_gan(data, identity_net, pose_net, _cfg("n"))
    G_before = [v.clone() for v in p.G.state_dict().values()]
    from faceid_lab.probe import two_n_probe

    out = two_n_probe(p, data, steps=3, batch=4, held_out=1, people=3)
    rows = {r["classifier"].split(" (")[0]: r for r in out["table"]}
    assert set(rows) == {"N-class C", "2N-class C"} and out["c_2n"].head.out_features == 8
    assert np.isnan(rows["N-class C"]["G's faces called synthesized i"])
    assert 0 <= rows["2N-class C"]["G's faces called synthesized i"] <= 1
    assert all(torch.equal(a, b) for a, b in zip(G_before, p.G.state_dict().values(), strict=True))  # G frozen


def test_the_pose_guided_g_trains_resumes_and_follows_its_guide(tiny, tmp_path):
    identity_net, pose_net, data = tiny
    cfg = _cfg("2n", guided=True)
    path = tmp_path / "guided.pt"
    p, hist = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, log_every=3)
    assert p.G.guided and np.isfinite(hist["l1"]).all()
    again, _ = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path)  # the finished file loads
    for (k, v), w in zip(p.G.state_dict().items(), again.G.state_dict().values(), strict=True):
        assert torch.equal(v, w), k
    with pytest.raises(Exception, match="guided|config"):  # the vector G's config refuses the guided file
        train_faceid_gan(data, identity_net, pose_net, _cfg("2n", guided=False), checkpoint=path)
