"""Training P, the pose/expression regressor, on SynthFaces ground truth: one explicit loop.

Same batch order and schedule helpers as the classifier (a pure function of seed and
step), so a killed run resumes to the same weights. A mirrored face is the same face
with yaw and roll negated: flips double the poses P sees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import check_training_config
from ..models import run_batched
from ..models.pose import OUTPUT_NAMES, POSE_SCALE, PoseNet
from .checkpoint import TrainCheckpoint, checkpoint_finished
from .classifier import batch_indices, lr_at
from .loop import TrainLog

MIRROR = torch.tensor([-1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0])  # yaw and roll change sign in a mirror


@dataclass
class PoseConfig:
    width: int = 32
    steps: int = 1500
    batch: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 50
    flip: bool = True
    seed: int = 0

    def __post_init__(self):
        check_training_config(self)


def pose_targets(nuisance_vectors: torch.Tensor) -> torch.Tensor:
    """(N, 7) yaw, pitch, roll, smile, mouth_open, brow_raise, eye_closure from Nuisance.to_vector()."""
    return nuisance_vectors[:, :7].float()


def train_pose(images: torch.Tensor, targets: torch.Tensor, cfg: PoseConfig,
               checkpoint: str | Path | None = None, device: str | torch.device = "cpu",
               save_every_s: float = 120.0, save_every_steps: int | None = None,
               log_every: int = 25, progress: bool = False) -> tuple[PoseNet, dict]:
    """Train (or load, or resume) P on images (N, 3, R, R) uint8/float and targets (N, 7) in
    natural units. Returns P frozen (eval mode, no gradients) and its history."""
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    net = PoseNet(cfg.width).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history = {"step": [], "loss": [], "seconds": 0.0}
    ckpt, start = None, 0
    if checkpoint is not None:
        ckpt = TrainCheckpoint(checkpoint, kind="pose-regressor", config=asdict(cfg), modules={"net": net},
                               optimizers={"opt": opt}, save_every_s=save_every_s,
                               save_every_steps=save_every_steps)
        start = ckpt.resume()
        history = ckpt.extra.get("history", history)
        if ckpt.finished:
            return net.eval().requires_grad_(False), history
    scale, mirror = POSE_SCALE.to(device), MIRROR.to(device)
    targets = targets.to(device)
    log = TrainLog(history, ("loss",), cfg.steps, start, log_every, ckpt, "P (pose)", progress, device=device)
    net.train()
    for step in range(start, cfg.steps):
        idx = batch_indices(step, len(targets), cfg.batch, cfg.seed)
        x = images[idx].to(device)
        x = x.float() / 255 if x.dtype == torch.uint8 else x
        y = targets[idx.to(device)] / scale
        if cfg.flip:
            flip = (torch.rand(len(idx)) < 0.5).to(device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            y = torch.where(flip[:, None], y * mirror, y)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss = F.smooth_l1_loss(net.normalized(x), y, beta=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        log.step(step + 1, loss[None])
    history = log.finish()
    net.eval().requires_grad_(False)  # frozen, as P is in FaceID-GAN
    return net, history


@torch.no_grad()
def predict_pose(net: PoseNet, images: torch.Tensor, batch: int = 256,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, 7) yaw, pitch, roll (degrees), smile, mouth_open, brow_raise, eye_closure."""
    return run_batched(net, images, batch, device)


def pose_errors(predicted: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Mean absolute error per output (degrees for angles)."""
    err = (predicted - truth).abs().mean(0)
    return {f"{name}_mae": round(float(e), 3) for name, e in zip(OUTPUT_NAMES, err, strict=True)}


POSE_BUDGETS = {
    "ci": {"identities": 16, "images_per_identity": 32, "steps": 40, "width": 16, "batch": 64},
    "cpu": {"identities": 400, "images_per_identity": 60, "steps": 1500, "width": 24, "batch": 128},
    "gpu": {"identities": 2000, "images_per_identity": 100, "steps": 20000, "width": 32, "batch": 256},
}
POSE_RESOLUTION = 64


def pose_checkpoint(profile: str) -> Path:
    """FACEID_LAB_HOME/checkpoints/pose_<profile>.pt, where P of a profile lives."""
    from .. import course

    return course.path("checkpoints", f"pose_{profile}.pt")


def load_pose(profile: str | None = None, device: str | torch.device = "cpu", progress: bool = True,
              save_every_s: float = 120.0, with_history: bool = False) -> PoseNet | tuple[PoseNet, dict]:
    """Train-or-load P for a profile (FACEID_LAB_HOME/checkpoints/pose_<profile>.pt), frozen
    (with `with_history`: P and its training history).
    P learns from the course world's training identities (seed 0), whose poses it must read."""
    from .. import course
    from ..data.datasets import SynthSplit, render_split

    profile = profile or course.profile()
    b = POSE_BUDGETS[profile]
    cfg = PoseConfig(width=b["width"], steps=b["steps"], batch=b["batch"])
    path = pose_checkpoint(profile)
    if checkpoint_finished(path):  # train_pose only loads the weights: skip rendering the training set
        images, targets = torch.zeros(1, 3, POSE_RESOLUTION, POSE_RESOLUTION, dtype=torch.uint8), torch.zeros(1, 7)
    else:
        r, _, _, nuisance = render_split(SynthSplit(0, b["identities"], b["images_per_identity"], "train"),
                                         POSE_RESOLUTION)
        images = r.to_uint8().permute(0, 3, 1, 2).contiguous()
        targets = pose_targets(nuisance.to_vector())
    net, history = train_pose(images, targets, cfg, checkpoint=path, device=device, progress=progress,
                              save_every_s=save_every_s)
    return (net, history) if with_history else net
