"""The 1.5-autoencoder deepfake: one shared encoder, one decoder per person.

The original faceswap design at 64 px, with every width multiplied by `width`
(1.0 is the original: conv 128-256-512-1024, dense 1024):

    face (B, 3, 64, 64)
      -> conv5 s2 + LReLU x4   (B, 128w, 32, 32) (B, 256w, 16, 16) (B, 512w, 8, 8) (B, 1024w, 4, 4)
      -> flatten -> dense (B, 1024w) -> dense (B, 1024w * 4 * 4)      the bottleneck
      -> reshape (B, 1024w, 4, 4) -> upscale (B, 512w, 8, 8)          = the shared code
    decoder (one per person):
      -> upscale (B, 256w, 16, 16) -> (B, 128w, 32, 32) -> (B, 64w, 64, 64)
      -> conv5 + sigmoid: face (B, 3, 64, 64), and optionally a mask (B, 1, 64, 64)

An upscale is conv3 to 4x the channels + LReLU + pixel shuffle (sub-pixel convolution).
"""

from __future__ import annotations

import torch
from torch import nn


def _c(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


class Upscale(nn.Module):
    """(B, c_in, H, W) -> (B, c_out, 2H, 2W) by sub-pixel convolution."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, 4 * c_out, 3, 1, 1)
        self.act = nn.LeakyReLU(0.1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.act(self.conv(x)))


class Encoder(nn.Module):
    """Face (B, 3, R, R) -> shared code (B, 512w, R/8, R/8)."""

    def __init__(self, width: float = 1.0, resolution: int = 64):
        super().__init__()
        c1, c2, c3, c4 = (_c(c, width) for c in (128, 256, 512, 1024))
        dense = _c(1024, width)
        self.side = resolution // 16
        self.convs = nn.Sequential(
            nn.Conv2d(3, c1, 5, 2, 2), nn.LeakyReLU(0.1), nn.Conv2d(c1, c2, 5, 2, 2), nn.LeakyReLU(0.1),
            nn.Conv2d(c2, c3, 5, 2, 2), nn.LeakyReLU(0.1), nn.Conv2d(c3, c4, 5, 2, 2), nn.LeakyReLU(0.1))
        self.dense1 = nn.Linear(c4 * self.side ** 2, dense)
        self.dense2 = nn.Linear(dense, c4 * self.side ** 2)
        self.upscale = Upscale(c4, _c(512, width))
        self.c4 = c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs(x * 2 - 1)                                  # (B, c4, R/16, R/16)
        h = self.dense2(self.dense1(h.flatten(1)))                 # (B, c4 * (R/16)^2): the bottleneck
        h = h.view(-1, self.c4, self.side, self.side)              # (B, c4, R/16, R/16)
        return self.upscale(h)                                     # (B, 512w, R/8, R/8)


class Decoder(nn.Module):
    """Shared code (B, 512w, R/8, R/8) -> face (B, 3, R, R) in [0, 1] and mask (B, 1, R, R) or None."""

    def __init__(self, width: float = 1.0, mask: bool = True):
        super().__init__()
        c = [_c(x, width) for x in (512, 256, 128, 64)]
        self.ups = nn.Sequential(Upscale(c[0], c[1]), Upscale(c[1], c[2]), Upscale(c[2], c[3]))
        self.to_rgb = nn.Conv2d(c[3], 3, 5, 1, 2)
        self.to_mask = nn.Conv2d(c[3], 1, 5, 1, 2) if mask else None

    def forward(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.ups(code)                                         # (B, 64w, R, R)
        face = torch.sigmoid(self.to_rgb(h))                       # (B, 3, R, R)
        mask = torch.sigmoid(self.to_mask(h)) if self.to_mask is not None else None  # (B, 1, R, R)
        return face, mask


class FaceSwapAutoencoder(nn.Module):
    """Shared encoder + decoders "A" and "B". reconstruct(x, "A") rebuilds A's face;
    swap: decode A's code with B's decoder (B's face, A's pose and expression)."""

    def __init__(self, width: float = 1.0, resolution: int = 64, mask: bool = True):
        super().__init__()
        if resolution % 16:
            raise ValueError(f"resolution must be a multiple of 16, not {resolution}")
        self.resolution = resolution  # the side of the aligned crops it reads and paints
        self.encoder = Encoder(width, resolution)
        self.decoders = nn.ModuleDict({"A": Decoder(width, mask), "B": Decoder(width, mask)})

    def forward(self, x: torch.Tensor, person: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode any face, decode it as `person` ("A" or "B")."""
        return self.decoders[person](self.encoder(x))
