"""The live previews: G's faces for unseen people beside their truth, and the curves, updated in place."""

import torch
from PIL import Image

from faceid_lab import previews
from faceid_lab.train.faceidgan import FaceIdGanConfig, build_players
from faceid_lab.train.gan import GanConfig, build_pose_gan


class Handle:
    def __init__(self):
        self.shown = []

    def update(self, obj):
        self.shown.append(obj)


def _capture(monkeypatch) -> list[Handle]:
    handles = []

    def display(_obj, display_id=False):
        handles.append(Handle())
        return handles[-1]

    monkeypatch.setattr(previews, "display", display)
    return handles


def test_the_faceid_gan_preview_shows_three_rows_and_cs_curves(tiny_gan_world, monkeypatch):
    identity_net, pose_net, _ = tiny_gan_world
    handles = _capture(monkeypatch)
    preview = previews.FaceIdGanPreview(pose_net, count=3)
    p = build_players(FaceIdGanConfig(classifier="2n", width=4, resolution=64, z_dim=32), identity_net, pose_net, 4,
                      torch.device("cpu"))
    history = {k: [0.5, 0.4] for k in ("M", "k", "pose", "id", "c_loss")} | {"step": [1, 2]}
    preview(2, history, p)
    picture, chart = handles[0].shown[-1], handles[1].shown[-1]
    assert isinstance(picture, Image.Image) and picture.height > 3 * 64 * 2  # source, G, truth rows at scale 2
    assert chart is not None
    assert p.G.training is False  # generate() leaves G in eval mode; TrainLog puts it back in training


def test_the_pose_gan_preview_reads_the_unseen_peoples_f_id_once(tiny_gan_world, monkeypatch):
    identity_net, pose_net, _ = tiny_gan_world
    handles = _capture(monkeypatch)
    preview = previews.GanPreview(identity_net, pose_net, count=2)
    assert preview.f_id.shape == (2, 256) and preview.f_pose.shape == (2, 7)
    assert 0 <= preview.sources.min() and preview.targets.max() <= 1  # float in [0, 1], NCHW
    gan = build_pose_gan(GanConfig(width=4), pose_net, torch.device("cpu"))
    preview(1, {"step": [1], "M": [1.0], "k": [0.0], "pose": [0.1], "l1": [0.2]}, gan.G)
    assert isinstance(handles[0].shown[-1], Image.Image)
