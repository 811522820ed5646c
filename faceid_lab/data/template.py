"""The pose template: f_pose drawn as a picture, for the pose-guided generator (#35).

P's reading (yaw, pitch, roll and 4 expression factors) is the course's stand-in for the paper's
3DMM code. G learns far faster from a picture of the pose than from 7 numbers (rendered 3DMM
images as the generator's input: Deep Video Portraits, HeadGAN, PIRenderer; semantic maps at
every scale: SPADE, pix2pix), so the renderer draws one fixed **template person** at that pose
and expression: the mean face shape, grey skin, grey eyes, a dark buzz cut, under the studio
light on the studio's grey background. The template is the same for everyone, so the picture
carries pose and expression and never identity.

The guide G receives per face: the template's part map as one channel per part (skin, nose,
eye, brow, lips, mouth, hair; background is where none is set) and its shading (grey level):

    pose (B, 7) -> render the template (B, R, R) parts, (B, 3, R, R) image
                -> stored guide (B, 2, R, R) uint8: part index, shading          (pose_guides)
                -> guide (B, 8, R, R) float: 7 part channels + shading in [0, 1] (expand_guides)

The stored form is what training keeps per target (2 bytes a pixel); G expands it per batch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import synthetic as S

GUIDE_PARTS = S.PART_NAMES[1:]           # skin, nose, eye, brow, lips, mouth, hair
GUIDE_CHANNELS = len(GUIDE_PARTS) + 1    # + the shading
TEMPLATE_SKIN = (0.62, 0.62, 0.62)
TEMPLATE_IRIS = (0.35, 0.35, 0.35)
TEMPLATE_HAIR = (0.18, 0.18, 0.18)


def template_identity(count: int) -> S.Identity:
    """`count` copies of the template person: mean shape (every shape factor 0), grey colours, a buzz cut."""
    d = torch.float64
    rgb = lambda c: torch.tensor(c, dtype=d).repeat(count, 1)  # noqa: E731
    return S.Identity(shape=torch.zeros(count, len(S.SHAPE_FACTORS), dtype=d), skin=rgb(TEMPLATE_SKIN),
                      iris=rgb(TEMPLATE_IRIS), hair_style=torch.full((count,), S.HAIR_STYLES.index("buzz")),
                      hair_color=rgb(TEMPLATE_HAIR))


def template_nuisance(pose: torch.Tensor) -> S.Nuisance:
    """The studio view (Nuisance.reference: the light, background and framing of FaceID-GAN's
    targets) with pose (B, 7): yaw, pitch, roll in degrees, then the 4 expression factors,
    each clipped to the range the renderer draws."""
    pose = pose.detach().double().cpu()
    limit = torch.tensor(list(S.POSE_RANGE.values()), dtype=torch.float64)
    angles = torch.maximum(torch.minimum(pose[:, :3], limit), -limit)
    return S.Nuisance.reference(len(pose)).with_pose(angles).with_expression(pose[:, 3:7].clamp(0, 1))


def pose_guides(pose: torch.Tensor, resolution: int, chunk: int = 512) -> torch.Tensor:
    """pose (B, 7) in degrees and expression units (P's outputs times POSE_SCALE) -> the stored
    guides (B, 2, R, R) uint8 on the CPU: the template's part index and its shading (0-255)."""
    out = torch.empty(len(pose), 2, resolution, resolution, dtype=torch.uint8)
    for i in range(0, len(pose), chunk):
        nu = template_nuisance(pose[i:i + chunk])
        r = S.render(template_identity(len(nu)), nu, resolution)
        out[i:i + chunk, 0] = r.parts.cpu()
        out[i:i + chunk, 1] = (r.image.mean(1) * 255 + 0.5).clamp(0, 255).to(torch.uint8).cpu()
    return out


def expand_guides(stored: torch.Tensor) -> torch.Tensor:
    """Stored guides (B, 2, R, R) uint8 -> (B, GUIDE_CHANNELS, R, R) float on their device: one channel
    per part of GUIDE_PARTS (1 where the template shows it) and the shading in [0, 1]."""
    parts = F.one_hot(stored[:, 0].long(), len(S.PART_NAMES))[..., 1:]     # (B, R, R, 7)
    shading = stored[:, 1:2].float() / 255                                  # (B, 1, R, R)
    return torch.cat([parts.permute(0, 3, 1, 2).float(), shading], 1)


def template_faces(pose: torch.Tensor, resolution: int) -> torch.Tensor:
    """The template person's faces (B, 3, R, R) uint8 at these poses: what the guide is a picture of."""
    nu = template_nuisance(pose)
    return S.render(template_identity(len(nu)), nu, resolution).to_uint8()


def yaw_sweep(yaws: list[float] | np.ndarray, expression: tuple[float, ...] = (0, 0, 0, 0)) -> torch.Tensor:
    """(len(yaws), 7) poses: each yaw, no pitch or roll, one expression. For pictures of the guide."""
    yaw = torch.as_tensor(np.asarray(yaws, dtype=np.float64))
    rest = torch.tensor([0.0, 0.0, *expression], dtype=torch.float64).repeat(len(yaw), 1)
    return torch.cat([yaw[:, None], rest], 1)
