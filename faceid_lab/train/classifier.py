"""Training the identity network as an N-class classifier: one explicit loop.

Batches are a pure function of (seed, step): each epoch is a permutation seeded by
(seed, epoch). With the RNG state restored from the checkpoint (flips, dropout),
a run that is killed and resumed ends with exactly the same weights as one that
never stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import check_training_config
from ..images import to_float
from ..models import run_batched
from ..models.identity import IdentityNet
from .distributed import SINGLE, Dist, wrap
from .loop import TrainLog, amp_context, resident, resume_run, speed_up, to_memory_format, update, use_channels_last


@dataclass
class ClassifierConfig:
    num_classes: int
    width: int = 32
    feature_dim: int = 256
    margin: float = 0.0          # > 0: additive-margin cosine head
    steps: int = 1000
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    warmup: int = 50
    label_smoothing: float = 0.1
    flip: bool = True            # mirror images at random (a mirrored face is the same person)
    seed: int = 0

    def __post_init__(self):
        check_training_config(self)


def batch_indices(step: int, n: int, batch: int, seed: int) -> torch.Tensor:
    """The indices of batch `step`: epoch e is a permutation seeded by (seed, e)."""
    per_epoch = max(1, n // batch)
    epoch, k = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return perm[k * batch:(k + 1) * batch]


def lr_at(step: int, cfg: ClassifierConfig) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def build_classifier(cfg: ClassifierConfig) -> IdentityNet:
    torch.manual_seed(cfg.seed)
    return IdentityNet(cfg.num_classes, width=cfg.width, feature_dim=cfg.feature_dim, margin=cfg.margin)


class Classify(nn.Module):
    """The identity network as one forward for training: faces (B, 3, R, R), labels (B,) ->
    logits (B, N) (labels for the margin head), so DDP and torch.compile see a single call."""

    def __init__(self, net: IdentityNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net.logits(self.net.features(x), labels)


def classifier_step(classify: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    cfg: ClassifierConfig, autocast, scaler) -> torch.Tensor:
    """One step of the identity network's game: faces x (B, 3, R, R) in [0, 1], labels y (B,) ->
    cross-entropy (label smoothing) on the logits, one update. Returns (loss, accuracy) on the device."""
    with autocast:
        logits = classify(x, y).float()
    loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
    update(loss, opt, scaler)
    hits = (logits.detach().argmax(1) == y).float().mean()  # no host sync inside the step
    return torch.stack([loss.detach(), hits])


def train_classifier(images: torch.Tensor, labels: torch.Tensor, cfg: ClassifierConfig,
                     checkpoint: str | Path | None = None, device: str | torch.device = "cpu",
                     save_every_s: float = 120.0, save_every_steps: int | None = None,
                     log_every: int = 25, max_seconds: float | None = None,
                     progress: bool = False, dist: Dist = SINGLE, channels_last: bool | None = None,
                     compile: bool = False, desc: str = "identity net") -> tuple[IdentityNet, dict]:
    """Train (or load, or resume) an IdentityNet on in-memory images (N, 3, R, R) in [0, 1]
    (float or uint8). Returns the network in eval mode and its history
    {"step": [...], "loss": [...], "accuracy": [...], "seconds": float}.

    `max_seconds` stops early (a wall-clock budget); the checkpoint is then left unfinished,
    so calling again continues the run. AMP on CUDA; channels_last (default: on CUDA) and
    `compile` change how the step runs, not what it computes. Under torchrun (`dist` from
    distributed.from_env()) each rank trains on its share of the global batch; rank 0 alone
    logs and saves."""
    device = torch.device(device)
    channels_last = use_channels_last(device, channels_last)
    rows = dist.share(cfg.batch)
    if max_seconds is not None and dist.world > 1:
        raise ValueError("max_seconds stops one process by its own clock; under torchrun the ranks would disagree. "
                         "Leave it out and set the steps instead")
    net = build_classifier(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    autocast, scaler = amp_context(device)
    ckpt, start, history = resume_run(checkpoint, "identity-classifier", asdict(cfg), {"net": net}, {"opt": opt},
                                      {"step": [], "loss": [], "accuracy": [], "seconds": 0.0}, scaler,
                                      save_every_s, save_every_steps)
    if ckpt is not None and ckpt.finished:
        return net.eval(), history

    n = len(labels)
    labels = labels.to(device)
    images = resident(images, device)
    classify = wrap(speed_up(Classify(net), channels_last, compile), dist, device)
    if not dist.main:
        ckpt, progress = None, False  # rank 0 alone saves and shows progress
    net.train()
    began = time.perf_counter()
    log = TrainLog(history, ("loss", "accuracy"), cfg.steps, start, log_every, ckpt, desc, progress, None, device)
    for step in range(start, cfg.steps):
        idx = batch_indices(step, n, cfg.batch, cfg.seed)  # the global batch of step s
        x = to_float(images[idx.to(images.device)], device)
        y = labels[idx.to(device)]
        if cfg.flip:
            flip = torch.rand(len(idx)) < 0.5                  # torch RNG: the same on every rank, restored on resume
            x = torch.where(flip.to(device)[:, None, None, None], x.flip(3), x)
        x, y = to_memory_format(x[rows], channels_last), y[rows]  # this rank's share
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        log.step(step + 1, classifier_step(classify, opt, x, y, cfg, autocast, scaler))  # rank 0's share
        if max_seconds is not None and time.perf_counter() - began > max_seconds and step + 1 < cfg.steps:
            return net.eval(), log.stop(step + 1)
    history = log.finish()
    return net.eval(), history


@torch.no_grad()
def embed(net: IdentityNet, images: torch.Tensor, batch: int = 256,
          device: str | torch.device = "cpu") -> torch.Tensor:
    """Features (N, feature_dim) for images (N, 3, R, R), float in [0, 1] or uint8."""
    return run_batched(net, images, batch, device)  # IdentityNet's forward is its features


@torch.no_grad()
def predict(net: IdentityNet, images: torch.Tensor, batch: int = 256,
            device: str | torch.device = "cpu") -> torch.Tensor:
    """Predicted class (N,) for images."""
    return torch.cat([net.logits(f.to(device)).argmax(1).cpu()
                      for f in embed(net, images, batch, device).split(batch)])
