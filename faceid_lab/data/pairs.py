"""Notebook 01's two people on video: persons A and B, their aligned training crops and held-out frames.

On SynthFaces each person is filmed in one "video": a fixed scene (background,
light, framing) in which the head turns and the expression changes, as in the
footage a real deepfake is trained on. Because the renderer knows everything,
every held-out frame of A has a ground-truth swap: person B rendered with A's
exact pose, expression, light and background.

Each frame's face is *extracted* to a tight crop aligned on its five landmarks (a similarity
transform), as faceswap does; the autoencoder trains on crops. Two people from a prepared
real-face shard: faceid_lab/data/real_pairs.py.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..swap import crop_faces, similarity_matrices
from . import synthetic as S
from .datasets import HELDOUT_IMAGE_OFFSET

SCENE_IMAGE_INDEX = 2 ** 40  # the image index whose random nuisance becomes a person's scene
POSE_LIMITS = (40.0, 15.0, 10.0)  # yaw, pitch, roll in degrees: a talking head, not a profile shot
SYNTH_A, SYNTH_B = 2, 4  # the course's default pair: different hair, skin and face shape


@dataclass
class DeepfakePair:
    """Everything the notebook needs about persons A and B.

    faces_*: training crops (N, 3, R, R) uint8, each face aligned on its landmarks (what the
    autoencoder trains on); masks_*: (N, R, R) uint8 head masks in the crops, or None.
    frames_*: the training frames themselves (N, 3, F, F) uint8 (the judge's view of each person).
    test_a: held-out frames of A (M, 3, F, F) float in [0, 1]; test_masks_a: (M, 1, F, F) the
    region a blend may replace; test_matrices_a: (M, 2, 3) each frame's crop transform (frame
    pixels -> crop pixels). truth_ab: the ground-truth swaps (B in A's frames) or None,
    pose_a: A's true (yaw, pitch, roll) per test frame or None; truth_parts_ab: the true swaps'
    part maps (M, 64, 64), in the instruments' view, and params_a / params_b: A's and B's true
    identity parameters (26,), for the instruments (SynthFaces only)."""

    kind: str
    name_a: str
    name_b: str
    faces_a: torch.Tensor
    faces_b: torch.Tensor
    masks_a: torch.Tensor | None
    masks_b: torch.Tensor | None
    frames_a: torch.Tensor
    frames_b: torch.Tensor
    test_a: torch.Tensor
    test_masks_a: torch.Tensor
    test_matrices_a: torch.Tensor
    truth_ab: torch.Tensor | None = None
    pose_a: torch.Tensor | None = None
    info: dict = field(default_factory=dict)
    truth_parts_ab: torch.Tensor | None = None
    params_a: torch.Tensor | None = None
    params_b: torch.Tensor | None = None

    @property
    def key(self) -> str:
        """A short name for checkpoint files: which people, from where, how many faces."""
        if self.kind == "synthfaces":
            i = self.info
            return f"synth{i['seed']}-{i['a']}-{i['b']}-{len(self.faces_a)}-{self.frame_resolution}-{self.resolution}"
        where = hashlib.sha256(f"{self.info.get('shard')}|{self.name_a}|{self.name_b}".encode()).hexdigest()[:10]
        return f"real-{where}-{len(self.faces_a)}"

    @property
    def resolution(self) -> int:
        """The crops' side: what the autoencoder trains on."""
        return self.faces_a.shape[-1]

    @property
    def frame_resolution(self) -> int:
        return self.test_a.shape[-1]

    def __repr__(self) -> str:
        truth = "with ground truth" if self.truth_ab is not None else "no ground truth"
        return (f"DeepfakePair({self.kind}: A={self.name_a} {len(self.faces_a)} faces, "
                f"B={self.name_b} {len(self.faces_b)} faces, {len(self.test_a)} test frames of A, {truth})")


# ----------------------------------------------------------------------------
# SynthFaces people on video
# ----------------------------------------------------------------------------

def _scene_of(seed: int, identity: int) -> S.Nuisance:
    return S.sample_nuisance(seed, [identity], [SCENE_IMAGE_INDEX])


def video_nuisance(seed: int, identity: int, frames: np.ndarray | list[int],
                   pose_limits: tuple[float, float, float] = POSE_LIMITS) -> S.Nuisance:
    """Frames of `identity`'s video: random pose (within pose_limits) and expression per frame,
    the person's own scene (light, background, framing) in all of them, with a little head sway."""
    frames = np.asarray(frames, dtype=np.int64)
    nu = S.sample_nuisance(seed, np.full(len(frames), identity), frames)
    scene = _scene_of(seed, identity)
    n = len(frames)
    limits = torch.tensor(pose_limits, dtype=torch.float64) / torch.tensor(list(S.POSE_RANGE.values()))
    nu.pose = nu.pose * limits
    for name in ("light_dir", "light_color", "light_intensity", "ambient", "background", "bg_colors",
                 "bg_pattern", "scale"):
        value = getattr(scene, name)
        setattr(nu, name, value.expand(n, *value.shape[1:]).clone())
    nu.shift = scene.shift + 0.3 * nu.shift  # the head sways a little in a fixed camera
    return nu


def head_turn_nuisance(seed: int, identity: int, frames: int = 48,
                       pose_limits: tuple[float, float, float] = POSE_LIMITS) -> S.Nuisance:
    """A smooth clip in `identity`'s scene: the head turns left and right, nods, smiles, talks
    and blinks once. For the swap video."""
    nu = video_nuisance(seed, identity, np.arange(frames) + 2 * HELDOUT_IMAGE_OFFSET, pose_limits)
    t = torch.linspace(0, 1, frames, dtype=torch.float64)
    yaw, pitch, roll = pose_limits
    nu.pose = torch.stack([0.9 * yaw * torch.sin(2 * math.pi * t), 0.6 * pitch * torch.sin(4 * math.pi * t + 0.6),
                           0.5 * roll * torch.sin(2 * math.pi * t + 1.2)], 1)
    smile = 0.5 - 0.5 * torch.cos(2 * math.pi * t)
    mouth = (0.5 + 0.5 * torch.sin(6 * math.pi * t)).clamp(0, 1) * (t > 0.5)
    brow = 0.4 * (0.5 - 0.5 * torch.cos(4 * math.pi * t))
    blink = torch.exp(-(((t - 0.3) / 0.03) ** 2))
    nu.expression = torch.stack([smile, mouth, brow, blink], 1)
    nu.shift = nu.shift.mean(0, keepdim=True).expand(frames, 2).clone()
    return nu


def render_person(seed: int, identity: int, nu: S.Nuisance, resolution: int, device: str) -> S.Render:
    return S.render(S.sample_identities(seed, np.full(len(nu), identity)), nu, resolution, device=device)


TIGHT_SCALE = 1.3  # the crop: a centred frontal head at 1.3 x the reference framing (hair line to chin)


@functools.lru_cache(maxsize=8)
def crop_template(size: int) -> torch.Tensor:
    """(5, 2) where the five SynthFaces landmarks sit in a `size` crop: their mean over 64
    training people, frontal and neutral, centred at TIGHT_SCALE. Like faceswap's mean face."""
    nu = S.Nuisance.reference(64)
    nu.scale = nu.scale * TIGHT_SCALE
    r = S.render(S.sample_identities(0, np.arange(64)), nu, size)
    return r.landmarks.double().mean(0)


def aligned(render: S.Render, crop: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Extract a render's faces: (crops (N, 3, crop, crop) uint8, crop masks (N, crop, crop) uint8,
    matrices (N, 2, 3) frame pixels -> crop pixels), aligned on the rendered landmarks."""
    matrices = similarity_matrices(render.landmarks.cpu(), crop_template(crop))
    both = crop_faces(torch.cat([render.image, render.mask], 1).cpu(), matrices, crop)   # (N, 4, crop, crop)
    u8 = (both * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    return u8[:, :3].contiguous(), u8[:, 3].contiguous(), matrices


def person_video(seed: int, identity: int, frames: int, frame_resolution: int = 128, resolution: int = 64,
                 device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`frames` frames of a person's video: (frames (N, 3, F, F) uint8, aligned crops (N, 3, R, R)
    uint8, crop masks (N, R, R) uint8)."""
    r = render_person(seed, identity, video_nuisance(seed, identity, np.arange(frames)), frame_resolution, device)
    crops, masks, _ = aligned(r, resolution)
    return r.to_uint8().cpu(), crops, masks


def synthfaces_pair(seed: int = 0, a: int = 2, b: int = 4, frames: int = 800, test_frames: int = 200,
                    frame_resolution: int = 128, resolution: int = 64, device: str = "cpu") -> DeepfakePair:
    """Person a's and person b's videos in the SynthFaces world of `seed` (frames at
    `frame_resolution`, aligned crops at `resolution`), and held-out frames of A with their
    ground-truth swaps (b rendered in exactly those frames)."""
    if a == b:
        raise ValueError("synthfaces_pair: A and B must be different people")
    frames_a, faces_a, masks_a = person_video(seed, a, frames, frame_resolution, resolution, device)
    frames_b, faces_b, masks_b = person_video(seed, b, frames, frame_resolution, resolution, device)
    test_nu = video_nuisance(seed, a, HELDOUT_IMAGE_OFFSET + np.arange(test_frames))
    test = render_person(seed, a, test_nu, frame_resolution, device)
    truth = render_person(seed, b, test_nu, frame_resolution, device)
    truth_parts = render_person(seed, b, test_nu, INSTRUMENT_RESOLUTION, device).parts.cpu()
    params = S.sample_identities(seed, np.array([a, b])).to_vector()
    matrices = similarity_matrices(test.landmarks.cpu(), crop_template(resolution))
    return DeepfakePair("synthfaces", f"SynthFaces #{a}", f"SynthFaces #{b}", faces_a, faces_b, masks_a, masks_b,
                        frames_a, frames_b, test.image.cpu(), test.mask.cpu(), matrices, truth.image.cpu(),
                        test_nu.pose.float(), {"seed": seed, "a": a, "b": b}, truth_parts, params[0], params[1])


INSTRUMENT_RESOLUTION = 64  # the judge, P and the instruments read 64 px frames


def instrument_view(frames: torch.Tensor) -> torch.Tensor:
    """Frames (N, 3, F, F) as the judge, P and the instruments read them: area-downsampled to 64 px."""
    if frames.shape[-1] == INSTRUMENT_RESOLUTION:
        return frames
    return F.interpolate(frames.float(), size=(INSTRUMENT_RESOLUTION, INSTRUMENT_RESOLUTION), mode="area")
