"""Training the instruments (P', R, S): each on its own SynthFaces world's ground truth.

What each reads and why no player ever trains against it: faceid_lab/instruments.py. Which
world, seed, width and budget each has on a profile, and train-or-load: faceid_lab/profiles.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import synthetic as S
from ..errors import check_training_config
from ..models.instruments import PartSegmenter, ReaderNet
from .classifier import batch_indices, lr_at
from .gan import studio_nuisance
from .loop import TrainLog, resume_run, update

RESOLUTION = 64
INSTRUMENTS = ("pose_reader", "param_reader", "segmenter")
# P' reads every angle in one unit (30 degrees), so no angle gets more gradient per degree than another
READER_POSE_SCALE = torch.tensor([30.0, 30.0, 30.0, 1.0, 1.0, 1.0, 1.0])
MIRROR = torch.tensor([-1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0])  # yaw and roll change sign in a mirror
PARAM_COLUMNS = S.Identity.columns()                          # 26: shape, skin, iris, hair style, hair colour
HAIR_STYLE = PARAM_COLUMNS.index("hair_style")
CONTINUOUS = [i for i in range(len(PARAM_COLUMNS)) if i != HAIR_STYLE]


@dataclass
class InstrumentConfig:
    width: int = 16
    steps: int = 1500
    batch: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 50
    seed: int = 0

    def __post_init__(self):
        check_training_config(self)


# ----------------------------------------------------------------------------
# The instruments' worlds: half wild photos, half studio photos (what G paints)
# ----------------------------------------------------------------------------

@dataclass
class WorldPhotos:
    images: torch.Tensor   # (N, 3, R, R) uint8
    pose: torch.Tensor     # (N, 7) yaw, pitch, roll (degrees), expression
    params: torch.Tensor   # (N, 26) identity parameters (Identity.to_vector)
    parts: torch.Tensor    # (N, R, R) uint8 index into PART_NAMES


def render_world(world_seed: int, identity_indices: np.ndarray, images_per_identity: int,
                 resolution: int = RESOLUTION, image_offset: int = 0) -> WorldPhotos:
    """Photos of these people of a world: even image indices are wild photos (any light and
    background), odd ones studio photos (standard light on grey, as G's targets are)."""
    ids = np.repeat(np.asarray(identity_indices), images_per_identity)
    imgs = image_offset + np.tile(np.arange(images_per_identity), len(identity_indices))
    studio = imgs % 2 == 1
    wild = S.sample_nuisance(world_seed, ids, imgs)
    stud = studio_nuisance(world_seed, ids, imgs)
    nuisance = S.Nuisance.from_vector(torch.where(torch.from_numpy(studio)[:, None], stud.to_vector().double(),
                                                  wild.to_vector().double()))
    identity = S.sample_identities(world_seed, ids)
    r = S.render(identity, nuisance, resolution)
    return WorldPhotos(r.to_uint8(), nuisance.to_vector()[:, :7].float(),
                       identity.to_vector(), r.parts)


# ----------------------------------------------------------------------------
# Building, training and loading
# ----------------------------------------------------------------------------

def build(name: str, width: int) -> nn.Module:
    """A fresh instrument network (with its target scales as buffers, so a checkpoint carries them)."""
    if name == "pose_reader":
        net = ReaderNet(7, width)
        net.register_buffer("target_scale", READER_POSE_SCALE.clone())
    elif name == "param_reader":
        net = ReaderNet(len(CONTINUOUS) + len(S.HAIR_STYLES), width)
        net.register_buffer("target_mean", torch.zeros(len(CONTINUOUS)))
        net.register_buffer("target_std", torch.ones(len(CONTINUOUS)))
    elif name == "segmenter":
        net = PartSegmenter(len(S.PART_NAMES), width)
        net.register_buffer("class_weight", torch.ones(len(S.PART_NAMES)))
    else:
        raise ValueError(f"unknown instrument {name!r}: one of {', '.join(INSTRUMENTS)}")
    return net


def class_weights(parts: torch.Tensor, cap: float = 10.0) -> torch.Tensor:
    """Median-frequency balancing (Eigen & Fergus 2015): weight = median frequency / frequency,
    at most `cap`, so a part of a few pixels (an eye) counts in the loss as much as the background."""
    freq = torch.bincount(parts.flatten().long(), minlength=len(S.PART_NAMES)).double()
    freq = freq / freq.sum()
    seen = freq > 0
    w = torch.ones(len(freq), dtype=torch.float64)
    w[seen] = (freq[seen].median() / freq[seen]).clamp(max=cap)
    return w.float()


def _loss(name: str, net: nn.Module, x: torch.Tensor, batch: WorldPhotos, flip: torch.Tensor) -> torch.Tensor:
    if name == "pose_reader":
        y = batch.pose / net.target_scale
        y = torch.where(flip[:, None], y * MIRROR.to(y.device), y)
        return F.smooth_l1_loss(net(x), y, beta=0.05)
    if name == "param_reader":
        out = net(x)
        y = (batch.params[:, CONTINUOUS] - net.target_mean) / net.target_std
        return F.mse_loss(out[:, :len(CONTINUOUS)], y) + F.cross_entropy(out[:, len(CONTINUOUS):],
                                                                         batch.params[:, HAIR_STYLE].long())
    return F.cross_entropy(net(x), batch.parts.long(), weight=net.class_weight)


def train_instrument(name: str, photos: WorldPhotos | None, cfg: InstrumentConfig, checkpoint: str | Path | None = None,
                     device: str | torch.device = "cpu", save_every_s: float = 120.0, log_every: int = 25,
                     progress: bool = False) -> tuple[nn.Module, dict]:
    """Train (or load, or resume) one instrument on its world's photos. `photos` may be None when
    the checkpoint is finished (loading renders nothing). Returns the network frozen, and its history."""
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    net = build(name, cfg.width).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt, start, history = resume_run(checkpoint, f"instrument-{name}", asdict(cfg), {"net": net}, {"opt": opt},
                                      {"step": [], "loss": [], "seconds": 0.0}, None, save_every_s)
    if ckpt is not None and ckpt.finished:
        return net.eval().requires_grad_(False), history
    if photos is None:
        raise ValueError(f"train_instrument({name!r}): no photos to train on and no finished checkpoint")
    if name == "param_reader" and start == 0:  # standardise each parameter by its spread in this world
        cont = photos.params[:, CONTINUOUS]
        net.target_mean.copy_(cont.mean(0))
        net.target_std.copy_(cont.std(0).clamp_min(1e-3))
    if name == "segmenter" and start == 0:  # eyes and lips are a few pixels: weigh parts by rarity
        net.class_weight.copy_(class_weights(photos.parts))
    log = TrainLog(history, ("loss",), cfg.steps, start, log_every, ckpt, f"instrument {name}", progress,
                   device=device)
    net.train()
    for step in range(start, cfg.steps):
        idx = batch_indices(step, len(photos.images), cfg.batch, cfg.seed)
        x = photos.images[idx].to(device).float() / 255
        batch = WorldPhotos(x, photos.pose[idx].to(device), photos.params[idx].to(device), photos.parts[idx].to(device))
        flip = torch.zeros(len(idx), dtype=torch.bool, device=device)
        if name == "pose_reader":  # a mirrored face is the same face with yaw and roll negated
            flip = (torch.rand(len(idx), generator=torch.Generator().manual_seed(cfg.seed * 7 + step)) < 0.5).to(device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss = _loss(name, net, x, batch, flip)
        update(loss, opt, None)
        log.step(step + 1, loss.detach()[None])
    history = log.finish()
    return net.eval().requires_grad_(False), history
