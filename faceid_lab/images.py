"""Image layout conversions shared by the package."""

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
