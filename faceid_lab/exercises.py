"""Checkers for the exercise cells: a friendly pass, or a specific hint.

Every checker takes the learner's function, returns a CheckResult (shown in the
notebook) and never raises: a stub that still raises NotImplementedError gets a
"not implemented yet" answer, a wrong result gets a hint about what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


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


def check_ground_truth_swap(fn: Callable) -> CheckResult:
    """fn(seed, identity_b, identity_a, image_a, resolution) -> (3, R, R) image of B with the
    pose, expression, light and background of photo `image_a` of A."""
    from .data import synthetic as S

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


def check_landmark_visibility(fn: Callable) -> CheckResult:
    """fn(yaw_degrees) -> list of landmark names hidden at that yaw (frontal identity 0)."""
    from .data import synthetic as S

    name = "hidden landmarks"
    for yaw in (0.0, 70.0, -70.0):
        got, err = _run(name, fn, yaw)
        if err is not None:
            return err
        r = S.render(S.sample_identities(0, [0]), S.Nuisance.reference(1, yaw=yaw), 64)
        want = sorted(n for n, v in zip(S.LANDMARK_NAMES, r.visible[0].tolist(), strict=True) if not v)
        if sorted(got or []) != want:
            return CheckResult(name, False, f"at yaw {yaw:+.0f} the hidden landmarks are {want or 'none'}, "
                               f"you returned {sorted(got or [])}. Use render(...).visible and "
                               "LANDMARK_NAMES, and remember yaw > 0 turns the nose to the image's right")
    return CheckResult(name, True, "turned far enough, a face hides its far mouth corner (and on some "
                       "faces the far eye): frontalization has to invent what it cannot see")


# ----------------------------------------------------------------------------
# Notebook 01: the deepfake
# ----------------------------------------------------------------------------

def _faces(seed: int, count: int = 4, size: int = 32) -> torch.Tensor:
    from .data import synthetic as S

    ids = list(range(count))
    return S.render(S.sample_identities(seed, ids), S.sample_nuisance(seed, ids, [0] * count), size).image


def check_random_warp(fn: Callable) -> CheckResult:
    """fn(images (B, C, H, W), strength, generator) -> the input warped by a jittered 5 x 5 grid:
    offsets randn(B, 2, 5, 5) * strength, bicubic to (H, W), added to the identity sampling grid,
    grid_sample with reflection padding."""
    import torch.nn.functional as F

    from .data.augment import warp_field

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
    from .models.autoencoder import FaceSwapAutoencoder

    torch.manual_seed(0)
    return FaceSwapAutoencoder(width=0.0625, resolution=32, mask=True).eval()


def check_shared_forward(fn: Callable) -> CheckResult:
    """fn(model, faces_a, faces_b) -> (A's faces rebuilt by decoder A, B's rebuilt by decoder B),
    both through the one shared encoder."""
    name = "shared-encoder forward"
    model = _tiny_autoencoder()
    fa, fb = _faces(4), _faces(5)
    with torch.no_grad():
        got, err = _run(name, fn, model, fa, fb)
        if err is not None:
            return err
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return CheckResult(name, False, "return a pair: (rebuilt A, rebuilt B)")
        ra, rb = got
        want_a = model.decoders["A"](model.encoder(fa))[0]
        want_b = model.decoders["B"](model.encoder(fb))[0]
        if not all(isinstance(t, torch.Tensor) and t.shape == fa.shape for t in (ra, rb)):
            return CheckResult(name, False, f"each output is a batch of faces shaped {tuple(fa.shape)}; the "
                               "decoders return (face, mask): keep the face")
        if torch.allclose(ra, model.decoders["B"](model.encoder(fa))[0], atol=1e-5):
            return CheckResult(name, False, "A's faces went through B's decoder: that is the swap. While "
                               "training, each person is rebuilt by their own decoder")
        if not (torch.allclose(ra, want_a, atol=1e-5) and torch.allclose(rb, want_b, atol=1e-5)):
            return CheckResult(name, False, "use model.encoder for both people, then model.decoders['A'] for A "
                               "and model.decoders['B'] for B")
    return CheckResult(name, True, "one encoder learns a code both people share (pose, expression, light); "
                       "each decoder learns to paint one person")


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
    from . import metrics

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
    import copy

    import torch.nn.functional as F

    from .models.identity import IdentityNet

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


def check_read_pose(fn: Callable) -> CheckResult:
    """fn(pose_net, image (3, R, R)) -> {"yaw": deg, "pitch": deg, "roll": deg}."""
    from .models.pose import PoseNet

    name = "read a pose from P"
    torch.manual_seed(0)
    net = PoseNet(width=4).eval()
    with torch.no_grad():
        net.head[-1].bias.copy_(torch.tensor([0.2, -0.1, 0.05, 0.3, 0.1, 0.0, 0.2]))
    image = _faces(8, 1, 32)[0]
    got, err = _run(name, fn, net, image)
    if err is not None:
        return err
    with torch.no_grad():
        want = net(image[None])[0, :3].tolist()
    if not isinstance(got, dict) or set(got) != {"yaw", "pitch", "roll"}:
        return CheckResult(name, False, "return a dict with keys 'yaw', 'pitch' and 'roll'")
    values = [float(got[k]) for k in ("yaw", "pitch", "roll")]
    if all(abs(v - w) < 1e-3 for v, w in zip(values, want, strict=True)):
        return CheckResult(name, True, "P reads degrees straight from pixels; FaceID-GAN feeds these numbers to G "
                           "and uses them to check G's faces")
    scaled = [w / s for w, s in zip(want, (75.0, 25.0, 15.0), strict=True)]
    if all(abs(v - w) < 1e-3 for v, w in zip(values, scaled, strict=True)):
        return CheckResult(name, False, "those are P's normalised outputs: call pose_net(x), which returns degrees")
    return CheckResult(name, False, f"expected yaw/pitch/roll {[round(w, 2) for w in want]}; add a batch "
                       "dimension (image[None]), run the net in eval mode under torch.no_grad(), take row 0, "
                       "columns 0, 1, 2")
