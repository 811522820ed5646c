"""`faceid-lab evaluate ...`: metrics as JSON on stdout (each computed in the feature's own module)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..deepfake import evaluate_autoencoder
from ..detection import evaluate_detection
from ..errors import nonnegative_int, positive_float, positive_int
from ..evaluate import (
    evaluate_faceidgan,
    evaluate_judge,
    evaluate_pose,
    evaluate_real_shard,
    evaluate_synthfaces,
    faceidgan_table,
    variant_faces,
)
from ..frontalize import evaluate_frontalization
from ..instruments import evaluate_instruments, load_instruments
from ..train.faceidgan import variant_name
from ..viz.grids import image_grid
from ..viz.tables import markdown_table
from .common import add_profile, on_terminal
from .train import add_autoencoder_arguments, add_faceidgan_arguments, deepfake_model, faceidgan_variants


def synthfaces(a: argparse.Namespace) -> int:
    result = evaluate_synthfaces(seed=a.seed, identities=a.identities, images_per_identity=a.images_per_identity,
                                 test_identities=a.test_identities, resolution=a.resolution,
                                 train_seconds=a.train_seconds, steps=a.steps, device=a.device)
    print(json.dumps(result, indent=1))
    return 0


def add_synthfaces(ev) -> None:
    e = ev.add_parser("synthfaces", help="learnable but not trivial: CNN vs pixel 1-NN, unseen-identity AUC")
    e.add_argument("--seed", type=nonnegative_int, default=0)
    e.add_argument("--identities", type=positive_int, default=100)
    e.add_argument("--images-per-identity", type=positive_int, default=160)
    e.add_argument("--test-identities", type=positive_int, default=50)
    e.add_argument("--resolution", type=positive_int, default=64)
    e.add_argument("--train-seconds", type=positive_float, default=180.0)
    e.add_argument("--steps", type=positive_int, default=850)
    e.add_argument("--device", default="cpu")
    e.set_defaults(fn=synthfaces)


def real(a: argparse.Namespace) -> int:
    print(json.dumps(evaluate_real_shard(a.shard), indent=1))
    return 0


def add_real(ev) -> None:
    e = ev.add_parser("real", help="a prepared real-face shard: alignment error and the dlib judge")
    e.add_argument("--shard", required=True)
    e.set_defaults(fn=real)


def judge(a: argparse.Namespace) -> int:
    print(json.dumps(evaluate_judge(a.profile, device=a.device), indent=1))
    return 0


def pose(a: argparse.Namespace) -> int:
    print(json.dumps(evaluate_pose(a.profile, device=a.device), indent=1))
    return 0


def instruments(a: argparse.Namespace) -> int:
    found = load_instruments(a.profile, a.device, progress=on_terminal())
    print(json.dumps({"provenance": found.provenance, **evaluate_instruments(found)}, indent=1))
    return 0


def frontalization(a: argparse.Namespace) -> int:
    print(json.dumps(evaluate_frontalization(a.profile, a.device), indent=1))
    return 0


def detection(a: argparse.Namespace) -> int:
    print(json.dumps(evaluate_detection(a.profile, a.device), indent=1))
    return 0


def add_profile_model(ev, name: str, fn, text: str) -> None:
    q = ev.add_parser(name, help=text)
    add_profile(q)
    q.add_argument("--device", default="cpu")
    q.set_defaults(fn=fn)


def autoencoder(a: argparse.Namespace) -> int:
    pair, model, info = deepfake_model(a)
    if info is None:  # under torchrun, rank 0 evaluates
        return 0
    report = evaluate_autoencoder(model, pair, a.profile, a.device, a.blend, a.colour)
    print(json.dumps({**info, "blend": a.blend, "colour_match": a.colour, **report}, indent=1))
    return 0


def add_autoencoder(ev) -> None:
    text = "the deepfake's swaps against ground truth, the judge and P (JSON)"
    q = ev.add_parser("autoencoder", help=text, description=text)
    add_autoencoder_arguments(q)
    q.add_argument("--blend", choices=["alpha", "poisson"], default="alpha")
    q.add_argument("--colour", action="store_true", help="match colours in Lab before blending")
    q.set_defaults(fn=autoencoder)


def faceidgan(a: argparse.Namespace) -> int:
    variants = tuple(dict.fromkeys(variant_name(c, s) for c, s in faceidgan_variants(a)))
    overrides = {"steps": a.steps} if a.steps is not None else {}
    result = evaluate_faceidgan(a.profile, variants, tuple(a.seed), a.split, device=a.device,
                                progress=on_terminal(), **overrides)
    text = json.dumps(result, indent=1)
    if a.grid:  # seed 0's faces of 8 people of the same split, a row per variant
        faces, labels = variant_faces(a.profile, variants, identities=8, split=a.split, seed=a.seed[0],
                                      device=a.device, **overrides)
        Path(a.grid).parent.mkdir(parents=True, exist_ok=True)
        image_grid(faces, 8, scale=2, row_labels=labels).save(a.grid)
    if a.out:
        Path(a.out).write_text(text)
        print(markdown_table(faceidgan_table(result)).data)
    else:
        print(text)
    return 0


def add_faceidgan(ev) -> None:
    text = "FaceID-GAN variants judged on unseen people (JSON; trains what is missing)"
    q = ev.add_parser("faceidgan", help=text, description=text)
    add_faceidgan_arguments(q, "all")
    q.add_argument("--split", choices=["test", "validation"], default="test",
                   help="whose faces: validation people (for tuning) or test people (final tables)")
    q.add_argument("--out", default=None, help="write the JSON here and print the table")
    q.add_argument("--grid", default=None, metavar="PNG",
                   help="also write the faces of 8 people as a PNG: source, a row per variant (the first seed), truth")
    q.set_defaults(out_is_folder=False)
    q.set_defaults(fn=faceidgan)


def add(sub) -> None:
    ev = sub.add_parser("evaluate", help="metrics as JSON").add_subparsers(dest="what", required=True)
    add_synthfaces(ev)
    add_real(ev)
    add_profile_model(ev, "judge", judge, "the judge on unseen identities: ROC AUC, TAR, retrieval")
    add_profile_model(ev, "pose", pose, "P on unseen identities: mean absolute errors")
    add_profile_model(ev, "instruments", instruments, "the instruments on unseen people: P' errors, parameter R^2, "
                      "part IoU, each against a trivial baseline")
    add_profile_model(ev, "frontalization", frontalization, "notebook 08: judge similarity by yaw bin, baseline (N) "
                      "vs FaceID-GAN (2N), and L1 / SSIM to the truth")
    add_profile_model(ev, "detection", detection, "notebook 09: ROC AUC of C's real/synth split and a dedicated "
                      "detector, incl. notebook 01's deepfakes")
    add_autoencoder(ev)
    add_faceidgan(ev)
