"""The deepfake's building blocks: model shapes, random warp, SSIM, swap and blend, training."""

import shutil

import numpy as np
import pytest
import torch

from faceid_lab.data import synthetic as S
from faceid_lab.data.augment import random_warp, warp_field
from faceid_lab.metrics import ssim
from faceid_lab.models.autoencoder import FaceSwapAutoencoder
from faceid_lab.swap import blend, match_colour, swap
from faceid_lab.train.autoencoder import AutoencoderConfig, train_autoencoder
from faceid_lab.train.checkpoint import load_checkpoint


def test_shapes_at_the_original_width_and_scaled():
    x = torch.rand(2, 3, 64, 64)
    full = FaceSwapAutoencoder(1.0)
    assert full.encoder.dense1.out_features == 1024 and full.encoder.convs[6].out_channels == 1024
    for width in (1.0, 0.25):
        model = FaceSwapAutoencoder(width)
        code = model.encoder(x)
        assert code.shape == (2, int(512 * width), 8, 8)
        face, mask = model(x, "B")
        assert face.shape == (2, 3, 64, 64) and mask.shape == (2, 1, 64, 64)
        assert 0 <= face.min() and face.max() <= 1
    with pytest.raises(ValueError, match="multiple of 16"):
        FaceSwapAutoencoder(0.25, resolution=60)


def test_encoder_is_shared_and_decoders_are_separate():
    model = FaceSwapAutoencoder(0.125)
    enc = {id(p) for p in model.encoder.parameters()}
    a = {id(p) for p in model.decoders["A"].parameters()}
    b = {id(p) for p in model.decoders["B"].parameters()}
    assert enc and a and b and not (enc & a) and not (enc & b) and not (a & b)


def test_random_warp_bends_the_input_not_the_target():
    g = torch.Generator().manual_seed(0)
    img = S.render(S.sample_identities(0, [1, 2]), S.Nuisance.reference(2), 64).image
    warped, target = random_warp(img, rotation_deg=0, zoom=0, shift=0, flip=False, generator=g)
    assert torch.allclose(target, img, atol=1e-5)          # no affine: the target is the face itself
    assert (warped - img).abs().mean() > 0.005               # the input is bent
    again, _ = random_warp(img, rotation_deg=0, zoom=0, shift=0, flip=False,
                           generator=torch.Generator().manual_seed(0))
    assert torch.equal(warped, again)                         # seeded
    field = warp_field(1, 64, strength=0.06, generator=torch.Generator().manual_seed(1))
    # smooth: neighbouring pixels move almost together
    assert (field[:, 1:] - field[:, :-1]).abs().max() < 0.02 < field.abs().max()


def test_ssim_known_values():
    a = torch.rand(2, 3, 32, 32)
    assert ssim(a, a).item() == pytest.approx(1.0, abs=1e-5)
    assert ssim(a, 1 - a).item() < 0
    noisy = (a + 0.05 * torch.randn_like(a)).clamp(0, 1)
    assert 0.3 < ssim(a, noisy).item() < 1
    assert ssim(a, noisy, reduce=False).shape == (2,)


def test_blend_methods_and_colour_matching():
    frame = S.render(S.sample_identities(0, [1]), S.Nuisance.reference(1), 64)
    face = S.render(S.sample_identities(0, [2]), S.Nuisance.reference(1), 64).image[0]
    mask = frame.mask[0]
    for method in ("alpha", "poisson"):
        out = blend(frame.image[0], face, mask, method)
        assert out.shape == (3, 64, 64)
        corner = (out[:, :4, :4] - frame.image[0, :, :4, :4]).abs().max()
        assert corner < 0.02                                  # outside the mask: the frame
    inside = mask[0] > 0.9
    alpha = blend(frame.image[0], face, mask, "alpha", colour=False)
    assert (alpha[:, inside] - face[:, inside]).abs().mean() < 0.05  # inside: the new face
    with pytest.raises(ValueError, match="alpha' or 'poisson"):
        blend(frame.image[0], face, mask, "paste")
    src = np.full((16, 16, 3), 60, np.uint8)
    tgt = np.full((16, 16, 3), 180, np.uint8)
    out = match_colour(src, tgt, np.ones((16, 16)))
    assert abs(int(out.mean()) - 180) < 6


def test_training_reduces_loss_and_a_crashed_run_resumes_to_the_same_weights(tmp_path):
    ids_a, ids_b = S.sample_identities(0, [1] * 24), S.sample_identities(0, [2] * 24)
    ra = S.render(ids_a, S.sample_nuisance(0, [1] * 24, range(24)), 32)
    rb = S.render(ids_b, S.sample_nuisance(0, [2] * 24, range(24)), 32)
    fa, fb = ra.to_uint8(), rb.to_uint8()
    cfg = AutoencoderConfig(width=0.0625, resolution=32, steps=12, batch=8)
    model, hist = train_autoencoder(fa, fb, cfg, ra.mask, rb.mask, log_every=4)
    assert hist["loss_a"][-1] < hist["loss_a"][0] and hist["loss_b"][-1] < hist["loss_b"][0]
    path, crashed = tmp_path / "ae.pt", tmp_path / "crashed.pt"

    def snapshot(step, history, _model):  # the file as a crash at step 8 would leave it (saved at 6)
        if step == 8:
            shutil.copy(path, crashed)

    train_autoencoder(fa, fb, cfg, ra.mask, rb.mask, checkpoint=path, save_every_steps=6, log_every=4,
                      on_log=snapshot)
    assert load_checkpoint(crashed)["step"] == 6 and not load_checkpoint(crashed)["finished"]
    resumed, _ = train_autoencoder(fa, fb, cfg, ra.mask, rb.mask, checkpoint=crashed, log_every=4)
    for (k, v), w in zip(model.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(v, w), k                            # resumed = never interrupted
    loaded, _ = train_autoencoder(fa, fb, cfg, checkpoint=path)  # finished: loaded, not trained
    assert load_checkpoint(path)["kind"] == "faceswap-autoencoder"
    for (k, v), w in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(v, w), k
    swapped, masks = swap(loaded, fa[:4].float() / 255, "B")
    assert swapped.shape == (4, 3, 32, 32) and masks.shape == (4, 1, 32, 32)
