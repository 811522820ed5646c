"""#35's pose template and the pose-guided G: the guide is a picture of the pose (never of the person),
stored compactly, and G draws the same guide itself when none is given."""

import numpy as np
import torch

from faceid_lab.data import synthetic as S
from faceid_lab.data.template import (
    GUIDE_CHANNELS,
    GUIDE_PARTS,
    expand_guides,
    pose_guides,
    template_faces,
    template_identity,
    yaw_sweep,
)
from faceid_lab.models.gan import Generator
from faceid_lab.models.pose import POSE_SCALE
from faceid_lab.train.faceidgan import FaceIdGanConfig, stored_config


def test_the_guide_is_one_part_per_pixel_and_the_shading():
    stored = pose_guides(yaw_sweep([-40, 0, 40]), 32)
    assert stored.shape == (3, 2, 32, 32) and stored.dtype == torch.uint8
    guide = expand_guides(stored)
    assert guide.shape == (3, GUIDE_CHANNELS, 32, 32) and GUIDE_CHANNELS == len(GUIDE_PARTS) + 1
    parts = guide[:, :-1]
    assert parts.sum(1).max() == 1 and set(parts.unique().tolist()) == {0.0, 1.0}  # one part or background
    assert ((stored[:, 0] == 0) == (parts.sum(1) == 0)).all()                      # background: no channel
    eye = GUIDE_PARTS.index("eye")
    assert (parts[:, eye].sum((1, 2)) > 0).all()                                    # eyes drawn at +-40 deg
    # the head turns: the eyes' mean column moves with the yaw
    cols = torch.arange(32.0)
    x = [(parts[i, eye].sum(0) * cols).sum() / parts[i, eye].sum() for i in range(3)]
    assert x[0] != x[1] != x[2] and (x[0] - x[1]) * (x[2] - x[1]) < 0


def test_the_template_is_the_same_for_everyone_and_only_pose_and_expression_change_it():
    a, b = template_identity(2), template_identity(1)
    assert torch.equal(a.to_vector()[0], b.to_vector()[0]) and torch.equal(a.shape, torch.zeros_like(a.shape))
    smile = yaw_sweep([10, 10], (0, 0, 0, 0))
    smile[1, 3] = 1.0
    g = pose_guides(smile, 32)
    assert not torch.equal(g[0], g[1])                                             # expression changes it
    assert torch.equal(pose_guides(smile[:1], 32)[0], g[0])                        # deterministic per pose
    faces = template_faces(yaw_sweep([0]), 32)
    assert faces.shape == (1, 3, 32, 32) and faces.dtype == torch.uint8


def test_out_of_range_poses_are_clipped_to_the_renderers_range():
    wild = torch.tensor([[500.0, 0, 0, 3.0, -1.0, 0, 0]], dtype=torch.float64)
    edge = torch.tensor([[S.POSE_RANGE["yaw"], 0, 0, 1.0, 0.0, 0, 0]], dtype=torch.float64)
    assert torch.equal(pose_guides(wild, 32), pose_guides(edge, 32))


def test_the_guided_g_draws_the_guide_training_stores():
    torch.manual_seed(0)
    G = Generator(width=4, resolution=32, z_dim=8, guided=True).eval()
    f_id = torch.nn.functional.normalize(torch.randn(3, 256), dim=1)
    f_pose = yaw_sweep([-30, 0, 30]).float() / POSE_SCALE
    z = G.noise(3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        own = G(f_id, f_pose, z)
        given = G(f_id, f_pose, z, expand_guides(pose_guides(f_pose * POSE_SCALE, 32)))
        other = G(f_id, f_pose, z, torch.zeros(3, GUIDE_CHANNELS, 32, 32))
    assert own.shape == (3, 3, 32, 32) and torch.equal(own, given)
    assert (own - other).abs().max() > 1e-3                                        # the guide reaches the face
    vector = Generator(width=4, resolution=32, z_dim=8)
    assert not vector.guided and vector.to_rgb.in_channels == 4 and G.to_rgb.in_channels == 4 + GUIDE_CHANNELS


def test_checkpoints_from_before_the_guide_keep_their_names():
    assert "guided" not in stored_config(FaceIdGanConfig(guided=False))            # the vector G: names unchanged
    assert stored_config(FaceIdGanConfig())["guided"] is True


def test_pose_guides_chunks_give_the_same_bytes():
    poses = yaw_sweep(np.linspace(-50, 50, 5))
    assert torch.equal(pose_guides(poses, 16, chunk=2), pose_guides(poses, 16))
