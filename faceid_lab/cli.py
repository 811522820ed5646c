"""The `faceid-lab` command (also `python -m faceid_lab`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import course
from .errors import nonnegative_float, nonnegative_int, positive_float, positive_int


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `faceid-lab: argument --steps: must be at least 1 ...` (exit 2)."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"faceid-lab: {message} (see `{self.prog} --help`)\n")


def _synth_grid(a: argparse.Namespace) -> int:
    from .viz.synthfaces import tour_grid

    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tour_grid(a.seed, a.identities, a.resolution, scale=a.scale).save(out)
    print(f"wrote {out} ({a.identities} identities x 8 poses/expressions at {a.resolution} px)")
    return 0


def _synth_shard(a: argparse.Namespace) -> int:
    from .data.datasets import SynthSplit, make_synth_shard

    split = SynthSplit(a.seed, a.identities, a.images_per_identity, a.part)
    began = time.perf_counter()
    shard = make_synth_shard(a.out, split, a.resolution, device=a.device, progress=_progress_printer())
    seconds = time.perf_counter() - began
    print(f"{shard.path}: {len(shard)} images at {a.resolution} px in {seconds:.1f} s "
          f"({len(shard) / max(seconds, 1e-9):.0f} img/s)")
    return 0


def _bench_render(a: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from .data import synthetic as S

    n = a.batch * a.repeats
    ids = S.sample_identities(0, np.arange(n) % 1000)
    nu = S.sample_nuisance(0, np.arange(n) % 1000, np.arange(n))
    S.render(ids[: a.batch], nu[: a.batch], a.resolution, device=a.device)  # warm-up
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    for k in range(a.repeats):
        sl = slice(k * a.batch, (k + 1) * a.batch)
        S.render(ids[sl], nu[sl], a.resolution, device=a.device)
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    print(f"render: {n / seconds:.0f} img/s ({a.resolution} px, batch {a.batch}, {a.device}, "
          f"{torch.get_num_threads()} threads)")
    return 0


def _bench_train(a: argparse.Namespace) -> int:
    from .bench import bench_train, format_result

    for r in bench_train(a.game, a.resolution, a.batch, a.device, a.steps, a.warmup, a.compile):
        print(format_result(r), flush=True)
    if a.flops:
        from .bench import flops_per_image

        gflop = flops_per_image(a.game, a.resolution, a.batch) / 1e9
        print(f"{a.game}: {gflop:.2f} GFLOP per image per training step (forward and backward)", flush=True)
    if a.breakdown:
        if a.game != "faceidgan":
            print("faceid-lab: --breakdown is for faceidgan (the step with several players)", file=sys.stderr)
            return 2
        from .bench import faceidgan_breakdown

        shares = faceidgan_breakdown(a.resolution, a.batch, a.device, a.steps, a.warmup)
        print("where the time goes: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()), flush=True)
    return 0


def _evaluate_synthfaces(a: argparse.Namespace) -> int:
    from .evaluate import evaluate_synthfaces

    result = evaluate_synthfaces(seed=a.seed, identities=a.identities, images_per_identity=a.images_per_identity,
                                 test_identities=a.test_identities, resolution=a.resolution,
                                 train_seconds=a.train_seconds, steps=a.steps, device=a.device)
    print(json.dumps(result, indent=1))
    return 0


def _train_classifier(a: argparse.Namespace) -> int:
    from .data.datasets import SynthSplit, render_split
    from .train import distributed
    from .train.classifier import ClassifierConfig, predict, train_classifier

    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    device = distributed.device_for(dist, a.device)
    r, labels, _, _ = render_split(SynthSplit(a.seed, a.identities, a.images_per_identity, "train"), a.resolution)
    images = r.to_uint8()
    cfg = ClassifierConfig(num_classes=a.identities, width=a.width, steps=a.steps, batch=a.batch, seed=a.seed)
    net, history = train_classifier(images, labels, cfg, checkpoint=a.out, device=device,
                                    save_every_s=a.save_every_s, save_every_steps=a.save_every_steps,
                                    progress=sys.stderr.isatty(), dist=dist, compile=a.compile)
    if not dist.main:  # rank 0 evaluates and reports
        return 0
    held, held_labels, _, _ = render_split(SynthSplit(a.seed, a.identities, 5, "heldout"), a.resolution)
    predicted = predict(net, held.to_uint8(), device=device).cpu()
    accuracy = (predicted == held_labels).float().mean().item()
    print(json.dumps({"checkpoint": str(a.out), "steps": cfg.steps, "final_loss": history["loss"][-1],
                      "heldout_accuracy": round(accuracy, 4), "train_seconds": round(history["seconds"], 1),
                      "processes": dist.world}))
    return 0


def _train_judge(a: argparse.Namespace) -> int:
    from .judge import load_synth_judge

    judge = load_synth_judge(a.profile, a.device, progress=sys.stderr.isatty(), save_every_s=a.save_every_s)
    print(json.dumps(judge.provenance))
    return 0


def _train_pose(a: argparse.Namespace) -> int:
    from .profiles import checkpoint_path, load_pose

    _, history = load_pose(a.profile, a.device, progress=sys.stderr.isatty(), save_every_s=a.save_every_s,
                           with_history=True)
    print(json.dumps({"checkpoint": str(checkpoint_path("pose", a.profile)),
                      "steps": history["step"][-1] if history.get("step") else 0,
                      "final_loss": history["loss"][-1] if history.get("loss") else None,
                      "train_seconds": round(history.get("seconds", 0.0), 1)}))
    return 0


def _evaluate_judge(a: argparse.Namespace) -> int:
    from .evaluate import evaluate_judge

    print(json.dumps(evaluate_judge(a.profile, device=a.device), indent=1))
    return 0


def _train_instruments(a: argparse.Namespace) -> int:
    from .instruments import load_instruments

    instruments = load_instruments(a.profile, a.device, progress=sys.stderr.isatty(),
                                   save_every_s=a.save_every_s)
    print(json.dumps(instruments.provenance, indent=1))
    return 0


def _evaluate_instruments(a: argparse.Namespace) -> int:
    from .instruments import evaluate_instruments, load_instruments

    instruments = load_instruments(a.profile, a.device, progress=sys.stderr.isatty())
    print(json.dumps({"provenance": instruments.provenance, **evaluate_instruments(instruments)}, indent=1))
    return 0


def _evaluate_pose(a: argparse.Namespace) -> int:
    from .evaluate import evaluate_pose

    print(json.dumps(evaluate_pose(a.profile, device=a.device), indent=1))
    return 0


def _deepfake_model(a: argparse.Namespace):
    from . import deepfake
    from .profiles import DEEPFAKE_BUDGETS
    from .train import distributed

    profile = a.profile
    budget = DEEPFAKE_BUDGETS[profile]
    budget = {**budget, "frames": a.frames or budget["frames"], "test_frames": a.test_frames or budget["test_frames"]}
    pair = deepfake.budget_pair(budget, a.shard, a.a, a.b)
    overrides = {k: v for k, v in (("steps", a.steps), ("width", a.width), ("batch", a.batch)) if v is not None}
    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    model, history, cfg = deepfake.train_pair_or_load(
        pair, budget, distributed.device_for(dist, a.device), not a.no_pretrain, overrides,
        save_every_s=a.save_every_s, progress=sys.stderr.isatty(), dist=dist, compile=getattr(a, "compile", False))
    info = {"profile": profile, "pair": repr(pair), "checkpoint": str(deepfake.checkpoint_path(pair, cfg)),
            "steps": cfg.steps, "width": cfg.width, "batch": cfg.batch,
            "train_seconds": round(history.get("seconds", 0.0), 1),
            "pretrain_seconds": round(history.get("pretrain_seconds", 0.0), 1),
            "final_loss_a": history["loss_a"][-1] if history["loss_a"] else None,
            "final_loss_b": history["loss_b"][-1] if history["loss_b"] else None, "processes": dist.world}
    return pair, model, info if dist.main else None


def _train_autoencoder(a: argparse.Namespace) -> int:
    _, _, info = _deepfake_model(a)
    if info is not None:  # rank 0 speaks for a torchrun launch
        print(json.dumps(info, indent=1))
    return 0


def _evaluate_autoencoder(a: argparse.Namespace) -> int:
    from . import deepfake
    from .profiles import load_pose

    pair, model, info = _deepfake_model(a)
    if info is None:  # under torchrun, rank 0 evaluates
        return 0
    judge = deepfake.judge_for(pair, a.profile, a.device)
    pose_net = load_pose(a.profile, a.device, progress=False) if pair.kind == "synthfaces" else None
    instruments = None
    if pair.kind == "synthfaces":
        from .instruments import load_instruments

        instruments = load_instruments(a.profile, a.device)
    result = deepfake.swap_frames(model, pair.test_a, pair.test_masks_a, pair.test_matrices_a, "B", a.blend, a.colour)
    report = deepfake.evaluate_swap(result, pair, judge, pose_net, instruments)
    print(json.dumps({**info, "blend": a.blend, "colour_match": a.colour, **report}, indent=1))
    return 0


def _faceidgan_variants(a: argparse.Namespace) -> list[tuple[str, bool]]:
    from .evaluate import VARIANTS, parse_variant

    if getattr(a, "variants", None):
        return [parse_variant(v) for v in a.variants]
    names = ["none", "n", "2n"] if a.classifier == "all" else [a.classifier]
    return [(name, not a.no_symmetry) for name in names] if a.classifier != "every" else \
        [parse_variant(v) for v in VARIANTS]


def _train_faceidgan(a: argparse.Namespace) -> int:
    from .profiles import load_faceid_gan
    from .train import distributed

    dist = distributed.from_env()  # under torchrun: one rank of a DDP run
    device = distributed.device_for(dist, a.device)
    out = []
    for classifier, symmetric in _faceidgan_variants(a):
        for seed in a.seed:
            players, history = load_faceid_gan(classifier, a.profile, symmetric, device,
                                               progress=sys.stderr.isatty(), dist=dist, compile=a.compile,
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


def _evaluate_faceidgan(a: argparse.Namespace) -> int:
    from .evaluate import evaluate_faceidgan, faceidgan_table
    from .viz.tables import markdown_table

    profile = a.profile
    variants = tuple(variant for variant in dict.fromkeys(
        c + ("" if s or c in ("none", "frozen") else "-nosym") for c, s in _faceidgan_variants(a)))
    result = evaluate_faceidgan(profile, variants, tuple(a.seed), a.split, device=a.device,
                                progress=sys.stderr.isatty(), **({"steps": a.steps} if a.steps is not None else {}))
    text = json.dumps(result, indent=1)
    if a.out:
        Path(a.out).write_text(text)
        print(markdown_table(faceidgan_table(result)).data)
    else:
        print(text)
    return 0


def _evaluate_frontalization(a: argparse.Namespace) -> int:
    from .frontalize import evaluate_frontalization

    print(json.dumps(evaluate_frontalization(a.profile, a.device), indent=1))
    return 0


def _evaluate_detection(a: argparse.Namespace) -> int:
    from .detection import evaluate_detection

    print(json.dumps(evaluate_detection(a.profile, a.device), indent=1))
    return 0


def _exercises(a: argparse.Namespace) -> int:
    from .notebooks import build_exercises

    changed = build_exercises(write=a.action == "build")
    if a.action == "build":
        print(f"wrote {len(changed)} student notebook(s)" + "".join(f"\n  {p}" for p in changed))
        return 0
    if changed:
        print("student notebooks are out of date; run `faceid-lab exercises build`:")
        for p in changed:
            print(f"  {p}")
        return 1
    print("student notebooks are up to date")
    return 0


def _course_run(a: argparse.Namespace) -> int:
    from .notebooks import format_table, run_notebooks
    from .speed import FIRST_RUN_LIMIT_S, course_plan, format_plan

    profile = a.profile
    plan = course_plan(profile, [a.only] if a.only else None)
    print(format_plan(plan), flush=True)
    if a.plan:
        return 0
    if plan.measured and plan.seconds > FIRST_RUN_LIMIT_S and sys.stdin.isatty() and not a.yes:
        if input("Go on with this profile? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Stopped before training anything.")
            return 1
    results = run_notebooks(a.profile, a.only, Path(a.out) if a.out else None, a.timeout, a.write_back)
    print(format_table(results))
    if results and results[0].output is not None:
        print(f"executed notebooks in {results[0].output.parent}")
    return 0 if all(r.status == "ok" for r in results) else 1


def _kit_export(a: argparse.Namespace) -> int:
    from .kit import export_kit

    profile = a.profile
    manifest = export_kit(a.target, profile)
    size = sum(e["bytes"] for e in manifest["files"]) / 2**20
    print(f"wrote {len(manifest['files'])} {profile}-profile checkpoints ({size:.0f} MiB) and manifest.json to "
          f"{a.target}")
    print(f"learners: faceid-lab kit import {a.target}   (or in a notebook: !faceid-lab kit import ...)")
    return 0


def _kit_import(a: argparse.Namespace) -> int:
    from . import course
    from .kit import import_kit

    written = import_kit(a.source, replace=a.replace)
    print(f"checked every file of {a.source}; wrote {len(written)} checkpoints to {course.home() / 'checkpoints'}"
          + (f": {', '.join(written)}" if written else " (all were already there)"))
    return 0


def _source(a: argparse.Namespace) -> int:
    from . import source
    from .errors import ConfigError

    if a.action == "show":
        print(f"repository {source.REPOSITORY}, ref {source.REF}\npip: {source.pip_spec()}")
        return 0
    if a.action == "check":
        wrong = source.mismatches()
        for line in wrong:
            print(line)
        print(f"{len(wrong)} links disagree with {source.REPOSITORY}@{source.REF}" if wrong else
              f"every notebook and the README point at {source.REPOSITORY}@{source.REF}")
        return 1 if wrong else 0
    if a.repository is None and a.ref is None:
        raise ConfigError("source set needs --repository owner/name and/or --ref TAG")
    changed = source.retarget(a.repository or source.REPOSITORY, a.ref or source.REF)
    print(f"pointed {len(changed)} files at {a.repository or source.REPOSITORY}@{a.ref or source.REF}")
    return 0


def _progress_printer():
    """`\rdone/total` on a terminal; nothing when the output goes to a file or a notebook log."""
    if not sys.stdout.isatty():
        return None
    return lambda done, total: print(f"\r{done}/{total}", end="\n" if done == total else "", flush=True)


def _prepare(a: argparse.Namespace) -> int:
    from .data import real

    work = Path(a.out)
    if a.what == "celeba":
        sources = real.celeba_sources(a.root, a.identity_file, a.min_images_per_identity, a.max_identities)
    elif a.what == "lfw":
        sources = real.lfw_sources(a.root, a.min_images_per_identity)
    elif a.what == "folder":
        sources = real.folder_sources(a.root)
    else:
        names = a.names or real.video_names(a.videos)
        if len(names) != len(a.videos):
            raise real.DataError(f"--names gives {len(names)} names for {len(a.videos)} videos; give one per video")
        sources = real.video_sources(a.videos, names, work.parent / f"{work.name}_frames", a.every, a.max_frames)
    print(real.LICENCES[a.what])
    report = real.prepare(sources, work, a.what, {"source": a.what, "root": str(getattr(a, "root", ""))},
                          size=a.size, margin=a.margin, backend=a.backend, min_face=a.min_face,
                          workers=a.workers,
                          progress=_progress_printer())
    print(report)
    return 0


def _evaluate_real(a: argparse.Namespace) -> int:
    from .evaluate import evaluate_real_shard

    print(json.dumps(evaluate_real_shard(a.shard), indent=1))
    return 0


def _add_save_interval(q: argparse.ArgumentParser) -> None:
    q.add_argument("--save-every-s", type=positive_float, default=120.0,
                   help="checkpoint at least this often (seconds); a killed run resumes from there")


def build_parser() -> argparse.ArgumentParser:
    from .bench import GAMES as bench_games

    p = Parser(prog="faceid-lab", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="the SynthFaces renderer").add_subparsers(dest="what", required=True)
    g = synth.add_parser("grid", help="identities x poses picture")
    g.add_argument("--out", required=True, help="the PNG file to write")
    g.set_defaults(out_is_folder=False)
    g.add_argument("--seed", type=nonnegative_int, default=0)
    g.add_argument("--identities", type=positive_int, default=8)
    g.add_argument("--resolution", type=positive_int, default=64)
    g.add_argument("--scale", type=positive_int, default=2, help="pixel magnification in the picture")
    g.set_defaults(fn=_synth_grid)
    s = synth.add_parser("shard", help="render a split into a shard (resumable)")
    s.add_argument("--out", required=True, help="shard folder (resumed if unfinished)")
    s.set_defaults(out_is_folder=True)
    s.add_argument("--part", choices=["train", "heldout", "test"], default="train")
    s.add_argument("--seed", type=nonnegative_int, default=0)
    s.add_argument("--identities", type=positive_int, default=100)
    s.add_argument("--images-per-identity", type=positive_int, default=50)
    s.add_argument("--resolution", type=positive_int, default=64)
    s.add_argument("--device", default="cpu")
    s.set_defaults(fn=_synth_shard)

    bench = sub.add_parser("bench", help="throughput").add_subparsers(dest="what", required=True)
    b = bench.add_parser("render", help="SynthFaces images per second")
    b.add_argument("--resolution", type=positive_int, default=64)
    b.add_argument("--batch", type=positive_int, default=256)
    b.add_argument("--repeats", type=positive_int, default=4)
    b.add_argument("--device", default="cpu")
    b.set_defaults(fn=_bench_render)

    b = bench.add_parser("train", help="training images per second: fp32 eager vs the optimised path")
    b.add_argument("game", choices=bench_games)
    b.add_argument("--resolution", type=positive_int, default=64)
    b.add_argument("--batch", type=positive_int, default=64)
    b.add_argument("--steps", type=positive_int, default=10)
    b.add_argument("--warmup", type=positive_int, default=3)
    b.add_argument("--device", default="cpu")
    b.add_argument("--compile", action="store_true", help="also torch.compile the model in the optimised path")
    b.add_argument("--breakdown", action="store_true", help="faceidgan: each phase's share of the step (profiler)")
    b.add_argument("--flops", action="store_true", help="also count the step's floating-point operations per image")
    b.set_defaults(fn=_bench_train)

    ev = sub.add_parser("evaluate", help="metrics as JSON").add_subparsers(dest="what", required=True)
    e = ev.add_parser("synthfaces", help="learnable but not trivial: CNN vs pixel 1-NN, unseen-identity AUC")
    e.add_argument("--seed", type=nonnegative_int, default=0)
    e.add_argument("--identities", type=positive_int, default=100)
    e.add_argument("--images-per-identity", type=positive_int, default=160)
    e.add_argument("--test-identities", type=positive_int, default=50)
    e.add_argument("--resolution", type=positive_int, default=64)
    e.add_argument("--train-seconds", type=positive_float, default=180.0)
    e.add_argument("--steps", type=positive_int, default=850)
    e.add_argument("--device", default="cpu")
    e.set_defaults(fn=_evaluate_synthfaces)

    tr = sub.add_parser("train", help="train a model with checkpoint and resume").add_subparsers(
        dest="what", required=True)
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
    _add_save_interval(t)
    t.add_argument("--save-every-steps", type=positive_int, default=None)
    t.add_argument("--device", default="cpu")
    t.add_argument("--compile", action="store_true", help="torch.compile the network's forward")
    t.set_defaults(fn=_train_classifier)

    e = ev.add_parser("real", help="a prepared real-face shard: alignment error and the dlib judge")
    e.add_argument("--shard", required=True)
    e.set_defaults(fn=_evaluate_real)

    pr = sub.add_parser("prepare", help="real faces to an aligned shard (resumable; bad files are "
                        "counted, never fatal)").add_subparsers(dest="what", required=True)
    for name, text in (("celeba", "CelebA: img_celeba/ (wild) or img_align_celeba/ + identity_CelebA.txt"),
                       ("lfw", "LFW: a <Person_Name>/<image>.jpg tree (or torchvision / scikit-learn's)"),
                       ("folder", "one sub-folder per person, any image files"),
                       ("video", "frames of one video per person with ffmpeg (two videos: the A/B pair)")):
        q = pr.add_parser(name, help=text, description=text)
        if name == "video":
            q.add_argument("videos", nargs="+", help="video files, one per person")
            q.add_argument("--names", nargs="+", help="person names (default: the file names)")
            q.add_argument("--every", type=positive_int, default=1, help="keep every k-th frame")
            q.add_argument("--max-frames", type=positive_int, default=None, help="at most this many frames per video")
        else:
            q.add_argument("--root", required=True, help="the dataset folder")
        if name in ("celeba", "lfw"):
            q.add_argument("--min-images-per-identity", type=positive_int, default=1)
        if name == "celeba":
            q.add_argument("--identity-file", default=None, help="default: ROOT/identity_CelebA.txt")
            q.add_argument("--max-identities", type=positive_int, default=None)
        q.add_argument("--out", required=True, help="shard folder (resumed if unfinished)")
        q.set_defaults(out_is_folder=True)
        q.add_argument("--size", type=positive_int, default=64, help="crop side in pixels (64 or 128)")
        q.add_argument("--margin", type=nonnegative_float, default=0.25,
                       help="context around the face (dlib's padding)")
        q.add_argument("--min-face", type=positive_int, default=40,
                       help="skip faces narrower than this (pixels)")
        q.add_argument("--backend", choices=["auto", "dlib", "opencv"], default="auto")
        q.add_argument("--workers", type=positive_int, default=None, help="processes (default: all cores)")
        q.set_defaults(fn=_prepare)

    for parser, name, fn, text in (
            (tr, "judge", _train_judge, "the SynthFaces judge of a profile (train-or-load)"),
            (tr, "pose", _train_pose, "P, the pose/expression regressor of a profile (train-or-load)"),
            (ev, "judge", _evaluate_judge, "the judge on unseen identities: ROC AUC, TAR, retrieval"),
            (ev, "pose", _evaluate_pose, "P on unseen identities: mean absolute errors"),
            (tr, "instruments", _train_instruments,
             "P', the identity-parameter reader and the part segmenter (train-or-load; never a training signal)"),
            (ev, "instruments", _evaluate_instruments,
             "the instruments on unseen people: P' errors, parameter R^2, part IoU, each against a trivial baseline"),
            (ev, "frontalization", _evaluate_frontalization,
             "notebook 08: judge similarity by yaw bin, baseline (N) vs FaceID-GAN (2N), and L1 / SSIM to the truth"),
            (ev, "detection", _evaluate_detection,
             "notebook 09: ROC AUC of C's real/synth split and a dedicated detector, incl. notebook 01's deepfakes")):
        q = parser.add_parser(name, help=text)
        q.add_argument("--profile", choices=course.PROFILES, default=None, help="default: auto")
        q.add_argument("--device", default="cpu")
        if parser is tr:
            _add_save_interval(q)
        q.set_defaults(fn=fn)

    for parser, fn, text in (
            (tr, _train_autoencoder, "the 1.5-autoencoder deepfake of a pair (train-or-load, resumable)"),
            (ev, _evaluate_autoencoder, "the deepfake's swaps against ground truth, the judge and P (JSON)")):
        q = parser.add_parser("autoencoder", help=text, description=text)
        q.add_argument("--profile", choices=course.PROFILES, default=None, help="budget (default: auto)")
        q.add_argument("--shard", default=None, help="a prepared real-face shard (default: SynthFaces people)")
        q.add_argument("--a", default=None, help="person A: a SynthFaces index (default 2) or a shard's name")
        q.add_argument("--b", default=None, help="person B: a SynthFaces index (default 4) or a shard's name")
        q.add_argument("--frames", type=positive_int, default=None,
                       help="SynthFaces frames per person (default: budget)")
        q.add_argument("--test-frames", type=positive_int, default=None,
                       help="held-out frames of A (default: budget)")
        q.add_argument("--steps", type=positive_int, default=None)
        q.add_argument("--width", type=positive_float, default=None)
        q.add_argument("--batch", type=positive_int, default=None)
        q.add_argument("--no-pretrain", action="store_true",
                       help="train the pair from random weights (default: from the pretraining on other people)")
        q.add_argument("--device", default="cpu")
        _add_save_interval(q)
        if parser is tr:
            q.add_argument("--compile", action="store_true", help="torch.compile the autoencoder's forward")
        if parser is ev:
            q.add_argument("--blend", choices=["alpha", "poisson"], default="alpha")
            q.add_argument("--colour", action="store_true", help="match colours in Lab before blending")
        q.set_defaults(fn=fn)

    from .evaluate import VARIANTS

    for parser, fn, text, default in (
            (tr, _train_faceidgan, "FaceID-GAN: G vs D and C (none, N-class or 2N-class), train-or-load", "2n"),
            (ev, _evaluate_faceidgan, "FaceID-GAN variants judged on unseen people (JSON; trains what is missing)",
             "all")):
        q = parser.add_parser("faceidgan", help=text, description=text)
        q.add_argument("--profile", choices=course.PROFILES, default=None, help="budget (default: auto)")
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
        if parser is tr:
            q.add_argument("--compile", action="store_true", help="torch.compile every player's forward")
            _add_save_interval(q)
        else:
            q.add_argument("--split", choices=["test", "validation"], default="test",
                           help="whose faces: validation people (for tuning) or test people (final tables)")
            q.add_argument("--out", default=None, help="write the JSON here and print the table")
            q.set_defaults(out_is_folder=False)
        q.set_defaults(fn=fn)

    x = sub.add_parser("exercises", help="student notebooks from the reference solutions")
    x.add_argument("action", choices=["build", "check"])
    x.set_defaults(fn=_exercises)

    c = sub.add_parser("course", help="run the course notebooks headless").add_subparsers(dest="what", required=True)
    r = c.add_parser("run", help="execute notebooks and print notebook, status, seconds")
    r.add_argument("--profile", choices=course.PROFILES, default=None, help="default: auto")
    r.add_argument("--only", default=None, help="run only notebooks whose name contains this")
    r.add_argument("--out", default=None, help="folder for executed copies (default FACEID_LAB_HOME/runs/P)")
    r.set_defaults(out_is_folder=True)
    r.add_argument("--timeout", type=positive_int, default=1800, help="seconds per cell")
    r.add_argument("--write-back", action="store_true",
                   help="maintainers: store the outputs in the committed notebooks")
    r.add_argument("--plan", action="store_true", help="only print what would train, and how long it takes here")
    r.add_argument("--yes", action="store_true", help="do not ask before a run longer than 90 minutes")
    r.set_defaults(fn=_course_run)

    k = sub.add_parser("kit", help="a classroom kit: every trained model of a profile, to copy to a class")
    kk = k.add_subparsers(dest="what", required=True)
    q = kk.add_parser("export", help="write this profile's finished checkpoints and a manifest to DIR or DIR.zip")
    q.add_argument("target", help="a folder, or a file name ending in .zip")
    q.add_argument("--profile", choices=course.PROFILES, default=None, help="default: auto")
    q.set_defaults(fn=_kit_export)
    q = kk.add_parser("import", help="check a kit (folder or .zip) and copy its checkpoints to FACEID_LAB_HOME")
    q.add_argument("source", help="the kit's folder or .zip")
    q.add_argument("--replace", action="store_true", help="overwrite checkpoints that differ from the kit's")
    q.set_defaults(fn=_kit_import)

    q = sub.add_parser("source", help="the repository and ref the notebooks install from and link to")
    q.add_argument("action", choices=["show", "check", "set"])
    q.add_argument("--repository", default=None, help="owner/name on GitHub (set)")
    q.add_argument("--ref", default=None, help="a release tag or branch (set)")
    q.set_defaults(fn=_source)
    return p


def check_arguments(args: argparse.Namespace) -> None:
    """What argparse's types cannot see: the device exists here, the output can be written."""
    from .errors import check_device, check_output

    if getattr(args, "device", None) is not None:
        check_device(args.device)
    if getattr(args, "out", None) is not None:
        check_output(args.out, "--out", folder=args.out_is_folder)


def main(argv: list[str] | None = None) -> int:
    from .errors import FaceidLabError, explain_os_error
    from .train.distributed import leave

    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        if getattr(args, "profile", "") is None:
            args.profile = course.profile()  # resolved once, here; every command passes it down
        code = args.fn(args)
        leave()  # under torchrun: every rank waits for the others, then leaves the group cleanly
        return code
    except FaceidLabError as e:
        print(f"faceid-lab: {e}", file=sys.stderr)  # a clear message, not a traceback
        leave(finished=False)
        return 2
    except OSError as e:  # a full disk, a read-only folder, a vanished file: the file and the fix
        print(f"faceid-lab: {explain_os_error(e)}", file=sys.stderr)
        leave(finished=False)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
