"""`faceid-lab synth grid|shard`: the SynthFaces renderer."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..data.datasets import SynthSplit, make_synth_shard
from ..errors import nonnegative_int, positive_int
from ..viz.synthfaces import tour_grid
from .common import progress_printer


def grid(a: argparse.Namespace) -> int:
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tour_grid(a.seed, a.identities, a.resolution, scale=a.scale).save(out)
    print(f"wrote {out} ({a.identities} identities x 8 poses/expressions at {a.resolution} px)")
    return 0


def add_grid(synth) -> None:
    g = synth.add_parser("grid", help="identities x poses picture")
    g.add_argument("--out", required=True, help="the PNG file to write")
    g.set_defaults(out_is_folder=False)
    g.add_argument("--seed", type=nonnegative_int, default=0)
    g.add_argument("--identities", type=positive_int, default=8)
    g.add_argument("--resolution", type=positive_int, default=64)
    g.add_argument("--scale", type=positive_int, default=2, help="pixel magnification in the picture")
    g.set_defaults(fn=grid)


def shard(a: argparse.Namespace) -> int:
    split = SynthSplit(a.seed, a.identities, a.images_per_identity, a.part)
    began = time.perf_counter()
    written = make_synth_shard(a.out, split, a.resolution, device=a.device, progress=progress_printer())
    seconds = time.perf_counter() - began
    print(f"{written.path}: {len(written)} images at {a.resolution} px in {seconds:.1f} s "
          f"({len(written) / max(seconds, 1e-9):.0f} img/s)")
    return 0


def add_shard(synth) -> None:
    s = synth.add_parser("shard", help="render a split into a shard (resumable)")
    s.add_argument("--out", required=True, help="shard folder (resumed if unfinished)")
    s.set_defaults(out_is_folder=True)
    s.add_argument("--part", choices=["train", "heldout", "test"], default="train")
    s.add_argument("--seed", type=nonnegative_int, default=0)
    s.add_argument("--identities", type=positive_int, default=100)
    s.add_argument("--images-per-identity", type=positive_int, default=50)
    s.add_argument("--resolution", type=positive_int, default=64)
    s.add_argument("--device", default="cpu")
    s.set_defaults(fn=shard)


def add(sub) -> None:
    synth = sub.add_parser("synth", help="the SynthFaces renderer").add_subparsers(dest="what", required=True)
    add_grid(synth)
    add_shard(synth)
