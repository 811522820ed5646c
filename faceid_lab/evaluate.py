"""Evaluation commands: metrics as JSON-able dicts (`faceid-lab evaluate ...`)."""

from __future__ import annotations

import time

import torch

from . import metrics
from .data.datasets import SynthSplit, render_split
from .train.classifier import ClassifierConfig, embed, predict, train_classifier


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
    return r.to_uint8().permute(0, 3, 1, 2).contiguous().cpu(), labels
