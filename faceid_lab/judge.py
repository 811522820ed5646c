"""Judges: identity feature extractors that no training objective in the course ever sees.

Every identity-similarity number in the course comes from a judge:
    features = judge.embed(crops)            # (N, D), unit length
    judge.similarity(a_crops, b_crops)       # (N,) cosine of pairs
On real faces the judge is dlib's 128-d face descriptor (a ResNet trained on
about 3 million faces, 99.38% on LFW), behind the same interface as the
SynthFaces judge.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from .data.align import DLIB_PADDING, _models_folder, dlib_available, to_dlib_chips


class Judge(Protocol):
    name: str

    def embed(self, images: torch.Tensor | np.ndarray) -> torch.Tensor: ...

    def similarity(self, a, b) -> torch.Tensor: ...


def _as_uint8_hwc(images) -> np.ndarray:
    """(N, 3, H, W) float in [0, 1] tensors, or (N, H, W, 3) uint8 arrays -> (N, H, W, 3) uint8."""
    if isinstance(images, torch.Tensor):
        x = images.detach().cpu()
        if x.dtype != torch.uint8:
            x = (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8)
        if x.shape[1] == 3 and x.shape[-1] != 3:
            x = x.permute(0, 2, 3, 1)
        return np.ascontiguousarray(x.numpy())
    return np.ascontiguousarray(np.asarray(images, dtype=np.uint8))


class DlibJudge:
    """dlib's face descriptor on crops aligned by faceid_lab.data.align (any size, given margin)."""

    name = "dlib_face_recognition_resnet_model_v1 (128-d)"

    def __init__(self, margin: float = DLIB_PADDING, jitters: int = 0):
        if not dlib_available():
            raise ImportError("the real-face judge needs the `real` extra: pip install 'faceid-lab[real]' "
                              "(dlib-bin and face-recognition-models; the model loads from the package)")
        import dlib

        self._net = dlib.face_recognition_model_v1(str(_models_folder() / "dlib_face_recognition_resnet_model_v1.dat"))
        self.margin, self.jitters = margin, jitters

    def embed(self, images) -> torch.Tensor:
        chips = to_dlib_chips(_as_uint8_hwc(images), self.margin)
        feats = [np.asarray(self._net.compute_face_descriptor(c, self.jitters)) for c in chips]
        return F.normalize(torch.tensor(np.stack(feats), dtype=torch.float32), dim=1)

    def similarity(self, a, b) -> torch.Tensor:
        return (self.embed(a) * self.embed(b)).sum(1)
