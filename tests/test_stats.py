"""Seeds and intervals, KID, and the texture-robustness transforms, against known cases."""

import math

import numpy as np
import pytest
import torch

from faceid_lab import metrics
from faceid_lab.stats import format_interval, mean_interval, paired_bootstrap


def test_mean_interval_is_the_student_t_interval():
    s = mean_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(0.975, 2) = 4.3027
    assert s["mean"] == pytest.approx(2.0)
    assert s["high"] - s["mean"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert s["mean"] - s["low"] == pytest.approx(s["high"] - s["mean"])
    one = mean_interval([0.7])
    assert one["mean"] == 0.7 and math.isnan(one["low"]) and math.isnan(one["high"])  # unknown, not zero-width
    assert format_interval(s, 2) == "2.00 [-0.48, 4.48]" and format_interval(one) == "0.700"


def test_paired_bootstrap_separates_a_real_difference_and_not_noise():
    rng = np.random.default_rng(1)
    base = rng.normal(0.5, 0.2, 100)  # people differ a lot; the pairing removes that
    better = paired_bootstrap(base + 0.03 + rng.normal(0, 0.01, 100), base)
    assert better["separated"] and better["low"] > 0 and better["difference"] == pytest.approx(0.03, abs=0.005)
    noise = paired_bootstrap(base + rng.normal(0, 0.05, 100), base)
    assert not noise["separated"] and noise["low"] < 0 < noise["high"]
    constant = paired_bootstrap([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert constant["low"] == constant["high"] == pytest.approx(0.5)  # every resample gives the same mean
    with pytest.raises(ValueError, match="equal-length"):
        paired_bootstrap([1.0, 2.0], [1.0])


def _mmd2_unbiased(x, y):
    """The unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, written out pair by pair."""
    d, m = x.shape[1], len(x)
    k = lambda a, b: (float(a @ b) / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_is_the_unbiased_mmd_and_near_zero_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 5, generator=g, dtype=torch.float64), torch.randn(12, 5, generator=g, dtype=torch.float64)
    # one subset of the whole sets: the subset is a permutation, which the estimate does not depend on
    kid = metrics.kernel_inception_distance(x, y + 1.0, subset_size=12, subsets=1)["kid"]
    assert kid == pytest.approx(_mmd2_unbiased(x.numpy(), (y + 1.0).numpy()), rel=1e-9)
    draw = lambda: torch.randn(400, 8, generator=g)  # noqa: E731
    same = metrics.kernel_inception_distance(draw(), draw())
    shifted = metrics.kernel_inception_distance(draw(), draw() + 0.5)
    assert abs(same["kid"]) < 3 * same["std"] + 0.02 and shifted["kid"] > 10 * abs(same["kid"]) + 0.05


def test_blur_and_jpeg_keep_flat_images_and_remove_fine_texture():
    flat = torch.full((2, 3, 32, 32), 0.4)
    assert torch.allclose(metrics.gaussian_blurred(flat, 1.0), flat, atol=1e-6)
    assert torch.allclose(metrics.jpeg_compressed(flat, 75), flat, atol=2 / 255)
    checker = ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2).float().expand(2, 3, 32, 32)
    blurred = metrics.gaussian_blurred(checker, 1.0)
    assert (blurred - 0.5).abs().mean() < 0.2 * (checker - 0.5).abs().mean()  # a 1-px checkerboard fades
    colour = torch.stack([checker[:, 0], 1 - checker[:, 1], torch.full_like(checker[:, 2], 0.5)], 1)
    smooth = torch.linspace(0.2, 0.8, 32).expand(2, 3, 32, 32).contiguous()
    lost = lambda x: (metrics.jpeg_compressed(x, 75) - x).abs().mean()  # noqa: E731
    assert lost(colour) > 10 * lost(smooth)  # JPEG keeps smooth shading and loses fine colour texture
