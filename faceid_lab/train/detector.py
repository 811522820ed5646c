"""Notebook 09's dedicated detector: a small CNN trained on real studio photos (label 0) against
FaceID-GAN's faces (label 1); detection.py scores it beside C's own real/synthesized split."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .loop import update


class Detector(nn.Module):
    """A small real-vs-synthesized CNN: face (B, 3, R, R) -> (B,) logit (higher = synthesized).
    conv3 s2 + BN + LReLU x4 (w, 2w, 4w, 8w) -> global average pool (B, 8w) -> linear -> (B,)."""

    def __init__(self, width: int = 16):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        layers = []
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(8 * width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x * 2 - 1).mean(dim=(2, 3))).squeeze(1)


def train_detector(real: torch.Tensor, fake: torch.Tensor, steps: int = 300, batch: int = 32, width: int = 16,
                   lr: float = 2e-3, seed: int = 0, device: str | torch.device = "cpu") -> Detector:
    """Train a Detector on real (label 0) and synthesized (label 1) images (N, 3, R, R) in [0, 1],
    half of each batch from each, random horizontal flips."""
    device = torch.device(device)
    torch.manual_seed(seed)
    det = Detector(width).to(device)
    opt = torch.optim.Adam(det.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    half = batch // 2
    for _ in range(steps):
        x = torch.cat([real[torch.randint(len(real), (half,), generator=gen)],
                       fake[torch.randint(len(fake), (half,), generator=gen)]]).to(device).float()
        flip = torch.rand(len(x), generator=gen) < 0.5
        x[flip.to(device)] = x[flip.to(device)].flip(-1)
        y = torch.cat([torch.zeros(half), torch.ones(half)]).to(device)
        update(F.binary_cross_entropy_with_logits(det(x), y), opt, None)
    return det.eval()
