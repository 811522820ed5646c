"""`faceid-lab bench render|train`: throughput, printed as `NAME: X img/s`."""

from __future__ import annotations

import argparse
import sys

from ..bench import GAMES, bench_render, bench_train, faceidgan_breakdown, flops_per_image, format_result
from ..errors import positive_int


def render(a: argparse.Namespace) -> int:
    r = bench_render(a.resolution, a.batch, a.repeats, a.device)
    print(f"render: {r['img_per_s']:.0f} img/s ({a.resolution} px, batch {a.batch}, {a.device}, "
          f"{r['threads']} threads)")
    return 0


def add_render(bench) -> None:
    b = bench.add_parser("render", help="SynthFaces images per second")
    b.add_argument("--resolution", type=positive_int, default=64)
    b.add_argument("--batch", type=positive_int, default=256)
    b.add_argument("--repeats", type=positive_int, default=4)
    b.add_argument("--device", default="cpu")
    b.set_defaults(fn=render)


def train(a: argparse.Namespace) -> int:
    for r in bench_train(a.game, a.resolution, a.batch, a.device, a.steps, a.warmup, a.compile):
        print(format_result(r), flush=True)
    if a.flops:
        gflop = flops_per_image(a.game, a.resolution, a.batch) / 1e9
        print(f"{a.game}: {gflop:.2f} GFLOP per image per training step (forward and backward)", flush=True)
    if a.breakdown:
        if a.game != "faceidgan":
            print("faceid-lab: --breakdown is for faceidgan (the step with several players)", file=sys.stderr)
            return 2
        shares = faceidgan_breakdown(a.resolution, a.batch, a.device, a.steps, a.warmup)
        print("where the time goes: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()), flush=True)
    return 0


def add_train(bench) -> None:
    b = bench.add_parser("train", help="training images per second: fp32 eager vs the optimised path")
    b.add_argument("game", choices=GAMES)
    b.add_argument("--resolution", type=positive_int, default=64)
    b.add_argument("--batch", type=positive_int, default=64)
    b.add_argument("--steps", type=positive_int, default=10)
    b.add_argument("--warmup", type=positive_int, default=3)
    b.add_argument("--device", default="cpu")
    b.add_argument("--compile", action="store_true", help="also torch.compile the model in the optimised path")
    b.add_argument("--breakdown", action="store_true", help="faceidgan: each phase's share of the step (profiler)")
    b.add_argument("--flops", action="store_true", help="also count the step's floating-point operations per image")
    b.set_defaults(fn=train)


def add(sub) -> None:
    bench = sub.add_parser("bench", help="throughput").add_subparsers(dest="what", required=True)
    add_render(bench)
    add_train(bench)
