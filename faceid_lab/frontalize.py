"""Notebook 08: face frontalization, judged as in the FaceID-GAN paper.

Unseen SynthFaces people are photographed "in the wild" (their own light, background and
expression) at yaw 0, 15, ..., 75 degrees; each photo is frontalized by a generator (target pose
frontal, expression neutral: P's reading of frontal neutral photos, `frontal_pose`) and scored by the
judge: cosine(judge(input photo), judge(frontal output)), as under every face in the paper's figure.
SynthFaces also gives the true frontal reference photo of every person, so pixel L1 and SSIM to the
truth are measured too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import runtime
from .data import real
from .data import synthetic as S
from .data.datasets import HELDOUT_IMAGE_OFFSET, TEST_IDENTITY_OFFSET
from .data.shards import Shard
from .evaluate import per_person
from .images import from_hwc, to_float
from .instruments import blurred_mean_face, load_instruments, mean_part_iou, part_iou
from .judge import DlibJudge, load_synth_judge
from .metrics import ssim
from .models.gan import POSE_DIM
from .models.pose import POSE_SCALE
from .profiles import FRONTALIZATION_BUDGETS, load_faceid_gan
from .stats import format_interval, paired_bootstrap
from .train.gan import features, generate
from .viz import image_grid

YAWS = (0, 15, 30, 45, 60, 75)
# The course's shared CelebA test photos, beside the repository as in CI (never copied into it)
SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_wild_subset"
@dataclass
class YawSet:
    """photos (P * Y, 3, R, R) person-major, yaw-minor; yaw (P * Y,) degrees; labels (P * Y,);
    frontal (P, 3, R, R) each person's true frontal, neutral reference photo; frontal_parts (P, R, R)
    its part map; params (P, 26) each person's true identity parameters."""

    photos: torch.Tensor
    yaw: torch.Tensor
    labels: torch.Tensor
    frontal: torch.Tensor
    frontal_parts: torch.Tensor | None = None
    params: torch.Tensor | None = None


def render_yaw_set(identities: int = 20, yaws: tuple[int, ...] = YAWS, seed: int = 0, resolution: int = 64,
                   first_identity: int | None = None) -> YawSet:
    """Unseen people (the course world's test identities), one wild photo per yaw (turned left or
    right at random per person, pitch and roll 0), and their frontal references."""
    first = TEST_IDENTITY_OFFSET + 500 if first_identity is None else first_identity
    people = np.arange(identities)
    ids = np.repeat(first + people, len(yaws))
    photos = HELDOUT_IMAGE_OFFSET + 200 + np.tile(np.arange(len(yaws)), identities)
    side = np.where(np.random.default_rng(seed).random(identities) < 0.5, -1.0, 1.0)    # left or right per person
    yaw = torch.tensor(np.tile(np.asarray(yaws, dtype=float), identities) * np.repeat(side, len(yaws)))
    wild = S.sample_nuisance(seed, ids, photos)
    wild = wild.with_pose(torch.stack([yaw, torch.zeros_like(yaw), torch.zeros_like(yaw)], 1))
    people_ids = S.sample_identities(seed, first + people)
    images = S.render(S.sample_identities(seed, ids), wild, resolution).to_uint8()
    frontal = S.render(people_ids, S.Nuisance.reference(identities), resolution)
    return YawSet(images.float() / 255, yaw.abs().float(), torch.from_numpy(np.repeat(people, len(yaws))),
                  to_float(frontal.to_uint8()), frontal.parts, people_ids.to_vector())


def frontal_pose(pose_net, people: int = 64, seed: int = 0, resolution: int = 64) -> torch.Tensor:
    """(POSE_DIM,) the frontal, neutral target in G's pose units: the mean of P's readings (/ POSE_SCALE)
    of `people` training people's frontal studio photos (standard light, neutral expression).
    Not 0: G only ever saw P's readings of photos, and P reads a neutral face's expression as
    well above 0. f_pose = 0 asks G for a face it never saw: a blurrier head (2N's cpu model, 40
    validation people x 6 yaws, 2026-12-06: SSIM to the true frontal 0.505 +- 0.008 at 0, 0.576 +- 0.009
    with this code)."""

    people_ids = S.sample_identities(seed, np.arange(people))   # training identities 0 .. people - 1
    photos = to_float(S.render(people_ids, S.Nuisance.reference(people), resolution).to_uint8())
    return (features(pose_net, photos) / POSE_SCALE).mean(0)


def frontalize(players, photos: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """G's frontal, neutral face of each photo (f_pose: frontal_pose), f_id from the model's identity encoder."""
    target = frontal_pose(players.pose_net, resolution=photos.shape[-1])
    f_pose = target.expand(len(photos), POSE_DIM)
    return generate(players.G, players.identity_features(photos), f_pose, seed=seed)


def score_frontalization(judge, photos: torch.Tensor, outputs: torch.Tensor, truth: torch.Tensor | None = None,
                         instruments=None, truth_parts: torch.Tensor | None = None,
                         true_params: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per photo: the judge's cosine(input, output) and, when the truth is given (one frontal photo
    per input), cosine(truth, output), L1 and SSIM to it. With the instruments (instruments.py):
    P''s pose error of the output against the frontal target (mean of |yaw|, |pitch|, |roll|), and,
    given the true frontal part maps and the people's true parameters, part IoU and R's parameter error."""
    f_in, f_out = judge.embed(photos), judge.embed(outputs)
    out = {"similarity": (f_in * f_out).sum(1)}
    if truth is not None:
        out["similarity_to_truth"] = (judge.embed(truth) * f_out).sum(1)
        out["l1"] = (outputs - truth).abs().flatten(1).mean(1)
        out["ssim"] = ssim(outputs, truth, reduce=False)
    if instruments is not None:
        out["pose_error"] = instruments.read_pose(outputs)[:, :3].abs().mean(1)  # the target is frontal: 0, 0, 0
        if truth_parts is not None:
            ious = part_iou(instruments.segment(outputs), truth_parts)
            out["part_iou"] = mean_part_iou(ious)
        if true_params is not None:
            out["param_error"] = instruments.parameter_error(outputs, true_params)
    return out


def score_yaw_set(judge, yaw_set: YawSet, outputs: torch.Tensor, instruments=None) -> dict[str, torch.Tensor]:
    """score_frontalization of a yaw set's outputs against each person's true frontal photo (and,
    with the instruments, its part map and the person's true parameters)."""
    pick = yaw_set.labels
    return score_frontalization(judge, yaw_set.photos, outputs, yaw_set.frontal[pick], instruments,
                                None if yaw_set.frontal_parts is None else yaw_set.frontal_parts[pick],
                                None if yaw_set.params is None else yaw_set.params[pick])


def paired_methods(scores: dict[str, dict[str, torch.Tensor]], labels: torch.Tensor, method: str, baseline: str,
                   keys: tuple[str, ...] = ("similarity", "part_iou", "ssim", "pose_error")) -> list[dict]:
    """`method` minus `baseline` per score: each person's mean over the yaws, paired over people,
    with a 95% bootstrap interval; `separated` is False where the interval includes 0."""

    rows = []
    for key in keys:
        if key in scores[method] and key in scores[baseline]:
            a, b = (per_person(scores[m][key].tolist(), labels) for m in (method, baseline))
            d = paired_bootstrap(a, b)
            rows.append({"score": key, f"{method} - {baseline}": format_interval(d, 1 if key == "pose_error" else 3),
                         "people": d["units"], "separated": d["separated"]})
    return rows


def yaw_table(scores: dict[str, dict[str, torch.Tensor]], yaw: torch.Tensor) -> list[dict]:
    """Rows per method and yaw bin: mean and spread (std) of the judge similarity to the input,
    and the means of the other scores."""
    rows = []
    for method, s in scores.items():
        for y in sorted(set(yaw.tolist())):
            pick = yaw == y
            row = {"method": method, "yaw": int(y), "judge similarity": s["similarity"][pick].mean().item(),
                   "(std)": s["similarity"][pick].std().item()}
            for key, name in (("similarity_to_truth", "similarity to true frontal"), ("l1", "L1 to truth"),
                              ("ssim", "SSIM to truth"), ("part_iou", "part IoU"), ("param_error", "param error"),
                              ("pose_error", "pose err (P', deg)")):
                if key in s:
                    row[name] = s[key][pick].mean().item()
            rows.append(row)
    return rows


def beats_in_every_bin(rows: list[dict], method: str, baseline: str) -> bool:
    """Does `method`'s mean judge similarity beat `baseline`'s at every yaw?"""
    by = {(r["method"], r["yaw"]): r["judge similarity"] for r in rows}
    yaws = {r["yaw"] for r in rows}
    return all(by[(method, y)] > by[(baseline, y)] for y in yaws)


def paper_figure(yaw_set: YawSet, outputs: dict[str, torch.Tensor], scores: dict[str, dict], people: int = 2,
                 scale: int = 2):
    """The paper's layout: for each shown person, a row of input photos over the yaws, then one row
    per method with the judge similarity printed under every face, then the true frontal."""
    yaws = len(set(yaw_set.yaw.tolist()))
    images, captions, row_labels = [], [], []
    for p in range(people):
        pick = torch.nonzero(yaw_set.labels == p).flatten()
        images.append(yaw_set.photos[pick])
        captions += [f"yaw {int(y)}" for y in yaw_set.yaw[pick]]
        row_labels.append(f"person {p} input")
        for method, out in outputs.items():
            images.append(out[pick])
            captions += [f"{v:.2f}" for v in scores[method]["similarity"][pick].tolist()]
            row_labels.append(method)
        images.append(yaw_set.frontal[p:p + 1].expand(yaws, -1, -1, -1))
        captions += ["truth"] * yaws
        row_labels.append("true frontal")
    return image_grid(torch.cat(images), yaws, scale=scale, labels=captions, row_labels=row_labels)


def round_robin(labels: np.ndarray, count: int, run: int = 2) -> np.ndarray:
    """Up to `count` indices taking `run` photos of each person in turn (shard order), so that a
    handful of faces holds several people, each twice: enough to measure "like this person" against
    "like someone else"."""
    queues = {int(p): list(np.flatnonzero(labels == p)) for p in dict.fromkeys(labels.tolist())}
    picked: list[int] = []
    while len(picked) < count and any(queues.values()):
        for q in queues.values():
            take = min(run, len(q), count - len(picked))
            picked += [q.pop(0) for _ in range(take)]
    return np.array(picked, dtype=np.int64)


def _mean_pair(features_a: torch.Tensor, features_b: torch.Tensor, mask: torch.Tensor) -> float:
    cos = features_a @ features_b.T
    return cos[mask].mean().item() if mask.any() else float("nan")


def real_faces_figure(models: dict, shard: str, count: int = 6, judge=None) -> tuple:
    """Frontalize `count` faces of a prepared real-face shard (several people in turn) with every
    model; scored by dlib's face descriptor (the judge for real faces). Each model's row gives the
    output's similarity to its own input and to the other people's inputs, beside what two real
    photos of one person and of two people score. Returns (figure, rows)."""

    data = Shard(shard)
    labels = np.asarray(data.labels)
    pick = round_robin(labels, count)
    real = to_float(from_hwc(np.array(data.images[pick])))
    people = torch.from_numpy(labels[pick])
    size = next(iter(models.values())).cfg.resolution
    if real.shape[-1] != size:  # the shard's crops at the models' resolution
        real = torch.nn.functional.interpolate(real, size=size, mode="area")
    judge = judge or DlibJudge()
    outputs = {name: frontalize(m, real) for name, m in models.items()}
    scores = {name: score_frontalization(judge, real, out) for name, out in outputs.items()}
    captions = ["input"] * len(real) + [f"{v:.2f}" for s in scores.values() for v in s["similarity"].tolist()]
    figure = image_grid(torch.cat([real, *outputs.values()]), len(real), scale=2, labels=captions,
                        row_labels=["real photo", *(n.split(" (")[0] for n in outputs)])
    same = people[:, None] == people[None, :]
    other, twin = ~same, same & ~torch.eye(len(people), dtype=torch.bool)
    f_in = judge.embed(real)
    rows = [{"method": "(two real photos)", "faces": len(real), "similarity to own input": _mean_pair(f_in, f_in, twin),
             "similarity to other people's inputs": _mean_pair(f_in, f_in, other)}]
    for name, out in outputs.items():
        f_out = judge.embed(out)
        rows.append({"method": name, "faces": len(real),
                     "similarity to own input": scores[name]["similarity"].mean().item(),
                     "similarity to other people's inputs": _mean_pair(f_out, f_in, other)})
    return figure, rows


def evaluate_frontalization(profile: str, device: str | torch.device = "cpu",
                            identities: int | None = None) -> dict:
    """`faceid-lab evaluate frontalization`: the yaw-bin table for the baseline (N-class) and
    FaceID-GAN (2N-class) models of a profile (train-or-load), judged by the SynthFaces judge."""

    identities = identities or FRONTALIZATION_BUDGETS[profile]["identities"]
    judge = load_synth_judge(profile, device=device, progress=False)
    methods = {"baseline (N-class C)": "n", "FaceID-GAN (2N-class C)": "2n"}
    instruments = load_instruments(profile, device)
    yaw_set = render_yaw_set(identities, YAWS)
    scores = {name: score_yaw_set(judge, yaw_set, frontalize(load_faceid_gan(c, profile, device=device)[0],
                                                             yaw_set.photos), instruments)
              for name, c in methods.items()}
    rows = yaw_table(scores, yaw_set.yaw)
    names = list(methods)
    return {"profile": profile, "identities": identities, "yaws": list(YAWS), "rows": rows,
            "faceidgan_beats_baseline_in_every_bin": beats_in_every_bin(rows, names[1], names[0]),
            "paired": paired_methods(scores, yaw_set.labels, names[1], names[0])}


def ci_real_shard(profile: str, people: int = 2) -> Path | None:
    """In the `ci` profile, when the shared CelebA test photos sit beside the repository (as in CI):
    `people` of them aligned into a small shard (once, resumable), so the real-face cell runs under
    nbval. None otherwise: real faces stay opt-in."""

    if profile != "ci" or not SHARED_CELEBA.is_dir():
        return None
    out = runtime.path("shards", f"shared_celeba_{people}")
    real.prepare(real.celeba_sources(SHARED_CELEBA, max_identities=people), out, "celeba",
                 {"source": "celeba shared test photos"}, size=64, workers=1)
    return out


def frontal_references(judge, yaw_set: YawSet, instruments=None) -> dict[str, dict[str, torch.Tensor]]:
    """The scale of the scores: the true frontal photo itself as the output (the ceiling) and one
    blurred mean frontal face for everybody (the floor), scored like a method's outputs."""
    true = yaw_set.frontal[yaw_set.labels]
    mean = blurred_mean_face(yaw_set.frontal)[:1].expand_as(true).contiguous()
    return {name: score_yaw_set(judge, yaw_set, images, instruments)
            for name, images in (("(true frontal)", true), ("(blurred mean face)", mean))}


def summary_rows(scores: dict[str, dict[str, torch.Tensor]]) -> list[dict]:
    """One row per method (or reference): each score's mean over every face and yaw."""
    names = {"similarity": "judge similarity", "similarity_to_truth": "similarity to true frontal",
             "ssim": "SSIM to truth", "part_iou": "part IoU", "param_error": "param error",
             "pose_error": "pose err (P', deg)"}
    return [{"method": method} | {title: round(s[key].nanmean().item(), 1 if key == "pose_error" else 3)
                                  for key, title in names.items() if key in s}
            for method, s in scores.items()]


def frontalization_findings(scores: dict, references: dict, yaw: torch.Tensor, labels: torch.Tensor,
                            method: str, baseline: str) -> list[str]:
    """What the measurements say, worded from the values (a difference only where its interval separates)."""
    out = []
    for name in (baseline, method):
        by_yaw = [scores[name]["similarity"][yaw == y].mean().item() for y in sorted(set(yaw.tolist()))]
        out.append(f"{name}: judge similarity {min(by_yaw):.3f} to {max(by_yaw):.3f} across the yaws.")
    for row in paired_methods(scores, labels, method, baseline):
        diff = row[f"{method} - {baseline}"]
        out.append(f"{row['score']}, {method} minus {baseline}: {diff} over {row['people']} people"
                   + ("" if row["separated"] else ": no measurable difference") + ".")
    if all("part_iou" in s for s in (*scores.values(), *references.values())):
        floor = references["(blurred mean face)"]["part_iou"].nanmean().item()
        ceiling = references["(true frontal)"]["part_iou"].nanmean().item()
        best = max(s["part_iou"].nanmean().item() for s in scores.values())
        share = (best - floor) / (ceiling - floor)
        out.append(f"Part IoU: best method {best:.3f}, blurred mean face {floor:.3f}, true frontal {ceiling:.3f}: "
                   + ("no frontalized face has its parts where the truth has them." if share < 0.25 else
                      f"the best method is {share:.0%} of the way from the mean head to the truth."))
    return out
