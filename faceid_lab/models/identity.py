"""A compact ResNet that maps an aligned face to a 256-d L2-normalised identity feature.

Trained as an N-class classifier (softmax, or an additive-margin cosine head);
later notebooks reuse the same module as C with an N or 2N head.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus a (strided 1x1) shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity() if (stride == 1 and c_in == c_out) else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class IdentityNet(nn.Module):
    """Face (B, 3, R, R) in [0, 1] -> feature (B, feature_dim), unit length.

    R = 64, width w: stem s2 -> (B, w, 32, 32) -> stages (w, 32) (2w, 16) (4w, 8) (8w, 4)
    -> global average pool (B, 8w) -> linear + BN -> (B, feature_dim) -> L2 normalise.
    `logits(feature)` is the N-class head: plain linear (softmax) or, with margin > 0, an
    additive-margin cosine head (CosFace / ArcFace family) with scale `scale`."""

    def __init__(self, num_classes: int, width: int = 32, feature_dim: int = 256,
                 margin: float = 0.0, scale: float = 16.0):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        self.stages = nn.Sequential(BasicBlock(w, w, 1), BasicBlock(w, 2 * w, 2),
                                    BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 8 * w, 2))
        self.embed = nn.Linear(8 * w, feature_dim, bias=False)
        self.embed_bn = nn.BatchNorm1d(feature_dim)
        self.head = nn.Linear(feature_dim, num_classes, bias=margin == 0)
        self.margin, self.scale = margin, scale

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) / 0.25                                   # roughly zero-mean inputs
        h = self.stages(self.stem(x))                          # (B, 8w, R/16, R/16)
        h = h.mean(dim=(2, 3))                                 # (B, 8w)
        return F.normalize(self.embed_bn(self.embed(h)), dim=1)  # (B, feature_dim)

    def logits(self, feature: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.margin == 0:
            return self.head(feature * self.scale)             # (B, N)
        cos = feature @ F.normalize(self.head.weight, dim=1).t()  # (B, N) cosine to class centres
        if labels is not None:                                 # subtract the margin on the true class
            cos = cos - self.margin * F.one_hot(labels, cos.shape[1]).to(cos.dtype)
        return self.scale * cos

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class ClassifierLogits(nn.Module):
    """C as a plain classifier: face (B, 3, R, R) -> logits (B, classes), through `view` (what C
    sees of a face, Players.c_sees) when given."""

    def __init__(self, C: IdentityNet, view: Callable[[torch.Tensor], torch.Tensor] | None = None):
        super().__init__()
        self.C, self.view = C, view

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.C.logits(self.C.features(self.view(x) if self.view is not None else x))
