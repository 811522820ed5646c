"""SynthFaces splits, shards on disk, and the torch Dataset that reads any face shard.

Identities and images are addressed by integers, so every split is a pure
function of the seed:
    train identities      0, 1, ..., n - 1
    test identities       TEST_IDENTITY_OFFSET + 0, 1, ...   (never overlap the train ones)
    validation identities VALIDATION_IDENTITY_OFFSET + 0, 1, ... (for tuning; never test people)
    train images          0, 1, ... per identity
    held-out images       HELDOUT_IMAGE_OFFSET + 0, 1, ...   (same people, new photos)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..images import from_hwc, to_float, to_uint8_hwc
from . import synthetic as S
from .shards import Shard, ShardWriter

TEST_IDENTITY_OFFSET = 1_000_000
VALIDATION_IDENTITY_OFFSET = 2_000_000
HELDOUT_IMAGE_OFFSET = 1_000_000


def people_offset(split: str) -> int:
    """The first identity index of the unseen people of a split: `test` people are only for the
    final tables, `validation` people for every choice of a hyper-parameter (never overlapping)."""
    offsets = {"test": TEST_IDENTITY_OFFSET, "validation": VALIDATION_IDENTITY_OFFSET}
    if split not in offsets:
        raise ValueError(f"split must be 'test' or 'validation', not {split!r}")
    return offsets[split]


@dataclass(frozen=True)
class SynthSplit:
    """Which identities and which of their photos: `train`, `heldout` (train identities, new
    photos, for closed-set tests) or `test` (unseen identities)."""

    seed: int = 0
    identities: int = 100
    images_per_identity: int = 50
    part: str = "train"

    def __post_init__(self):
        if self.part not in ("train", "heldout", "test"):
            raise ValueError(f"SynthSplit.part must be 'train', 'heldout' or 'test', not {self.part!r}")

    def identity_indices(self) -> np.ndarray:
        base = TEST_IDENTITY_OFFSET if self.part == "test" else 0
        return base + np.arange(self.identities, dtype=np.int64)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per image: (label 0..identities-1, global identity index, image index)."""
        labels = np.repeat(np.arange(self.identities), self.images_per_identity)
        images = np.tile(np.arange(self.images_per_identity), self.identities)
        if self.part == "heldout":
            images = images + HELDOUT_IMAGE_OFFSET
        return labels, self.identity_indices()[labels], images

    def __len__(self) -> int:
        return self.identities * self.images_per_identity


def render_split(split: SynthSplit, resolution: int = 64, device: str = "cpu",
                 start: int = 0, stop: int | None = None) -> tuple[S.Render, torch.Tensor, S.Identity, S.Nuisance]:
    """Render images start..stop of a split in memory: (render, labels, identity, nuisance)."""
    labels, ids, imgs = (a[start:stop] for a in split.pairs())
    identity = S.sample_identities(split.seed, ids)
    nuisance = S.sample_nuisance(split.seed, ids, imgs)
    return S.render(identity, nuisance, resolution, device=device), torch.from_numpy(labels), identity, nuisance


def reference_views(seed: int, identity_indices, resolution: int = 64, device: str = "cpu") -> S.Render:
    """Each identity frontal, neutral, in standard light on grey: the frontalization ground truth."""
    identity = S.sample_identities(seed, identity_indices)
    return S.render(identity, S.Nuisance.reference(len(identity)), resolution, device=device)


def synth_shard_arrays(resolution: int) -> dict:
    return {
        "masks": ((resolution, resolution), "u8"),
        "identity_params": ((len(S.Identity.columns()),), "f32"),
        "nuisance_params": ((len(S.Nuisance.columns()),), "f32"),
        "landmarks": ((5, 2), "f32"),
        "landmarks_visible": ((5,), "bool"),
        "identity_index": ((), "i64"),
        "image_index": ((), "i64"),
    }


def make_synth_shard(path: str | Path, split: SynthSplit, resolution: int = 64, block: int = 1024,
                     device: str = "cpu", progress: Callable[[int, int], None] | None = None) -> Shard:
    """Render a split into a shard at `path`. Finished shards are reused; unfinished ones resume."""
    spec = {"source": "synthfaces", "seed": split.seed, "identities": split.identities,
            "images_per_identity": split.images_per_identity, "part": split.part,
            "resolution": resolution}
    writer = ShardWriter(path, len(split), resolution, "synthfaces", spec, synth_shard_arrays(resolution))
    if not writer.complete:
        started = time.perf_counter()
        labels, ids, imgs = split.pairs()
        while writer.done < len(split):
            a, b = writer.done, min(writer.done + block, len(split))
            identity = S.sample_identities(split.seed, ids[a:b])
            nuisance = S.sample_nuisance(split.seed, ids[a:b], imgs[a:b])
            r = S.render(identity, nuisance, resolution, device=device)
            writer.write(
                images=to_uint8_hwc(r.to_uint8()),  # shards keep the layout of image files
                labels=labels[a:b],
                masks=(r.mask[:, 0] * 255 + 0.5).clamp(0, 255).to(torch.uint8).cpu().numpy(),
                identity_params=identity.to_vector().numpy(),
                nuisance_params=nuisance.to_vector().numpy(),
                landmarks=r.landmarks.cpu().numpy(),
                landmarks_visible=r.visible.cpu().numpy(),
                identity_index=ids[a:b], image_index=imgs[a:b])
            if progress:
                progress(writer.done, len(split))
        writer.finish(render_seconds=round(time.perf_counter() - started, 2),
                      identity_columns=S.Identity.columns(), nuisance_columns=S.Nuisance.columns(),
                      landmark_names=list(S.LANDMARK_NAMES), num_identities=split.identities)
    return Shard(path)


class FaceShardDataset(Dataset):
    """Any face shard (SynthFaces or real) as a torch Dataset.

    Items are dicts: "image" (3, H, W) float in [0, 1], "label" (int64), and every further
    array named in `extras` (e.g. "nuisance_params", "landmarks") as tensors."""

    def __init__(self, shard: Shard | str | Path, indices: np.ndarray | None = None,
                 extras: tuple[str, ...] = (), transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.shard = shard if isinstance(shard, Shard) else Shard(shard)
        for name in extras:
            if name not in self.shard.names:
                raise KeyError(f"{self.shard.path} has no array {name!r}; it has {self.shard.names}")
        self.indices = np.arange(len(self.shard)) if indices is None else np.asarray(indices)
        self.extras, self.transform = extras, transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        k = int(self.indices[i])
        image = to_float(from_hwc(np.array(self.shard.images[k:k + 1])))[0]
        if self.transform is not None:
            image = self.transform(image)
        item = {"image": image, "label": torch.tensor(int(self.shard.labels[k]))}
        for name in self.extras:
            item[name] = torch.from_numpy(np.array(getattr(self.shard, name)[k]))
        return item

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images (N, 3, H, W) float and labels (N,) at once, for sets that fit in memory."""
        images = to_float(from_hwc(np.array(self.shard.images[self.indices])))
        return images, torch.from_numpy(np.array(self.shard.labels[self.indices]))
