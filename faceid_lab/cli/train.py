"""`faceid-lab train classifier|judge|pose|instruments|autoencoder|faceidgan`: train-or-load, resumable.

Each handler asks profiles (or train/) for the model and prints what it got as JSON."""

from __future__ import annotations

import argparse
import json

from .. import profiles
from ..data.datasets import SynthSplit, render_split
from ..errors import nonnegative_int, positive_float, positive_int
from ..evaluate import VARIANTS, heldout_accuracy, parse_variant
from ..instruments import load_instruments
from ..judge import load_synth_judge
from ..train import distributed
from ..train.classifier import ClassifierConfig, train_classifier
from .common import add_profile, add_save_interval, on_terminal


def classifier(a: argparse.Namespace) -> int:
    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    device = distributed.device_for(dist, a.device)
    r, labels, _, _ = render_split(SynthSplit(a.seed, a.identities, a.images_per_identity, "train"), a.resolution)
    cfg = ClassifierConfig(num_classes=a.identities, width=a.width, steps=a.steps, batch=a.batch, seed=a.seed)
    net, history = train_classifier(r.to_uint8(), labels, cfg, checkpoint=a.out, device=device,
                                    save_every_s=a.save_every_s, save_every_steps=a.save_every_steps,
                                    progress=on_terminal(), dist=dist, compile=a.compile)
    if not dist.main:  # rank 0 evaluates and reports
        return 0
    accuracy = heldout_accuracy(net, a.seed, a.identities, a.resolution, device)
    print(json.dumps({"checkpoint": str(a.out), "steps": cfg.steps, "final_loss": history["loss"][-1],
                      "heldout_accuracy": round(accuracy, 4), "train_seconds": round(history["seconds"], 1),
                      "processes": dist.world}))
    return 0


def add_classifier(tr) -> None:
    t = tr.add_parser("classifier", help="the identity network on SynthFaces identities")
    t.add_argument("--out", required=True, help="checkpoint path (resumed if unfinished)")
    t.set_defaults(out_is_folder=False)
    t.add_argument("--seed", type=nonnegative_int, default=0)
    t.add_argument("--identities", type=positive_int, default=100)
    t.add_argument("--images-per-identity", type=positive_int, default=60)
    t.add_argument("--resolution", type=positive_int, default=64)
    t.add_argument("--width", type=positive_int, default=24)
    t.add_argument("--steps", type=positive_int, default=800)
    t.add_argument("--batch", type=positive_int, default=128)
    add_save_interval(t)
    t.add_argument("--save-every-steps", type=positive_int, default=None)
    t.add_argument("--device", default="cpu")
    t.add_argument("--compile", action="store_true", help="torch.compile the network's forward")
    t.set_defaults(fn=classifier)


def judge(a: argparse.Namespace) -> int:
    print(json.dumps(load_synth_judge(a.profile, a.device, progress=on_terminal(),
                                      save_every_s=a.save_every_s).provenance))
    return 0


def pose(a: argparse.Namespace) -> int:
    _, history = profiles.load_pose(a.profile, a.device, progress=on_terminal(), save_every_s=a.save_every_s,
                                    with_history=True)
    print(json.dumps({"checkpoint": str(profiles.checkpoint_path("pose", a.profile)),
                      "steps": history["step"][-1] if history.get("step") else 0,
                      "final_loss": history["loss"][-1] if history.get("loss") else None,
                      "train_seconds": round(history.get("seconds", 0.0), 1)}))
    return 0


def instruments(a: argparse.Namespace) -> int:
    print(json.dumps(load_instruments(a.profile, a.device, progress=on_terminal(),
                                      save_every_s=a.save_every_s).provenance, indent=1))
    return 0


def add_profile_model(tr, name: str, fn, text: str) -> None:
    q = tr.add_parser(name, help=text)
    add_profile(q)
    q.add_argument("--device", default="cpu")
    add_save_interval(q)
    q.set_defaults(fn=fn)


def deepfake_model(a: argparse.Namespace):
    """The pair and its autoencoder, train-or-load at the profile's budget (with the command's
    overrides): (pair, model, a JSON-ready summary, or None on a torchrun rank other than 0)."""
    budget = profiles.DEEPFAKE_BUDGETS[a.profile]
    budget = {**budget, "frames": a.frames or budget["frames"], "test_frames": a.test_frames or budget["test_frames"]}
    pair = profiles.budget_pair(budget, a.shard, a.a, a.b)
    overrides = {k: v for k, v in (("steps", a.steps), ("width", a.width), ("batch", a.batch)) if v is not None}
    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    model, history, cfg = profiles.train_pair_or_load(
        pair, budget, distributed.device_for(dist, a.device), not a.no_pretrain, overrides,
        save_every_s=a.save_every_s, progress=on_terminal(), dist=dist, compile=getattr(a, "compile", False))
    info = {"profile": a.profile, "pair": repr(pair),
            "checkpoint": str(profiles.autoencoder_checkpoint_path(pair, cfg)),
            "steps": cfg.steps, "width": cfg.width, "batch": cfg.batch,
            "train_seconds": round(history.get("seconds", 0.0), 1),
            "pretrain_seconds": round(history.get("pretrain_seconds", 0.0), 1),
            "final_loss_a": history["loss_a"][-1] if history["loss_a"] else None,
            "final_loss_b": history["loss_b"][-1] if history["loss_b"] else None, "processes": dist.world}
    return pair, model, info if dist.main else None


def autoencoder(a: argparse.Namespace) -> int:
    _, _, info = deepfake_model(a)
    if info is not None:  # rank 0 speaks for a torchrun launch
        print(json.dumps(info, indent=1))
    return 0


def add_autoencoder_arguments(q: argparse.ArgumentParser) -> None:
    """The pair and the budget of `train autoencoder` and `evaluate autoencoder`."""
    add_profile(q, "budget (default: auto)")
    q.add_argument("--shard", default=None, help="a prepared real-face shard (default: SynthFaces people)")
    q.add_argument("--a", default=None, help="person A: a SynthFaces index (default 2) or a shard's name")
    q.add_argument("--b", default=None, help="person B: a SynthFaces index (default 4) or a shard's name")
    q.add_argument("--frames", type=positive_int, default=None, help="SynthFaces frames per person (default: budget)")
    q.add_argument("--test-frames", type=positive_int, default=None, help="held-out frames of A (default: budget)")
    q.add_argument("--steps", type=positive_int, default=None)
    q.add_argument("--width", type=positive_float, default=None)
    q.add_argument("--batch", type=positive_int, default=None)
    q.add_argument("--no-pretrain", action="store_true",
                   help="train the pair from random weights (default: from the pretraining on other people)")
    q.add_argument("--device", default="cpu")
    add_save_interval(q)


def add_autoencoder(tr) -> None:
    text = "the 1.5-autoencoder deepfake of a pair (train-or-load, resumable)"
    q = tr.add_parser("autoencoder", help=text, description=text)
    add_autoencoder_arguments(q)
    q.add_argument("--compile", action="store_true", help="torch.compile the autoencoder's forward")
    q.set_defaults(fn=autoencoder)


def faceidgan_variants(a: argparse.Namespace) -> list[tuple[str, bool]]:
    """(classifier, symmetric) of each variant the command names (--variants, else --classifier)."""
    if getattr(a, "variants", None):
        return [parse_variant(v) for v in a.variants]
    if a.classifier == "every":
        return [parse_variant(v) for v in VARIANTS]
    names = ["none", "n", "2n"] if a.classifier == "all" else [a.classifier]
    return [(name, not a.no_symmetry) for name in names]


def faceidgan(a: argparse.Namespace) -> int:
    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    device = distributed.device_for(dist, a.device)
    out = []
    for classifier, symmetric in faceidgan_variants(a):
        for seed in a.seed:
            players, history = profiles.load_faceid_gan(classifier, a.profile, symmetric, device,
                                                        progress=on_terminal(), dist=dist, compile=a.compile,
                                                        save_every_s=a.save_every_s, seed=seed,
                                                        **({"steps": a.steps} if a.steps is not None else {}))
            last = {k: v[-1] for k, v in history.items() if isinstance(v, list) and v and k != "step"}
            out.append({"classifier": classifier, "symmetric": symmetric, "seed": seed,
                        "profile": a.profile, "steps": players.cfg.steps,
                        "train_seconds": round(history.get("seconds", 0.0), 1),
                        "final": last, "checkpoint": str(players.checkpoint), "processes": dist.world})
    if dist.main:  # rank 0 speaks for a torchrun launch
        print(json.dumps(out if len(out) > 1 else out[0], indent=1))
    return 0


def add_faceidgan_arguments(q: argparse.ArgumentParser, default: str) -> None:
    """The variants, seeds and budget of `train faceidgan` and `evaluate faceidgan`."""
    add_profile(q, "budget (default: auto)")
    q.add_argument("--classifier", choices=["none", "frozen", "real", "n", "2n", "all", "every"],
                   default=default, help=f"which identity classifier C plays (default {default}; all: none, "
                   "n and 2n; every: the six variants of `--variants`)")
    q.add_argument("--variants", nargs="+", default=None, choices=list(VARIANTS),
                   help="variants by name (overrides --classifier and --no-symmetry)")
    q.add_argument("--seed", type=nonnegative_int, nargs="+", default=[0],
                   help="training seeds (several: one run each; evaluate gives mean and 95%% interval)")
    q.add_argument("--no-symmetry", action="store_true",
                   help="G's f_id from the frozen identity network instead of C (C still scores the output)")
    q.add_argument("--steps", type=positive_int, default=None, help="override the budget's steps")
    q.add_argument("--device", default="cpu")


def add_faceidgan(tr) -> None:
    text = "FaceID-GAN: G vs D and C (none, N-class or 2N-class), train-or-load"
    q = tr.add_parser("faceidgan", help=text, description=text)
    add_faceidgan_arguments(q, "2n")
    q.add_argument("--compile", action="store_true", help="torch.compile every player's forward")
    add_save_interval(q)
    q.set_defaults(fn=faceidgan)


def add(sub) -> None:
    tr = sub.add_parser("train", help="train a model with checkpoint and resume").add_subparsers(
        dest="what", required=True)
    add_classifier(tr)
    add_profile_model(tr, "judge", judge, "the SynthFaces judge of a profile (train-or-load)")
    add_profile_model(tr, "pose", pose, "P, the pose/expression regressor of a profile (train-or-load)")
    add_profile_model(tr, "instruments", instruments, "P', the identity-parameter reader and the part segmenter "
                      "(train-or-load; never a training signal)")
    add_autoencoder(tr)
    add_faceidgan(tr)
