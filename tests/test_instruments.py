"""The instruments: each trains in the ci profile and beats a trivial baseline on people it never
saw; part IoU and the verdict's references behave on known cases; the evaluation runs end to end
with seeds and intervals."""

import json
import math

import numpy as np
import pytest
import torch

from conftest import run_cli
from faceid_lab import instruments as I
from faceid_lab import profiles, swap
from faceid_lab.data import pairs
from faceid_lab.data import synthetic as S
from faceid_lab.train.instruments import class_weights


def test_part_iou_on_known_maps():
    skin, eye, hair = (S.PART_NAMES.index(n) for n in ("skin", "eye", "hair"))
    truth = torch.full((2, 8, 8), skin)
    truth[:, 2:4, 2:4] = eye                                   # a 2x2 eye
    pred = truth.clone()
    pred[1, 2:4, 3:5] = eye                                    # image 1: the eye one pixel to the right
    pred[1, 2:4, 2] = skin
    iou = I.part_iou(pred, truth)
    assert iou["eyes"][0] == 1 and iou["eyes"][1] == pytest.approx(2 / 6)
    assert math.isnan(iou["hair"][0])                          # in neither map: no error, no score
    pred[0, 0, 0] = hair
    assert I.part_iou(pred, truth)["hair"][0] == 0             # painted where there is none: 0


def test_rare_parts_weigh_more_in_the_segmenters_loss():
    parts = torch.zeros(1, 10, 10, dtype=torch.uint8)
    parts[0, :5] = S.PART_NAMES.index("skin")
    parts[0, 0, 0] = S.PART_NAMES.index("eye")
    w = class_weights(parts, cap=10.0)
    assert w[S.PART_NAMES.index("eye")] == 10.0                # capped
    assert float(w[S.PART_NAMES.index("skin")]) == pytest.approx(float(w[0]), rel=0.05)  # as common as background
    assert w[S.PART_NAMES.index("nose")] == 1.0                # absent: left alone


@pytest.fixture(scope="module")
def ci_instruments(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("instruments_home")
    saved = {k: os.environ.get(k) for k in ("FACEID_LAB_HOME", "FACEID_LAB_TRAINING_LOCK")}
    os.environ["FACEID_LAB_HOME"] = str(home)
    os.environ["FACEID_LAB_TRAINING_LOCK"] = str(home / "training.lock")  # this module's own lock
    try:
        yield I.load_instruments("ci"), home
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def test_each_instrument_beats_a_trivial_baseline_on_unseen_people(ci_instruments):
    instruments, _ = ci_instruments
    r = I.evaluate_instruments(instruments, identities=20, per_identity=4)
    pose = r["pose_reader"]
    assert pose["mae"]["yaw"] < 0.6 * pose["mae_of_the_mean"]["yaw"]
    assert pose["mae"]["pitch"] < pose["mae_of_the_mean"]["pitch"]
    params = r["param_reader"]
    assert np.mean([params["r2"][f"hair_{c}"] for c in "rgb"]) > 0.2    # the mean of the people scores 0
    assert np.mean([params["r2"][f"skin_{c}"] for c in "rgb"]) > 0.0
    seg, floor = r["segmenter"], r["segmenter"]["iou_of_the_commonest_map"]
    assert seg["iou_mean"] > np.mean(list(floor.values())) + 0.05
    assert min(seg["iou"][p] for p in ("eyes", "nose", "brows")) > 0.05  # small parts found (the floor: 0)
    for p in instruments.provenance.values():
        assert p["used_as_training_signal"] is False
        assert p["world_seed"] not in (0, 7919)                # not the course's world, not the judge's


def test_a_finished_instrument_loads_without_rendering(ci_instruments, monkeypatch):
    instruments, home = ci_instruments
    monkeypatch.setenv("FACEID_LAB_HOME", str(home))
    real = I.render_world

    def validation_only(seed, ids, *args, **kwargs):  # R's few validation people (what it reads) are fine
        if np.min(ids) < I.READER_VALIDATION_OFFSET:
            pytest.fail("loading rendered a training set")
        return real(seed, ids, *args, **kwargs)

    monkeypatch.setattr(I, "render_world", validation_only)
    monkeypatch.setattr(profiles, "render_world", validation_only)
    again = I.load_instruments("ci")
    x = torch.rand(3, 3, 64, 64)
    assert torch.equal(again.read_pose(x), instruments.read_pose(x))


def _perfect_generator_test(people: int):
    """A generator test of unseen people, two photos each, whose outputs are the true renders."""
    from faceid_lab.evaluate import GeneratorTest
    from faceid_lab.train.gan import render_photos

    ids, imgs = 1_000_000 + np.repeat(np.arange(people), 2), np.tile(np.arange(2), people)
    src, _ = render_photos(0, ids, imgs, False, 64)
    tgt, pose = render_photos(0, ids, imgs, True, 64)
    src, tgt = src.float() / 255, tgt.float() / 255
    labels = torch.from_numpy(np.repeat(np.arange(people), 2))
    return GeneratorTest(src, tgt, pose, labels, tgt.clone(), ids, imgs, 0)


def test_the_verdicts_scale_truth_scores_as_truth(ci_instruments, tiny_gan_world):
    from conftest import PooledPixelJudge

    instruments, _ = ci_instruments
    test = _perfect_generator_test(people=4)
    tgt = test.targets
    truth = I.generator_truth(test)
    assert not torch.equal(truth["others"], tgt)               # other people, ...
    refs = I.reference_verdicts(test, truth, instruments, PooledPixelJudge())
    top, floor = refs["true render"], refs["blurred mean face"]
    assert top["ssim"] == pytest.approx(1.0) and top["l1"] == 0.0
    seg_iou = I.part_iou(instruments.segment(tgt), truth["parts"])
    assert top["part_iou"] == pytest.approx(float(torch.stack(list(seg_iou.values()), 1).nanmean(1).nanmean()))
    assert floor["ssim"] < top["ssim"] and floor["l1"] > 0
    assert floor["blur_kept"] == pytest.approx(1.0, abs=0.05)  # already blurred: a blur takes nothing away


def test_evaluate_faceidgan_reports_seeds_intervals_and_paired_differences(tmp_path):
    out = tmp_path / "eval.json"
    proc = run_cli("evaluate", "faceidgan", "--profile", "ci", "--variants", "n", "2n", "--seed", "0", "1", "2",
                   "--out", str(out))
    assert "2N-class C (FaceID-GAN)" in proc.stdout and "(true render)" in proc.stdout  # the printed table
    r = json.loads(out.read_text())
    assert r["seeds"] == [0, 1, 2] and set(r["variants"]) == {"n", "2n"} and r["split"] == "test"
    v = r["variants"]["2n"]
    assert set(v["per_seed"]) == {"0", "1", "2"} and len(v["per_person"]["judge_similarity"]) == r["people"]
    s = v["summary"]["judge_similarity"]
    assert s["n"] == 3 and s["low"] <= s["mean"] <= s["high"]
    # three seeds are three different runs
    assert len({v["per_seed"][k]["judge_similarity"] for k in v["per_seed"]}) == 3
    diff = r["paired"]["2n - n"]["judge_similarity"]
    assert diff["low"] <= diff["difference"] <= diff["high"] and isinstance(diff["separated"], bool)
    assert set(r["references"]) == {"true render", "blurred mean face"}
    assert set(r["keys"]) >= {"judge_similarity", "part_iou", "param_error", "kid", "blur_kept"}
    assert {"k_final", "k_positive_second_half"} <= set(v["training"]["0"])


def test_parameter_error_counts_only_the_parameters_R_reads(ci_instruments):
    import dataclasses

    instruments, _ = ci_instruments
    cols = [I.PARAM_COLUMNS[i] for i in I.CONTINUOUS]
    x = torch.rand(4, 3, 64, 64)
    truth = S.sample_identities(0, np.arange(4)).to_vector()
    only_skin = dataclasses.replace(instruments, readable=torch.tensor([c == "skin_r" for c in cols]))
    moved = truth.clone()
    moved[:, I.PARAM_COLUMNS.index("head_width")] += 5.0       # a parameter R does not read: no change
    assert torch.equal(only_skin.parameter_error(x, moved), only_skin.parameter_error(x, truth))
    moved[:, I.PARAM_COLUMNS.index("skin_r")] += 5.0           # one it reads: the error changes
    assert not torch.equal(only_skin.parameter_error(x, moved), only_skin.parameter_error(x, truth))
    everything = dataclasses.replace(instruments, readable=None)
    moved = truth.clone()
    moved[:, I.PARAM_COLUMNS.index("head_width")] += 5.0
    assert not torch.equal(everything.parameter_error(x, moved), everything.parameter_error(x, truth))
    # load_instruments decides what R reads on R's own validation people, and says so
    r = I.readable_parameters(instruments.param_reader, identities=30, per_identity=1, threshold=-math.inf)
    assert len(r["r2"]) == 25 and bool(r["mask"].all()) and r["readable"] == cols
    prov = instruments.provenance["param_reader"]
    assert prov["readable_r2"] == I.READABLE_R2 and set(prov["readable_parameters"]) <= set(cols)
    assert instruments.readable.tolist() == [prov["validation_r2"][c] >= I.READABLE_R2 for c in cols]


def test_frontalization_is_scored_by_the_instruments_against_its_references(ci_instruments):
    from conftest import PooledPixelJudge
    from faceid_lab import frontalize as fr

    instruments, _ = ci_instruments
    ys = fr.render_yaw_set(identities=4, yaws=(0, 45))
    assert ys.frontal_parts.shape == (4, 64, 64) and ys.params.shape == (4, 26)
    judge = PooledPixelJudge()
    refs = fr.frontal_references(judge, ys, instruments)
    top, floor = refs["(true frontal)"], refs["(blurred mean face)"]
    assert top["ssim"].min() > 0.999 and top["part_iou"].nanmean() > floor["part_iou"].nanmean()
    assert {"pose_error", "part_iou", "param_error"} <= set(top)
    noisy = (ys.frontal[ys.labels] + 0.3 * torch.randn_like(ys.photos)).clamp(0, 1)
    scores = {"truth": top, "noisy": fr.score_yaw_set(judge, ys, noisy, instruments)}
    rows = fr.paired_methods(scores, ys.labels, "truth", "noisy", keys=("ssim",))
    assert rows[0]["separated"] and rows[0]["people"] == 4
    said = fr.frontalization_findings(scores, refs, ys.yaw, ys.labels, "truth", "noisy")
    assert any(line.startswith("ssim, truth minus noisy") for line in said)
    assert [r["method"] for r in fr.summary_rows(scores | refs)] == ["truth", "noisy", *refs]


def test_verdict_rows_put_a_generator_between_its_references(ci_instruments):
    from conftest import PooledPixelJudge
    from faceid_lab.evaluate import VERDICT_COLUMNS, verdict_rows

    instruments, _ = ci_instruments
    test = _perfect_generator_test(people=3)
    tgt = test.targets
    rows = verdict_rows(test, {"perfect G": tgt.clone(), "grey G": torch.full_like(tgt, 0.5)}, instruments,
                        PooledPixelJudge())
    assert [r[""] for r in rows] == ["perfect G", "grey G", "(true render)", "(blurred mean face)"]
    assert {k: v for k, v in rows[0].items() if k} == {k: v for k, v in rows[2].items() if k}
    assert set(rows[0]) == {""} | {title for title, _ in VERDICT_COLUMNS}
    assert float(rows[1]["part IoU"]) < float(rows[0]["part IoU"]) and rows[0]["SSIM"] == "1.000"


def test_a_deepfake_swap_is_read_by_the_instruments(ci_instruments):
    from conftest import PooledPixelJudge
    from faceid_lab import deepfake

    instruments, _ = ci_instruments
    pair = pairs.synthfaces_pair(0, a=2, b=4, frames=8, test_frames=6)
    assert pair.truth_parts_ab.shape == (6, 64, 64) and pair.params_b.shape == (26,)
    truth = swap.SwapResult(pair.truth_ab, pair.test_masks_a, pair.truth_ab)
    grey = swap.SwapResult(pair.truth_ab, pair.test_masks_a, torch.full_like(pair.truth_ab, 0.5))
    seen = {name: deepfake.evaluate_swap(r, pair, PooledPixelJudge(), instruments=instruments)["instruments"]
            for name, r in (("truth", truth), ("grey", grey))}
    assert set(seen["truth"]) == {"pose_error_deg", "part_iou", "part_iou_truth", "param_error_to_b",
                                  "param_error_to_a"}
    assert seen["truth"]["part_iou"] == seen["truth"]["part_iou_truth"]  # the truth scores its own bound
    assert set(seen["truth"]["pose_error_deg"]["swap"]) == {"yaw", "pitch", "roll"}
    assert seen["truth"]["part_iou"]["mean"] > seen["grey"]["part_iou"]["mean"]
    assert all(v["param_error_to_b"] >= 0 and v["param_error_to_a"] >= 0 for v in seen.values())
    rows = deepfake.swap_by_yaw(truth, pair, PooledPixelJudge(), instruments)
    assert sum(r["frames"] for r in rows) == 6 and all(0 <= r["judge: closer to B"] <= 1 for r in rows)
    edges = [float(r["|yaw| of A (deg)"].split("-")[0]) for r in rows]
    assert edges == sorted(edges) and all(r["yaw error by P' (deg)"] >= 0 for r in rows)
