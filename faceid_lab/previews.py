"""Live previews for the notebooks' trainings: `on_log` callbacks that show G's faces for unseen
people and the training curves, updated in place (a training loop never draws: train/ imports no
viz and no IPython).

    preview = FaceIdGanPreview(pose_net)
    players, history = train_faceid_gan_or_load(..., on_log=preview)
"""

from __future__ import annotations

import numpy as np
import torch
from IPython.display import display
from torch import nn

from .data.datasets import TEST_IDENTITY_OFFSET
from .data.pairs import DeepfakePair
from .images import to_float
from .models.autoencoder import FaceSwapAutoencoder
from .models.gan import Generator
from .models.pose import POSE_SCALE, PoseNet
from .swap import swap
from .train.faceidgan import Players
from .train.gan import features, generate, render_photos
from .viz import image_grid
from .viz.curves import line_chart


def unseen_people(pose_net: PoseNet, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`count` test people (never trained on): a wild photo, the studio truth, both (count, 3, R, R) in
    [0, 1], and the truth's f_pose (count, 7): what every preview shows G's faces beside."""
    ids = TEST_IDENTITY_OFFSET + np.arange(count)
    sources, _ = render_photos(seed, ids, np.full(count, 7), False)
    targets, _ = render_photos(seed, ids, np.full(count, 7), True)
    return to_float(sources), to_float(targets), features(pose_net, targets) / POSE_SCALE


class GanPreview:
    """An `on_log` callback: unseen people's wild photo, G's face in the target pose, the true
    studio photo (rows), and the BEGAN curves (M and k), updated in place."""

    def __init__(self, identity_net: nn.Module, pose_net: PoseNet, count: int = 8, seed: int = 0):
        self.sources, self.targets, self.f_pose = unseen_people(pose_net, count, seed)
        self.f_id = features(identity_net, self.sources)
        self.images = display(None, display_id=True)
        self.curves = display(None, display_id=True)

    def __call__(self, step: int, history: dict, G: Generator) -> None:
        out = generate(G, self.f_id, self.f_pose)
        self.images.update(image_grid(torch.cat([self.sources, out, self.targets]), len(out), scale=2,
                                      row_labels=["source", f"G @ {step}", "truth"]))
        self.curves.update(line_chart(history["step"], {"M (convergence)": history["M"], "k": history["k"],
                                                        "pose loss": history["pose"], "L1": history["l1"]},
                                      title=f"BEGAN training, step {step}"))


class FaceIdGanPreview:
    """An `on_log` callback: unseen people's wild photo, G's face in the studio target's pose, the
    true studio photo (rows), and the curves (BEGAN's M and k, G's identity loss, C's loss),
    updated in place. f_id is recomputed each time: with symmetry it moves as C learns."""

    def __init__(self, pose_net: PoseNet, count: int = 8, seed: int = 0):
        self.sources, self.targets, self.f_pose = unseen_people(pose_net, count, seed)
        self.images = display(None, display_id=True)
        self.curves = display(None, display_id=True)

    def __call__(self, step: int, history: dict, players: Players) -> None:
        out = generate(players.G, players.identity_features(self.sources), self.f_pose)
        self.images.update(image_grid(torch.cat([self.sources, out, self.targets]), len(out), scale=2,
                                      row_labels=["source", f"G @ {step}", "truth"]))
        series = {"M (convergence)": history["M"], "k": history["k"], "pose loss": history["pose"]}
        if players.C is not None:
            series |= {"identity loss (1 - cos)": history["id"], "C loss": history["c_loss"]}
        self.curves.update(line_chart(history["step"], series, title=f"FaceID-GAN training, step {step}"))


class LivePreview:
    """An `on_log` callback for train_autoencoder: one picture (rows: A, A rebuilt, A -> B;
    B, B rebuilt, B -> A) and the loss curves, updated in place in the notebook."""

    def __init__(self, pair: DeepfakePair, count: int = 6, scale: int = 2):
        pick = lambda faces: faces[torch.linspace(0, len(faces) - 1, count).round().long()]  # noqa: E731
        self.a, self.b = pick(pair.faces_a).float() / 255, pick(pair.faces_b).float() / 255
        self.scale = scale
        self.images = display(None, display_id=True)
        self.curves = display(None, display_id=True)

    def picture(self, model: FaceSwapAutoencoder):
        rows = [self.a, swap(model, self.a, "A")[0], swap(model, self.a, "B")[0],
                self.b, swap(model, self.b, "B")[0], swap(model, self.b, "A")[0]]
        return image_grid(torch.cat(rows), len(self.a), scale=self.scale,
                          row_labels=["A", "A rebuilt", "A -> B", "B", "B rebuilt", "B -> A"])

    def __call__(self, step: int, history: dict, model: FaceSwapAutoencoder) -> None:
        self.images.update(self.picture(model))
        self.curves.update(line_chart(history["step"], {"loss A": history["loss_a"], "loss B": history["loss_b"]},
                                      title=f"training loss (MAE + 1 - SSIM), step {step}", log_y=True))
