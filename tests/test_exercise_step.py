"""Notebook 06's Exercise 2, the whole FaceID-GAN step: the reference solution passes and drives the same
fine-tune as the package's step; each planted mistake is caught with a message that names it."""

import numpy as np
import pytest
import torch

from faceid_lab import exercises, solutions
from faceid_lab.models.identity import IdentityNet
from faceid_lab.models.pose import PoseNet
from faceid_lab.train.faceidgan import (
    FaceIdGanConfig,
    build_players,
    fine_tune,
    identity_loss_of,
    n_class_c_loss,
    reference_step,
)
from faceid_lab.train.gan import make_gan_data


def _with_mistake(old: str, new: str, *more: tuple[str, str]):
    """The reference step's source with `old` replaced by `new` (each must occur), as a function."""
    import inspect

    source = inspect.getsource(solutions.faceid_step)
    for a, b in ((old, new), *more):
        assert a in source, a
        source = source.replace(a, b)
    namespace = {"torch": torch, "F": torch.nn.functional}
    exec(source, namespace)  # noqa: S102 - the repository's own reference, edited
    return namespace["faceid_step"]


MISTAKES = {
    "no detach on G's output in D's update": (
        ("both = torch.cat([real, fake.detach()])", "both = torch.cat([real, fake])"),
        "D's loss ran backward through G"),
    "C updated by G's loss": (
        ("    p.C.requires_grad_(False)\n", ""), "C was updated by G's loss",
        ("    p.opt_g.step()\n", "    p.opt_g.step()\n    p.opt_c.step()\n")),
    "N labels in a 2N C": (("labels + N))", "labels))"), "uses the N labels"),
    "k outside [0, 1]": (("k.clamp(0.0, 1.0)", "k"), "clipped to [0, 1]"),
    "C's faces not detached": (("seen_fake.detach()])", "seen_fake])"), "C's loss ran backward through G"),
    "G against the old D": (("    p.opt_d.step()\n", ""), "optimiser steps once"),
    "no identity term": (("+ cfg.id_weight * id_err)", ")"), "G's loss is"),
}


def test_the_reference_step_passes():
    result = exercises.check_faceid_step(solutions.faceid_step)
    assert result.passed, result


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_planted_mistake_is_named(name):
    (old, new), words, *more = MISTAKES[name]
    result = exercises.check_faceid_step(_with_mistake(old, new, *more))
    assert not result.passed and words in result.message, (name, result.message)


def test_the_learners_step_and_the_packages_draw_the_same_fine_tune():
    torch.manual_seed(0)
    identity_net, pose_net = IdentityNet(num_classes=4, width=4).eval(), PoseNet(width=4).eval()
    data = make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(4), sources_per_identity=2,
                         targets_per_identity=4, resolution=32)
    p = build_players(FaceIdGanConfig(classifier="2n", width=4, resolution=32, z_dim=8, batch=4), identity_net,
                      pose_net, 4, torch.device("cpu"), data)
    before = [w.clone() for w in p.G.parameters()]
    yours = fine_tune(p, data, solutions.faceid_step, 6)
    package = fine_tune(p, data, reference_step, 6)
    assert all(torch.equal(a, b) for a, b in zip(before, p.G.parameters(), strict=True))  # p itself untouched
    for key in ("D", "C", "G", "k"):
        assert yours[key] == pytest.approx(package[key], rel=1e-5, abs=1e-7), key
    wrong = fine_tune(p, data, _with_mistake("labels + N))", "labels))"), 6)
    assert wrong["C"] != pytest.approx(package["C"], rel=1e-3)  # a mistake draws its own curve


# notebook 03's Exercise 2, G's pose-guided block: its parameters must take the trained G's weights
BLOCK_MISTAKES = {
    "the conv ignores the guide's channels": (("nn.Conv2d(c_in + guide_channels,", "nn.Conv2d(c_in,"),
                                              "c_in + guide_channels"),
    "batch norm with its own affine": (("nn.BatchNorm2d(c_out, affine=False)", "nn.BatchNorm2d(c_out)"),
                                       "unexpected bn.bias, bn.weight"),
    "no upsampling": (('x = F.interpolate(x, scale_factor=2, mode="nearest")', "x = x"), "twice the size"),
    "scale without the 1 +": (("* (1 + scale)", "* scale"), "differs from UpBlock's"),
}


def _block_with_mistake(old: str, new: str):
    import inspect

    source = inspect.getsource(solutions.GuidedUpBlock)
    assert old in source, old
    namespace = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn}
    exec(source.replace(old, new), namespace)  # noqa: S102 - the repository's own reference, edited
    return namespace["GuidedUpBlock"]


def test_the_reference_block_passes_and_builds_the_trained_generator():
    from faceid_lab.models.gan import Generator

    assert exercises.check_guided_block(solutions.GuidedUpBlock).passed
    torch.manual_seed(0)
    package = Generator(4, 32, 8, guided=True).eval()
    yours = Generator(4, 32, 8, guided=True, block=solutions.GuidedUpBlock).eval()
    yours.load_state_dict(package.state_dict())
    f_id, f_pose, z = torch.randn(2, 256), torch.randn(2, 7) * 0.3, torch.randn(2, 8)
    with torch.no_grad():
        assert torch.allclose(yours(f_id, f_pose, z), package(f_id, f_pose, z), atol=1e-6)


@pytest.mark.parametrize("name", list(BLOCK_MISTAKES))
def test_each_block_mistake_is_named(name):
    (old, new), words = BLOCK_MISTAKES[name]
    result = exercises.check_guided_block(_block_with_mistake(old, new))
    assert not result.passed and words in result.message, (name, result.message)


# notebook 01's Exercise 2, the 1.5-autoencoder: the trained model's weights load into the learner's module
MODULE_MISTAKES = {
    "one encoder per person": (('self.encoder = Encoder(width, resolution)',
                                'self.encoder = nn.ModuleDict({"A": Encoder(width, resolution), '
                                '"B": Encoder(width, resolution)})'), "its parameters must match"),
    "a plain dict of decoders": (('nn.ModuleDict({"A": Decoder(width, mask), "B": Decoder(width, mask)})',
                                  '{"A": Decoder(width, mask), "B": Decoder(width, mask)}'), "missing decoders"),
    "the swap through A's decoder": (('return self(x, "B")', 'return self(x, "A")'), "*B's* decoder"),
    "forward ignores the person": (("return self.decoders[person](self.encoder(x))",
                                    'return self.decoders["A"](self.encoder(x))'), "painted A"),
}


def _module_with_mistake(old: str, new: str):
    import inspect

    from faceid_lab.models.autoencoder import Decoder, Encoder

    source = inspect.getsource(solutions.OneEncoderTwoDecoders)
    assert old in source, old
    namespace = {"nn": torch.nn, "Encoder": Encoder, "Decoder": Decoder}
    exec(source.replace(old, new), namespace)  # noqa: S102 - the repository's own reference, edited
    return namespace["OneEncoderTwoDecoders"]


def test_the_reference_autoencoder_passes():
    assert exercises.check_autoencoder_module(solutions.OneEncoderTwoDecoders).passed


@pytest.mark.parametrize("name", list(MODULE_MISTAKES))
def test_each_autoencoder_mistake_is_named(name):
    (old, new), words = MODULE_MISTAKES[name]
    result = exercises.check_autoencoder_module(_module_with_mistake(old, new))
    assert not result.passed and words in result.message, (name, result.message)


def _world(classifier: str):
    torch.manual_seed(0)
    identity_net, pose_net = IdentityNet(num_classes=4, width=4).eval(), PoseNet(width=4).eval()
    data = make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(4), sources_per_identity=2,
                         targets_per_identity=4, resolution=32)
    p = build_players(FaceIdGanConfig(classifier=classifier, width=4, resolution=32, z_dim=8, batch=4), identity_net,
                      pose_net, 4, torch.device("cpu"), data)
    return p, data


def test_notebook_04s_losses_drive_the_same_fine_tune_as_the_packages():
    """The learner's C loss and identity loss (the reference solutions) in the package's step give the curves
    of the package's own two functions in the same step; a C loss that forgets the synthesized weight draws
    another."""
    from functools import partial

    p, data = _world("n")
    yours = fine_tune(p, data, partial(reference_step, c_loss_fn=solutions.n_class_c_loss,
                                       id_loss_fn=solutions.identity_loss), 5)
    package = fine_tune(p, data, partial(reference_step, c_loss_fn=n_class_c_loss, id_loss_fn=identity_loss_of), 5)
    for key in ("D", "C", "G", "k"):
        assert yours[key] == pytest.approx(package[key], rel=1e-4, abs=1e-6), key

    def unweighted(C, real, real_labels, fake, fake_labels, synth_weight):
        return solutions.n_class_c_loss(C, real, real_labels, fake, fake_labels, 1.0)

    wrong = fine_tune(p, data, partial(reference_step, c_loss_fn=unweighted, id_loss_fn=identity_loss_of), 5)
    assert wrong["C"] != pytest.approx(package["C"], rel=1e-3)


def test_notebook_03s_began_function_drives_the_same_fine_tune_as_the_packages():
    from faceid_lab.models.gan import BeganDiscriminator, Generator
    from faceid_lab.train.gan import GanConfig, began_d_loss, fine_tune_pose_gan

    _, data = _world("n")
    cfg = GanConfig(width=4, resolution=32, z_dim=8, batch=4, lambda_k=8.0)  # k moves, and the clip shows
    torch.manual_seed(1)
    G, D = Generator(4, 32, 8, guided=True), BeganDiscriminator(4, 32)
    before = [w.clone() for w in G.parameters()]
    yours = fine_tune_pose_gan(G, D, 0.3, data, cfg, solutions.began_d_loss, steps=5)
    package = fine_tune_pose_gan(G, D, 0.3, data, cfg, began_d_loss, steps=5)
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters(), strict=True))  # G itself untouched
    for key in ("D", "G", "k", "M"):
        assert yours[key] == pytest.approx(package[key], rel=1e-5, abs=1e-7), key
    assert all(0.0 <= k <= 1.0 for k in package["k"]) and len(set(package["k"])) > 1 and package["k"][-1] == 1.0

    def unclipped(D, real, fake, k, gamma, lambda_k):
        loss, _, measure = began_d_loss(D, real, fake, k, gamma, lambda_k)
        r_real, r_fake = D.recon_error(real).mean(), D.recon_error(fake.detach()).mean()
        return loss, (k + lambda_k * (gamma * r_real - r_fake)).detach(), measure

    wrong = fine_tune_pose_gan(G, D, 0.3, data, cfg, unclipped, steps=5)
    assert wrong["k"] != pytest.approx(package["k"])
