"""Tune FaceID-GAN on validation people: train-or-load one variant with config overrides, judge it
with the instruments on the *validation* split (never the test people), keep a few of its faces.

    python dev/sweep_faceidgan.py NAME VARIANT [KEY=VALUE ...] [--profile cpu] [--device cuda] [--out DIR]
    python dev/sweep_faceidgan.py gamma1 2n gamma=1.0 lambda_k=0.01 --device cuda --out /tmp/sweep

writes DIR/NAME.json (evaluate_faceidgan's result, split "validation", plus the overrides) and
DIR/NAME_faces.pt (uint8 (3 rows x 8) sources, outputs and truths of 8 validation people) for
`python dev/sweep_faceidgan.py --show DIR` (a grid per run and a one-line table of all runs).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def run(name: str, variant: str, overrides: dict, profile: str, device: str, out: Path) -> None:
    from faceid_lab.evaluate import evaluate_faceidgan, parse_variant, run_generator_test
    from faceid_lab.profiles import load_faceid_gan

    began = time.time()
    result = evaluate_faceidgan(profile, variants=(variant,), seeds=(0,), split="validation", device=device,
                                **overrides)
    result["overrides"], result["wall_seconds"] = overrides, round(time.time() - began, 1)
    (out / f"{name}.json").write_text(json.dumps(result, indent=1))
    classifier, symmetric = parse_variant(variant)
    players, _ = load_faceid_gan(classifier, profile, symmetric, device, **overrides)
    test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=8, per_identity=1,
                              split="validation")
    faces = torch.cat([test.sources, test.outputs, test.targets]).mul(255).round().to(torch.uint8)
    torch.save(faces, out / f"{name}_faces.pt")


def show(folder: Path) -> None:
    from faceid_lab.viz import image_grid

    keys = ("judge_similarity", "judge_similarity_blur", "param_error", "part_iou", "ssim", "yaw_error", "kid")
    print("| run | overrides | " + " | ".join(keys) + " | eyes IoU | k>0 (2nd half) | train s |")
    print("|---" * (len(keys) + 5) + "|")
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        (v,) = r["variants"].values()
        s, seed = v["summary"], v["per_seed"]["0"]
        t = v["training"]["0"]
        print(f"| {path.stem} | {r.get('overrides')} | " + " | ".join(f"{s[k]['mean']:.3f}" for k in keys)
              + f" | {seed['part_iou_by_part']['eyes']:.3f} | {t['k_positive_second_half']:.0%} | "
              f"{t['train_seconds']:.0f} |")
        faces = folder / f"{path.stem}_faces.pt"
        if faces.exists():
            grid = image_grid(torch.load(faces, weights_only=True).float() / 255, 8, scale=2,
                              row_labels=["source", path.stem, "truth"])
            grid.save(folder / f"{path.stem}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?")
    ap.add_argument("variant", nargs="?", default="2n")
    ap.add_argument("overrides", nargs="*", help="FaceIdGanConfig fields, KEY=VALUE")
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=Path("sweep"))
    ap.add_argument("--show", type=Path, help="summarise a sweep folder instead")
    a = ap.parse_args()
    if a.show:
        return show(a.show)
    if not a.name:
        ap.error("NAME is required (or --show DIR)")
    a.out.mkdir(parents=True, exist_ok=True)
    overrides = {k: _value(v) for k, v in (o.split("=", 1) for o in a.overrides)}
    run(a.name, a.variant, overrides, a.profile, a.device, a.out)


if __name__ == "__main__":
    main()
