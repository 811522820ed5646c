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
