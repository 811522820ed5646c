"""Training the 1.5 autoencoders: both people in one explicit loop.

Each step takes a batch of A's faces and a batch of B's, warps each at random
(the target is the unwarped face), and updates the shared encoder with both
people's losses and each decoder with its own: MAE + (1 - SSIM) on the face, plus
an L1 loss on the mask when ground-truth masks are given. AMP on CUDA (bf16 where
supported, fp16 with a gradient scaler otherwise); checkpoints by time, resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data.augment import random_warp
from ..errors import check_training_config
from ..images import to_float
from ..metrics import ssim
from ..models.autoencoder import FaceSwapAutoencoder
from .classifier import batch_indices
from .distributed import SINGLE, Dist, wrap
from .loop import TrainLog, amp_context, resume_run, speed_up, to_memory_format, update, use_channels_last


@dataclass
class AutoencoderConfig:
    width: float = 0.25
    resolution: int = 64
    mask: bool = True
    steps: int = 3000
    batch: int = 32
    lr: float = 5e-4
    ssim_weight: float = 1.0
    mask_weight: float = 0.5
    warp_strength: float = 0.06
    seed: int = 0
    init: str = ""  # the pretraining a fresh run starts from (its key; "" = random weights)

    def __post_init__(self):
        check_training_config(self)


def _batch(faces: torch.Tensor, masks: torch.Tensor | None, step: int, cfg: AutoencoderConfig, salt: int,
           device: torch.device) -> torch.Tensor:
    idx = batch_indices(step, len(faces), cfg.batch, cfg.seed * 7 + salt)
    x = to_float(faces[idx], device)
    if masks is not None:
        m = to_float(masks[idx], device)
        x = torch.cat([x, m.reshape(len(idx), 1, *x.shape[-2:])], 1)
    return x


class BothPeople(nn.Module):
    """One forward for A's and B's batches, so DDP sees one forward per backward."""

    def __init__(self, model: FaceSwapAutoencoder):
        super().__init__()
        self.model = model

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor):
        return self.model(x_a, "A"), self.model(x_b, "B")


def autoencoder_step(both: nn.Module, opt: torch.optim.Optimizer, pairs: list[tuple[torch.Tensor, torch.Tensor]],
                     cfg: AutoencoderConfig, use_masks: bool, autocast, scaler,
                     channels_last: bool = False) -> torch.Tensor:
    """One step of the 1.5 autoencoders: `pairs` = [(warped, target)] for A then B, each (B, 3 or 4,
    R, R) (the 4th channel the mask). Each person's loss is MAE + ssim_weight x (1 - SSIM) on the
    face (+ mask_weight x L1 on the mask); one update of the shared encoder and both decoders on
    their sum. Returns (loss_a, loss_b) on the device."""
    with autocast:
        outputs = both(*(to_memory_format(warped[:, :3], channels_last) for warped, _ in pairs))
    losses = []
    for (face, mask), (_, target) in zip(outputs, pairs, strict=True):
        face = face.float()
        loss = F.l1_loss(face, target[:, :3]) + cfg.ssim_weight * (1 - ssim(face, target[:, :3]))
        if use_masks and mask is not None:
            loss = loss + cfg.mask_weight * F.l1_loss(mask.float(), target[:, 3:])
        losses.append(loss)
    update(losses[0] + losses[1], opt, scaler)
    return torch.stack([loss.detach() for loss in losses])


def train_autoencoder(faces_a: torch.Tensor | None, faces_b: torch.Tensor | None, cfg: AutoencoderConfig,
                      masks_a: torch.Tensor | None = None, masks_b: torch.Tensor | None = None,
                      checkpoint: str | Path | None = None, device: str | torch.device = "cpu",
                      save_every_s: float = 120.0, save_every_steps: int | None = None, log_every: int = 50,
                      on_log: Callable[[int, dict, FaceSwapAutoencoder], None] | None = None,
                      progress: bool = False, dist: Dist = SINGLE, channels_last: bool | None = None,
                      compile: bool = False, init: dict | None = None) -> tuple[FaceSwapAutoencoder, dict]:
    """Train (or load, or resume) the shared-encoder autoencoder on A's and B's faces
    (N, 3, R, R) uint8 or float, with optional masks (N, R, R) or (N, 1, R, R). `init`: the
    state_dict a fresh run starts from (a pretraining named by cfg.init); a resumed or finished
    run loads its own weights. Faces may be None when the checkpoint is finished (load only).
    `on_log(step, history, model)` is called every `log_every` steps (live previews).
    Under torchrun (`dist` from faceid_lab.train.distributed.from_env()) each rank trains on
    its slice of the global batch cfg.batch; rank 0 alone logs and saves. channels_last
    (default: on CUDA) and `compile` change how the step runs, not what it computes."""
    device = torch.device(device)
    channels_last = use_channels_last(device, channels_last)
    rows = dist.share(cfg.batch)
    torch.manual_seed(cfg.seed)
    model = FaceSwapAutoencoder(cfg.width, cfg.resolution, cfg.mask).to(device)
    if init is not None:
        if not cfg.init:
            raise ValueError("train_autoencoder: init weights given but cfg.init is empty; name the pretraining "
                             "in cfg.init so that its checkpoint is another run")
        model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    autocast, scaler = amp_context(device)
    ckpt, start, history = resume_run(checkpoint, "faceswap-autoencoder", asdict(cfg), {"model": model}, {"opt": opt},
                                      {"step": [], "loss_a": [], "loss_b": [], "seconds": 0.0}, scaler,
                                      save_every_s, save_every_steps)
    if ckpt is not None and ckpt.finished:
        return model.eval(), history
    if faces_a is None or faces_b is None:
        raise ValueError("train_autoencoder: no faces to train on (faces may be None only to load a finished run)")
    if cfg.init and init is None and start == 0:
        raise ValueError(f"train_autoencoder: cfg.init={cfg.init!r} names a pretraining; pass its weights as init")
    use_masks = cfg.mask and masks_a is not None and masks_b is not None
    gen = torch.Generator().manual_seed(cfg.seed)
    log = TrainLog(history, ("loss_a", "loss_b"), cfg.steps, start, log_every, ckpt if dist.main else None,
                   "autoencoder", progress and dist.main, on_log if dist.main else None, device)
    both = wrap(speed_up(BothPeople(model), channels_last, compile), dist, device)  # DDP under torchrun
    model.train()
    for step in range(start, cfg.steps):
        gen.manual_seed(cfg.seed * 1_000_003 + step)  # the warps of step s: same after a resume
        pairs = []
        for faces, masks, salt in ((faces_a, masks_a, 1), (faces_b, masks_b, 2)):
            x = _batch(faces, masks if use_masks else None, step, cfg, salt, device)  # the global batch
            warped, target = random_warp(x, cfg.warp_strength, generator=gen)
            pairs.append((warped[rows], target[rows]))                                  # this rank's share
        log.step(step + 1, autoencoder_step(both, opt, pairs, cfg, use_masks, autocast, scaler, channels_last), model)
    return model.eval(), log.finish()
