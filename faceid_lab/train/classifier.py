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
from ..models import run_batched
from ..models.identity import IdentityNet
from .checkpoint import TrainCheckpoint
from .distributed import SINGLE, Dist, wrap
from .loop import TrainLog, amp_context, resident, speed_up, to_memory_format, update, use_channels_last


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


def train_classifier(images: torch.Tensor, labels: torch.Tensor, cfg: ClassifierConfig,
                     checkpoint: str | Path | None = None, device: str | torch.device = "cpu",
                     save_every_s: float = 120.0, save_every_steps: int | None = None,
                     log_every: int = 25, max_seconds: float | None = None,
                     progress: bool = False, dist: Dist = SINGLE, channels_last: bool | None = None,
                     compile: bool = False) -> tuple[IdentityNet, dict]:
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
    history = {"step": [], "loss": [], "accuracy": [], "seconds": 0.0}
    ckpt = None
    start = 0
    if checkpoint is not None:
        ckpt = TrainCheckpoint(checkpoint, kind="identity-classifier", config=asdict(cfg),
                               modules={"net": net}, optimizers={"opt": opt}, scaler=scaler,
                               save_every_s=save_every_s, save_every_steps=save_every_steps)
        start = ckpt.resume()
        history = ckpt.extra.get("history", history)
        if ckpt.finished:
            return net.eval(), history

    n = len(labels)
    labels = labels.to(device)
    images = resident(images, device)
    classify = wrap(speed_up(Classify(net), channels_last, compile), dist, device)
    if not dist.main:
        ckpt, progress = None, False  # rank 0 alone saves and shows progress
    net.train()
    began = time.perf_counter()
    log = TrainLog(history, ("loss", "accuracy"), cfg.steps, start, log_every, ckpt, "identity net", progress, None,
                   device)
    for step in range(start, cfg.steps):
        idx = batch_indices(step, n, cfg.batch, cfg.seed)  # the global batch of step s
        x = images[idx.to(images.device)].to(device, non_blocking=True)
        x = x.float() / 255 if x.dtype == torch.uint8 else x
        y = labels[idx.to(device)]
        if cfg.flip:
            flip = torch.rand(len(idx)) < 0.5                  # torch RNG: the same on every rank, restored on resume
            x = torch.where(flip.to(device)[:, None, None, None], x.flip(3), x)
        x, y = to_memory_format(x[rows], channels_last), y[rows]  # this rank's share
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        with autocast:
            logits = classify(x, y).float()
        loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        update(loss, opt, scaler)
        hits = (logits.detach().argmax(1) == y).float().mean()  # rank 0's share; no host sync inside the step
        log.step(step + 1, torch.stack([loss.detach(), hits]))
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


# The course's identity network (notebook 02; G's identity features in notebook 03): trained on
# the course world's training identities (seed 0), width 24: not the judge (its own world, width 32).
IDENTITY_BUDGETS = {
    "ci": {"identities": 16, "images_per_identity": 12, "steps": 30, "width": 16, "batch": 64},
    "cpu": {"identities": 300, "images_per_identity": 40, "steps": 1000, "width": 24, "batch": 128},
    "gpu": {"identities": 2000, "images_per_identity": 60, "steps": 15000, "width": 32, "batch": 256},
}
IDENTITY_RESOLUTION = 64


def identity_config(profile: str | None = None, **overrides) -> ClassifierConfig:
    """The ClassifierConfig of a profile's identity network."""
    from dataclasses import replace

    from .. import course

    b = IDENTITY_BUDGETS[profile or course.profile()]
    return replace(ClassifierConfig(num_classes=b["identities"], width=b["width"], steps=b["steps"], batch=b["batch"]),
                   **overrides)


def load_identity_net(profile: str | None = None, device: str | torch.device = "cpu", progress: bool = True,
                      save_every_s: float = 120.0, **overrides) -> tuple[IdentityNet, dict]:
    """Train-or-load the course's identity network of a profile
    (FACEID_LAB_HOME/checkpoints/identity_<profile>[_margin].pt): (net in eval mode, history)."""
    from .. import course
    from ..data.datasets import SynthSplit, render_split
    from .checkpoint import checkpoint_finished

    profile = profile or course.profile()
    cfg = identity_config(profile, **overrides)
    b = IDENTITY_BUDGETS[profile]
    suffix = f"_margin{cfg.margin:g}" if cfg.margin else ""
    path = course.path("checkpoints", f"identity_{profile}{suffix}.pt")
    if checkpoint_finished(path):  # train_classifier only loads the weights: skip rendering
        images = torch.zeros(1, 3, IDENTITY_RESOLUTION, IDENTITY_RESOLUTION, dtype=torch.uint8)
        labels = torch.zeros(1, dtype=torch.long)
    else:
        r, labels, _, _ = render_split(SynthSplit(0, b["identities"], b["images_per_identity"], "train"),
                                       IDENTITY_RESOLUTION)
        images = r.to_uint8().permute(0, 3, 1, 2).contiguous()
    net, history = train_classifier(images, labels, cfg, checkpoint=path, device=device, progress=progress,
                                    save_every_s=save_every_s)
    net.requires_grad_(False)
    return net, history
