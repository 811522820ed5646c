"""Notebook 09: the other side of face synthesis: detecting the fakes.

Three detectors, each a score per image (higher = more likely synthesized):
- C's own split: FaceID-GAN's 2N-class C already separates real person i from synthesized
  person i; its score is log P(any synthesized class) - log P(any real class);
- a small dedicated detector: a CNN trained on real studio photos vs FaceID-GAN's faces of the
  training people (binary cross-entropy);
- (for reference) the judge cannot detect anything: it was never asked to.
Scored by ROC AUC in distribution (unseen people, the same generator) and across generators:
notebook 01's autoencoder deepfakes, which no detector has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import profiles
from .data.pairs import instrument_view
from .evaluate import run_generator_test
from .metrics import roc_auc
from .models import run_batched
from .models.identity import ClassifierLogits
from .profiles import DEEPFAKE_BUDGETS, DETECTION_BUDGETS, faceidgan_data, load_faceid_gan
from .swap import swap_frames
from .train.detector import Detector, train_detector
from .train.gan import generate


def detection_auc(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> float:
    """ROC AUC with fakes as positives: the probability that a random fake scores above a random
    real image (ties count half)."""
    scores = torch.cat([real_scores, fake_scores]).double().numpy()
    positive = np.r_[np.zeros(len(real_scores), bool), np.ones(len(fake_scores), bool)]
    return roc_auc(scores, positive)


class CScore(ClassifierLogits):
    """A 2N-class C as a detector: (B, 3, R, R) -> (B,) log P(synthesized) - log P(real).
    view: what C sees of a face (Players.c_sees: the blur C was trained through); None: the face."""

    def __init__(self, C: nn.Module, num_identities: int,
                 view: Callable[[torch.Tensor], torch.Tensor] | None = None, score: Callable | None = None):
        super().__init__(C, view)
        self.n = num_identities
        self.score = score or synthesized_score  # notebook 09 passes the learner's

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(super().forward(x), self.n)                       # (B, 2N) logits -> (B,)


def synthesized_score(logits: torch.Tensor, num_identities: int) -> torch.Tensor:
    """(B, 2N) logits of a 2N-class C -> (B,) log P(any synthesized class) - log P(any real class)."""
    return logits[:, num_identities:].logsumexp(1) - logits[:, :num_identities].logsumexp(1)


def scores(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """A detector's scores (N,) for images (N, 3, R, R), batched, on the CPU."""
    return run_batched(net, images)


@dataclass
class DetectionData:
    """train_real / train_fake: training people's studio photos and FaceID-GAN's faces of them;
    test_real / test_fake: unseen people (run_generator_test); cross_real / cross_fake: notebook
    01's held-out frames of person A and their autoencoder swaps (another generator)."""

    train_real: torch.Tensor
    train_fake: torch.Tensor
    test_real: torch.Tensor
    test_fake: torch.Tensor
    cross_real: torch.Tensor | None = None
    cross_fake: torch.Tensor | None = None


def detection_data(players, data, test_identities: int = 100, train_images: int = 2000,
                   deepfake_frames: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0) -> DetectionData:
    """Real and synthesized faces for training and testing detectors (see DetectionData)."""

    n = min(train_images, len(data.targets))
    pick = torch.randperm(len(data.targets), generator=torch.Generator().manual_seed(seed))[:n]
    labels = data.target_labels[pick]
    sources = data.sources[labels * data.per_identity].float() / 255
    train_fake = generate(players.G, players.identity_features(sources), data.f_pose[pick], seed=seed)
    test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=test_identities,
                              per_identity=2, seed=seed + 1, resolution=players.cfg.resolution)
    cross_real, cross_fake = deepfake_frames if deepfake_frames is not None else (None, None)
    return DetectionData(data.targets[pick].float() / 255, train_fake, test.targets, test.outputs, cross_real,
                         cross_fake)


def deepfake_frames(profile: str, device: str | torch.device = "cpu",
                    progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebook 01's held-out real frames of A and their swaps A -> B blended as notebook 01 shows them
    (alpha with the head masks, no colour matching) (train-or-load)."""
    budget = DEEPFAKE_BUDGETS[profile]
    pair = profiles.budget_pair(budget)
    model, _, _ = profiles.train_pair_or_load(pair, budget, device=device, progress=progress)
    result = swap_frames(model, pair.test_a, pair.test_masks_a, pair.test_matrices_a, "B", method="alpha",
                                  colour=False)
    return instrument_view(pair.test_a), instrument_view(result.blended)


def detection_report(players, d: DetectionData, detector: Detector, score: Callable | None = None) -> list[dict]:
    """ROC AUC of C's split (scored by `score`, synthesized_score's signature; None: the package's) and
    of the dedicated detector, in distribution and across generators."""
    c_score = CScore(players.C, players.num_identities, players.c_sees, score) if players.C is not None else None
    rows = []
    for name, net in (("C's real/synth split (2N)", c_score), ("dedicated detector", detector)):
        if net is None:
            continue
        row = {"detector": name,
               "AUC, training images (seen)": detection_auc(scores(net, d.train_real), scores(net, d.train_fake)),
               "AUC, unseen people": detection_auc(scores(net, d.test_real), scores(net, d.test_fake))}
        if d.cross_real is not None:
            row["AUC, notebook 01 deepfakes"] = detection_auc(scores(net, d.cross_real), scores(net, d.cross_fake))
        rows.append(row)
    return rows


def detection_findings(rows: list[dict]) -> list[str]:
    """What the detection table says, worded from its values: each detector's AUC on unseen people
    against its AUC on notebook 01's deepfakes (one run: no interval, so small gaps are not claims)."""
    out = []
    for row in rows:
        if "AUC, notebook 01 deepfakes" not in row:
            continue
        inside, across = row["AUC, unseen people"], row["AUC, notebook 01 deepfakes"]
        out.append(f"{row['detector']}: AUC {inside:.3f} on FaceID-GAN's faces of unseen people, {across:.3f} on "
                   f"notebook 01's deepfakes ({across - inside:+.3f} across generators).")
    if len(out) == 2:
        drops = {row["detector"]: row["AUC, unseen people"] - row["AUC, notebook 01 deepfakes"] for row in rows}
        worst = max(drops, key=drops.get)
        out.append(f"The larger drop across generators: {worst} (one run each; a gap of a few hundredths "
                   "may not repeat with another seed).")
    return out


def evaluate_detection(profile: str, device: str | torch.device = "cpu") -> dict:
    """`faceid-lab evaluate detection`: C's split and a dedicated detector, ROC AUC in distribution
    and against notebook 01's deepfakes (every model train-or-load)."""
    b = DETECTION_BUDGETS[profile]
    model, _ = load_faceid_gan("2n", profile, device=device)
    data = faceidgan_data(model.identity_net, model.pose_net, profile)
    d = detection_data(model, data, b["test_identities"], b["train_images"], deepfake_frames(profile, device))
    detector = train_detector(d.train_real, d.train_fake, steps=b["detector_steps"], device=device)
    return {"profile": profile, **b, "rows": detection_report(model, d, detector)}
