"""SynthFaces: determinism, conventions, landmarks, ground truth."""

import numpy as np
import pytest
import torch

from faceid_lab.data import synthetic as S
from faceid_lab.data.datasets import SynthSplit, reference_views, render_split

FEATURE_OF = {"left_eye": "eye", "right_eye": "eye", "nose_tip": "nose", "left_mouth": "lips",
              "right_mouth": "lips"}


def _render(ids=(0, 1, 2), images=(0, 1, 2), seed=0, res=64, **kw):
    return S.render(S.sample_identities(seed, list(ids)), S.sample_nuisance(seed, list(ids), list(images)),
                    res, **kw)


def test_same_seed_gives_identical_bytes_whatever_the_chunking():
    a = _render(range(12), range(12)).to_uint8()
    b = _render(range(12), range(12), chunk=5).to_uint8()
    c = torch.cat([_render([i], [i]).to_uint8() for i in range(12)])
    assert torch.equal(a, b) and torch.equal(a, c)


def test_other_seed_gives_other_people():
    assert not torch.equal(_render(seed=0).to_uint8(), _render(seed=1).to_uint8())


@pytest.mark.parametrize("res", [32, 64, 128])
def test_resolutions_and_output_ranges(res):
    r = _render(res=res)
    assert r.image.shape == (3, 3, res, res) and r.mask.shape == (3, 1, res, res)
    assert r.parts.shape == (3, res, res) and r.landmarks.shape == (3, 5, 2)
    assert 0 <= r.image.min() and r.image.max() <= 1 and 0 <= r.mask.min() and r.mask.max() <= 1
    # the head covers a sensible share of the frame
    assert 0.2 < r.mask.mean().item() < 0.8


def test_identity_parameters_and_their_ranges():
    ids = S.sample_identities(0, np.arange(500))
    assert ids.shape.shape == (500, len(S.SHAPE_FACTORS)) and len(S.SHAPE_FACTORS) >= 12
    assert ids.shape.abs().max() <= 1
    assert set(ids.hair_style.tolist()) == set(range(len(S.HAIR_STYLES)))
    vec = ids.to_vector()
    assert vec.shape[1] == len(S.Identity.columns())
    back = S.Identity.from_vector(vec)
    assert torch.equal(back.hair_style, ids.hair_style)


def test_nuisance_ranges_cover_the_issue():
    nu = S.sample_nuisance(0, np.arange(4000) % 50, np.arange(4000))
    yaw, pitch, roll = nu.pose.T
    assert yaw.min() < -70 and yaw.max() > 70 and yaw.abs().max() <= 75
    assert pitch.abs().max() <= 25 and pitch.abs().max() > 23
    assert roll.abs().max() <= 15 and roll.abs().max() > 14
    assert nu.expression.min() >= 0 and nu.expression.max() <= 1
    assert set(nu.background.tolist()) == {0, 1, 2}
    assert S.Nuisance.from_vector(nu.to_vector()).pose.allclose(nu.pose, atol=1e-4)


def test_landmarks_land_on_their_features_at_many_poses():
    ids = S.sample_identities(0, np.arange(60))
    for yaw, pitch, roll in [(0, 0, 0), (-40, 10, 5), (40, -10, -5), (-70, 0, 0), (70, 20, 10), (20, -25, 15)]:
        r = S.render(ids, S.Nuisance.reference(60, yaw, pitch, roll), 64)
        checked = 0
        for b in range(60):
            for k, name in enumerate(S.LANDMARK_NAMES):
                if not r.visible[b, k]:
                    continue
                x, y = r.landmarks[b, k].floor().long().tolist()
                window = r.parts[b, max(0, y - 1):y + 2, max(0, x - 1):x + 2]
                parts = {S.PART_NAMES[p] for p in window.flatten().tolist()}
                assert FEATURE_OF[name] in parts, (yaw, pitch, roll, b, name, parts)
                checked += 1
        assert checked > 150
    # frontal: everything is visible
    r = S.render(ids, S.Nuisance.reference(60), 64)
    assert r.visible.float().mean() > 0.98


def test_far_side_landmarks_hide_at_large_yaw():
    ids = S.sample_identities(0, np.arange(40))
    right = S.render(ids, S.Nuisance.reference(40, yaw=70), 64)
    left = S.render(ids, S.Nuisance.reference(40, yaw=-70), 64)
    k_left, k_right = S.LANDMARK_NAMES.index("left_mouth"), S.LANDMARK_NAMES.index("right_mouth")
    # yaw > 0 turns the nose to the image's right, so the right side of the face turns away
    assert right.visible[:, k_right].float().mean() < 0.3 < right.visible[:, k_left].float().mean()
    assert left.visible[:, k_left].float().mean() < 0.3 < left.visible[:, k_right].float().mean()


def test_pose_signs_and_units_are_degrees():
    ident = S.sample_identities(0, [0, 0, 0, 0, 0, 0, 0])
    poses = torch.tensor([[0, 0, 0], [30, 0, 0], [-30, 0, 0], [0, 20, 0], [0, -20, 0], [0, 0, 15], [90, 0, 0]],
                         dtype=torch.float64)
    r = S.render(ident, S.Nuisance.reference(7).with_pose(poses), 64)
    nose = r.landmarks[:, S.LANDMARK_NAMES.index("nose_tip")]
    eyes = r.landmarks[:, :2]
    assert nose[1, 0] > nose[0, 0] + 3 and nose[2, 0] < nose[0, 0] - 3          # yaw > 0: nose right
    assert nose[3, 1] < nose[0, 1] - 1 and nose[4, 1] > nose[0, 1] + 1          # pitch > 0: nose up
    tilt = eyes[5, 1, 1] - eyes[5, 0, 1]                                        # roll > 0: counter-clockwise
    assert tilt < -1                                                            # (right eye higher)
    # degrees, not radians: 90 degrees puts the nose tip near the silhouette, far from the centre
    assert nose[6, 0] - nose[0, 0] > 10


def test_reference_view_is_frontal_neutral_and_standard():
    ref = reference_views(0, [5, 6], 64)
    again = S.render(S.sample_identities(0, [5, 6]), S.Nuisance.reference(2, 0, 0, 0), 64)
    assert torch.equal(ref.to_uint8(), again.to_uint8())
    nose = ref.landmarks[:, S.LANDMARK_NAMES.index("nose_tip"), 0]
    assert torch.allclose(nose, torch.full_like(nose, 32.0), atol=1.0)           # centred


def test_ground_truth_swap_keeps_pose_and_changes_person():
    a, b = S.sample_identities(0, [1]), S.sample_identities(0, [2])
    photo = S.sample_nuisance(0, [1], [3])
    ra, rb = S.render(a, photo, 64), S.render(b, photo, 64)
    assert not torch.equal(ra.to_uint8(), rb.to_uint8())
    # same pose: the nose tip lands within a couple of pixels for both people
    k = S.LANDMARK_NAMES.index("nose_tip")
    assert (ra.landmarks[0, k] - rb.landmarks[0, k]).abs().max() < 3


def test_splits_are_disjoint_and_deterministic():
    train = SynthSplit(0, 10, 4, "train")
    held = SynthSplit(0, 10, 4, "heldout")
    test = SynthSplit(0, 10, 4, "test")
    assert not set(train.identity_indices()) & set(test.identity_indices())
    assert set(train.identity_indices()) == set(held.identity_indices())
    assert not set(train.pairs()[2]) & set(held.pairs()[2])
    r1, y1, _, _ = render_split(train, 32)
    r2, y2, _, _ = render_split(train, 32)
    assert torch.equal(r1.to_uint8(), r2.to_uint8()) and torch.equal(y1, y2)


def test_mismatched_batches_are_a_clear_error():
    with pytest.raises(ValueError, match="2 identities but 3 nuisance rows"):
        S.render(S.sample_identities(0, [0, 1]), S.Nuisance.reference(3), 32)
