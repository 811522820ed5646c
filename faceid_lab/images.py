"""The package's image convention and its conversions: NCHW everywhere; uint8 for storage (renders,
shards, training sets), float in [0, 1] for compute (`to_float`); HWC only for PIL and video (`to_uint8_hwc`)."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8_hwc(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, 3, H, W) float in [0, 1] or uint8 tensors, or (N, H, W, 3) arrays -> (N, H, W, 3) uint8."""
    if isinstance(images, torch.Tensor):
        x = images.detach().cpu()
        if x.dtype != torch.uint8:
            x = (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8)
        if x.shape[1] == 3 and x.shape[-1] != 3:
            x = x.permute(0, 2, 3, 1)
        return np.ascontiguousarray(x.numpy())
    return np.ascontiguousarray(np.asarray(images, dtype=np.uint8))


def to_float(images: torch.Tensor, device: str | torch.device | None = None) -> torch.Tensor:
    """The package's one conversion from storage to compute: NCHW images, uint8 (storage) or float,
    to float32 in [0, 1] (on `device`, if given)."""
    x = images if device is None else images.to(device, non_blocking=True)
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def from_hwc(images: np.ndarray) -> torch.Tensor:
    """Shard storage (N, H, W, 3) uint8 (the layout of image files and video frames) -> (N, 3, H, W) uint8."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
