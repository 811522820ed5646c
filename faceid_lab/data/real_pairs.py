"""Two real people from a prepared shard, and the face ovals that stand in for their head masks.

There is no ground truth on real faces: the swap is judged by dlib's face descriptor only, and
the blend mask is a face oval built from the five alignment points. `load_pair` is the one way
in for notebook 01 and the CLI: SynthFaces people without a shard, real people with one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..images import from_hwc
from ..swap import crop_faces
from .align import eye_centres, template
from .pairs import SYNTH_A, SYNTH_B, DeepfakePair, synthfaces_pair
from .real import DataError
from .shards import Shard


def face_oval_masks(points: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """(N, 5, 2) dlib 5-point landmarks (two corners of each eye, the base of the nose), as a
    real shard stores them -> (N, R, R) uint8 face ovals, forehead to chin and cheek to cheek,
    turned with the eye line. Our stand-in for a face segmentation on real photos (a 68-point
    landmark hull would be the next step)."""
    p = np.asarray(points, dtype=np.float64)
    eyes = torch.as_tensor(eye_centres(p), dtype=torch.float32)     # (N, 2, 2) image-left, image-right
    mid = eyes.mean(1)                                               # (N, 2) between the eyes
    across = eyes[:, 1] - eyes[:, 0]
    d = across.norm(dim=1).clamp_min(1e-3)                           # eye distance
    right = across / d[:, None]                                      # unit vector along the eye line
    down = torch.stack([-right[:, 1], right[:, 0]], 1)               # perpendicular, towards the chin
    centre = mid + 0.5 * d[:, None] * down                           # faces run ~0.9 d above, ~1.9 d below
    half_h, half_w = 1.4 * d, 1.05 * d
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    dx = xs[None] - centre[:, 0, None, None]                         # (N, R, R)
    dy = ys[None] - centre[:, 1, None, None]
    u = dx * right[:, 0, None, None] + dy * right[:, 1, None, None]  # along the eye line
    v = dx * down[:, 0, None, None] + dy * down[:, 1, None, None]    # along the face
    inside = (u / half_w[:, None, None]) ** 2 + (v / half_h[:, None, None]) ** 2 <= 1
    return (inside * 255).to(torch.uint8)


def real_pair(shard_path: str | Path, a: str | None = None, b: str | None = None,
              test_fraction: float = 0.25, seed: int = 0, resolution: int = 64) -> DeepfakePair:
    """Two people from a prepared shard (`faceid-lab prepare folder|video|celeba`). a, b: identity
    names; by default the two with the most photos. Each person's photos are split into training
    and test photos; A's test photos are the frames to swap."""
    shard = Shard(shard_path)
    names = shard.extra.get("identities")
    if not names or "points" not in shard.names:
        raise DataError(f"{shard_path}: not a prepared real-face shard (no identities or alignment points). "
                        "Fix: make one with `faceid-lab prepare folder|video|celeba ... --out DIR`.")
    labels = np.asarray(shard.labels)
    counts = np.bincount(labels, minlength=len(names))
    if a is None or b is None:
        order = [int(k) for k in np.argsort(-counts, kind="stable")]
        a = a if a is not None else names[order[0]]
        b = b if b is not None else next(names[k] for k in order if names[k] != a)
    for person in (a, b):
        if person not in names:
            raise DataError(f"{shard_path}: no person {person!r} in this shard (it has {', '.join(names[:10])}"
                            f"{' ...' if len(names) > 10 else ''}). Fix: pass one of those names.")
        if counts[names.index(person)] < 4:
            raise DataError(f"{shard_path}: person {person!r} has {counts[names.index(person)]} aligned photos; "
                            "a deepfake needs at least 4 (hundreds are better). Fix: add photos or frames.")
    rng = np.random.default_rng(seed)
    split = {}
    for person in (a, b):
        rows = np.flatnonzero(labels == names.index(person))
        rows = rows[rng.permutation(len(rows))]
        n_test = max(1, int(round(len(rows) * test_fraction)))
        split[person] = (np.sort(rows[n_test:]), np.sort(rows[:n_test]))
    images = from_hwc(np.array(shard.images))
    points = np.array(shard.points, dtype=np.float64)
    missing = np.isnan(points).any(axis=(1, 2))  # OpenCV-fallback crops have no points: use the template's
    if missing.any():
        points[missing] = template(shard.size, shard.manifest["spec"].get("margin", 0.25))
    masks = face_oval_masks(points, shard.size)
    train_a, test_a = split[a]
    train_b, _ = split[b]
    # a shard's photos are already extracted and aligned (faceid-lab prepare): the crop is the photo,
    # resized to the autoencoder's resolution
    side = resolution / shard.size
    matrices = torch.tensor([[side, 0.0, 0.0], [0.0, side, 0.0]]).expand(len(images), 2, 3)
    crops = crop_faces(torch.cat([images.float() / 255, masks[:, None].float() / 255], 1), matrices, resolution)
    crops = (crops * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    return DeepfakePair("real", str(a), str(b), crops[train_a, :3].contiguous(), crops[train_b, :3].contiguous(),
                        crops[train_a, 3].contiguous(), crops[train_b, 3].contiguous(), images[train_a].contiguous(),
                        images[train_b].contiguous(), images[test_a].float() / 255,
                        masks[test_a, None].float() / 255, matrices[test_a].contiguous(),
                        info={"shard": str(shard_path), "licence": shard.extra.get("licence", "")})


def load_pair(shard: str | Path | None = None, a: str | int | None = None, b: str | int | None = None,
              frames: int = 800, test_frames: int = 200, seed: int = 0, frame_resolution: int = 128,
              resolution: int = 64) -> DeepfakePair:
    """SynthFaces people a and b (default 2 and 4; `frames` each, `test_frames` held out, frames at
    `frame_resolution`, crops at `resolution`) when `shard` is None, else two people from a
    prepared real-face shard (default: the two with the most photos; all their photos)."""
    if shard is None:
        return synthfaces_pair(seed, SYNTH_A if a is None else int(a), SYNTH_B if b is None else int(b),
                               frames, test_frames, frame_resolution, resolution)
    if not Path(shard).exists():
        raise DataError(f"{shard}: no such shard. Fix: prepare one with `faceid-lab prepare folder --root PHOTOS "
                        f"--out {shard}` (or `prepare video A.mp4 B.mp4 --out {shard}`).")
    return real_pair(shard, None if a is None else str(a), None if b is None else str(b), seed=seed,
                     resolution=resolution)
