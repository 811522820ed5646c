"""Models: small, flat modules with explicit shapes."""

from collections.abc import Callable

import torch
from torch import nn

from ..images import to_float


@torch.no_grad()
def run_batched(net: nn.Module, images: torch.Tensor, batch: int = 256,
                device: str | torch.device | None = None,
                view: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """A network's outputs for images (N, 3, R, R), uint8 or float in [0, 1], `batch` at a time on
    `device` (default: where the network is), returned float32 on the CPU. `view` maps each float
    batch to what the network sees (e.g. FaceID-GAN's C sees faces blurred). Puts the network in
    eval mode: this is for frozen networks and evaluation."""
    net.eval()
    device = device if device is not None else next(net.parameters()).device
    out = []
    for a in range(0, len(images), batch):
        x = images[a:a + batch].to(device)
        x = to_float(x)
        out.append(net(view(x) if view is not None else x).float().cpu())
    return torch.cat(out)
