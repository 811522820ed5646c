"""Seeds and intervals: how sure a comparison of models is.

Two questions, two tools:
- how much does a model's score move with its training seed? `mean_interval` over the seeds'
  scores: the mean and a Student-t 95% interval (with 3 seeds t = 4.30, so the interval is wide,
  honestly so);
- is variant A better than variant B on these test people? `paired_bootstrap` over people: both
  variants are scored on the same people, so the difference is taken person by person and the
  people are resampled (with replacement) to see how much the mean difference depends on who was
  drawn. The difference is *separated* from zero when its 95% interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """{"mean", "low", "high", "n"}: the mean of `values` (one per seed) and its Student-t interval.
    With one value the interval is unknown (NaN), never zero-width."""
    from scipy import stats  # why: 1 s to import, for the intervals only

    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan, "n": n}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], resamples: int = 2000, seed: int = 0,
                     confidence: float = CONFIDENCE) -> dict:
    """Mean of a - b over paired units (test people) with a percentile bootstrap interval.
    Returns {"difference", "low", "high", "separated", "units"}; `separated` is True when the
    interval excludes zero (a measurable difference), False otherwise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"paired_bootstrap needs two equal-length 1-D score lists of 2 or more people, "
                         f"not shapes {a.shape} and {b.shape}")
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(1)
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return {"difference": float(d.mean()), "low": float(low), "high": float(high),
            "separated": bool(low > 0 or high < 0), "units": len(d)}


def format_interval(summary: dict, digits: int = 3) -> str:
    """'0.512 [0.480, 0.544]' for a mean_interval or paired_bootstrap summary ('0.512' with one seed)."""
    centre = summary.get("mean", summary.get("difference"))
    if summary.get("low") is None or math.isnan(summary["low"]):
        return f"{centre:.{digits}f}"
    return f"{centre:.{digits}f} [{summary['low']:.{digits}f}, {summary['high']:.{digits}f}]"
