"""Evaluation commands: metrics as JSON-able dicts (`faceid-lab evaluate ...`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import metrics
from .data.align import Aligner, eye_centres, template
from .data.datasets import HELDOUT_IMAGE_OFFSET, SynthSplit, people_offset, render_split
from .data.shards import Shard
from .images import to_float
from .instruments import EVALUATION_KEYS, generator_truth, generator_verdict, load_instruments, reference_verdicts
from .judge import DlibJudge, load_synth_judge
from .metrics import frechet_distance
from .models.gan import Generator
from .models.pose import POSE_SCALE, PoseNet
from .profiles import FACEIDGAN_BUDGETS, load_faceid_gan, load_pose
from .stats import format_interval, mean_interval, paired_bootstrap
from .train.classifier import ClassifierConfig, embed, predict, train_classifier
from .train.faceidgan import VARIANT_LABELS
from .train.gan import features, generate, render_photos
from .train.pose import pose_errors, pose_targets, predict_pose


def evaluate_synthfaces(seed: int = 0, identities: int = 100, images_per_identity: int = 160,
                        heldout_per_identity: int = 10, test_identities: int = 50,
                        test_per_identity: int = 10, resolution: int = 64, train_seconds: float = 180.0,
                        steps: int = 850, width: int = 24, batch: int = 128,
                        device: str = "cpu") -> dict:
    """Is SynthFaces learnable but not trivial?

    - a small CNN trained at most `train_seconds` classifies held-out photos of the
      training identities (closed set),
    - 1-nearest-neighbour in pixel space on the same task (should fail: pose, light and
      background change more pixels than identity does),
    - the CNN's features verify unseen identities (ROC AUC over all pairs)."""
    t0 = time.perf_counter()
    train = SynthSplit(seed, identities, images_per_identity, "train")
    heldout = SynthSplit(seed, identities, heldout_per_identity, "heldout")
    test = SynthSplit(seed, test_identities, test_per_identity, "test")
    x_train, y_train = _render(train, resolution, device)
    x_held, y_held = _render(heldout, resolution, device)
    x_test, y_test = _render(test, resolution, device)
    render_s = time.perf_counter() - t0

    pixel_nn = metrics.nearest_neighbour_accuracy(x_held.float(), y_held, x_train.float(), y_train)

    cfg = ClassifierConfig(num_classes=identities, width=width, steps=steps, batch=batch, seed=seed)
    net, history = train_classifier(x_train, y_train, cfg, device=device, max_seconds=train_seconds)
    closed = (predict(net, x_held, device=device) == y_held).float().mean().item()
    verification = metrics.verification_report(embed(net, x_test, device=device), y_test)
    return {
        "seed": seed, "resolution": resolution, "identities": identities,
        "train_images": len(y_train), "heldout_images": len(y_held),
        "test_identities": test_identities, "test_images": len(y_test),
        "pixel_1nn_accuracy": round(pixel_nn, 4),
        "cnn_closed_set_accuracy": round(closed, 4),
        "cnn_train_seconds": round(history["seconds"], 1),
        "cnn_steps": history["step"][-1] if history["step"] else 0,
        "unseen_verification_auc": round(verification["auc"], 4),
        "unseen_tar_at_far_1e-2": round(verification["tar_at_far_1e-2"], 4),
        "render_seconds": round(render_s, 1),
    }


def _render(split: SynthSplit, resolution: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    r, labels, _, _ = render_split(split, resolution, device)
    return r.to_uint8().cpu(), labels


def alignment_error(images, size: int, margin: float = 0.25, upscale: int = 4) -> dict:
    """Eye centres found again by dlib's landmark model in aligned crops, against the template:
    distances in crop pixels (the crop is upscaled for the predictor, the box is the template's)."""

    aligner = Aligner(size, margin, backend="dlib")
    box = [v * upscale for v in aligner.template_box()]
    target = eye_centres(template(size, margin))
    errors = []
    for im in np.asarray(images):
        big = cv2.resize(im, (size * upscale, size * upscale), interpolation=cv2.INTER_CUBIC)
        points = (aligner.landmarks_in_box(big, box) + 0.5) / upscale - 0.5
        errors.append(np.linalg.norm(eye_centres(points) - target, axis=-1))
    e = np.array(errors)
    return {"crops": len(e), "eye_error_mean_px": round(float(e.mean()), 3),
            "eye_error_median_px": round(float(np.median(e)), 3),
            "eye_error_p95_px": round(float(np.percentile(e, 95)), 3), "eye_error_max_px": round(float(e.max()), 3),
            "share_both_eyes_within_2px": round(float((e.max(1) <= 2).mean()), 4)}


def evaluate_real_shard(path: str, judge_margin: float | None = None) -> dict:
    """A prepared real-face shard: alignment quality and the dlib judge's verification ROC AUC
    over all pairs and leave-one-out top-1 identity retrieval."""

    shard = Shard(path)
    margin = shard.manifest["spec"].get("margin", 0.25) if judge_margin is None else judge_margin
    images = np.array(shard.images)
    labels = torch.from_numpy(np.array(shard.labels))
    began = time.perf_counter()
    features = DlibJudge(margin=margin).embed(images)
    verification = metrics.verification_report(features, labels)
    return {
        "shard": str(path), "images": len(labels), "identities": int(labels.unique().numel()),
        "size": shard.size, "skipped": shard.extra.get("skipped", {}), "aligner": shard.extra.get("aligner"),
        "prepare_seconds": shard.extra.get("seconds"),
        "alignment": alignment_error(images, shard.size, margin) if shard.manifest["spec"].get("backend") == "dlib"
        else "no landmarks (OpenCV fallback)",
        "judge": DlibJudge.name,
        "judge_auc": round(verification["auc"], 4),
        "judge_tar_at_far_1e-2": round(verification["tar_at_far_1e-2"], 4),
        "judge_loo_top1": round(metrics.leave_one_out_retrieval(features, labels), 4),
        "judge_seconds": round(time.perf_counter() - began, 1),
    }


def evaluate_judge(profile: str, identities: int = 50, images_per_identity: int = 10,
                   device: str = "cpu") -> dict:
    """The SynthFaces judge on the course world's unseen test identities (seed 0): verification
    over all pairs, TAR at FAR 1e-2 and 1e-3, leave-one-out top-1 retrieval."""
    judge = load_synth_judge(profile, device, progress=False)
    r, labels, _, _ = render_split(SynthSplit(0, identities, images_per_identity, "test"), 64)
    features = judge.embed(r.image)
    report = metrics.verification_report(features, labels)
    return {"judge": judge.name, "provenance": judge.provenance, "test_identities": identities,
            "test_images": len(labels), "auc": round(report["auc"], 4),
            "tar_at_far_1e-2": round(report["tar_at_far_1e-2"], 4),
            "tar_at_far_1e-3": round(report["tar_at_far_1e-3"], 4),
            "genuine_mean": round(report["genuine_mean"], 4), "impostor_mean": round(report["impostor_mean"], 4),
            "loo_top1": round(metrics.leave_one_out_retrieval(features, labels), 4)}


def evaluate_pose(profile: str, identities: int = 50, images_per_identity: int = 20,
                  device: str = "cpu") -> dict:
    """P on unseen test identities: mean absolute error per output (degrees for the angles)."""

    net = load_pose(profile, device, progress=False)
    r, _, _, nuisance = render_split(SynthSplit(0, identities, images_per_identity, "test"), 64)
    predicted = predict_pose(net, r.image, device=device)
    return {"test_images": len(predicted), **pose_errors(predicted, pose_targets(nuisance.to_vector()))}


# ----------------------------------------------------------------------------
# FaceID-GAN's variants, judged by the instruments (faceid-lab evaluate faceidgan)
# ----------------------------------------------------------------------------

VARIANTS = ("none", "frozen", "real", "n", "2n", "2n-nosym")
# the comparisons the paper's claim rests on (A - B, person by person)
COMPARISONS = (("2n", "n"), ("n", "frozen"), ("frozen", "none"), ("2n", "none"), ("2n", "real"), ("2n", "2n-nosym"))
PAIRED_KEYS = ("judge_similarity", "judge_similarity_blur", "param_error", "part_iou", "ssim", "yaw_error")


def parse_variant(name: str) -> tuple[str, bool]:
    """'2n-nosym' -> ('2n', False); '2n' -> ('2n', True)."""
    classifier, _, rest = name.partition("-")
    if name not in VARIANTS:
        raise ValueError(f"unknown FaceID-GAN variant {name!r}: one of {', '.join(VARIANTS)}")
    return classifier, rest != "nosym"


def per_person(values: list[float], labels: torch.Tensor) -> list[float]:
    """Per-sample values -> the mean of each person's samples (people in label order)."""
    v = torch.tensor(values, dtype=torch.float64)
    people = int(labels.max()) + 1
    total = torch.zeros(people, dtype=torch.float64).index_add_(0, labels, v.nan_to_num(0.0))
    count = torch.zeros(people, dtype=torch.float64).index_add_(0, labels, (~v.isnan()).double())
    return (total / count).tolist()


def k_summary(history: dict) -> dict:
    """BEGAN's balance k over a run: its last value, its mean over the second half, and the share
    of the second half's logged steps with k > 0 (is D a player, or does it only rebuild faces?)."""
    k = history.get("k") or []
    second = k[len(k) // 2:]
    return {"k_final": k[-1] if k else float("nan"),
            "k_mean_second_half": sum(second) / len(second) if second else float("nan"),
            "k_positive_second_half": sum(v > 0 for v in second) / len(second) if second else float("nan"),
            "k_trajectory": [round(v, 5) for v in k]}


def evaluate_faceidgan(profile: str, variants: tuple[str, ...] = VARIANTS, seeds: tuple[int, ...] = (0,),
                       split: str = "test", identities: int | None = None, per_identity: int = 2,
                       device: str = "cpu", progress: bool = False, **overrides) -> dict:
    """Every variant x seed of FaceID-GAN (train-or-load) on the same unseen people of `split`,
    judged by the judge and the instruments (instruments.EVALUATION_KEYS), with:
    - "references": the true renders (ceiling) and a blurred mean face (floor) on the same test;
    - "variants": {name: {"label", "seeds", "per_seed": {seed: summary}, "summary": {key:
      mean_interval over seeds}, "per_person": {key: [...]}, "training": {seconds, k}}};
    - "paired": {"A - B": {key: paired_bootstrap over people of the seed-averaged scores}}.
    `overrides` change the variants' configs (e.g. steps), as for `train faceidgan`."""

    identities = identities or FACEIDGAN_BUDGETS[profile]["test_identities"]
    judge = load_synth_judge(profile, device=device, progress=progress)
    instruments = load_instruments(profile, device, progress=progress)
    out: dict = {"profile": profile, "split": split, "people": identities, "samples_per_person": per_identity,
                 "seeds": list(seeds), "judge": judge.name, "instruments": instruments.provenance,
                 "keys": EVALUATION_KEYS, "references": None, "variants": {}, "paired": {}}
    test = truth = None
    for name in variants:
        classifier, symmetric = parse_variant(name)
        per_seed, persons, training = {}, [], {}
        for seed in seeds:
            players, history = load_faceid_gan(classifier, profile, symmetric, device, progress=progress, seed=seed,
                                                **overrides)
            run = run_generator_test(players.G, players.identity_features, players.pose_net, identities=identities,
                                     per_identity=per_identity, split=split)
            if truth is None:  # the same people, photos and target poses for every variant and seed
                test, truth = run, generator_truth(run)
                out["references"] = reference_verdicts(test, truth, instruments, judge)
            verdict = generator_verdict(run.outputs, run, truth, instruments, judge)
            on_p = (features(players.pose_net, run.outputs)[:, :3] - run.true_pose[:, :3]).abs().mean(0).tolist()
            verdict["summary"]["pose_error_by_P"] = dict(zip(("yaw", "pitch", "roll"), on_p, strict=True))
            per_seed[seed] = verdict["summary"]
            persons.append({k: per_person(v, run.labels) for k, v in verdict["per_sample"].items()})
            training[seed] = {"train_seconds": round(history.get("seconds", 0.0), 1),
                              "steps": players.cfg.steps, **k_summary(history)}
        scalar = [k for k, v in per_seed[seeds[0]].items() if isinstance(v, float)]
        out["variants"][name] = {
            "label": VARIANT_LABELS[name], "per_seed": per_seed, "training": training,
            "summary": {k: mean_interval([per_seed[s][k] for s in seeds]) for k in scalar},
            "per_person": {k: torch.tensor([p[k] for p in persons], dtype=torch.float64).mean(0).tolist()
                           for k in persons[0]}}
    for a, b in COMPARISONS:
        if a in out["variants"] and b in out["variants"]:
            pa, pb = out["variants"][a]["per_person"], out["variants"][b]["per_person"]
            out["paired"][f"{a} - {b}"] = {k: paired_bootstrap(pa[k], pb[k]) for k in PAIRED_KEYS}
    return out


def variant_faces(profile: str, variants: tuple[str, ...], identities: int = 8, split: str = "test", seed: int = 0,
                  device: str | torch.device = "cpu", **overrides) -> tuple[torch.Tensor, list[str]]:
    """The faces of a comparison: one photo each of `identities` people of `split`, a row per variant
    (seed `seed`'s G, train-or-load), the same people and target poses in every row:
    (faces ((2 + len(variants)) x identities, 3, R, R) in [0, 1], row labels: source, each variant, truth).
    `overrides` change the variants' configs, as for evaluate_faceidgan."""
    rows, test = [], None
    for name in variants:
        classifier, symmetric = parse_variant(name)
        players, _ = load_faceid_gan(classifier, profile, symmetric, device, seed=seed, **overrides)
        test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=identities,
                                  per_identity=1, split=split)
        rows.append(test.outputs)
    labels = ["source"] + [VARIANT_LABELS[v].split(" (")[0] for v in variants] + ["truth"]
    return torch.cat([test.sources, *rows, test.targets]), labels


VERDICT_COLUMNS = (("judge similarity", "judge_similarity"), ("after blur", "judge_similarity_blur"),
                   ("param error", "param_error"), ("part IoU", "part_iou"), ("SSIM", "ssim"),
                   ("yaw err (P')", "yaw_error"), ("pitch err", "pitch_error"), ("roll err", "roll_error"),
                   ("KID x1000", "kid"))


def verdict_rows(test, outputs: dict[str, torch.Tensor], instruments, judge, references: bool = True) -> list[dict]:
    """The instruments' and the judge's verdict on one or more generators' outputs for the same
    generator test (run_generator_test), one row each, plus the true-render and blurred-mean-face
    references as the scale: the columns of `faceidgan_table`, for notebooks 03 and 04."""
    truth = generator_truth(test)
    named = {name: generator_verdict(out, test, truth, instruments, judge)["summary"] for name, out in outputs.items()}
    if references:
        named |= {f"({k})": v for k, v in reference_verdicts(test, truth, instruments, judge).items()}
    return [{"": name} | {title: f"{v[key] * (1000 if key == 'kid' else 1):.{_digits(key)}f}"
                          for title, key in VERDICT_COLUMNS} for name, v in named.items()]


def _digits(key: str) -> int:
    return 1 if key in ("yaw_error", "pitch_error", "roll_error") else 3  # angles in degrees


def faceidgan_table(result: dict) -> list[dict]:
    """One row per variant of an evaluate_faceidgan result, means with 95% intervals over seeds,
    plus the two references (true render, blurred mean face) as the scale."""
    cols = VERDICT_COLUMNS
    rows = []
    for v in result["variants"].values():
        row = {"variant": v["label"]}
        for title, key in cols:
            s = dict(v["summary"][key])
            if key == "kid":
                s = {k: x * 1000 if isinstance(x, float) else x for k, x in s.items()}
            row[title] = format_interval(s, _digits(key))
        rows.append(row)
    for name, ref in (result.get("references") or {}).items():
        row = {"variant": f"({name})"}
        for title, key in cols:
            x = ref[key] * (1000 if key == "kid" else 1)
            row[title] = f"{x:.{_digits(key)}f}"
        rows.append(row)
    return rows


PAIRED_TITLES = {"judge_similarity": "judge similarity", "judge_similarity_blur": "judge similarity after blur",
                 "param_error": "param error", "part_iou": "part IoU", "ssim": "SSIM", "yaw_error": "yaw error (P')"}


def paired_rows(result: dict, keys: tuple[str, ...] = PAIRED_KEYS) -> list[dict]:
    """One row per comparison of an evaluate_faceidgan result: the paired difference A - B of each
    key over the test people with its 95% bootstrap interval, and whether the interval excludes 0."""
    rows = []
    for pair, diffs in result["paired"].items():
        row = {"A - B": pair}
        for key in keys:
            d = diffs[key]
            row[PAIRED_TITLES[key]] = format_interval(d, _digits(key)) + (
                "" if d["separated"] else " (n.s.)")
        rows.append(row)
    return rows


def part_rows(result: dict) -> list[dict]:
    """IoU per part (eyes, brows, nose, lips, hair, skin) of every variant and of the two references,
    averaged over seeds: where the segmenter finds G's face parts."""
    rows = []
    for v in result["variants"].values():
        seeds = list(v["per_seed"].values())
        parts = seeds[0]["part_iou_by_part"]
        rows.append({"variant": v["label"]} | {p: round(sum(s["part_iou_by_part"][p] for s in seeds) / len(seeds), 3)
                                               for p in parts})
    for name, ref in (result.get("references") or {}).items():
        rows.append({"variant": f"({name})"} | {p: round(x, 3) for p, x in ref["part_iou_by_part"].items()})
    return rows


def resemblance(share: float) -> str:
    """The everyday words for where a face sits between a stranger (0) and another photo of the
    person (1) by the judge: the words follow the measured share, never the other way round."""
    if share < 0.25:
        return "barely resembles the person: nearer a stranger than another photo of them"
    if share < 0.75:
        return "vaguely resembles the person"
    return "resembles the person nearly as well as another photo of them does"


def faceidgan_findings(result: dict) -> list[str]:
    """The sentences a notebook may claim about an evaluate_faceidgan result, each worded from the
    measured values: a difference is called one only where its paired interval excludes 0."""
    variants, refs = result["variants"], result["references"]
    label = {name: v["label"].split(" (")[0] for name, v in variants.items()}
    mean = {name: {k: s["mean"] for k, s in v["summary"].items()} for name, v in variants.items()}
    out = []
    ranked = sorted(mean, key=lambda n: mean[n]["judge_similarity"], reverse=True)
    out.append("By the judge's identity similarity: " + " > ".join(
        f"{label[n]} {mean[n]['judge_similarity']:.3f}" for n in ranked)
        + f" (a true render scores {refs['true render']['judge_similarity']:.3f}).")
    for pair, diffs in result["paired"].items():
        a, b = pair.split(" - ")
        d = diffs["judge_similarity"]
        verdict = (f"{label[a]} {'above' if d['difference'] > 0 else 'below'} {label[b]}" if d["separated"]
                   else f"no measurable difference between {label[a]} and {label[b]}")
        out.append(f"Judge similarity, {label[a]} minus {label[b]}: {format_interval(d)} over {d['units']} "
                   f"test people: {verdict}.")
    floor, ceiling = refs["blurred mean face"]["part_iou"], refs["true render"]["part_iou"]
    best = max(mean, key=lambda n: mean[n]["part_iou"])
    share = (mean[best]["part_iou"] - floor) / (ceiling - floor)
    eyes = max(sum(s["part_iou_by_part"]["eyes"] for s in v["per_seed"].values()) / len(v["per_seed"])
               for v in variants.values())
    picture = ("no variant paints a face's parts where they belong: the best is barely above a blurred mean head"
               if share < 0.25 else f"the best variant gets {share:.0%} of the way from a blurred mean head to "
               "the true render")
    out.append(f"Part IoU by the segmenter: {min(m['part_iou'] for m in mean.values()):.3f} to "
               f"{mean[best]['part_iou']:.3f} across the variants, against {floor:.3f} for a blurred mean face and "
               f"{ceiling:.3f} for the true render; eyes at most {eyes:.3f} "
               f"(true render {refs['true render']['part_iou_by_part']['eyes']:.3f}): {picture}.")
    below = [label[n] for n in mean if mean[n]["ssim"] < refs["blurred mean face"]["ssim"]]
    if below:
        out.append(f"SSIM to the true render is below the blurred mean face's "
                   f"({refs['blurred mean face']['ssim']:.3f}) for: {', '.join(below)}.")
    k_on = {label[n]: sum(t["k_positive_second_half"] for t in v["training"].values()) / len(v["training"])
            for n, v in variants.items()}
    out.append("BEGAN's k above 0 in the second half of training: "
               + ", ".join(f"{n} {x:.0%}" for n, x in k_on.items()) + ".")
    if len(result["seeds"]) < 2:
        out.append("One training seed per variant: the intervals above are over test people only; how much a "
                   "variant moves from one training run to the next is not measured here (train more seeds).")
    return out


def evaluate_faceid_gan(players, judge, identities: int = 100,
                        per_identity: int = 2, seed: int = 0) -> dict:
    """The judge's verdict on G for unseen people (`judge_generator`: identity similarity,
    top-1, pose error, L1 / SSIM to the truth), plus image quality as the Frechet distance
    between the judge's features of G's outputs and of real studio photos of the same people."""
    test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=identities,
                              per_identity=per_identity, seed=seed, resolution=players.cfg.resolution)
    verdict = judge_generator(test, judge, players.pose_net)
    verdict["frechet_judge"] = frechet_distance(judge.embed(test.outputs), judge.embed(test.targets))
    return verdict


# ----------------------------------------------------------------------------
# A generator on unseen people, and the judge's and P's verdict
# ----------------------------------------------------------------------------

@dataclass
class GeneratorTest:
    """Unseen people for judging a generator: a wild source photo and a studio target (another
    pose and expression, standard light) per sample; outputs G(f_id(source), f_pose(target), z)."""

    sources: torch.Tensor    # (n, 3, R, R) float in [0, 1]
    targets: torch.Tensor    # (n, 3, R, R) the truth: this person in the target pose, studio light
    true_pose: torch.Tensor  # (n, 7) the target's yaw, pitch, roll (degrees) and expression
    labels: torch.Tensor     # (n,) person index
    outputs: torch.Tensor    # (n, 3, R, R)
    identity_indices: np.ndarray | None = None  # (n,) the people in SynthFaces world `seed` ...
    image_indices: np.ndarray | None = None     # (n,) ... and their photos: the truth can be rendered again
    seed: int = 0


def run_generator_test(G: Generator, identity_features: Callable[[torch.Tensor], torch.Tensor], pose_net: PoseNet,
                   identities: int = 50, per_identity: int = 2, seed: int = 0,
                   resolution: int = 64, split: str = "test") -> GeneratorTest:
    """Run G on unseen people of the course world (never trained on): the `test` people (the final
    tables) or the `validation` people (every choice of a hyper-parameter). identity_features: the
    function that gives G its f_id (the identity network, or C's feature layer)."""
    labels = np.repeat(np.arange(identities), per_identity)
    ids = people_offset(split) + labels
    photos = HELDOUT_IMAGE_OFFSET + np.tile(np.arange(per_identity), identities)
    src, _ = render_photos(seed, ids, photos, False, resolution)
    tgt, truth = render_photos(seed, ids, photos, True, resolution)
    src, tgt = to_float(src), to_float(tgt)
    f_pose = features(pose_net, tgt) / POSE_SCALE
    out = generate(G, identity_features(src), f_pose, seed=seed)
    return GeneratorTest(src, tgt, truth, torch.from_numpy(labels), out, ids, photos, seed)


def judge_generator(test: GeneratorTest, judge, pose_net: PoseNet) -> dict:
    """The judge's and P's verdict on a generator's test outputs:
    - identity: cosine(judge(source), judge(output)) against the genuine-pair reference
      cosine(judge(source), judge(target)) (a real photo of the same person) and the impostor
      mean; top-1 retrieval of the source person among all sources;
    - pose: P's error on the output against the target's true pose, next to P's error on the
      real target (its floor);
    - pixels: L1 and SSIM to the studio target (the truth only SynthFaces gives)."""
    f_src, f_out, f_tgt = judge.embed(test.sources), judge.embed(test.outputs), judge.embed(test.targets)
    same = test.labels[:, None] == test.labels[None, :]
    cross = f_src @ f_out.T                                                 # (n, n) source i vs output j
    nearest = (f_out @ f_src.T).argmax(1)
    on_out = features(pose_net, test.outputs)[:, :3]
    on_tgt = features(pose_net, test.targets)[:, :3]
    names = ("yaw", "pitch", "roll")
    return {
        "samples": len(test.labels), "judge": getattr(judge, "name", "judge"),
        "id_similarity": (f_src * f_out).sum(1).mean().item(),
        "genuine_pair_similarity": (f_src * f_tgt).sum(1).mean().item(),
        "impostor_similarity": cross[~same].mean().item(),
        "id_top1": (test.labels[nearest] == test.labels).float().mean().item(),
        "pose_error_deg": dict(zip(names, (on_out - test.true_pose[:, :3]).abs().mean(0).tolist(), strict=True)),
        "pose_error_real_deg": dict(zip(names, (on_tgt - test.true_pose[:, :3]).abs().mean(0).tolist(), strict=True)),
        "l1_to_truth": (test.outputs - test.targets).abs().mean().item(),
        "ssim_to_truth": metrics.ssim(test.outputs, test.targets).item(),
    }


def heldout_accuracy(net, seed: int, identities: int, resolution: int, device: str | torch.device = "cpu",
                     per_identity: int = 5) -> float:
    """Top-1 accuracy of an identity classifier on held-out photos (`per_identity` each) of the people
    it was trained on (`faceid-lab train classifier`)."""
    held, labels, _, _ = render_split(SynthSplit(seed, identities, per_identity, "heldout"), resolution)
    predicted = predict(net, held.to_uint8(), device=device).cpu()
    return (predicted == labels).float().mean().item()
