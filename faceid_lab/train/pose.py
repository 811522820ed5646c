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
from ..images import to_float
from ..models import run_batched
from ..models.pose import OUTPUT_NAMES, POSE_SCALE, PoseNet
from .classifier import batch_indices, lr_at
from .loop import TrainLog, resume_run, update

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


def pose_step(net: PoseNet, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One step of P's game: faces x (B, 3, R, R) in [0, 1], targets y (B, 7) / POSE_SCALE ->
    smooth L1 on P's normalised outputs, one update. Returns the loss (1,) on the device."""
    loss = F.smooth_l1_loss(net.normalized(x), y, beta=0.05)
    update(loss, opt, None)
    return loss.detach()[None]


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
    ckpt, start, history = resume_run(checkpoint, "pose-regressor", asdict(cfg), {"net": net}, {"opt": opt},
                                      {"step": [], "loss": [], "seconds": 0.0}, None, save_every_s, save_every_steps)
    if ckpt is not None and ckpt.finished:
        return net.eval().requires_grad_(False), history
    scale, mirror = POSE_SCALE.to(device), MIRROR.to(device)
    targets = targets.to(device)
    log = TrainLog(history, ("loss",), cfg.steps, start, log_every, ckpt, "P (pose)", progress, device=device)
    net.train()
    for step in range(start, cfg.steps):
        idx = batch_indices(step, len(targets), cfg.batch, cfg.seed)
        x = to_float(images[idx], device)
        y = targets[idx.to(device)] / scale
        if cfg.flip:
            flip = (torch.rand(len(idx)) < 0.5).to(device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            y = torch.where(flip[:, None], y * mirror, y)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        log.step(step + 1, pose_step(net, opt, x, y))
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
