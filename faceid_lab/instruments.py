"""Instruments that see what G paints: readers no player ever trains against.

Every verdict on a generator needs a yardstick that G could not have learned to please. Each
instrument lives in its own SynthFaces world (its own people), has its own initial seed, width
and architecture (models/instruments.py), and is trained on the renderer's ground truth:

    P'             pose_reader    face -> yaw, pitch, roll (degrees), 4 expression factors
    R              param_reader   face -> the person's 26 identity parameters (16 shape factors,
                                  skin, iris and hair colour, hair style): identity a person can
                                  read (nose length, jaw width, hair colour), no embedding involved
    S              segmenter      face -> a part label per pixel (skin, nose, eye, brow, lips, ...);
                                  its encoder features are the space in which KID measures quality

They are never a training signal (`used_as_training_signal: False` in their provenance), and the
course's players never see their worlds. `generator_verdict` turns a generator test into numbers a
person would agree with: part IoU against the true part map, identity-parameter error, pose error
by P', KID against renders of *other* people in the same poses, SSIM / L1 to the true render, and
judge similarity before and after a blur and a JPEG round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import metrics
from .data import synthetic as S
from .data.datasets import TEST_IDENTITY_OFFSET
from .images import to_float
from .models import run_batched
from .models.instruments import PartSegmenter, ReaderNet, SegmenterFeatures
from .profiles import WORLD_SEEDS, load_instrument
from .train.gan import studio_nuisance
from .train.instruments import CONTINUOUS, HAIR_STYLE, INSTRUMENTS, PARAM_COLUMNS, render_world

# the parts G must paint, for part IoU ("lips" counts the open mouth too: where the lips are)
IOU_PARTS = {"eyes": ("eye",), "brows": ("brow",), "nose": ("nose",), "lips": ("lips", "mouth"),
             "hair": ("hair",), "skin": ("skin",)}
# R's parameter error counts only what R can read: R^2 at least this on its own world's validation people
READABLE_R2 = 0.5
READER_VALIDATION_OFFSET = 5_000_000  # R's validation people in its world (it trains on people 0, 1, ...)



@dataclass
class Instruments:
    """P', the identity-parameter reader and the part segmenter of one profile, frozen."""

    pose_reader: ReaderNet
    param_reader: ReaderNet
    segmenter: PartSegmenter
    provenance: dict
    readable: torch.Tensor | None = None  # (25,) bool over CONTINUOUS: what parameter_error counts

    def read_pose(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 7) yaw, pitch, roll in degrees and the 4 expression factors."""
        return run_batched(self.pose_reader, images) * self.pose_reader.target_scale.cpu()

    def read_params(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 26) identity parameters in Identity.to_vector()'s columns (hair style: the likeliest)."""
        out = run_batched(self.param_reader, images)
        params = torch.zeros(len(out), len(PARAM_COLUMNS))
        params[:, CONTINUOUS] = (out[:, :len(CONTINUOUS)] * self.param_reader.target_std.cpu()
                                 + self.param_reader.target_mean.cpu())
        params[:, HAIR_STYLE] = out[:, len(CONTINUOUS):].argmax(1).float()
        return params

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """(N, R, R) int64 part labels (PART_NAMES)."""
        return torch.cat([run_batched(self.segmenter, images[a:a + 256]).argmax(1)
                          for a in range(0, len(images), 256)])

    def quality_features(self, images: torch.Tensor) -> torch.Tensor:
        """(N, D): the segmenter's pooled encoder features, the space of KID."""
        return run_batched(SegmenterFeatures(self.segmenter), images)

    def parameter_error(self, images: torch.Tensor, true_params: torch.Tensor) -> torch.Tensor:
        """(N,) mean absolute error of the read parameters over the continuous ones R can read
        (`readable`; all 25 when unset), each in units of its spread among people (1.0 = as far off
        as a random person), plus 1 for a wrong hair style. A parameter R cannot read would only
        add the same noise to every face, so it is left out."""
        read = self.read_params(images)
        std = self.param_reader.target_std.cpu()
        cont = (read[:, CONTINUOUS] - true_params[:, CONTINUOUS]).abs() / std
        keep = self.readable if self.readable is not None else torch.ones(len(CONTINUOUS), dtype=torch.bool)
        cont = cont[:, keep].mean(1) if keep.any() else torch.zeros(len(read))
        return cont + (read[:, HAIR_STYLE] != true_params[:, HAIR_STYLE]).float()


def readable_parameters(param_reader: ReaderNet, identities: int = 300, per_identity: int = 2,
                        threshold: float = READABLE_R2) -> dict:
    """R's R^2 per continuous parameter on validation people of its own world (never trained on,
    and not the course's people), and which parameters it reads (R^2 >= threshold)."""
    photos = render_world(WORLD_SEEDS["param_reader"], READER_VALIDATION_OFFSET + np.arange(identities), per_identity)
    out = run_batched(param_reader.cpu(), photos.images)[:, :len(CONTINUOUS)]
    read = out * param_reader.target_std.cpu() + param_reader.target_mean.cpu()
    truth = photos.params[:, CONTINUOUS]
    r2 = 1 - ((read - truth) ** 2).sum(0) / ((truth - truth.mean(0)) ** 2).sum(0).clamp_min(1e-12)
    names = [PARAM_COLUMNS[i] for i in CONTINUOUS]
    return {"mask": r2 >= threshold, "threshold": threshold,
            "r2": {n: round(float(v), 3) for n, v in zip(names, r2, strict=True)},
            "readable": [n for n, v in zip(names, r2, strict=True) if v >= threshold]}


def load_instruments(profile: str, device: str | torch.device = "cpu", progress: bool = False,
                     save_every_s: float = 120.0) -> Instruments:
    """Train-or-load the three instruments of a profile."""
    nets, provenance = {}, {}
    for name in INSTRUMENTS:
        nets[name], provenance[name] = load_instrument(name, profile, device, progress, save_every_s)
    readable = readable_parameters(nets["param_reader"])
    provenance["param_reader"] |= {"readable_parameters": readable["readable"], "readable_r2": readable["threshold"],
                                   "validation_r2": readable["r2"]}
    return Instruments(nets["pose_reader"].cpu(), nets["param_reader"].cpu(), nets["segmenter"].cpu(), provenance,
                       readable["mask"])


# ----------------------------------------------------------------------------
# The instruments' own accuracy on people they never saw (the course world's test people)
# ----------------------------------------------------------------------------

def part_iou(predicted: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per image IoU (N,) of each part of IOU_PARTS between two label maps (N, R, R); NaN where the
    part is in neither map (a hidden ear is no error)."""
    out = {}
    for part, names in IOU_PARTS.items():
        ids = torch.tensor([S.PART_NAMES.index(n) for n in names])
        p, t = torch.isin(predicted, ids), torch.isin(truth.long(), ids)
        inter, union = (p & t).flatten(1).sum(1).float(), (p | t).flatten(1).sum(1).float()
        out[part] = torch.where(union > 0, inter / union.clamp_min(1), torch.full_like(union, float("nan")))
    return out


def mean_part_iou(ious: dict[str, torch.Tensor]) -> torch.Tensor:
    """(N,) each image's mean IoU over the parts of a part_iou result (parts in neither map skipped)."""
    return torch.stack(list(ious.values()), 1).nanmean(1)


def blurred_mean_face(images: torch.Tensor) -> torch.Tensor:
    """The floor of every verdict: one mean face of `images` (N, 3, R, R), blurred (sigma 2 px), for everybody."""
    return metrics.gaussian_blurred(images.mean(0, keepdim=True), 2.0).expand_as(images).contiguous()


def evaluate_instruments(instruments: Instruments, identities: int = 50, per_identity: int = 4,
                         seed: int = 0) -> dict:
    """Each instrument on unseen people of the course world (test identities, wild and studio
    photos), against a trivial baseline: P' mean absolute error per output vs always answering the
    mean; R's R^2 per parameter (the mean scores 0) and hair-style accuracy vs the commonest style;
    S's IoU per part vs the per-pixel commonest label of these very maps (a generous floor)."""
    photos = render_world(seed, TEST_IDENTITY_OFFSET + np.arange(identities), per_identity)
    x = photos.images
    pose = instruments.read_pose(x)
    names = ("yaw", "pitch", "roll", "smile", "mouth_open", "brow_raise", "eye_closure")
    mae = (pose - photos.pose).abs().mean(0)
    base = (photos.pose - photos.pose.mean(0)).abs().mean(0)
    params = instruments.read_params(x)
    truth = photos.params
    r2 = 1 - ((params - truth) ** 2).sum(0) / ((truth - truth.mean(0)) ** 2).sum(0).clamp_min(1e-12)
    styles, read_styles = truth[:, HAIR_STYLE].long(), params[:, HAIR_STYLE].long()
    seg = instruments.segment(x)
    mode = torch.mode(photos.parts.long(), dim=0).values.expand_as(photos.parts)
    iou, iou_base = part_iou(seg, photos.parts), part_iou(mode, photos.parts)
    return {
        "people": identities, "photos": len(x), "world": f"course world {seed}, test identities (unseen by all)",
        "pose_reader": {"mae": {n: round(float(v), 3) for n, v in zip(names, mae, strict=True)},
                        "mae_of_the_mean": {n: round(float(v), 3) for n, v in zip(names, base, strict=True)}},
        "param_reader": {"r2": {c: round(float(r2[i]), 3) for i, c in enumerate(PARAM_COLUMNS) if i != HAIR_STYLE},
                         "r2_shape_mean": round(float(r2[:16].mean()), 3),
                         "r2_colour_mean": round(float(r2[[16, 17, 18, 19, 20, 21, 23, 24, 25]].mean()), 3),
                         "hair_style_accuracy": round(float((read_styles == styles).float().mean()), 3),
                         "hair_style_commonest": round(float((styles == torch.mode(styles).values).float().mean()), 3)},
        "segmenter": {"iou": {p: round(float(v.nanmean()), 3) for p, v in iou.items()},
                      "iou_mean": round(float(torch.stack([v.nanmean() for v in iou.values()]).mean()), 3),
                      "iou_of_the_commonest_map": {p: round(float(v.nanmean()), 3) for p, v in iou_base.items()}},
    }


# ----------------------------------------------------------------------------
# Verdicts on a generator
# ----------------------------------------------------------------------------

PER_SAMPLE_KEYS = ("judge_similarity", "judge_similarity_blur", "judge_similarity_jpeg", "param_error",
                   "part_iou", "yaw_error", "pitch_error", "roll_error", "ssim", "l1")


def generator_truth(test) -> dict:
    """What SynthFaces knows about a generator test's samples (evaluate.run_generator_test): the true
    part map of each target, the source person's identity parameters, and renders of *other*
    people in the very same studio poses (KID's reference set: same poses, not the same person)."""
    ids, imgs = test.identity_indices, test.image_indices
    identity = S.sample_identities(test.seed, ids)
    nuisance = studio_nuisance(test.seed, ids, imgs)
    res = test.targets.shape[-1]
    shift = int(np.argmax(test.labels.numpy() != test.labels.numpy()[0])) or 1  # the next person's first sample
    other = S.render(identity[np.roll(np.arange(len(ids)), -shift)], nuisance, res)
    return {"parts": S.render(identity, nuisance, res).parts, "params": identity.to_vector(),
            "others": to_float(other.to_uint8())}


def generator_verdict(outputs: torch.Tensor, test, truth: dict, instruments: Instruments, judge) -> dict:
    """The instruments' and the judge's verdict on `outputs` (n, 3, R, R) for a generator test:
    {"summary": {...means...}, "per_sample": {key: (n,) list}}. See EVALUATION_KEYS for the keys."""
    f_src = judge.embed(test.sources)
    sim = lambda images: (f_src * judge.embed(images)).sum(1)  # noqa: E731
    per = {"judge_similarity": sim(outputs), "judge_similarity_blur": sim(metrics.gaussian_blurred(outputs, 1.0)),
           "judge_similarity_jpeg": sim(metrics.jpeg_compressed(outputs, 75)),
           "param_error": instruments.parameter_error(outputs, truth["params"])}
    ious = part_iou(instruments.segment(outputs), truth["parts"])
    per["part_iou"] = mean_part_iou(ious)
    angles = (instruments.read_pose(outputs)[:, :3] - test.true_pose[:, :3]).abs()
    per |= {f"{a}_error": angles[:, i] for i, a in enumerate(("yaw", "pitch", "roll"))}
    per["ssim"] = metrics.ssim(outputs, test.targets, reduce=False)
    per["l1"] = (outputs - test.targets).abs().flatten(1).mean(1)
    kid = metrics.kernel_inception_distance(instruments.quality_features(outputs),
                                            instruments.quality_features(truth["others"]))
    summary = {k: float(v.nanmean()) for k, v in per.items()}
    summary |= {"blur_kept": summary["judge_similarity_blur"] / summary["judge_similarity"]
                if summary["judge_similarity"] > 0 else float("nan"),
                "jpeg_kept": summary["judge_similarity_jpeg"] / summary["judge_similarity"]
                if summary["judge_similarity"] > 0 else float("nan"),
                "part_iou_by_part": {p: float(v.nanmean()) for p, v in ious.items()},
                "kid": kid["kid"], "kid_std": kid["std"]}
    return {"summary": summary, "per_sample": {k: [round(float(x), 5) for x in v] for k, v in per.items()}}


def reference_verdicts(test, truth: dict, instruments: Instruments, judge) -> dict:
    """The scale of every number: the true renders themselves (the ceiling: what a perfect G scores)
    and one blurred mean face for everybody (the floor: a mean head, sigma 2 px)."""
    return {name: generator_verdict(images.contiguous(), test, truth, instruments, judge)["summary"]
            for name, images in (("true render", test.targets), ("blurred mean face", blurred_mean_face(test.targets)))}


EVALUATION_KEYS = {
    "judge_similarity": "cosine(judge(source photo), judge(G's face)); the judge never trains anything",
    "judge_similarity_blur": "the same after a Gaussian blur of 1 px (at 64 px)",
    "judge_similarity_jpeg": "the same after a JPEG round trip at quality 75",
    "blur_kept": "judge_similarity_blur / judge_similarity: identity that survives a blur (1.0 = all of it)",
    "jpeg_kept": "judge_similarity_jpeg / judge_similarity",
    "param_error": "identity-parameter reader R on G's face vs the source person's true parameters: mean "
                   "|error| / spread over the continuous parameters R reads (R^2 >= 0.5 on its validation "
                   "people; instruments.param_reader.readable_parameters lists them), + 1 for a wrong hair style "
                   "(lower is better)",
    "part_iou": "segmenter S on G's face vs the true render's part map: mean IoU over eyes, brows, nose, "
                "lips, hair, skin (part_iou_by_part: each)",
    "yaw_error": "|P'(G's face) - target yaw| in degrees (P' is not P, G's teacher); pitch_error, roll_error alike",
    "ssim": "SSIM to the true render (this person in the target pose)", "l1": "mean |G's face - true render|",
    "kid": "KID (unbiased, x1) between G's faces and renders of other people in the same poses, in S's "
           "encoder features (not identity features); ~0 = as good as real renders",
}
