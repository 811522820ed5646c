"""Augmentations, batched in torch (CPU or GPU).

random_warp is the original deepfake's trick: the network sees a face bent by a
random smooth deformation and must output the undeformed face, so it learns to
rebuild faces rather than copy pixels. Both input and target first get the same
random affine (rotation, zoom, shift, mirror); then the input alone is warped by
a jittered 5 x 5 control grid, interpolated to a dense displacement field.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(batch: int, rotation_deg: float = 10.0, zoom: float = 0.05, shift: float = 0.05,
                  flip: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 2, 3) affine matrices for F.affine_grid (normalised coordinates)."""
    u = lambda: torch.rand(batch, generator=generator) * 2 - 1  # noqa: E731
    angle = u() * math.radians(rotation_deg)
    scale = 1 + u() * zoom
    tx, ty = u() * shift * 2, u() * shift * 2
    mirror = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0) if flip else torch.ones(batch)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    return torch.stack([torch.stack([cos * mirror, -sin, tx], 1), torch.stack([sin * mirror, cos, ty], 1)], 1)


def warp_field(batch: int, size: int, grid: int = 5, strength: float = 0.06,
               generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
    """(B, size, size, 2) smooth random displacements: Gaussian jitter of a grid x grid lattice of
    control points (std `strength`, in normalised units where the image spans 2), bicubically
    interpolated to every pixel."""
    jitter = torch.randn(batch, 2, grid, grid, generator=generator) * strength
    dense = F.interpolate(jitter, size=(size, size), mode="bicubic", align_corners=True)
    return dense.permute(0, 2, 3, 1).to(device)


def random_warp(images: torch.Tensor, strength: float = 0.06, rotation_deg: float = 10.0, zoom: float = 0.05,
                shift: float = 0.05, flip: bool = True,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """images (B, C, H, W) -> (warped input, target): both share a random affine; only the input
    is warped by the random grid. The target is what the autoencoder must produce."""
    b, _, h, w = images.shape
    theta = random_affine(b, rotation_deg, zoom, shift, flip, generator).to(images)
    base = F.affine_grid(theta, (b, 1, h, w), align_corners=False)              # (B, H, W, 2)
    target = F.grid_sample(images, base, mode="bilinear", padding_mode="reflection", align_corners=False)
    warped_grid = base + warp_field(b, h, strength=strength, generator=generator, device=images.device)
    warped = F.grid_sample(images, warped_grid.to(images.dtype), mode="bilinear", padding_mode="reflection",
                           align_corners=False)
    return warped, target
