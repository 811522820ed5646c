"""P: the pose and expression regressor, the course's stand-in for the paper's 3DMM network.

Face (B, 3, R, R) -> (B, 7): yaw, pitch, roll in degrees and the four expression
factors (smile, mouth open, brow raise, eye closure) in [0, 1]. Trained on
SynthFaces ground truth, then frozen (as P is in FaceID-GAN).
"""

from __future__ import annotations

import torch
from torch import nn

from .identity import BasicBlock

POSE_SCALE = torch.tensor([75.0, 25.0, 15.0, 1.0, 1.0, 1.0, 1.0])  # targets are divided by this
OUTPUT_NAMES = ("yaw", "pitch", "roll", "smile", "mouth_open", "brow_raise", "eye_closure")


class PoseNet(nn.Module):
    """R = 64, width w: stem s2 (w, 32) -> stages (w, 32) (2w, 16) (4w, 8) (8w, 4) -> pool (8w)
    -> MLP -> (B, 7) in natural units (degrees, expression in [0, 1])."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        self.stages = nn.Sequential(BasicBlock(w, w, 1), BasicBlock(w, 2 * w, 2),
                                    BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 8 * w, 2))
        self.head = nn.Sequential(nn.Linear(8 * w, 256), nn.ReLU(), nn.Linear(256, len(OUTPUT_NAMES)))
        self.register_buffer("scale", POSE_SCALE.clone(), persistent=False)

    def normalized(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 7) outputs divided by POSE_SCALE (what the loss sees)."""
        h = self.stages(self.stem((x - 0.5) / 0.25)).mean(dim=(2, 3))  # (B, 8w)
        return self.head(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.normalized(x) * self.scale                          # (B, 7) natural units
