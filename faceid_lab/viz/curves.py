"""Training curves and small line charts: plotly when someone is looking, a PNG otherwise.

Headless runs (tests, `faceid-lab course run`, the committed outputs) get a static
PIL image, so notebooks on GitHub show their curves and nbval needs no browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from .. import course
from .grids import label_font

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def line_chart(x: Sequence[float], series: dict[str, Sequence[float]], title: str = "", xlabel: str = "step",
               ylabel: str = "", log_y: bool = False, static: bool | None = None, size: tuple[int, int] = (560, 300)):
    """One line per entry of `series` over `x`. Returns a plotly Figure, or (static / headless)
    a PIL image of the same chart."""
    static = course.headless() if static is None else static
    if not static:
        import plotly.graph_objects as go

        fig = go.Figure([go.Scatter(x=list(x), y=list(v), mode="lines", name=k) for k, v in series.items()])
        fig.update_layout(title=title, xaxis_title=xlabel, yaxis_title=ylabel, width=size[0], height=size[1],
                          margin=dict(l=50, r=20, t=40, b=40))
        if log_y:
            fig.update_yaxes(type="log")
        return fig
    return _static_chart(list(x), {k: list(v) for k, v in series.items()}, title, xlabel, ylabel, log_y, size)


def _static_chart(x, series, title, xlabel, ylabel, log_y, size) -> Image.Image:
    w, h = size
    left, right, top, bottom = 56, 12, 24, 34
    im = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    f = (lambda v: math.log10(max(v, 1e-12))) if log_y else (lambda v: v)
    ys = [f(v) for vs in series.values() for v in vs if v == v]  # drop NaN
    if not x or not ys:
        draw.text((left, h // 2), "no data yet", fill=(0, 0, 0), font=label_font(12))
        return im
    x0, x1 = min(x), max(x)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    px = lambda v: left + (v - x0) / (x1 - x0) * (w - left - right)  # noqa: E731
    py = lambda v: top + (y1 - f(v)) / (y1 - y0) * (h - top - bottom)  # noqa: E731
    draw.rectangle((left, top, w - right, h - bottom), outline=(120, 120, 120))
    for k in range(5):  # y ticks
        yv = y0 + (y1 - y0) * k / 4
        yy = top + (y1 - yv) / (y1 - y0) * (h - top - bottom)
        draw.line((left - 3, yy, left, yy), fill=(120, 120, 120))
        draw.text((2, yy - 6), f"{10 ** yv:.3g}" if log_y else f"{yv:.3g}", fill=(60, 60, 60), font=label_font(12))
    for k in range(5):  # x ticks
        xv = x0 + (x1 - x0) * k / 4
        xx = px(xv)
        draw.line((xx, h - bottom, xx, h - bottom + 3), fill=(120, 120, 120))
        draw.text((xx - 12, h - bottom + 5), f"{xv:.4g}", fill=(60, 60, 60), font=label_font(12))
    draw.text((left, 4), title, fill=(0, 0, 0), font=label_font(12))
    draw.text((w - right - 8 * len(xlabel), h - 14), xlabel, fill=(60, 60, 60), font=label_font(12))
    if ylabel:
        draw.text((left + 4, top + 2), ylabel, fill=(60, 60, 60), font=label_font(12))
    for k, (name, vs) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = [(px(a), py(b)) for a, b in zip(x, vs, strict=False) if b == b]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        elif points:
            draw.ellipse((points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2), fill=colour)
        lx = w - right - 150
        ly = top + 6 + 14 * k
        draw.line((lx, ly + 6, lx + 18, ly + 6), fill=colour, width=2)
        draw.text((lx + 22, ly), name, fill=(0, 0, 0), font=label_font(12))
    return im


def histogram_chart(groups: dict[str, Sequence[float]], bins: int = 40, title: str = "", xlabel: str = "",
                    static: bool | None = None, size: tuple[int, int] = (560, 300)):
    """Overlaid density histograms (each group sums to 1), e.g. genuine vs impostor cosine
    similarities. plotly when interactive, a PIL image headless."""
    import numpy as np

    values = {k: np.asarray(v, dtype=np.float64) for k, v in groups.items()}
    lo = min(v.min() for v in values.values())
    hi = max(v.max() for v in values.values())
    edges = np.linspace(lo, hi + 1e-9, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    shares = {k: np.histogram(v, edges)[0] / max(1, len(v)) for k, v in values.items()}
    static = course.headless() if static is None else static
    if not static:
        import plotly.graph_objects as go

        fig = go.Figure([go.Bar(x=centres, y=s, name=k, opacity=0.6) for k, s in shares.items()])
        fig.update_layout(barmode="overlay", title=title, xaxis_title=xlabel, yaxis_title="share of pairs",
                          width=size[0], height=size[1], margin=dict(l=50, r=20, t=40, b=40))
        return fig
    return _static_chart(list(centres), {k: list(s) for k, s in shares.items()}, title, xlabel, "share", False, size)
