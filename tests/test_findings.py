"""The ablation's tables and sentences are worded from the measured values: a difference is called one
only where its paired interval excludes 0, and the pictures' verdict follows part IoU's scale."""

import math

from faceid_lab.evaluate import faceidgan_findings, faceidgan_table, paired_rows, part_rows
from faceid_lab.stats import mean_interval, paired_bootstrap

PARTS = ("eyes", "brows", "nose", "lips", "hair", "skin")
KEYS = ("judge_similarity", "judge_similarity_blur", "param_error", "part_iou", "ssim", "yaw_error",
        "pitch_error", "roll_error", "kid")


def _variant(label: str, sim: float, part: float, ssim: float) -> dict:
    scores = {k: 0.1 for k in KEYS} | {"judge_similarity": sim, "part_iou": part, "ssim": ssim}
    seed = scores | {"part_iou_by_part": {p: part for p in PARTS}}
    return {"label": label, "per_seed": {"0": seed}, "summary": {k: mean_interval([v]) for k, v in scores.items()},
            "training": {"0": {"k_positive_second_half": 0.5}}}


def _result(part_2n: float) -> dict:
    people = 40
    n = [0.30 + 0.01 * (i % 5) for i in range(people)]
    two_n = [x + 0.2 for x in n]                               # clearly above N for every person
    nosym = [x + (0.01 if i % 2 else -0.01) for i, x in enumerate(two_n)]  # noise around 2N
    paired = {"2n - n": {k: paired_bootstrap(two_n, n) for k in ("judge_similarity", "judge_similarity_blur",
                                                                 "param_error", "part_iou", "ssim", "yaw_error")},
              "2n - 2n-nosym": {k: paired_bootstrap(two_n, nosym) for k in ("judge_similarity",
                                                                          "judge_similarity_blur", "param_error",
                                                                          "part_iou", "ssim", "yaw_error")}}
    ref = {k: 1.0 for k in KEYS} | {"part_iou_by_part": {p: 0.7 for p in PARTS}, "part_iou": 0.7}
    floor = {k: 0.0 for k in KEYS} | {"part_iou_by_part": {p: 0.2 for p in PARTS}, "part_iou": 0.2, "ssim": 0.45}
    return {"seeds": [0], "references": {"true render": ref, "blurred mean face": floor},
            "variants": {"n": _variant("N-class C (prior art)", 0.3, 0.2, 0.4),
                         "2n": _variant("2N-class C (FaceID-GAN)", 0.5, part_2n, 0.5),
                         "2n-nosym": _variant("2N-class C, no information symmetry", 0.5, 0.2, 0.5)},
            "paired": paired}


def test_a_difference_is_claimed_only_where_its_interval_separates():
    said = faceidgan_findings(_result(0.21))
    assert any("2N-class C minus N-class C" in s and s.endswith("2N-class C above N-class C.") for s in said)
    assert any("no measurable difference between 2N-class C and 2N-class C, no information symmetry" in s
               for s in said)
    rows = {r["A - B"]: r for r in paired_rows(_result(0.21))}
    assert not rows["2n - n"]["judge similarity"].endswith("(n.s.)")
    assert rows["2n - 2n-nosym"]["judge similarity"].endswith("(n.s.)")


def test_the_pictures_verdict_follows_part_iou_between_its_references():
    assert any("no variant paints a face's parts" in s for s in faceidgan_findings(_result(0.21)))
    good = faceidgan_findings(_result(0.6))                    # 80% of the way from the mean head to the truth
    assert any("80% of the way" in s for s in good) and not any("no variant paints" in s for s in good)
    assert any("below the blurred mean face's" in s and "N-class C" in s for s in good)  # N's SSIM 0.4 < 0.45
    assert any(s.startswith("One training seed") for s in good)


def test_tables_show_every_variant_and_both_references():
    r = _result(0.21)
    table = faceidgan_table(r)
    assert [row["variant"] for row in table][-2:] == ["(true render)", "(blurred mean face)"]
    assert table[1]["judge similarity"] == "0.500"              # one seed: a mean, no interval
    parts = part_rows(r)
    assert len(parts) == 5 and parts[-1]["eyes"] == 0.2 and not math.isnan(parts[0]["hair"])


def test_resemblance_words_follow_the_measured_share():
    from faceid_lab.evaluate import resemblance

    assert resemblance(0.11).startswith("barely resembles")  # notebook 03's G on cpu: 11% of the way
    assert resemblance(0.5) == "vaguely resembles the person"
    assert resemblance(0.9).startswith("resembles the person nearly as well")
