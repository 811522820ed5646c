"""The instruments' networks: readers of what G paints that no player ever trains against.

Their architecture is deliberately not the players' (no residual blocks, no identity head), so
an instrument cannot share a player's blind spots by construction:
- ReaderNet: a plain conv net that regresses numbers from a face (P', the pose reader; the
  identity-parameter reader);
- PartSegmenter: a small U-Net that labels every pixel with a face part (PART_NAMES). Its pooled
  encoder features are the image-quality space for KID: trained to find parts, never identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class ReaderNet(nn.Module):
    """Face (B, 3, 64, 64) in [0, 1] -> (B, outputs). Width w:
    (w, 32) -> (2w, 16) -> (4w, 8) -> (8w, 4) -> mean pool (B, 8w) -> MLP -> (B, outputs).
    Each stage: a strided conv then a plain conv (conv-BN-ReLU)."""

    def __init__(self, outputs: int, width: int = 16):
        super().__init__()
        w = width
        chans = [3, w, 2 * w, 4 * w, 8 * w]
        self.stages = nn.Sequential(*[nn.Sequential(_conv_bn_relu(a, b, 2), _conv_bn_relu(b, b))
                                      for a, b in zip(chans[:-1], chans[1:], strict=True)])
        self.head = nn.Sequential(nn.Linear(8 * w, 128), nn.ReLU(), nn.Linear(128, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages((x - 0.5) / 0.25).mean(dim=(2, 3))   # (B, 8w)
        return self.head(h)                                   # (B, outputs)


class PartSegmenter(nn.Module):
    """Face (B, 3, R, R) in [0, 1] -> part logits (B, classes, R, R), R divisible by 8. Width w:
    enc (w, R) -> (2w, R/2) -> (4w, R/4) -> bottleneck (8w, R/8) -> dec with skips -> (w, R)."""

    def __init__(self, classes: int, width: int = 16):
        super().__init__()
        w = width
        self.enc1 = _conv_bn_relu(3, w)  # one conv at full resolution: most of the cost is here
        self.enc2 = nn.Sequential(_conv_bn_relu(w, 2 * w, 2), _conv_bn_relu(2 * w, 2 * w))
        self.enc3 = nn.Sequential(_conv_bn_relu(2 * w, 4 * w, 2), _conv_bn_relu(4 * w, 4 * w))
        self.bottleneck = nn.Sequential(_conv_bn_relu(4 * w, 8 * w, 2), _conv_bn_relu(8 * w, 8 * w))
        self.dec3 = _conv_bn_relu(8 * w + 4 * w, 4 * w)
        self.dec2 = _conv_bn_relu(4 * w + 2 * w, 2 * w)
        self.dec1 = _conv_bn_relu(2 * w + w, w)
        self.out = nn.Conv2d(w, classes, 1)

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        e1 = self.enc1((x - 0.5) / 0.25)     # (B, w, R, R)
        e2 = self.enc2(e1)                   # (B, 2w, R/2, R/2)
        e3 = self.enc3(e2)                   # (B, 4w, R/4, R/4)
        return e1, e2, e3, self.bottleneck(e3)  # bottleneck (B, 8w, R/8, R/8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1, e2, e3, b = self._encode(x)
        up = lambda t, ref: F.interpolate(t, size=ref.shape[-2:], mode="bilinear", align_corners=False)  # noqa: E731
        d3 = self.dec3(torch.cat([up(b, e3), e3], 1))    # (B, 4w, R/4, R/4)
        d2 = self.dec2(torch.cat([up(d3, e2), e2], 1))   # (B, 2w, R/2, R/2)
        d1 = self.dec1(torch.cat([up(d2, e1), e1], 1))   # (B, w, R, R)
        return self.out(d1)                               # (B, classes, R, R)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 12w): mean-pooled encoder features (bottleneck and the R/4 stage), KID's space."""
        _, _, e3, b = self._encode(x)
        return torch.cat([b.mean(dim=(2, 3)), e3.mean(dim=(2, 3))], 1)


class SegmenterFeatures(nn.Module):
    """The segmenter's feature layer as a plain module (for run_batched)."""

    def __init__(self, segmenter: PartSegmenter):
        super().__init__()
        self.segmenter = segmenter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.segmenter.features(x)
