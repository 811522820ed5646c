"""Tune notebook 01's autoencoder on a validation pair (never the notebook's pair, never test people):
train one config (the profile's budget with overrides), then read its blended swaps with the
instruments (never a training signal) against the ground truth.

    python dev/sweep_autoencoder.py NAME [KEY=VALUE ...] [--profile cpu] [--out DIR]
    python dev/sweep_autoencoder.py lr1e-3 lr=0.001 --out /tmp/sweep_ae
    python dev/sweep_autoencoder.py --show DIR

writes DIR/NAME.json (config, seconds trained, SSIM of the blended swap to the truth, P' pose error,
part IoU, the judge's similarity to B) and DIR/NAME.png (A, the swap, the truth for 8 frames).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from sweep_faceidgan import _value  # the same KEY=VALUE parsing (run as `python dev/...`: dev/ is on sys.path)

VALIDATION_PAIR = (0, 1)  # the first two validation people (datasets.VALIDATION_IDENTITY_OFFSET + i)


BUDGET_KEYS = ("frame_resolution", "pretrain")  # overrides of the budget itself, not of AutoencoderConfig


def run(name: str, overrides: dict, profile: str, out: Path, frames: int, test_frames: int,
        pair_people: tuple[int, int] = VALIDATION_PAIR, pretrain: bool = True) -> dict:
    import torch

    from faceid_lab import deepfake, profiles
    from faceid_lab.data.datasets import VALIDATION_IDENTITY_OFFSET
    from faceid_lab.instruments import load_instruments
    from faceid_lab.profiles import DEEPFAKE_BUDGETS
    from faceid_lab.swap import swap_frames
    from faceid_lab.viz import image_grid

    budget = dict(DEEPFAKE_BUDGETS[profile], **{k: overrides.pop(k) for k in list(overrides) if k in BUDGET_KEYS})
    a, b = (VALIDATION_IDENTITY_OFFSET + i for i in pair_people)
    budget["frames"], budget["test_frames"] = frames or budget["frames"], test_frames or budget["test_frames"]
    pair = profiles.budget_pair(budget, a=a, b=b)
    began = time.time()
    model, history, cfg = profiles.train_pair_or_load(pair, budget, pretrain=pretrain, overrides=overrides)
    seconds = history.get("seconds", time.time() - began)
    judge = deepfake.judge_for(pair, profile)
    instruments = load_instruments(profile)
    swapped = swap_frames(model, pair.test_a, pair.test_masks_a, pair.test_matrices_a, method="alpha",
                                colour=False)
    report = deepfake.evaluate_swap(swapped, pair, judge, None, instruments)
    seen = report["instruments"]
    row = {"name": name, "pair": [a, b], "pretrain": pretrain, "overrides": overrides, "config": asdict(cfg),
           "train_seconds": round(seconds, 1), "pretrain_seconds": round(history["pretrain_seconds"], 1),
           "img_per_s": round(2 * cfg.batch * cfg.steps / max(seconds, 1e-9), 1),
           "final_loss": [history["loss_a"][-1], history["loss_b"][-1]],
           "ssim_blended": report["blended"]["ssim_to_truth"], "ssim_raw": report["raw"]["ssim_to_truth"],
           "ssim_blended_full": report["blended"]["ssim_to_truth_full_resolution"],
           "yaw_error_p_prime": seen["pose_error_deg"]["swap"]["yaw"],
           "pose_error_p_prime": seen["pose_error_deg"]["swap"],
           "part_iou": seen["part_iou"], "part_iou_truth": seen["part_iou_truth"],
           "judge_similarity_to_b": report["judge"]["similarity_to_b"],
           "judge_similarity_to_a": report["judge"]["similarity_to_a"],
           "judge_closer_to_b": report["judge"]["closer_to_b"]}
    (out / f"{name}.json").write_text(json.dumps(row, indent=1))
    pick = torch.linspace(0, len(pair.test_a) - 1, 8).round().long()
    image_grid(torch.cat([pair.test_a[pick], swapped.blended[pick], pair.truth_ab[pick]]), ncol=8, scale=1,
               row_labels=["A", "swap", "truth"]).save(out / f"{name}.png")
    return row


def show(folder: Path) -> None:
    print("| run | pair | overrides | pretrain s | train s | SSIM blended | yaw / pitch err P' | part IoU | eyes | lips "
          "| judge closer to B |")
    print("|---" * 11 + "|")
    for path in sorted(folder.glob("*.json")):
        try:
            r = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue  # not a finished sweep run
        if "part_iou_truth" not in r:
            continue  # another command's output, or a run from before the pretraining
        iou = r["part_iou"]
        bound, pose = r["part_iou_truth"], r["pose_error_p_prime"]
        print(f"| {r['name']} | {r['pair']} | {r['overrides']} | {r['pretrain_seconds']:.0f} | {r['train_seconds']:.0f} | "
              f"{r['ssim_blended']:.3f} | {pose['yaw']:.1f} / {pose['pitch']:.1f} | {iou['mean']:.3f} "
              f"({bound['mean']:.3f}) | {iou['eyes']:.3f} ({bound['eyes']:.3f}) | {iou['lips']:.3f} ({bound['lips']:.3f}) "
              f"| {r['judge_closer_to_b']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?")
    parser.add_argument("overrides", nargs="*", help="AutoencoderConfig fields, KEY=VALUE")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sweep_ae"))
    parser.add_argument("--frames", type=int, default=0, help="training frames per person (default: the budget's)")
    parser.add_argument("--test-frames", type=int, default=0)
    parser.add_argument("--show", type=Path)
    parser.add_argument("--pair", type=int, nargs=2, default=VALIDATION_PAIR, metavar=("A", "B"),
                        help="validation people (offsets from VALIDATION_IDENTITY_OFFSET)")
    parser.add_argument("--no-pretrain", action="store_true")
    a = parser.parse_args()
    if a.show:
        show(a.show)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    overrides = dict(kv.split("=", 1) for kv in a.overrides)
    row = run(a.name, {k: _value(v) for k, v in overrides.items()}, a.profile, a.out, a.frames, a.test_frames,
              tuple(a.pair), not a.no_pretrain)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
