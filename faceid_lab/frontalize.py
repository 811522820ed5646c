"""Notebook 08: face frontalization, judged as in the FaceID-GAN paper.

Unseen SynthFaces people are photographed "in the wild" (their own light, background and
expression) at yaw 0, 15, ..., 75 degrees; each photo is frontalized by a generator (target pose
frontal, expression neutral: f_pose = 0) and scored by the judge: cosine(judge(input photo),
judge(frontal output)), as under every face in the paper's figure. SynthFaces also gives the true
frontal reference photo of every person, so pixel L1 and SSIM to the truth are measured too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data import synthetic as S
from .models.gan import POSE_DIM

YAWS = (0, 15, 30, 45, 60, 75)
# The course's shared CelebA test photos, beside the repository as in CI (never copied into it)
SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_wild_subset"
FRONTALIZATION_BUDGETS = {"ci": {"identities": 4}, "cpu": {"identities": 40}, "gpu": {"identities": 200}}


@dataclass
class YawSet:
    """photos (P * Y, 3, R, R) person-major, yaw-minor; yaw (P * Y,) degrees; labels (P * Y,);
    frontal (P, 3, R, R) each person's true frontal, neutral reference photo."""

    photos: torch.Tensor
    yaw: torch.Tensor
    labels: torch.Tensor
    frontal: torch.Tensor


def render_yaw_set(identities: int = 20, yaws: tuple[int, ...] = YAWS, seed: int = 0, resolution: int = 64,
                   first_identity: int | None = None) -> YawSet:
    """Unseen people (the course world's test identities), one wild photo per yaw (turned left or
    right at random per person, pitch and roll 0), and their frontal references."""
    from .data.datasets import HELDOUT_IMAGE_OFFSET, TEST_IDENTITY_OFFSET

    first = TEST_IDENTITY_OFFSET + 500 if first_identity is None else first_identity
    people = np.arange(identities)
    ids = np.repeat(first + people, len(yaws))
    photos = HELDOUT_IMAGE_OFFSET + 200 + np.tile(np.arange(len(yaws)), identities)
    side = np.where(np.random.default_rng(seed).random(identities) < 0.5, -1.0, 1.0)    # left or right per person
    yaw = torch.tensor(np.tile(np.asarray(yaws, dtype=float), identities) * np.repeat(side, len(yaws)))
    wild = S.sample_nuisance(seed, ids, photos)
    wild = wild.with_pose(torch.stack([yaw, torch.zeros_like(yaw), torch.zeros_like(yaw)], 1))
    people_ids = S.sample_identities(seed, first + people)
    images = S.render(S.sample_identities(seed, ids), wild, resolution).to_uint8().permute(0, 3, 1, 2)
    frontal = S.render(people_ids, S.Nuisance.reference(identities), resolution).to_uint8().permute(0, 3, 1, 2)
    return YawSet(images.float() / 255, yaw.abs().float(), torch.from_numpy(np.repeat(people, len(yaws))),
                  frontal.float() / 255)


def frontalize(players, photos: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """G's frontal, neutral face (f_pose = 0) of each photo, f_id from the model's identity encoder."""
    from .train.gan import generate

    f_pose = torch.zeros(len(photos), POSE_DIM)
    return generate(players.G, players.identity_features(photos), f_pose, seed=seed)


def score_frontalization(judge, photos: torch.Tensor, outputs: torch.Tensor, truth: torch.Tensor | None = None
                         ) -> dict[str, torch.Tensor]:
    """Per photo: the judge's cosine(input, output) and, when the truth is given (one frontal photo
    per input), cosine(truth, output), L1 and SSIM to it."""
    from .metrics import ssim

    f_in, f_out = judge.embed(photos), judge.embed(outputs)
    out = {"similarity": (f_in * f_out).sum(1)}
    if truth is not None:
        out["similarity_to_truth"] = (judge.embed(truth) * f_out).sum(1)
        out["l1"] = (outputs - truth).abs().flatten(1).mean(1)
        out["ssim"] = ssim(outputs, truth, reduce=False)
    return out


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
                              ("ssim", "SSIM to truth")):
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
    from .viz import image_grid

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


def real_faces_figure(models: dict, shard: str, count: int = 6, judge=None) -> tuple:
    """Frontalize the first `count` faces of a prepared real-face shard with every model; scored by
    dlib's face descriptor (the judge for real faces). Returns (figure, rows)."""
    from .data.shards import Shard
    from .judge import DlibJudge
    from .viz import image_grid

    real = torch.from_numpy(np.array(Shard(shard).images[:count])).permute(0, 3, 1, 2).float() / 255
    size = next(iter(models.values())).cfg.resolution
    if real.shape[-1] != size:  # the shard's crops at the models' resolution
        real = torch.nn.functional.interpolate(real, size=size, mode="area")
    judge = judge or DlibJudge()
    outputs = {name: frontalize(m, real) for name, m in models.items()}
    scores = {name: score_frontalization(judge, real, out) for name, out in outputs.items()}
    captions = ["input"] * len(real) + [f"{v:.2f}" for s in scores.values() for v in s["similarity"].tolist()]
    figure = image_grid(torch.cat([real, *outputs.values()]), len(real), scale=2, labels=captions,
                        row_labels=["real photo", *(n.split(" (")[0] for n in outputs)])
    rows = [{"method": name, "faces": len(real), "dlib similarity": s["similarity"].mean().item()}
            for name, s in scores.items()]
    return figure, rows


def evaluate_frontalization(profile: str | None = None, device: str | torch.device = "cpu",
                            identities: int | None = None) -> dict:
    """`faceid-lab evaluate frontalization`: the yaw-bin table for the baseline (N-class) and
    FaceID-GAN (2N-class) models of a profile (train-or-load), judged by the SynthFaces judge."""
    from . import course
    from .judge import load_synth_judge
    from .train.faceidgan import load_faceid_gan

    profile = profile or course.profile()
    identities = identities or FRONTALIZATION_BUDGETS[profile]["identities"]
    judge = load_synth_judge(profile, device=device, progress=False)
    methods = {"baseline (N-class C)": "n", "FaceID-GAN (2N-class C)": "2n"}
    yaw_set = render_yaw_set(identities, YAWS)
    truth = yaw_set.frontal[yaw_set.labels]
    scores = {name: score_frontalization(judge, yaw_set.photos,
                                         frontalize(load_faceid_gan(c, profile, device=device)[0], yaw_set.photos),
                                         truth)
              for name, c in methods.items()}
    rows = yaw_table(scores, yaw_set.yaw)
    names = list(methods)
    return {"profile": profile, "identities": identities, "yaws": list(YAWS), "rows": rows,
            "faceidgan_beats_baseline_in_every_bin": beats_in_every_bin(rows, names[1], names[0])}


def ci_real_shard(people: int = 2) -> Path | None:
    """In the `ci` profile, when the shared CelebA test photos sit beside the repository (as in CI):
    `people` of them aligned into a small shard (once, resumable), so the real-face cell runs under
    nbval. None otherwise: real faces stay opt-in."""
    from . import course
    from .data import real

    if course.profile() != "ci" or not SHARED_CELEBA.is_dir():
        return None
    out = course.path("shards", f"shared_celeba_{people}")
    real.prepare(real.celeba_sources(SHARED_CELEBA, max_identities=people), out, "celeba",
                 {"source": "celeba shared test photos"}, size=64, workers=1)
    return out
