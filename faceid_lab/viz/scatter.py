"""UMAP projections and 2-D scatter plots of identity features (plotly, static headless).

UMAP keeps neighbourhoods: points that are close in feature space stay close. It does not
keep distances between clusters, so read "which points group together", not "how far apart
two groups are". n_neighbors trades local for global structure; min_dist packs clusters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from .. import runtime
from .chart import PALETTE, Chart, legend_outside, new_figure, rgb01

MAX_NAMED = 16  # people named one by one in a static legend; past that, colour only


def umap_2d(features: torch.Tensor | np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
            metric: str = "cosine", random_state: int = 0) -> np.ndarray:
    """(N, D) features -> (N, 2) UMAP coordinates, reproducible for a fixed random_state."""
    import umap  # why: 20 s and more to import (numba): only when a UMAP is drawn

    x = features.numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    reducer = umap.UMAP(n_neighbors=min(n_neighbors, len(x) - 1), min_dist=min_dist, metric=metric,
                        random_state=random_state, n_jobs=1)
    return reducer.fit_transform(x.astype(np.float32))


def _colour(k: int) -> tuple[int, int, int]:
    if k < len(PALETTE):
        return PALETTE[k]
    rng = np.random.default_rng(k)
    return tuple(int(c) for c in rng.integers(40, 220, 3))


def scatter_2d(coords: np.ndarray, labels: Sequence, kinds: Sequence[str] | None = None,
               hover: Sequence[str] | None = None, title: str = "", static: bool | None = None,
               size: tuple[int, int] = (560, 460)):
    """Points coloured by label (identity), marker by kind (e.g. real vs synthesized).
    plotly figure when interactive; a matplotlib `Chart` headless (circles for the first kind,
    crosses for the second), with a legend beside the points."""
    labels = [str(x) for x in labels]
    kinds = list(kinds) if kinds is not None else ["real"] * len(labels)
    names = list(dict.fromkeys(labels))
    static = runtime.headless() if static is None else static
    if not static:
        symbols = {k: s for k, s in zip(dict.fromkeys(kinds), ("circle", "x", "diamond", "square"), strict=False)}
        traces = []
        for n, name in enumerate(names):
            for kind, symbol in symbols.items():
                idx = [i for i, (lab, kd) in enumerate(zip(labels, kinds, strict=True)) if lab == name and kd == kind]
                if not idx:
                    continue
                r, g, b = _colour(n)
                traces.append(go.Scatter(
                    x=coords[idx, 0], y=coords[idx, 1], mode="markers", name=f"{name} ({kind})",
                    marker=dict(symbol=symbol, size=8, color=f"rgb({r},{g},{b})"),
                    text=[hover[i] for i in idx] if hover is not None else None, hoverinfo="text+name"))
        fig = go.Figure(traces)
        fig.update_layout(title=title, width=size[0], height=size[1], showlegend=len(traces) <= 24,
                          margin=dict(l=20, r=20, t=40, b=20))
        return fig
    fig, axes = new_figure(size)
    ax = axes[0, 0]
    markers = dict(zip(dict.fromkeys(kinds), ("o", "x", "D", "s"), strict=False))
    labels_arr, kinds_arr = np.asarray(labels), np.asarray(kinds)
    for n, name in enumerate(names):
        for kind, marker in markers.items():
            idx = (labels_arr == name) & (kinds_arr == kind)
            if idx.any():
                ax.scatter(coords[idx, 0], coords[idx, 1], s=22, marker=marker, color=rgb01(_colour(n)),
                           linewidths=1.5 if marker == "x" else 0.0)
    # the legend: one entry per person (colour) while they fit, then one per kind (marker)
    for n, name in enumerate(names[:MAX_NAMED]):
        ax.scatter([], [], s=22, marker="o", color=rgb01(_colour(n)), label=name)
    if len(markers) > 1:
        for kind, marker in markers.items():
            ax.scatter([], [], s=22, marker=marker, color="0.3", label=kind, linewidths=1.5)
    legend_outside(ax, title=f"colour = identity ({len(names)})" if len(names) > MAX_NAMED else None)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1", fontsize=9)
    ax.set_ylabel("UMAP 2", fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    return Chart(fig)
