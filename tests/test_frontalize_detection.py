"""Notebooks 08 and 09: frontalization by yaw bin, and detectors of synthesized faces."""

import json

import numpy as np
import pytest
import torch

from conftest import PooledPixelJudge as PixelJudge
from faceid_lab.data import synthetic as S
from faceid_lab.detection import CScore, detection_auc, detection_data, detection_report
from faceid_lab.frontalize import (
    YAWS,
    beats_in_every_bin,
    frontal_pose,
    frontalize,
    paper_figure,
    real_faces_figure,
    render_yaw_set,
    score_frontalization,
    yaw_table,
)
from faceid_lab.models.identity import IdentityNet
from faceid_lab.train.detector import Detector, train_detector
from faceid_lab.train.faceidgan import FaceIdGanConfig, train_faceid_gan


@pytest.fixture(scope="module")
def tiny(tiny_gan_world):
    identity_net, pose_net, data = tiny_gan_world
    cfg = FaceIdGanConfig(classifier="2n", width=4, resolution=32, z_dim=8, steps=4, batch=4)
    players, _ = train_faceid_gan(data, identity_net, pose_net, cfg)
    return players, data


def test_yaw_set_turns_each_person_and_keeps_the_true_frontal():
    ys = render_yaw_set(identities=3, yaws=(0, 30, 60), resolution=32)
    assert ys.photos.shape == (9, 3, 32, 32) and ys.frontal.shape == (3, 3, 32, 32)
    assert ys.yaw.tolist() == [0.0, 30.0, 60.0] * 3 and ys.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert not torch.equal(ys.photos[0], ys.photos[1])  # another yaw, another picture
    from faceid_lab.data.datasets import TEST_IDENTITY_OFFSET

    want = S.render(S.sample_identities(0, [TEST_IDENTITY_OFFSET + 500]), S.Nuisance.reference(1), 32)
    assert torch.allclose(ys.frontal[0], want.to_uint8()[0].float() / 255)
    assert YAWS == (0, 15, 30, 45, 60, 75)


def test_frontalization_asks_g_for_the_pose_p_reads_on_frontal_neutral_photos(tiny):
    from faceid_lab.models.pose import POSE_SCALE
    from faceid_lab.train.gan import features, generate

    players, _ = tiny
    photos = S.render(S.sample_identities(0, np.arange(5)), S.Nuisance.reference(5), 32).to_uint8().float() / 255
    want = (features(players.pose_net, photos) / POSE_SCALE).mean(0)
    code = frontal_pose(players.pose_net, people=5, resolution=32)
    assert code.shape == (7,) and torch.allclose(code, want, atol=1e-6)
    ys = render_yaw_set(identities=2, yaws=(0, 45), resolution=32)
    target = frontal_pose(players.pose_net, resolution=32).expand(4, 7)
    assert torch.allclose(frontalize(players, ys.photos),
                          generate(players.G, players.identity_features(ys.photos), target), atol=1e-6)


def test_frontalization_scores_table_and_figure(tiny):
    players, _ = tiny
    ys = render_yaw_set(identities=3, yaws=(0, 45), resolution=32)
    out = frontalize(players, ys.photos)
    assert out.shape == ys.photos.shape
    truth = ys.frontal[ys.labels]
    scores = {"A": score_frontalization(PixelJudge(), ys.photos, out, truth),
              "perfect": score_frontalization(PixelJudge(), ys.photos, truth, truth)}
    assert torch.allclose(scores["perfect"]["l1"], torch.zeros(6)) and scores["perfect"]["ssim"].min() > 0.999
    rows = yaw_table(scores, ys.yaw)
    assert [(r["method"], r["yaw"]) for r in rows] == [("A", 0), ("A", 45), ("perfect", 0), ("perfect", 45)]
    assert rows[2]["similarity to true frontal"] == pytest.approx(1.0, abs=1e-5)
    image = paper_figure(ys, {"A": out}, scores, people=2)
    assert image.size[0] > 2 * 32 and image.size[1] > 6 * 32  # 2 people x (input, A, truth) rows


def test_beats_in_every_bin_needs_every_bin():
    rows = [{"method": m, "yaw": y, "judge similarity": v}
            for m, y, v in (("a", 0, 0.5), ("a", 15, 0.4), ("b", 0, 0.6), ("b", 15, 0.41))]
    assert beats_in_every_bin(rows, "b", "a") and not beats_in_every_bin(rows, "a", "b")
    rows[-1]["judge similarity"] = 0.39
    assert not beats_in_every_bin(rows, "b", "a")


def test_detection_auc_counts_ties_half():
    assert detection_auc(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])) == 1.0
    assert detection_auc(torch.tensor([2.0, 3.0]), torch.tensor([0.0, 1.0])) == 0.0
    assert detection_auc(torch.tensor([1.0]), torch.tensor([1.0])) == 0.5


def test_dedicated_detector_learns_a_visible_fingerprint():
    g = torch.Generator().manual_seed(0)
    real = torch.rand(64, 3, 32, 32, generator=g) * 0.5
    fake = real.clone()
    fake[:, :, ::2, ::2] += 0.4  # a checkerboard "generator fingerprint"
    det = train_detector(real[:48], fake[:48], steps=60, batch=16, width=4)
    assert isinstance(det, Detector)
    with torch.no_grad():
        assert detection_auc(det(real[48:]), det(fake[48:])) > 0.95


def test_c_score_is_the_log_odds_of_the_synthesized_classes():
    torch.manual_seed(0)
    C = IdentityNet(num_classes=6, width=4).eval()
    with torch.no_grad():
        C.head.weight.zero_()
        C.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]))  # classes 3..5: synthesized
    s = CScore(C, 3)(torch.rand(2, 3, 32, 32))
    assert torch.allclose(s, torch.ones(2), atol=1e-5)


def test_detection_data_and_report(tiny):
    players, data = tiny
    frames = (torch.rand(5, 3, 32, 32), torch.rand(5, 3, 32, 32))
    d = detection_data(players, data, test_identities=3, train_images=8, deepfake_frames=frames)
    assert d.train_real.shape == d.train_fake.shape == (8, 3, 32, 32)
    assert d.test_real.shape == d.test_fake.shape == (6, 3, 32, 32)
    det = train_detector(d.train_real, d.train_fake, steps=2, batch=4, width=4)
    rows = detection_report(players, d, det)
    assert [r["detector"] for r in rows] == ["C's real/synth split (2N)", "dedicated detector"]
    assert all(0 <= v <= 1 for r in rows for k, v in r.items() if k.startswith("AUC"))
    assert "AUC, notebook 01 deepfakes" in rows[0]


def test_real_faces_are_frontalized_and_judged_by_dlib(tiny, celeba_shard):
    players, _ = tiny  # a 32 px model: the shard's 64 px crops are resized to it
    report, _ = celeba_shard
    figure, rows = real_faces_figure({"tiny 2N": players}, str(report.shard), count=4)
    assert [r["method"] for r in rows] == ["(two real photos)", "tiny 2N"] and rows[1]["faces"] == 4
    real = rows[0]  # the scale: dlib tells two photos of one person from two people
    assert real["similarity to own input"] > real["similarity to other people's inputs"]
    assert all(-1 <= r[k] <= 1 for r in rows for k in r if k.startswith("similarity"))
    assert figure.size[0] >= 4 * 32


def test_round_robin_takes_each_person_in_turn():
    from faceid_lab.frontalize import round_robin

    labels = np.array([7, 7, 7, 3, 3, 9])
    assert round_robin(labels, 4).tolist() == [0, 1, 3, 4]  # two photos of each person in turn
    assert round_robin(labels, 10).tolist() == [0, 1, 3, 4, 5, 2]
    assert round_robin(labels, 3, run=1).tolist() == [0, 3, 5]


def test_cli_evaluates_frontalization_and_detection(capsys):
    from faceid_lab.cli import main

    assert main(["evaluate", "frontalization", "--profile", "ci"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["identities"] == 4 and len(out["rows"]) == 2 * len(YAWS)
    assert isinstance(out["faceidgan_beats_baseline_in_every_bin"], bool)
    assert main(["evaluate", "detection", "--profile", "ci"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["detector"] for r in out["rows"]} == {"C's real/synth split (2N)", "dedicated detector"}
    assert all(0 <= r["AUC, notebook 01 deepfakes"] <= 1 for r in out["rows"])


def test_ci_profile_finds_the_shared_celeba_photos(monkeypatch):
    from faceid_lab.data.shards import Shard
    from faceid_lab.frontalize import SHARED_CELEBA, ci_real_shard

    if not SHARED_CELEBA.is_dir():
        pytest.skip(f"{SHARED_CELEBA} is not here (CI has the shared photos beside the clone)")
    shard = ci_real_shard("ci", people=1)
    assert shard is not None and len(Shard(shard).images) >= 10
    monkeypatch.setenv("FACEID_LAB_PROFILE", "cpu")
    assert ci_real_shard("cpu") is None  # elsewhere real faces stay opt-in


def test_detection_findings_word_the_drop_across_generators():
    from faceid_lab.detection import detection_findings

    rows = [{"detector": "C's split", "AUC, unseen people": 0.98, "AUC, notebook 01 deepfakes": 0.96},
            {"detector": "dedicated detector", "AUC, unseen people": 1.0, "AUC, notebook 01 deepfakes": 0.9}]
    lines = detection_findings(rows)
    assert "0.980 on FaceID-GAN's faces of unseen people, 0.960" in lines[0] and "(-0.020 across" in lines[0]
    assert lines[2].startswith("The larger drop across generators: dedicated detector")
    assert detection_findings([{"detector": "x", "AUC, unseen people": 0.9}]) == []  # no cross-generator column
