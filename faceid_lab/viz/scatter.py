"""UMAP projections and 2-D scatter plots of identity features (plotly, static headless).

UMAP keeps neighbourhoods: points that are close in feature space stay close. It does not
keep distances between clusters, so read "which points group together", not "how far apart
two groups are". n_neighbors trades local for global structure; min_dist packs clusters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from .. import course
from .curves import PALETTE
from .grids import label_font


def umap_2d(features: torch.Tensor | np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
            metric: str = "cosine", random_state: int = 0) -> np.ndarray:
    """(N, D) features -> (N, 2) UMAP coordinates, reproducible for a fixed random_state."""
    import umap

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
    plotly figure when interactive; a PIL image headless (circles real, crosses other kinds)."""
    labels = [str(x) for x in labels]
    kinds = list(kinds) if kinds is not None else ["real"] * len(labels)
    names = list(dict.fromkeys(labels))
    static = course.headless() if static is None else static
    if not static:
        import plotly.graph_objects as go

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
    w, h = size
    im = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    lo, hi = coords.min(0), coords.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    xy = (coords - lo) / span * np.array([w - 40, h - 60]) + np.array([20, 40])
    draw.text((8, 6), title, fill=(0, 0, 0), font=label_font(12))
    kind_names = list(dict.fromkeys(kinds))
    for (x, y), lab, kind in zip(xy, labels, kinds, strict=True):
        c = _colour(names.index(lab))
        if kind == kind_names[0]:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=c)
        else:
            draw.line((x - 4, y - 4, x + 4, y + 4), fill=c, width=2)
            draw.line((x - 4, y + 4, x + 4, y - 4), fill=c, width=2)
    legend = "  ".join(f"{'o' if k == 0 else 'x'} {kind}" for k, kind in enumerate(kind_names))
    draw.text((8, 20), f"colour = identity ({len(names)}); {legend}", fill=(60, 60, 60), font=label_font(12))
    return im
