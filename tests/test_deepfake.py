"""Notebook 01's package side: people on video, real pairs, swapping, judging, the video, the CLI."""

import json
import os

import imageio_ffmpeg
import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from conftest import CELEBA, ROOT, run_cli
from faceid_lab import deepfake, exercises, profiles, swap, video
from faceid_lab.data import pairs, real_pairs
from faceid_lab.data import synthetic as S
from faceid_lab.data.real import DataError
from faceid_lab.models.autoencoder import FaceSwapAutoencoder
from faceid_lab.viz import tables


class PixelJudge:
    """A stand-in judge for logic tests: the image itself, downsampled and normalised."""

    name = "pixels"

    def embed(self, images):
        x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
        f = torch.nn.functional.avg_pool2d(x, 4).flatten(1)
        return torch.nn.functional.normalize(f - 0.5, dim=1)


@pytest.fixture(scope="module")
def pair():
    return pairs.synthfaces_pair(0, 2, 4, frames=24, test_frames=6, frame_resolution=64, resolution=32)


def test_each_person_keeps_one_scene_and_the_truth_is_b_in_a_frame(pair):
    nu = pairs.video_nuisance(0, 2, np.arange(50))
    for name in ("light_dir", "light_intensity", "background", "bg_colors", "scale"):
        values = getattr(nu, name)
        assert torch.equal(values, values[:1].expand_as(values)), name  # the same room and light in every frame
    assert not torch.equal(nu.pose[0], nu.pose[1])
    assert (nu.pose.abs() <= torch.tensor(pairs.POSE_LIMITS, dtype=torch.float64)).all()
    other = pairs.video_nuisance(0, 4, np.arange(5))
    assert not torch.equal(other.bg_colors[0], nu.bg_colors[0])  # B's room is not A's
    # the truth is B's identity in A's exact test frame: same background where neither head is
    assert pair.faces_a.dtype == torch.uint8 and pair.faces_a.shape == (24, 3, 32, 32)  # aligned crops
    assert pair.frames_a.shape == (24, 3, 64, 64) and pair.test_matrices_a.shape == (6, 2, 3)
    assert pair.masks_a.shape == (24, 32, 32) and pair.test_masks_a.shape == (6, 1, 64, 64)
    test_nu = pairs.video_nuisance(0, 2, pairs.HELDOUT_IMAGE_OFFSET + np.arange(6))
    truth = S.render(S.sample_identities(0, [4] * 6), test_nu, 64)
    assert torch.allclose(pair.truth_ab, truth.image)
    background = (pair.test_masks_a == 0) & (truth.mask == 0)
    assert torch.allclose((pair.truth_ab - pair.test_a).abs().amax(1, keepdim=True)[background], torch.tensor(0.0))
    assert torch.equal(pair.pose_a, test_nu.pose.float())
    with pytest.raises(ValueError, match="different people"):
        pairs.synthfaces_pair(0, 3, 3, 4, 2)


def test_head_turn_clip_is_smooth():
    nu = pairs.head_turn_nuisance(0, 2, frames=48)  # 4 s at 12 fps
    step = (nu.pose[1:] - nu.pose[:-1]).abs().amax()
    assert step < 6.0 and nu.pose[:, 0].max() > 30 and nu.pose[:, 0].min() < -30
    assert torch.equal(nu.bg_colors, nu.bg_colors[:1].expand_as(nu.bg_colors))


def test_face_oval_covers_the_points_and_not_the_corners():
    from faceid_lab.data.align import template

    points = template(64, 0.25)[None]  # the aligned positions of eyes, nose, mouth corners
    mask = real_pairs.face_oval_masks(points, 64)[0]
    assert mask.dtype == torch.uint8
    for x, y in points[0]:
        assert mask[int(y), int(x)] == 255
    assert mask[0, 0] == 0 and mask[-1, -1] == 0 and mask[0, -1] == 0
    assert 0.2 < (mask > 0).float().mean() < 0.7


def test_similarity_matrices_recover_a_known_transform_and_crops_paste_back():
    from faceid_lab.swap import crop_faces, paste_faces, similarity_matrices

    template = torch.tensor([[10.0, 12.0], [22.0, 12.0], [16.0, 18.0], [11.0, 24.0], [21.0, 24.0]])
    angle, scale, shift = 0.3, 1.7, torch.tensor([5.0, -3.0])
    rot = torch.tensor([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=torch.float32)
    points = (template - shift) @ torch.linalg.inv(scale * rot).T  # frame points that map onto the template
    m = similarity_matrices(points[None], template)[0]
    assert torch.allclose(m[:, :2], scale * rot, atol=1e-4) and torch.allclose(m[:, 2], shift, atol=1e-3)
    # a smooth frame, cropped and pasted back, is itself where the crop reaches and zero elsewhere
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    frame = torch.stack([xs, ys, xs * ys])[None]
    m = torch.tensor([[[0.8, 0.1, -10.0], [-0.1, 0.8, -8.0]]])
    back = paste_faces(crop_faces(frame, m, 32), m, 64)
    reach = paste_faces(torch.ones(1, 1, 32, 32), m, 64) > 0.999
    assert 200 < reach.sum() < 64 * 64 and (back - frame).abs()[reach.expand_as(frame)].max() < 0.02
    assert back[~reach.expand_as(frame)].abs().max() < 1.0 and (back * ~reach).abs().mean() < 0.01


def test_swap_frames_changes_only_the_masked_region(pair):
    torch.manual_seed(0)
    model = FaceSwapAutoencoder(0.0625, 32, mask=False).eval()  # no mask head: the whole crop is pasted back
    result = swap.swap_frames(model, pair.test_a, None, pair.test_matrices_a, method="alpha", colour=False)
    from faceid_lab.swap import paste_faces

    window = swap.crop_window(32)  # 1 inside the crop, fading to 0 at its edge
    assert window[0, 0, 16, 16] == 1 and window[0, 0, 0, 0] < 0.01 and window[0, 0, 0, 16] < 0.05
    square = paste_faces(torch.ones(6, 1, 32, 32), pair.test_matrices_a, 64)  # the crop's footprint in the frame
    faded = paste_faces(window.expand(6, 1, 32, 32), pair.test_matrices_a, 64)
    assert torch.allclose(result.masks, square * faded) and result.crops.shape == (6, 3, 32, 32)
    assert 0.1 < (square > 0.5).float().mean() < 0.9
    model = FaceSwapAutoencoder(0.0625, 32, mask=True).eval()
    with torch.no_grad():
        model.decoders["B"].to_mask.bias.fill_(-30.0)  # a decoder mask of zeros
        model.decoders["B"].to_mask.weight.zero_()
    nothing = swap.swap_frames(model, pair.test_a, torch.zeros_like(pair.test_masks_a), pair.test_matrices_a,
                                   method="alpha", colour=False)
    assert (nothing.blended - pair.test_a).abs().max() <= 1 / 255 + 1e-6  # only uint8 rounding
    heads = swap.swap_frames(model, pair.test_a, pair.test_masks_a, pair.test_matrices_a, method="alpha",
                                 colour=False)
    near = torch.nn.functional.max_pool2d(pair.test_masks_a, 7, 1, 3)  # the feathered edge reaches ~3 px out
    outside = near.expand_as(pair.test_a) == 0
    assert (heads.blended - pair.test_a).abs()[outside].max() <= 1 / 255 + 1e-6
    assert (heads.blended - pair.test_a).abs().mean() > 0.01


def test_the_crop_is_the_face_in_every_pose(pair):
    """The aligned crops put the eyes and the mouth at the template's places whatever the head does."""
    from faceid_lab.swap import similarity_matrices

    nu = pairs.video_nuisance(0, 2, np.arange(12))
    r = S.render(S.sample_identities(0, [2] * 12), nu, 64)
    m = similarity_matrices(r.landmarks, pairs.crop_template(32))
    mapped = r.landmarks @ m[:, :, :2].transpose(1, 2) + m[:, None, :, 2]  # landmarks in crop pixels
    assert (mapped - pairs.crop_template(32).float()).abs().mean() < 2.0  # within 2 px of 32
    in_crop = (pair.masks_a.float() / 255).mean()
    in_frame = S.render(S.sample_identities(0, [2] * 12), nu, 32).mask.mean()
    assert in_crop > 0.55 and in_crop > in_frame + 0.1  # a tight crop: more head, less room than the frame


def test_a_pair_starts_from_the_pretraining(tmp_path, monkeypatch):
    from faceid_lab.train.autoencoder import AutoencoderConfig, train_autoencoder

    monkeypatch.setenv("FACEID_LAB_HOME", str(tmp_path))
    budget = {"frames": 6, "test_frames": 2, "frame_resolution": 32, "resolution": 16, "width": 0.0625, "batch": 2,
              "steps": 1, "lr": 1e-3, "warp": 0.03, "pretrain": {"people": 1, "frames": 3, "steps": 25}}
    pre = profiles.pretraining(budget)
    side_a, side_b = pre.sides()
    assert not {pairs.SYNTH_A, pairs.SYNTH_B, 7} & set(side_a + side_b) and not set(side_a) & set(side_b)
    pair = profiles.budget_pair(budget)
    base, _ = profiles.pretrain_or_load(pre)
    model, history, cfg = profiles.train_pair_or_load(pair, budget)
    assert cfg.init == pre.key and history["pretrain_seconds"] > 0
    moved = max((p - q).abs().max().item() for p, q in zip(model.parameters(), base.parameters(), strict=True))
    assert moved <= 3 * budget["lr"]  # one Adam step from the pretraining's weights
    scratch, _, plain = profiles.train_pair_or_load(pair, budget, pretrain=False)
    assert plain.init == "" and profiles.config_key(plain) != profiles.config_key(cfg)
    far = max((p - q).abs().max().item() for p, q in zip(scratch.parameters(), base.parameters(), strict=True))
    assert far > 5 * budget["lr"]  # one step from random weights is 25 steps away from the pretraining
    with pytest.raises(ValueError, match="names a pretraining"):
        train_autoencoder(pair.faces_a, pair.faces_b, AutoencoderConfig(width=0.0625, resolution=16, steps=1,
                                                                        init="x"))


def test_evaluate_swap_scores_the_truth_perfectly_and_the_input_not(pair):
    truth = swap.SwapResult(pair.truth_ab, pair.test_masks_a, pair.truth_ab)
    report = deepfake.evaluate_swap(truth, pair, PixelJudge())
    assert report["frames"] == 6 and report["blended"]["closer_to_truth"] == 1.0
    assert report["blended"]["l1_to_truth"] == 0.0 and report["blended"]["ssim_to_truth"] > 0.999
    unchanged = swap.SwapResult(pair.test_a, pair.test_masks_a, pair.test_a)
    report = deepfake.evaluate_swap(unchanged, pair, PixelJudge())
    assert report["blended"]["closer_to_truth"] == 0.0 and report["blended"]["l1_to_input"] == 0.0
    assert report["judge"]["similarity_to_a"] > report["judge"]["similarity_to_b"]
    table = tables.report_table(report)
    assert "| blended: closer_to_truth | 0.000 |" in table.data


def test_real_pair_from_a_prepared_shard(celeba_shard):
    _, shard = celeba_shard
    p = real_pairs.real_pair(shard.path)
    names = shard.extra["identities"]
    counts = np.bincount(np.asarray(shard.labels), minlength=len(names))
    assert {p.name_a, p.name_b} <= set(names) and p.name_a != p.name_b
    assert counts[names.index(p.name_a)] == counts.max()
    assert len(p.faces_a) + len(p.test_a) == counts[names.index(p.name_a)]
    assert p.truth_ab is None and p.pose_a is None and "non-commercial" in p.info["licence"]
    assert p.masks_a.shape == p.faces_a.shape[:1] + p.faces_a.shape[2:]
    with pytest.raises(DataError, match="no person 'nobody'"):
        real_pairs.real_pair(shard.path, a="nobody")
    with pytest.raises(DataError, match="no such shard"):
        real_pairs.load_pair(shard.path.parent / "missing")


def test_video_is_written_and_reads_back(tmp_path):
    frames = torch.rand(6, 3, 16, 16).clamp(0.2, 0.8)
    frames[:, :, :8] = 0.1
    path = video.write_video(frames, tmp_path / "clip.mp4", fps=6, scale=4)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    got = [np.frombuffer(f, np.uint8).reshape(64, 64, 3) for f in reader]
    assert meta["size"] == (64, 64) and len(got) == 6
    assert np.abs(got[0][:30].astype(int) - 26).mean() < 6  # the dark top half survives the codec
    html = video.show_video(path).data
    assert html.startswith("<video") and "base64," in html


def test_checkers_give_specific_hints():
    import torch.nn.functional as F

    from faceid_lab.data.augment import warp_field

    def warp_xy_swapped(images, strength, generator):
        b, _, h, w = images.shape
        field = warp_field(b, h, strength=strength, generator=generator).flip(-1)
        base = F.affine_grid(torch.eye(2, 3).expand(b, 2, 3), (b, 1, h, w), align_corners=False)
        return F.grid_sample(images, base + field, padding_mode="reflection", align_corners=False)

    result = exercises.check_random_warp(warp_xy_swapped)
    assert not result.passed and "x and y are swapped" in result.message

    def decoder_mask_only(model, frames, frame_masks):
        face, mask = model.decoders["B"](model.encoder(frames))
        return mask * face + (1 - mask) * frames

    result = exercises.check_swap(decoder_mask_only)
    assert not result.passed and "union of both masks" in result.message


def test_cli_trains_then_loads_and_evaluates(tmp_path):
    args = ("--profile", "ci", "--steps", "6", "--frames", "16", "--test-frames", "4")
    first = json.loads(run_cli("train", "autoencoder", *args).stdout)
    assert first["steps"] == 6 and os.path.exists(first["checkpoint"])
    report = json.loads(run_cli("evaluate", "autoencoder", *args).stdout)
    assert report["checkpoint"] == first["checkpoint"] and report["train_seconds"] == first["train_seconds"]
    assert report["frames"] == 4 and 0 <= report["blended"]["closer_to_truth"] <= 1
    assert set(report["pose_error_deg"]["swap"]) == {"yaw", "pitch", "roll"}
    assert report["judge"]["name"].startswith("synthfaces-judge (ci")
    bad = run_cli("train", "autoencoder", "--profile", "ci", "--shard", str(tmp_path / "nope"), check=False)
    assert bad.returncode == 2 and "no such shard" in bad.stderr and "faceid-lab prepare folder" in bad.stderr


@pytest.mark.skipif(not CELEBA.is_dir(), reason=f"{CELEBA} is not here (the shared test photos)")
def test_notebook_runs_on_two_real_people(celeba_shard, tmp_path, monkeypatch):
    """The real path of notebook 01 in the ci profile: two CelebA people, judged by dlib."""
    _, shard = celeba_shard
    monkeypatch.setenv("FACEID_LAB_DEEPFAKE_SHARD", str(shard.path))
    nb = nbformat.read(ROOT / "notebooks" / "01_deepfake_autoencoder.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) + str(
        o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "DeepfakePair(real:" in text and "no ground truth" in text
    assert "dlib_face_recognition_resnet_model_v1" in text
    assert "closer to truth" not in text.split("How you put the face back")[0]
    assert ".mp4" in text


def test_each_profile_budget_sets_the_learning_rate_and_overrides_still_win():
    from faceid_lab.profiles import DEEPFAKE_BUDGETS

    for budget in DEEPFAKE_BUDGETS.values():
        cfg = profiles.autoencoder_config(budget)
        assert (cfg.width, cfg.batch, cfg.steps, cfg.lr, cfg.resolution, cfg.warp_strength) == (
            budget["width"], budget["batch"], budget["steps"], budget["lr"], budget["resolution"], budget["warp"])
        assert profiles.pretraining(budget).cfg.steps == budget["pretrain"]["steps"]
    assert profiles.autoencoder_config(DEEPFAKE_BUDGETS["cpu"], lr=2e-4).lr == 2e-4
