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


def alignment_error(images, size: int, margin: float = 0.25, upscale: int = 4) -> dict:
    """Eye centres found again by dlib's landmark model in aligned crops, against the template:
    distances in crop pixels (the crop is upscaled for the predictor, the box is the template's)."""
    import cv2
    import numpy as np

    from .data.align import Aligner, eye_centres, template

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
    import numpy as np

    from .data.shards import Shard
    from .judge import DlibJudge

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


def evaluate_judge(profile: str | None = None, identities: int = 50, images_per_identity: int = 10,
                   device: str = "cpu") -> dict:
    """The SynthFaces judge on the course world's unseen test identities (seed 0): verification
    over all pairs, TAR at FAR 1e-2 and 1e-3, leave-one-out top-1 retrieval."""
    from .judge import load_synth_judge

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


def evaluate_pose(profile: str | None = None, identities: int = 50, images_per_identity: int = 20,
                  device: str = "cpu") -> dict:
    """P on unseen test identities: mean absolute error per output (degrees for the angles)."""
    from .train.pose import load_pose, pose_errors, pose_targets, predict_pose

    net = load_pose(profile, device, progress=False)
    r, _, _, nuisance = render_split(SynthSplit(0, identities, images_per_identity, "test"), 64)
    predicted = predict_pose(net, r.image, device=device)
    return {"test_images": len(predicted), **pose_errors(predicted, pose_targets(nuisance.to_vector()))}
