"""Checkers for the exercise cells: a friendly pass, or a specific hint.

Every checker takes the learner's function, returns a CheckResult (shown in the
notebook) and never raises: a stub that still raises NotImplementedError gets a
"not implemented yet" answer, a wrong result gets a hint about what differs.
A check cell calls `checked(checker, function)`: it shows the verdict and hands the
cells below the learner's function, or the reference (`faceid_lab.solutions`) with a
visible warning while the learner's does not pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import display

from . import metrics, solutions
from .data import synthetic as S
from .data.augment import warp_field
from .models.autoencoder import FaceSwapAutoencoder
from .models.gan import BeganDiscriminator, Generator, UpBlock
from .models.identity import IdentityNet
from .models.pose import PoseNet
from .runtime import ipython_shell
from .train.faceidgan import FaceIdGanConfig, build_players, classifier_loss, reference_step
from .train.gan import make_gan_data


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'} [{self.name}] {self.message}"

    def _repr_markdown_(self) -> str:
        icon = "✅" if self.passed else "❌"
        return f"{icon} **{self.name}**: {self.message}"

def _run(name: str, fn: Callable, *args, **kwargs):
    """Call the learner's function; turn exceptions into a CheckResult."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError as e:
        return None, CheckResult(name, False, f"not implemented yet. Hint: {e}")
    except Exception as e:  # noqa: BLE001 - any error in learner code becomes a hint
        return None, CheckResult(name, False, f"your function raised {type(e).__name__}: {e}")



def _show(*objects) -> None:
    """display() in a notebook, print() elsewhere (a script, a test)."""
    if ipython_shell() is not None:
        display(*objects)
    else:
        print(*objects)


@dataclass
class Fallback:
    """The visible warning of `checked` when the cells below run on the reference solution."""
    names: list[str]

    def __repr__(self) -> str:
        return (f"faceid-lab: the cells below use the reference {', '.join(self.names)} "
                "(faceid_lab.solutions) until yours passes; re-run this cell after you change yours.")

    def _repr_markdown_(self) -> str:
        names = ", ".join(f"`{n}`" for n in self.names)
        return (f"⚠️ **Using the reference solution.** The cells below call the reference {names} "
                "(`faceid_lab.solutions`) so the notebook still runs to the end; re-run this cell "
                "when yours passes, then the cells after it.")


def checked(checker: Callable[..., CheckResult], *functions: Callable):
    """Show `checker`'s verdict on the learner's `functions` and return what the cells below should
    call: the learner's functions when they pass, otherwise the reference solutions of the same
    names, with a visible warning (a skipped exercise never breaks the rest of the notebook)."""
    result = checker(*functions)
    _show(result)
    if result.passed:
        return functions[0] if len(functions) == 1 else functions
    names = [f.__name__ for f in functions]
    missing = [n for n in names if not hasattr(solutions, n)]
    if missing:
        raise ValueError(f"faceid-lab: no reference solution named {', '.join(missing)}; keep the exercise's "
                         "function name (the stub's `def` line) so the check can fall back to the reference")
    references = tuple(getattr(solutions, n) for n in names)
    _show(Fallback(names))
    return references[0] if len(references) == 1 else references


def check_ground_truth_swap(fn: Callable) -> CheckResult:
    """fn(seed, identity_b, identity_a, image_a, resolution) -> (3, R, R) image of B with the
    pose, expression, light and background of photo `image_a` of A."""
    name = "ground-truth swap"
    for seed, b, a, j in ((0, 3, 7, 5), (1, 12, 2, 0)):
        got, err = _run(name, fn, seed, b, a, j, 32)
        if err is not None:
            return err
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (3, 32, 32):
            return CheckResult(name, False, "return one image as a tensor of shape (3, R, R); "
                               f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
        want = S.render(S.sample_identities(seed, [b]), S.sample_nuisance(seed, [a], [j]), 32).image[0]
        if torch.allclose(got, want, atol=1e-4):
            continue
        swapped = S.render(S.sample_identities(seed, [a]), S.sample_nuisance(seed, [b], [j]), 32).image[0]
        if torch.allclose(got, swapped, atol=1e-4):
            return CheckResult(name, False, "you rendered A's identity with B's photo: the identity "
                               "comes from B, the nuisance (pose, light, ...) from A's photo")
        return CheckResult(name, False, "the image differs from B's identity rendered with "
                           "sample_nuisance(seed, [identity_a], [image_a]); check which indices go where")
    return CheckResult(name, True, "B's face with A's pose, expression and light: the ground truth a "
                       "face swap should produce, which only a synthetic world can give")


# ----------------------------------------------------------------------------
# Notebook 01: the deepfake
# ----------------------------------------------------------------------------

def _faces(seed: int, count: int = 4, size: int = 32) -> torch.Tensor:
    ids = list(range(count))
    return S.render(S.sample_identities(seed, ids), S.sample_nuisance(seed, ids, [0] * count), size).image


def check_random_warp(fn: Callable) -> CheckResult:
    """fn(images (B, C, H, W), strength, generator) -> the input warped by a jittered 5 x 5 grid:
    offsets randn(B, 2, 5, 5) * strength, bicubic to (H, W), added to the identity sampling grid,
    grid_sample with reflection padding."""
    name = "random warp"
    images = _faces(3)
    got, err = _run(name, fn, images, 0.0, torch.Generator().manual_seed(0))
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or got.shape != images.shape:
        return CheckResult(name, False, f"return a tensor shaped like the input {tuple(images.shape)}; "
                           f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
    if not torch.allclose(got, images, atol=1e-4):
        return CheckResult(name, False, "with strength 0 the warp must give back the input exactly: build the "
                           "identity grid with F.affine_grid(torch.eye(2, 3)..., align_corners=False) and sample "
                           "with align_corners=False")
    got, err = _run(name, fn, images, 0.08, torch.Generator().manual_seed(1))
    if err is not None:
        return err
    b, _, h, w = images.shape
    field = warp_field(b, h, strength=0.08, generator=torch.Generator().manual_seed(1))
    base = F.affine_grid(torch.eye(2, 3).expand(b, 2, 3), (b, 1, h, w), align_corners=False)
    want = F.grid_sample(images, base + field, mode="bilinear", padding_mode="reflection", align_corners=False)
    if torch.allclose(got, images, atol=1e-4):
        return CheckResult(name, False, "with strength > 0 the faces must move; did you add the field to the grid?")
    if not torch.allclose(got, want, atol=1e-3):
        flipped = F.grid_sample(images, base + field.flip(-1), mode="bilinear", padding_mode="reflection",
                                align_corners=False)
        if torch.allclose(got, flipped, atol=1e-3):
            return CheckResult(name, False, "x and y are swapped: grid_sample's last dimension is (x, y), and "
                               "the field's channel 0 is x; permute (B, 2, H, W) -> (B, H, W, 2)")
        return CheckResult(name, False, "the warp differs from the reference: draw the offsets first with "
                           "torch.randn(B, 2, 5, 5, generator=generator) * strength, upsample with "
                           "F.interpolate(..., size=(H, W), mode='bicubic', align_corners=True), then sample")
    return CheckResult(name, True, "a smooth random bend: the network sees this and must answer with the "
                       "straight face, so it learns faces, not copying")


def _tiny_autoencoder():
    torch.manual_seed(0)
    return FaceSwapAutoencoder(width=0.0625, resolution=32, mask=True).eval()


def check_swap(fn: Callable) -> CheckResult:
    """fn(model, frames, frame_masks) -> frames where mask m = max(B-decoder mask, frame mask) is
    replaced by B's face: m * swapped + (1 - m) * frames."""
    name = "swap and blend"
    model = _tiny_autoencoder()
    frames = _faces(6)
    frame_masks = (frames.mean(1, keepdim=True) > 0.45).float()
    with torch.no_grad():
        got, err = _run(name, fn, model, frames, frame_masks)
        if err is not None:
            return err
        if not isinstance(got, torch.Tensor) or got.shape != frames.shape:
            return CheckResult(name, False, f"return the blended frames, shaped {tuple(frames.shape)}")
        code = model.encoder(frames)
        face_b, mask_b = model.decoders["B"](code)
        face_a, mask_a = model.decoders["A"](code)
        m = torch.maximum(mask_b, frame_masks)
        want = m * face_b + (1 - m) * frames
        if torch.allclose(got, torch.maximum(mask_a, frame_masks) * face_a
                          + (1 - torch.maximum(mask_a, frame_masks)) * frames, atol=1e-5):
            return CheckResult(name, False, "that is A rebuilt by A's decoder; the swap decodes A's code with "
                               "decoder 'B'")
        if torch.allclose(got, face_b, atol=1e-5):
            return CheckResult(name, False, "you returned the raw decoder output; blend it into the frame with "
                               "m * face + (1 - m) * frame")
        if torch.allclose(got, mask_b * face_b + (1 - mask_b) * frames, atol=1e-5):
            return CheckResult(name, False, "use the union of both masks, torch.maximum(decoder mask, frame "
                               "mask): otherwise A's outline stays where B's head is smaller")
        if not torch.allclose(got, want, atol=1e-5):
            return CheckResult(name, False, "expected m * face_b + (1 - m) * frames with m = "
                               "torch.maximum(mask_b, frame_masks), face_b, mask_b = model.decoders['B']"
                               "(model.encoder(frames))")
    return CheckResult(name, True, "B's face with A's pose, pasted where either head was; notebook 01 then "
                       "softens the edge and matches the colours")


# ----------------------------------------------------------------------------
# Notebooks 02-03: identity features and P
# ----------------------------------------------------------------------------

def check_verification_auc(cosine_similarity: Callable, verification_auc: Callable) -> CheckResult:
    """cosine_similarity(a (N, D), b (M, D)) -> (N, M); verification_auc(features, labels) -> the
    ROC AUC over all unordered pairs i < j (genuine = same label), ties counted half."""
    name = "cosine similarity and verification AUC"
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 8, generator=gen) * 3, torch.randn(4, 8, generator=gen)
    got, err = _run(name, cosine_similarity, a, b)
    if err is not None:
        return err
    want = metrics.cosine_similarity_matrix(a, b)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return CheckResult(name, False, f"cosine_similarity of (5, 8) and (4, 8) is a (5, 4) matrix; got "
                           f"{tuple(getattr(got, 'shape', ()))}")
    if not torch.allclose(got.float(), want, atol=1e-5):
        if torch.allclose(got.float(), a @ b.T, atol=1e-4):
            return CheckResult(name, False, "that is the dot product: normalise each feature to unit length first")
        return CheckResult(name, False, "cosine_similarity differs from F.normalize(a) @ F.normalize(b).T")
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
    feats = torch.randn(10, 6, generator=gen) + 1.5 * torch.nn.functional.one_hot(labels, 6).float()
    for features in (feats, torch.ones(10, 6)):  # the second: every pair ties
        got, err = _run(name, verification_auc, features, labels)
        if err is not None:
            return err
        scores, genuine = metrics.verification_pairs(features, labels)
        want_auc = metrics.roc_auc(scores, genuine)
        if not isinstance(got, (float, int)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            return CheckResult(name, False, "return one number, the AUC")
        if abs(float(got) - want_auc) > 1e-6:
            hint = ("with all scores equal the AUC is 0.5: count ties as half" if features is not feats else
                    "use each unordered pair once (i < j, no i == i), genuine when labels match; AUC = share of "
                    "(genuine, impostor) pairs where the genuine score is higher")
            return CheckResult(name, False, f"expected AUC {want_auc:.4f}, got {float(got):.4f}: {hint}")
    return CheckResult(name, True, "the AUC is the chance that two photos of one person look more alike to the "
                       "network than two photos of different people")


def check_identity_training_step(fn: Callable) -> CheckResult:
    """fn(net, opt, images, labels) -> loss (float): one step of N-class training: features,
    logits(features, labels), cross-entropy, zero_grad, backward, step."""

    name = "identity training step"
    torch.manual_seed(0)
    net = IdentityNet(num_classes=4, width=4, feature_dim=16, margin=0.2).train()
    ref, before = copy.deepcopy(net), copy.deepcopy(net)
    images = _faces(7, 4, 32)
    labels = torch.tensor([0, 1, 2, 3])
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    got, err = _run(name, fn, net, opt, images, labels)
    if err is not None:
        return err
    want = F.cross_entropy(ref.logits(ref.features(images), labels), labels)
    ref_opt.zero_grad()
    want.backward()
    ref_opt.step()
    try:
        loss = float(got)
    except (TypeError, ValueError):
        return CheckResult(name, False, "return the loss as a number (loss.item())")
    if abs(loss - want.item()) > 1e-4:
        with torch.no_grad():
            no_margin = F.cross_entropy(before.logits(before.features(images)), labels).item()
        hint = ("pass the labels to net.logits(features, labels): the margin is subtracted from the true class"
                if abs(loss - no_margin) < 1e-4 else
                "loss = F.cross_entropy(net.logits(net.features(images), labels), labels)")
        return CheckResult(name, False, f"the loss should be {want.item():.4f}, got {loss:.4f}: {hint}")
    moved = [not torch.equal(p, q) for p, q in zip(net.parameters(), before.parameters(), strict=True)]
    same = all(torch.allclose(p, q, atol=1e-5) for p, q in zip(net.parameters(), ref.parameters(), strict=True))
    if not same:
        if not any(moved):
            return CheckResult(name, False, "the weights did not change: call opt.zero_grad(), loss.backward(), "
                               "opt.step()")
        return CheckResult(name, False, "the weights moved differently from one SGD step: zero the gradients "
                           "before backward, and step once")
    return CheckResult(name, True, "one step: pull each face's feature towards its person's class centre")


def _layout_mismatch(got: torch.nn.Module, want: torch.nn.Module) -> str:
    """'' when `got` has `want`'s parameter names and shapes (so want's weights load into it), else what differs."""
    shapes = {k: tuple(v.shape) for k, v in got.state_dict().items()}
    expected = {k: tuple(v.shape) for k, v in want.state_dict().items()}
    missing, extra = sorted(set(expected) - set(shapes)), sorted(set(shapes) - set(expected))
    wrong = sorted(k for k in set(shapes) & set(expected) if shapes[k] != expected[k])
    return "; ".join(part for part in (
        f"missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}" if missing else "",
        f"unexpected {', '.join(extra[:4])}{' ...' if len(extra) > 4 else ''}" if extra else "",
        ", ".join(f"{k} is {shapes[k]}, expected {expected[k]}" for k in wrong[:3])) if part)


def _loaded(name: str, cls: type, args: tuple, want: torch.nn.Module, must: str,
            hint: Callable[[str], str]) -> tuple[torch.nn.Module | None, CheckResult | None]:
    """The learner's cls(*args) with `want`'s weights loaded, in eval mode; or the CheckResult that says why
    it cannot take them (`must`: what its parameters must be; `hint(mismatch)`: an extra hint, or "")."""
    got, err = _run(name, cls, *args)
    if err is not None:
        return None, err
    if not isinstance(got, torch.nn.Module):
        return None, CheckResult(name, False, "it must be an nn.Module (a class whose __init__ builds its layers)")
    mismatch = _layout_mismatch(got, want)
    if mismatch:
        return None, CheckResult(name, False, f"{must}: {mismatch}{hint(mismatch)}")
    got.load_state_dict(want.state_dict())
    return got.eval(), None


def check_autoencoder_module(module: type) -> CheckResult:
    """module(width, resolution, mask) -> nn.Module with FaceSwapAutoencoder's parts (`encoder`, `decoders`
    "A" and "B") and forward(x, person) -> (face, mask), and swap(x): A's faces decoded as B. Checked by
    loading a FaceSwapAutoencoder's weights into it, as notebook 01 then loads the trained model's."""
    name = "the 1.5-autoencoder"
    torch.manual_seed(0)
    want = FaceSwapAutoencoder(width=0.0625, resolution=32, mask=True).eval()
    got, err = _loaded(name, module, (0.0625, 32, True), want, "its parameters must match the trained model's, so "
                       "its weights load", lambda m: " (two decoders, one per person, and a single encoder both use)"
                       if "decoders" in m or "encoder" in m else "")
    if err is not None:
        return err
    faces = _faces(6)
    with torch.no_grad():
        for person in ("A", "B"):
            out, err = _run(name, got, faces, person)
            if err is not None:
                return err
            expect = want(faces, person)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                return CheckResult(name, False, "forward(x, person) returns what a decoder returns: (face, mask)")
            if not torch.allclose(out[0], expect[0], atol=1e-5):
                other = "B" if person == "A" else "A"
                if torch.allclose(out[0], want(faces, other)[0], atol=1e-5):
                    return CheckResult(name, False, f"forward(x, '{person}') painted {other}: decode with the "
                                       "decoder of the person asked for")
                return CheckResult(name, False, f"forward(x, '{person}') differs from the trained model's: every "
                                   "face goes through the one encoder, then the person's decoder")
        swapped, err = _run(name, getattr(got, "swap", None) or (lambda x: None), faces)
        if err is not None:
            return err
        if not isinstance(swapped, (tuple, list)) or not torch.allclose(swapped[0], want(faces, "B")[0], atol=1e-5):
            return CheckResult(name, False, "swap(x) is the deepfake: x's code through *B's* decoder, returned as "
                               "(face, mask)")
    return CheckResult(name, True, "one encoder for both people, a decoder each: the trained weights load into "
                       "your model, and every swap below is painted by it")


def check_guided_block(block: type) -> CheckResult:
    """block(c_in, c_out, cond_dim, guide_channels): an nn.Module with UpBlock's parameters (conv, bn,
    film) whose forward(x, cond, guide=None) computes what UpBlock's does. Checked by loading
    UpBlock's weights into it (as notebook 03 then loads the trained G's) and comparing outputs."""
    name = "G's pose-guided block"
    torch.manual_seed(0)
    x, cond = torch.randn(2, 6, 4, 4), torch.randn(2, 10)
    guide = torch.rand(2, 3, 16, 16)
    for with_guide in (True, False):  # the guided G's block, then the vector-only G's (no guide channels)
        want = UpBlock(6, 4, 10, 3 if with_guide else 0).eval()
        got, err = _loaded(name, block, (6, 4, 10, 3 if with_guide else 0), want, "its parameters must match "
                           "UpBlock's, so the trained G's weights load into it", lambda m: " (the conv takes the "
                           "features *and* the guide's channels: c_in + guide_channels)" if "conv.weight is" in m
                           else "")
        if err is not None:
            return err
        args = (x, cond, guide) if with_guide else (x, cond)
        out, err = _run(name, got.forward, *args)
        if err is not None:
            return err
        with torch.no_grad():
            expect = want(*args)
        if not isinstance(out, torch.Tensor) or out.shape != expect.shape:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return CheckResult(name, False, f"(2, 6, 4, 4) features should become {tuple(expect.shape)} "
                               f"(twice the size, c_out channels), got {shape}")
        if not torch.allclose(out, expect, atol=1e-5):
            where = "with a guide" if with_guide else "without a guide (guide=None)"
            return CheckResult(name, False, f"the output differs from UpBlock's {where}: upsample first, resize "
                               "the guide to the new size and concatenate it, then conv, batch norm, the condition's "
                               "scale (1 + s) and shift, leaky ReLU 0.2")
    return CheckResult(name, True, "the template reaches every resolution of G: the trained G's weights load into "
                       "your block, and the pictures below are drawn by it")


def _began_world():
    torch.manual_seed(0)
    D = BeganDiscriminator(4, 32)
    G = torch.nn.Linear(8, 3 * 32 * 32)                   # a stand-in G: its weights show D's loss reaching it
    real = _faces(13, 4, 32)
    fake = torch.sigmoid(G(torch.randn(4, 8))).view(4, 3, 32, 32)
    return D, G, real, fake


def check_began_d_loss(fn: Callable) -> CheckResult:
    """fn(D, real, fake, k, gamma, lambda_k) -> (loss_d, new_k, M): loss_d = R(real) - k R(fake) with G's
    faces detached; new_k = clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1); M = R(real) + |gamma R(real)
    - R(fake)|; R(x) = mean |x - D(x)|."""
    name = "BEGAN's D loss and k"
    for k, gamma, lam in ((0.3, 0.75, 0.01), (0.0, 0.5, 1.0), (0.99, 0.75, 50.0), (0.6, 0.75, -50.0)):
        D, G, real, fake = _began_world()
        got, err = _run(name, fn, D, real, fake, torch.tensor(k), gamma, lam)
        if err is not None:
            return err
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return CheckResult(name, False, "return three things: (D's loss, the new k, M)")
        loss_d, new_k, measure = got
        if not isinstance(loss_d, torch.Tensor) or loss_d.dim() != 0 or not loss_d.requires_grad:
            return CheckResult(name, False, "D's loss must be one scalar tensor that D can learn from (no .item(), "
                               "no torch.no_grad around D)")
        with torch.no_grad():
            r_real, r_fake = D.recon_error(real).mean().item(), D.recon_error(fake).mean().item()
        want_loss, raw = r_real - k * r_fake, k + lam * (gamma * r_real - r_fake)
        want_k, want_m = min(1.0, max(0.0, raw)), r_real + abs(gamma * r_real - r_fake)
        if abs(loss_d.item() - want_loss) > 1e-5 and abs(loss_d.item() - (r_real + k * r_fake)) < 1e-5:
            return CheckResult(name, False, "D rebuilds real faces and pushes G's away: subtract k R(fake), do not "
                               "add it")
        if abs(loss_d.item() - want_loss) > 1e-5 and abs(loss_d.item() - (r_real - r_fake)) < 1e-5:
            return CheckResult(name, False, "D's loss is R(real) - k R(fake): k weighs how hard D pushes G's faces "
                               "away")
        if abs(loss_d.item() - want_loss) > 1e-5:
            return CheckResult(name, False, f"D's loss should be R(real) - k R(fake) = {want_loss:.4f}, got "
                               f"{loss_d.item():.4f}, with R(x) the mean of |x - D(x)| over the batch")
        try:
            nk, m = float(new_k), float(measure)
        except (TypeError, ValueError):
            return CheckResult(name, False, "the new k and M are single numbers (0-d tensors or floats)")
        if abs(nk - raw) < 1e-5 and raw != want_k:
            return CheckResult(name, False, f"k went to {raw:.3f}: clip it to [0, 1]")
        if abs(nk - min(1.0, max(0.0, k + lam * (r_real - gamma * r_fake)))) < 1e-5 and abs(nk - want_k) > 1e-5:
            return CheckResult(name, False, "gamma multiplies R(real), not R(fake): k + lambda_k (gamma R(real) - "
                               "R(fake))")
        if abs(nk - want_k) > 1e-5:
            return CheckResult(name, False, f"the new k should be {want_k:.4f}, got {nk:.4f}")
        if abs(m - want_m) > 1e-5:
            return CheckResult(name, False, f"M should be {want_m:.4f}, got {m:.4f}: M = R(real) + |gamma R(real) "
                               "- R(fake)|")
        if isinstance(new_k, torch.Tensor) and new_k.requires_grad:
            return CheckResult(name, False, "the new k carries a gradient: k is a bookkeeping number, not something "
                               "to backpropagate through (detach the errors you move it by)")
        loss_d.backward()
        if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()):
            return CheckResult(name, False, "D's loss reached G's weights: detach G's faces (fake.detach()) in D's "
                               "loss, or D's update would also train G to be rebuilt badly")
    return CheckResult(name, True, "k rises while D rebuilds G's faces better than gamma times the real ones, so D "
                       "pushes them away only as hard as it can afford; the fine-tune below runs on your function")


def check_n_class_c_loss(fn: Callable) -> CheckResult:
    """fn(C, real, real_labels, fake, fake_labels, synth_weight) -> scalar tensor: cross-entropy of C's
    logits (no margin) on the real faces + synth_weight x on G's faces, G's faces detached."""
    name = "C's N-class loss"
    torch.manual_seed(0)
    C = IdentityNet(num_classes=4, width=4, feature_dim=16, margin=0.3).eval()
    G = torch.nn.Linear(8, 3 * 32 * 32)
    real = _faces(14, 6, 32)
    real_labels = torch.tensor([0, 1, 2, 3, 0, 1])
    fake = torch.sigmoid(G(torch.randn(4, 8))).view(4, 3, 32, 32)
    fake_labels = torch.tensor([2, 3, 0, 1])
    got, err = _run(name, fn, C, real, real_labels, fake, fake_labels, 0.4)
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        return CheckResult(name, False, "return one scalar tensor (C's loss, to backpropagate)")
    with torch.no_grad():
        lr, lf = C.logits(C(real)), C.logits(C(fake))
        ce_r, ce_f = F.cross_entropy(lr, real_labels), F.cross_entropy(lf, fake_labels)
        want = ce_r + 0.4 * ce_f
        ce_r_margin = F.cross_entropy(C.logits(C(real), real_labels), real_labels)
        ce_f_margin = F.cross_entropy(C.logits(C(fake), fake_labels), fake_labels)
        margins = (ce_r_margin + 0.4 * ce_f_margin, ce_r_margin + 0.4 * ce_f, ce_r + 0.4 * ce_f_margin)
    value = got.detach()
    if any(torch.isclose(value, m, atol=1e-5) for m in margins) and not torch.isclose(value, want, atol=1e-5):
        return CheckResult(name, False, "C's head was given the labels, which subtracts notebook 02's margin: in the "
                           "game C's logits are C.logits(C(x)), no labels")
    if torch.isclose(value, ce_r + ce_f, atol=1e-5):
        return CheckResult(name, False, "weight the term on G's faces by synth_weight (the schedule of section 2)")
    if torch.isclose(value, 0.4 * ce_r + ce_f, atol=1e-5):
        return CheckResult(name, False, "synth_weight weighs the term on G's faces, not the real one")
    if torch.isclose(value, ce_r, atol=1e-5):
        return CheckResult(name, False, "C also learns from G's faces: add the synthesized term")
    if not torch.isclose(value, want, atol=1e-5):
        return CheckResult(name, False, f"expected {want.item():.4f}, got {value.item():.4f}: a cross-entropy of C's "
                           "logits on the real faces, plus synth_weight times one on G's faces")
    if not got.requires_grad:
        return CheckResult(name, False, "right value, but C cannot learn from it: keep it a tensor with its graph")
    got.backward()
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()):
        return CheckResult(name, False, "C's loss reached G: detach G's faces (fake.detach()), or C's update would "
                           "also train G, and in the wrong direction")
    return CheckResult(name, True, "C learns every real person and calls G's face of person i \"person i\" too: "
                       "that is what makes it G's ally")


def check_frontalize(fn: Callable) -> CheckResult:
    """fn(G, encoder, photos, frontal, z) -> G's faces: f_id = encoder(photos), f_pose = the frontal code
    (POSE_DIM,) for every photo, noise z, no gradients."""
    name = "frontalize"
    torch.manual_seed(0)
    G = Generator(4, 32, z_dim=8).eval()
    encoder = IdentityNet(num_classes=4, width=4).eval()
    photos = _faces(15, 3, 32)
    frontal = torch.linspace(-0.2, 0.4, 7)
    z = torch.randn(3, 8)
    got, err = _run(name, fn, G, encoder, photos, frontal, z)
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (3, 3, 32, 32):
        return CheckResult(name, False, f"return G's faces, one per photo: shape (3, 3, 32, 32), got "
                           f"{tuple(getattr(got, 'shape', ()))}")
    with torch.no_grad():
        f_id = encoder(photos)
        want = G(f_id, frontal.expand(3, 7), z)
        zero_pose = G(f_id, torch.zeros(3, 7), z)
        no_noise = G(f_id, frontal.expand(3, 7), torch.zeros(3, 8))
    if got.requires_grad:
        return CheckResult(name, False, "G's faces carry a gradient: painting needs none (torch.no_grad())")
    if torch.allclose(got, want, atol=1e-5):
        return CheckResult(name, True, "one G, one identity code per photo, one pose code for everybody: the "
                           "frontal face is a pose code, not a new model")
    if torch.allclose(got, zero_pose, atol=1e-5):
        return CheckResult(name, False, "f_pose = 0 is not the frontal face G was taught: use `frontal`, the mean of "
                           "P's readings of frontal photos, for every photo")
    if torch.allclose(got, no_noise, atol=1e-5):
        return CheckResult(name, False, "use the noise z you were given")
    return CheckResult(name, False, "expected G(encoder(photos), frontal repeated for every photo, z)")
def check_two_n_labels(fn: Callable) -> CheckResult:
    """fn(labels (B,), synthesized (B,) bool, num_identities) -> (B,) long: i when real, N + i when synthesized."""
    name = "2N labels"
    labels = torch.tensor([0, 3, 1, 3, 2])
    synthesized = torch.tensor([False, False, True, True, False])
    got, err = _run(name, fn, labels.clone(), synthesized.clone(), 5)
    if err is not None:
        return err
    want = torch.tensor([0, 3, 6, 8, 2])
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return CheckResult(name, False, f"return a tensor of shape {tuple(want.shape)}")
    if torch.equal(got.long(), want):
        if got.dtype != torch.long:
            return CheckResult(name, False, "right values, but cross-entropy needs integer (long) labels")
        return CheckResult(name, True, "real person i and synthesized person i are now different classes")
    if torch.equal(got.long(), torch.tensor([5, 8, 1, 3, 7])):
        return CheckResult(name, False, "the other way round: real faces keep class i, synthesized ones get N + i")
    if torch.equal(got.long(), labels + synthesized.long()):
        return CheckResult(name, False, "add N (num_identities), not 1, to the synthesized faces' labels")
    return CheckResult(name, False, f"expected {want.tolist()} for labels {labels.tolist()}, synthesized "
                       f"{synthesized.tolist()}, N = 5; got {got.tolist()}")


def check_classifier_loss(fn: Callable) -> CheckResult:
    """fn(logits_real, labels_real, logits_fake, labels_fake, synth_weight) -> scalar tensor:
    CE(real) + synth_weight * CE(synthesized)."""
    name = "C's loss"
    g = torch.Generator().manual_seed(3)
    lr, lf = torch.randn(6, 8, generator=g, requires_grad=True), torch.randn(4, 8, generator=g, requires_grad=True)
    yr, yf = torch.tensor([0, 1, 2, 3, 0, 1]), torch.tensor([4, 5, 6, 7])
    got, err = _run(name, fn, lr, yr, lf, yf, 0.3)
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        return CheckResult(name, False, "return one scalar tensor (so it can be backpropagated)")
    real, fake = F.cross_entropy(lr, yr), F.cross_entropy(lf, yf)
    want = real + 0.3 * fake
    if torch.isclose(got, want, atol=1e-5):
        if not got.requires_grad:
            return CheckResult(name, False, "right value, but detached: keep it a tensor, no .item()")
        return CheckResult(name, True, "C learns every real person, and (with the 2N labels) where G's versions of "
                           "them differ; the schedule makes the synthesized term large early, smaller later")
    if torch.isclose(got, real + fake, atol=1e-5):
        return CheckResult(name, False, "weight the synthesized term by synth_weight")
    if torch.isclose(got, F.cross_entropy(torch.cat([lr, lf]), torch.cat([yr, yf])), atol=1e-5):
        return CheckResult(name, False, "one cross-entropy over the concatenated batch ignores synth_weight: "
                           "compute the real and synthesized terms separately")
    return CheckResult(name, False, f"expected {want.item():.4f}, got {got.item():.4f}: "
                       "F.cross_entropy(logits_real, labels_real) + synth_weight * F.cross_entropy(logits_fake, ...)")


def check_identity_loss(fn: Callable) -> CheckResult:
    """fn(C, sources, outputs) -> scalar tensor: mean over the batch of 1 - cos(C(sources), C(outputs)),
    with the source features fixed (no gradient) and gradients flowing to the outputs."""
    name = "G's identity loss"
    torch.manual_seed(0)
    C = IdentityNet(num_classes=6, width=4, feature_dim=16).eval()
    sources = _faces(11, 3, 32).requires_grad_(True)
    outputs = _faces(12, 3, 32).requires_grad_(True)
    got, err = _run(name, fn, C, sources, outputs)
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        return CheckResult(name, False, "return one scalar tensor: the mean over the batch")
    with torch.no_grad():
        fs, fo = C.features(sources), C.features(outputs)
        cos = F.cosine_similarity(fs, fo, dim=1)
    want = (1 - cos).mean()
    if not torch.isclose(got.detach(), want, atol=1e-5):
        if torch.isclose(got.detach(), cos.mean(), atol=1e-5):
            return CheckResult(name, False, "that is the similarity; the loss is 1 - cosine (small when alike)")
        return CheckResult(name, False, f"expected {want.item():.4f}, got {got.item():.4f}: "
                           "(1 - F.cosine_similarity(C.features(sources), C.features(outputs), dim=1)).mean()")
    if not got.requires_grad:
        return CheckResult(name, False, "no gradient reaches G's outputs: do not wrap the output's features in no_grad")
    got.backward()
    if sources.grad is not None and sources.grad.abs().sum() > 0:
        return CheckResult(name, False, "the source features should be a fixed target: compute them under "
                           "torch.no_grad() (or .detach()), so only G's output moves")
    if outputs.grad is None or outputs.grad.abs().sum() == 0:
        return CheckResult(name, False, "no gradient reaches G's outputs")
    return CheckResult(name, True, "one C reads both faces (information symmetry): G is pulled to where C puts "
                       "the real person, in the same feature space it got f_id from")


# a distinct weight per term, so a dropped or doubled term changes G's loss; k away from 0 so D's sign
# matters, and a lambda_k so large that k's step leaves [0, 1]: the clip shows
STEP_CONFIG = dict(classifier="2n", width=4, resolution=32, z_dim=8, batch=4, pose_weight=0.7, recon_weight=0.9,
                   id_weight=1.3, adv_weight=0.6, imprint=False, lambda_k=50.0)
STEP_K, STEP_SYNTH_WEIGHT = 0.3, 0.4


@lru_cache(maxsize=1)
def _step_world():
    """Untrained width-4 players of a 2N FaceID-GAN over 4 SynthFaces people at 32 px, and one batch
    (built once; every use starts from a deep copy)."""
    torch.manual_seed(0)
    identity_net, pose_net = IdentityNet(num_classes=4, width=4).eval(), PoseNet(width=4).eval()
    data = make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(4), sources_per_identity=2,
                         targets_per_identity=4, resolution=32)
    p = build_players(FaceIdGanConfig(**STEP_CONFIG), identity_net, pose_net, 4, torch.device("cpu"), data)
    p.G.train()
    p.D.train()
    p.balance.k.fill_(STEP_K)
    labels = torch.tensor([0, 1, 2, 3])
    batch = (data.sources[labels * 2].float() / 255, data.targets[labels * 4].float() / 255, labels,
             data.f_pose[labels * 4], torch.randn(4, 8, generator=torch.Generator().manual_seed(0)))
    return p, batch


def _grads(module: torch.nn.Module) -> bool:
    return any(w.grad is not None and w.grad.abs().sum() > 0 for w in module.parameters())


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a.state_dict().values(),
                                                                          b.state_dict().values(), strict=True))


def _close(x, y) -> bool:
    return abs(float(x) - float(y)) <= 1e-4 * max(1.0, abs(float(y)))


@torch.no_grad()
def _c_loss_with_n_labels(start, batch, synth_weight: float) -> float:
    """C's loss of the first step if G's faces of person i were labelled i (the N-class mistake)."""
    q = copy.deepcopy(start)  # G's batch norm moves in train mode: leave the start as it was
    sources, real, labels, f_pose, z = batch
    fake = q.G(q.id_encoder.features(q.c_sees(sources)), f_pose, z)
    logits = q.C.logits(q.C(q.c_sees(torch.cat([real, sources, fake]))))
    b = len(labels)
    return float(classifier_loss(logits[:2 * b], torch.cat([labels, labels]), logits[2 * b:], labels, synth_weight))


def check_faceid_step(fn: Callable) -> CheckResult:
    """fn(p, sources, real, labels, f_pose, z, synth_weight) -> {"D", "C", "G"}: one step of the 2N game
    (D, then C, then G, then k), updating the players as faceid_gan_step does. Run on untrained
    players from one start, next to the package's step; a planted mistake's own symptom names it."""
    name = "the FaceID-GAN step"
    start, batch = _step_world()
    want_p = copy.deepcopy(start)
    want = reference_step(want_p, *batch, STEP_SYNTH_WEIGHT)
    p = copy.deepcopy(start)
    leaks = {}  # what each optimiser's step found in the other players' gradients

    def spying(opt, who):
        original = opt.step

        def step(*args, **kwargs):
            leaks[who] = {"G": _grads(p.G), "D": _grads(p.D), "C": _grads(p.C)}
            return original(*args, **kwargs)
        opt.step = step

    for opt, who in ((p.opt_d, "D"), (p.opt_c, "C"), (p.opt_g, "G")):
        spying(opt, who)
    got, err = _run(name, fn, p, *batch, STEP_SYNTH_WEIGHT)
    if err is not None and "backward through the graph a second time" in err.message:
        who = next((w for w in ("D", "C") if leaks.get(w, {}).get("G")), "D or C")
        return CheckResult(name, False, f"{who}'s loss ran backward through G (and freed G's graph before G's "
                           f"own update): {who} must see G's faces detached (fake.detach())")
    if err is not None:
        return err
    if not isinstance(got, dict) or not {"D", "C", "G"} <= set(got):
        return CheckResult(name, False, 'return a dict of the three losses: {"D": ..., "C": ..., "G": ...}')
    if set(leaks) != {"D", "C", "G"}:
        return CheckResult(name, False, f"each player's optimiser steps once (p.opt_d, p.opt_c, p.opt_g); "
                           f"yours stepped: {', '.join(sorted(leaks)) or 'none'}")
    if leaks["D"]["G"]:
        return CheckResult(name, False, "D's loss sent gradients into G: D must see G's faces detached "
                           "(fake.detach()), or D's update trains G too")
    if not _close(got["D"], want["D"]):
        return CheckResult(name, False, f"D's loss is {float(got['D']):.4f}, expected {float(want['D']):.4f}: "
                           "BEGAN's R(real) - k R(fake), with k as it is before this step")
    if not _close(got["C"], want["C"]):
        if _close(got["C"], _c_loss_with_n_labels(start, batch, STEP_SYNTH_WEIGHT)):
            return CheckResult(name, False, "C's loss uses the N labels for G's faces (person i = class i): in "
                               "FaceID-GAN synthesized person i is class N + i")
        return CheckResult(name, False, f"C's loss is {float(got['C']):.4f}, expected {float(want['C']):.4f}: "
                           "cross-entropy on the real faces plus synth_weight x cross-entropy on G's (detached) faces")
    if not _same(p.C, want_p.C):
        return CheckResult(name, False, "C's loss is right but C's weights end elsewhere: C was updated by G's "
                           "loss too (freeze D and C while G's loss flows through them, and step C only on its own)")
    if not _same(p.D, want_p.D):
        return CheckResult(name, False, "D's loss is right but D's weights end elsewhere: D must step once, on its "
                           "own loss, before C and G (freeze it during G's update)")
    if not _close(got["G"], want["G"]):
        return CheckResult(name, False, f"G's loss is {float(got['G']):.4f}, expected {float(want['G']):.4f}: "
                           "recon_weight x L1 + adv_weight x R(fake) + pose_weight x P's error + id_weight x "
                           "(1 - cos(f_id, C(fake))), through the D and C just updated")
    if not _same(p.G, want_p.G):
        return CheckResult(name, False, "G's loss is right but G's weights end elsewhere: only G's own loss may "
                           "reach G (detach its faces for D and C, zero G's gradients first)")
    k = float(p.balance.k)
    if not 0.0 <= k <= 1.0:
        return CheckResult(name, False, f"k ended at {k:.4f}: BEGAN's balance is clipped to [0, 1]")
    if not _close(k, want_p.balance.k):
        return CheckResult(name, False, f"k ended at {k:.5f}, expected {float(want_p.balance.k):.5f}: "
                           "k + lambda_k (gamma R(real) - R(fake)), with R(fake) from G's pass")
    return CheckResult(name, True, "the same losses, weights and k as the package's step: D, then C with 2N "
                       "labels, then G through frozen D and C, then k")


def check_centroid_distances(fn: Callable) -> CheckResult:
    """fn(features (M, D), labels (M,), synthesized (M,) bool) -> (P,) per person: the distance
    between the mean of their synthesized features and the mean of their real features."""
    name = "centroid distances"
    g = torch.Generator().manual_seed(5)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2, 0, 1, 2])
    synthesized = torch.tensor([False] * 9 + [True] * 6)
    features = torch.randn(15, 4, generator=g)
    got, err = _run(name, fn, features.clone(), labels.clone(), synthesized.clone())
    if err is not None:
        return err
    want = torch.stack([features[(labels == p) & synthesized].mean(0) - features[(labels == p) & ~synthesized].mean(0)
                        for p in range(3)]).norm(dim=1)
    try:
        got = torch.as_tensor(got, dtype=torch.float32).flatten()
    except (TypeError, ValueError):
        return CheckResult(name, False, "return a tensor with one distance per person")
    if got.shape != want.shape:
        return CheckResult(name, False, f"return one distance per person: shape {tuple(want.shape)}, "
                           f"got {tuple(got.shape)}")
    if torch.allclose(got, want, atol=1e-4):
        return CheckResult(name, True, "measured in the feature space itself, where distances mean something "
                           "(UMAP's do not)")
    pairwise = torch.stack([torch.cdist(features[(labels == p) & synthesized],
                                        features[(labels == p) & ~synthesized]).mean() for p in range(3)])
    if torch.allclose(got, pairwise, atol=1e-4):
        return CheckResult(name, False, "that is the mean distance between points; take the distance between the "
                           "two means (centroids) instead")
    everyone = torch.stack([features[(labels == p) & synthesized].mean(0) - features[~synthesized].mean(0)
                            for p in range(3)]).norm(dim=1)
    if torch.allclose(got, everyone, atol=1e-4):
        return CheckResult(name, False, "compare with the same person's real centroid: select labels == p as well")
    return CheckResult(name, False, f"expected {[round(v, 3) for v in want.tolist()]}: for each person p, "
                       "(features[(labels == p) & synthesized].mean(0) - features[(labels == p) & ~synthesized]"
                       ".mean(0)).norm()")


def check_synthesized_score(fn: Callable) -> CheckResult:
    """fn(logits (B, 2N), num_identities) -> (B,) log P(any synthesized class) - log P(any real class)."""
    name = "C's split as a detector"
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(6, 8, generator=g) * 2
    got, err = _run(name, fn, logits.clone(), 4)
    if err is not None:
        return err
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (6,):
        return CheckResult(name, False, f"return one score per face: shape (6,) for 6 faces, got "
                           f"{tuple(getattr(got, 'shape', ()))}")
    want = logits[:, 4:].logsumexp(1) - logits[:, :4].logsumexp(1)
    if torch.allclose(got, want, atol=1e-5):
        return CheckResult(name, True, "C's 2N classes split every face into real and synthesized: summed over the "
                           "people, that split is a detector, even for people C never saw")
    if torch.allclose(got, -want, atol=1e-5):
        return CheckResult(name, False, "the other way round: the synthesized classes are N .. 2N - 1, and a higher "
                           "score should mean more likely synthesized")
    probs = logits.softmax(1)
    if torch.allclose(got, probs[:, 4:].sum(1), atol=1e-5):
        return CheckResult(name, False, "that is P(synthesized), a probability; the score is the log-odds, "
                           "log P(synthesized) - log P(real), which does not saturate at 0 or 1")
    if torch.allclose(got, logits[:, 4:].max(1).values - logits[:, :4].max(1).values, atol=1e-5):
        return CheckResult(name, False, "that compares the single best class of each block; sum the probability "
                           "over every class of the block (logsumexp of the logits) instead")
    if torch.allclose(got, logits[:, 4:].sum(1) - logits[:, :4].sum(1), atol=1e-5):
        return CheckResult(name, False, "logits do not add up to probabilities: sum probabilities, which in log "
                           "space is logsumexp")
    return CheckResult(name, False, "expected log P(synthesized) - log P(real) per face, the probabilities summed "
                       "over each block of N classes")
