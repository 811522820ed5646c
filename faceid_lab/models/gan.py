"""The GAN players shared by notebooks 03-06: the generator G and the BEGAN discriminator D.

G(f_id, f_pose, z): an identity feature (256-d, unit length, from an identity network), a
pose/expression vector (P's 7 outputs divided by POSE_SCALE) and noise, painted into a face
by nearest-neighbour upsampling and 3x3 convolutions. The condition c = [f_id * 16 | f_pose]
(f_id rescaled to about unit variance per component) enters twice: concatenated with z at the
input, and in every block as a per-channel scale and shift after batch norm (conditional
batch norm, "FiLM"), so that who and how reach every resolution:

    [c (263) | z (z_dim)] -> linear -> (B, 8w, R/16, R/16)
      -> up x2, conv3, BN, FiLM(c), LReLU x4:  (B, 8w, R/8) (B, 4w, R/4) (B, 2w, R/2) (B, w, R)
      -> conv3 + sigmoid: face (B, 3, R, R) in [0, 1]

The pose-guided G (guided=True, #35) also sees f_pose as a picture: the template person
drawn at that pose (data.template, 8 channels: 7 parts and the shading), area-resized and
concatenated to the features at the input of every block and again before the last conv
(pix2pix's skip inputs), so that where the eyes go is given, not learnt from 7 numbers:

    guide (B, 8, R, R) -> at R/8, R/4, R/2, R: cat with the upsampled features -> conv3 ...
                       -> at R: cat with the last block's output -> conv3 + sigmoid

D (BEGAN, Berthelot et al. 2017) is an autoencoder: it rebuilds real faces well and fakes
badly, and its reconstruction error R(x) = mean |x - D(x)| is the adversarial signal:

    face (B, 3, R, R) -> conv3 s2 + ELU x4 -> (B, 8w, R/16, R/16) -> linear -> code (B, h)
      -> linear -> (B, 8w, R/16, R/16) -> up x2, conv3 + ELU x4 -> conv3 -> (B, 3, R, R)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data.template import GUIDE_CHANNELS, expand_guides, pose_guides
from .pose import POSE_SCALE

ID_DIM = 256
POSE_DIM = 7


class UpBlock(nn.Module):
    """(B, c_in, H, W), condition (B, cond_dim)[, guide (B, g, R, R)] -> (B, c_out, 2H, 2W): nearest
    upsampling, the guide resized to 2H and concatenated (if g > 0), conv3, batch norm, a per-channel
    scale and shift computed from the condition, leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int, guide_channels: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(c_in + guide_channels, c_out, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)
        self.film = nn.Linear(cond_dim, 2 * c_out)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if guide is not None:
            x = torch.cat([x, resized(guide, x.shape[-1])], 1)                   # (B, c_in + g, 2H, 2W)
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)      # (B, c_out, 1, 1) each
        return self.act(self.bn(self.conv(x)) * (1 + scale) + shift)


def resized(guide: torch.Tensor, side: int) -> torch.Tensor:
    """The guide (B, g, R, R) at side x side: area-averaged (a part's channel becomes its coverage)."""
    return guide if guide.shape[-1] == side else F.interpolate(guide, size=(side, side), mode="area")


class Generator(nn.Module):
    """G(f_id (B, 256), f_pose (B, 7), z (B, z_dim)) -> face (B, 3, R, R) in [0, 1].

    guided=True: the pose-guided G. forward then also takes the guide (B, 8, R, R) (data.template's
    expand_guides of the stored guides), and draws it from f_pose itself where none is given."""

    def __init__(self, width: int = 32, resolution: int = 64, z_dim: int = 32,
                 id_dim: int = ID_DIM, pose_dim: int = POSE_DIM, pose_gain: float = 1.0, guided: bool = False,
                 block: type[nn.Module] = UpBlock):
        super().__init__()
        if resolution % 16:
            raise ValueError(f"resolution must be a multiple of 16, not {resolution}")
        w, self.side, self.z_dim, self.resolution = width, resolution // 16, z_dim, resolution
        g = GUIDE_CHANNELS if guided else 0
        self.guided = guided
        self.id_scale = id_dim ** 0.5
        self.pose_gain = pose_gain  # > 1 makes the 7 pose numbers as loud as the 256 identity numbers
        cond = id_dim + pose_dim
        self.fc = nn.Linear(cond + z_dim, 8 * w * self.side ** 2)
        self.fc_bn = nn.BatchNorm2d(8 * w)
        # `block`: UpBlock, or a class with its signature and state_dict (notebook 03's exercise)
        self.ups = nn.ModuleList([block(8 * w, 8 * w, cond, g), block(8 * w, 4 * w, cond, g),
                                  block(4 * w, 2 * w, cond, g), block(2 * w, w, cond, g)])
        self.to_rgb = nn.Conv2d(w + g, 3, 3, 1, 1)
        self.c0 = 8 * w

    def forward(self, f_id: torch.Tensor, f_pose: torch.Tensor, z: torch.Tensor,
                guide: torch.Tensor | None = None) -> torch.Tensor:
        c = torch.cat([f_id * self.id_scale, f_pose * self.pose_gain], dim=1)  # (B, 263) the condition
        h = self.fc(torch.cat([c, z], dim=1))                                 # (B, 8w * s * s)
        h = torch.relu(self.fc_bn(h.view(-1, self.c0, self.side, self.side)))  # (B, 8w, R/16, R/16)
        if self.guided and guide is None:
            guide = self.draw_guides(f_pose)                                  # (B, 8, R, R)
        for block in self.ups:                                                # ... -> (B, w, R, R)
            h = block(h, c, guide)
        if self.guided:
            h = torch.cat([h, resized(guide, h.shape[-1])], 1)                # (B, w + 8, R, R)
        return torch.sigmoid(self.to_rgb(h))                                  # (B, 3, R, R)

    @torch.no_grad()
    def draw_guides(self, f_pose: torch.Tensor) -> torch.Tensor:
        """f_pose (B, 7) (P's outputs / POSE_SCALE) -> guides (B, 8, R, R) on f_pose's device: the
        template rendered at that pose (on the CPU), as training stores and expands them."""
        stored = pose_guides(f_pose.float().cpu() * POSE_SCALE, self.resolution)
        return expand_guides(stored.to(f_pose.device)).to(f_pose.dtype)

    def noise(self, batch: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(batch, self.z_dim, generator=generator).to(device or "cpu")


class BeganDiscriminator(nn.Module):
    """D(x) (B, 3, R, R) -> reconstruction (B, 3, R, R); `recon_error(x)` -> (B,) mean |x - D(x)|."""

    def __init__(self, width: int = 32, resolution: int = 64, code_dim: int = 64):
        super().__init__()
        w, self.side = width, resolution // 16
        chans = [3, w, 2 * w, 4 * w, 8 * w]
        enc = []
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            enc += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.ELU()]
        self.encoder = nn.Sequential(*enc)                                   # (B, 8w, R/16, R/16)
        self.to_code = nn.Linear(8 * w * self.side ** 2, code_dim)
        self.from_code = nn.Linear(code_dim, 8 * w * self.side ** 2)
        dec = []
        for c_in, c_out in zip(chans[:0:-1], chans[-2:0:-1] + [w], strict=True):
            dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1), nn.ELU()]
        self.decoder = nn.Sequential(*dec)                                   # (B, w, R, R)
        self.to_rgb = nn.Conv2d(w, 3, 3, 1, 1)
        self.c4 = 8 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code = self.to_code(self.encoder(x * 2 - 1).flatten(1))              # (B, code_dim)
        h = self.from_code(code).view(-1, self.c4, self.side, self.side)     # (B, 8w, R/16, R/16)
        return torch.sigmoid(self.to_rgb(self.decoder(h)))                   # (B, 3, R, R)

    def recon_error(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self(x)).abs().flatten(1).mean(1)                        # (B,)
