"""How FaceID-GAN's faces improve with CPU minutes: one long run of a variant (e.g. 4x the cpu
profile's steps), its snapshots at 1/4, 1/2 and 3/4 of the steps and its end, each judged by the
instruments on the *validation* people (never the test people). Answers "is the budget the limit?"

    python dev/compute_curve.py 2n --steps 9600 --out /tmp/curve     # trains what is missing
    python dev/compute_curve.py --show /tmp/curve/curve_2n_9600.json

writes DIR/curve_<variant>_<steps>.json (per snapshot: step, the training seconds it took, and the
instruments' summary; BEGAN's k over the run, as evaluate.k_summary gives it) and DIR/curve_<variant>_<steps>.png (8 validation people: source, G's face at
each snapshot, truth).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

SHOWN = slice(0, 16, 2)  # the 8 validation people in the picture (one photo each)
KEYS = ("judge_similarity", "param_error", "part_iou", "ssim", "yaw_error", "pitch_error", "roll_error", "kid")


def run(variant: str, steps: int, profile: str, identities: int, out: Path) -> Path:
    from faceid_lab.evaluate import k_summary, parse_variant, run_generator_test
    from faceid_lab.instruments import generator_truth, generator_verdict, load_instruments, reference_verdicts
    from faceid_lab.judge import load_synth_judge
    from faceid_lab.profiles import load_faceid_gan
    from faceid_lab.train.faceidgan import load_snapshot, snapshot_steps
    from faceid_lab.viz import image_grid

    classifier, symmetric = parse_variant(variant)
    players, history = load_faceid_gan(classifier, profile, symmetric, "cpu", steps=steps)
    judge, instruments = load_synth_judge(profile), load_instruments(profile, "cpu")
    seconds_per_step = history.get("seconds", 0.0) / steps
    rows, faces, truth, test = [], [], None, None
    for step in (*snapshot_steps(players.cfg), steps):
        q = load_snapshot(players, step)
        t = run_generator_test(q.G, q.identity_features, q.pose_net, identities=identities, per_identity=2,
                               split="validation")
        if truth is None:
            test, truth = t, generator_truth(t)
        s = generator_verdict(t.outputs, t, truth, instruments, judge)["summary"]
        rows.append({"step": step, "train_seconds": round(step * seconds_per_step, 1), **s})
        faces.append(t.outputs[SHOWN])
        print(f"step {step}: " + ", ".join(f"{k} {s[k]:.3f}" for k in KEYS), flush=True)
    ref = reference_verdicts(test, truth, instruments, judge)
    result = {"variant": variant, "profile": profile, "steps": steps, "split": "validation", "people": identities,
              "train_seconds": round(history.get("seconds", 0.0), 1), "snapshots": rows, "references": ref,
              **k_summary(history)}
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"curve_{variant}_{steps}.json"
    path.write_text(json.dumps(result, indent=1))
    grid = torch.cat([test.sources[SHOWN], *faces, test.targets[SHOWN]])
    labels = ["source", *[f"step {r['step']}" for r in rows], "truth"]
    image_grid(grid, 8, scale=2, row_labels=labels).save(path.with_suffix(".png"))
    return path


def show(path: Path) -> None:
    r = json.loads(path.read_text())
    print(f"{r['variant']}, {r['steps']} steps ({r['train_seconds']:.0f} s), {r['people']} validation people; "
          f"BEGAN's k > 0 in {r['k_positive_second_half']:.0%} of the second half, last {r['k_final']:.4f}")
    print("| step | train s | " + " | ".join(KEYS) + " | eyes IoU | lips IoU |")
    print("|---" * (len(KEYS) + 4) + "|")
    named = [(str(s["step"]), s) for s in r["snapshots"]] + [(f"({k})", v) for k, v in r["references"].items()]
    for name, s in named:
        parts = s["part_iou_by_part"]
        print(f"| {name} | {s.get('train_seconds', '')} | " + " | ".join(f"{s[k]:.3f}" for k in KEYS)
              + f" | {parts['eyes']:.3f} | {parts['lips']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variant", nargs="?", default="2n")
    ap.add_argument("--steps", type=int, default=9600)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--people", type=int, default=100, help="validation people")
    ap.add_argument("--out", type=Path, default=Path("curve"))
    ap.add_argument("--show", type=Path, help="print a curve's table instead")
    a = ap.parse_args()
    show(a.show or run(a.variant, a.steps, a.profile, a.people, a.out))


if __name__ == "__main__":
    main()
