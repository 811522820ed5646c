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

from . import __version__
from .data.align import DLIB_PADDING, _models_folder, dlib_available, to_dlib_chips
from .images import to_float, to_uint8_hwc
from .profiles import JUDGE_BUDGETS, JUDGE_MARGIN, JUDGE_RESOLUTION, JUDGE_WORLD_SEED, checkpoint_path, load_judge_net


class Judge(Protocol):
    name: str

    def embed(self, images: torch.Tensor | np.ndarray) -> torch.Tensor: ...

    def similarity(self, a, b) -> torch.Tensor: ...


class DlibJudge:
    """dlib's face descriptor on crops aligned by faceid_lab.data.align (any size, given margin)."""

    name = "dlib_face_recognition_resnet_model_v1 (128-d)"

    def __init__(self, margin: float = DLIB_PADDING, jitters: int = 0):
        if not dlib_available():
            raise ImportError("the real-face judge needs the `real` extra: pip install 'faceid-lab[real]' "
                              "(dlib-bin and face-recognition-models; the model loads from the package)")
        import dlib  # why: optional (the `real` extra), checked just above

        self._net = dlib.face_recognition_model_v1(str(_models_folder() / "dlib_face_recognition_resnet_model_v1.dat"))
        self.margin, self.jitters = margin, jitters

    def embed(self, images) -> torch.Tensor:
        chips = to_dlib_chips(to_uint8_hwc(images), self.margin)
        feats = [np.asarray(self._net.compute_face_descriptor(c, self.jitters)) for c in chips]
        return F.normalize(torch.tensor(np.stack(feats), dtype=torch.float32), dim=1)

    def similarity(self, a, b) -> torch.Tensor:
        return (self.embed(a) * self.embed(b)).sum(1)


# ----------------------------------------------------------------------------
# The SynthFaces judge: an identity network of its own
# ----------------------------------------------------------------------------

class SynthJudge:
    """The independent judge for SynthFaces: an IdentityNet with its own width, seed and
    world of identities (profiles.JUDGE_WORLD_SEED), trained once per profile and never used as a
    training signal."""

    def __init__(self, net, provenance: dict, device: str | torch.device = "cpu"):
        self.net, self.provenance, self.device = net.eval().to(device), provenance, torch.device(device)
        self.net.requires_grad_(False)
        self.name = f"synthfaces-judge ({provenance['profile']}, width {provenance['width']})"

    @torch.no_grad()
    def embed(self, images, batch: int = 256) -> torch.Tensor:
        """(N, 3, R, R) float in [0, 1] (any R; resized to 64) or uint8 -> (N, 256) unit features."""
        x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
        if x.dtype == torch.uint8 and x.shape[-1] == 3:
            x = x.permute(0, 3, 1, 2)
        out = []
        for a in range(0, len(x), batch):
            xb = to_float(x[a:a + batch], self.device)
            if xb.shape[-1] != JUDGE_RESOLUTION:
                xb = F.interpolate(xb, size=JUDGE_RESOLUTION, mode="bilinear", antialias=True, align_corners=False)
            out.append(self.net.features(xb).cpu())
        return torch.cat(out)

    def similarity(self, a, b) -> torch.Tensor:
        return (self.embed(a) * self.embed(b)).sum(1)


def load_synth_judge(profile: str, device: str | torch.device = "cpu", progress: bool = True,
                     save_every_s: float = 120.0) -> SynthJudge:
    """Train-or-load the SynthFaces judge of a profile (FACEID_LAB_HOME/checkpoints/judge_<profile>.pt)."""
    budget = JUDGE_BUDGETS[profile]
    path = checkpoint_path("judge", profile)
    net, history = load_judge_net(profile, device, progress, save_every_s)
    provenance = {"profile": profile, "world_seed": JUDGE_WORLD_SEED, "identities": budget["identities"],
                  "images": budget["identities"] * budget["images_per_identity"], "width": budget["width"],
                  "margin": JUDGE_MARGIN, "steps": budget["steps"], "resolution": JUDGE_RESOLUTION,
                  "checkpoint": str(path), "package": __version__,
                  "train_seconds": round(history.get("seconds", 0.0), 1),
                  "final_loss": history["loss"][-1] if history.get("loss") else None,
                  "used_as_training_signal": False}
    return SynthJudge(net, provenance, device)
