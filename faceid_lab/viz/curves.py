"""Training curves and small line charts: plotly when someone is looking, matplotlib otherwise.

Headless runs (tests, `faceid-lab course run`, the committed outputs) get a static matplotlib
`Chart`, so notebooks on GitHub show their curves and nbval needs no browser. Series whose sizes
differ by more than ten times (M and k, a loss and an accuracy) get one panel each, stacked over
a shared x axis, so no curve is flattened against another's scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from matplotlib.ticker import FuncFormatter, LogLocator
from plotly.subplots import make_subplots

from .. import runtime
from .chart import PALETTE, Chart, legend_outside, new_figure, rgb01

SCALE_RATIO = 10.0  # series whose typical sizes differ by more than this get separate panels


def typical_size(values: Sequence[float]) -> float:
    """The 90th percentile of |value| over the finite values (0 when there are none): a size that
    one early spike does not decide."""
    finite = np.abs(np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64))
    return float(np.percentile(finite, 90)) if finite.size else 0.0


def scale_groups(series: dict[str, Sequence[float]], ratio: float = SCALE_RATIO) -> list[list[str]]:
    """The names of `series` grouped by scale, largest first: a series joins a group when its
    typical size is within `ratio` of the group's largest. All-zero series share a group."""
    sizes = sorted(((typical_size(v), k) for k, v in series.items()), key=lambda t: -t[0])
    groups: list[list[str]] = []
    lead = None
    for size, name in sizes:
        if groups and (size * ratio >= lead if lead > 0 else size == 0):
            groups[-1].append(name)
        else:
            groups.append([name])
            lead = size
    order = list(series)  # keep the caller's order inside a group
    return [sorted(g, key=order.index) for g in groups]


def line_chart(x: Sequence[float], series: dict[str, Sequence[float]], title: str = "", xlabel: str = "step",
               ylabel: str = "", log_y: bool = False, log_x: bool = False, separate: bool = False,
               static: bool | None = None, size: tuple[int, int] = (620, 300)):
    """One line per entry of `series` over `x` (one panel per scale, see `scale_groups`; one panel
    when `log_y`; one panel per series when `separate`, for quantities in different units).
    Returns a plotly Figure, or (static / headless) a matplotlib `Chart`.
    `log_x` drops points with x <= 0 (e.g. a ROC's false accept rate of 0)."""
    x = [float(v) for v in x]
    series = {k: [float("nan") if v is None else float(v) for v in vs] for k, vs in series.items()}
    if log_x:
        keep = [i for i, v in enumerate(x) if v > 0]
        x = [x[i] for i in keep]
        series = {k: [vs[i] for i in keep if i < len(vs)] for k, vs in series.items()}
    groups = [[k] for k in series] if separate else [list(series)] if log_y else scale_groups(series)
    static = runtime.headless() if static is None else static
    if not static:
        return _plotly_lines(x, series, groups, title, xlabel, ylabel, log_y, log_x, size)
    return _static_lines(x, series, groups, title, xlabel, ylabel, log_y, log_x, size)


def _plotly_lines(x, series, groups, title, xlabel, ylabel, log_y, log_x, size):

    fig = make_subplots(rows=len(groups), cols=1, shared_xaxes=True, vertical_spacing=0.06)
    colour = {k: "rgb({},{},{})".format(*PALETTE[i % len(PALETTE)]) for i, k in enumerate(series)}
    for row, names in enumerate(groups, start=1):
        for k in names:
            fig.add_trace(go.Scatter(x=x, y=series[k], mode="lines", name=k, line=dict(color=colour[k])),
                          row=row, col=1)
        if log_y:
            fig.update_yaxes(type="log", row=row, col=1)
        if len(groups) == 1 and ylabel:
            fig.update_yaxes(title_text=ylabel, row=row, col=1)
    if log_x:
        fig.update_xaxes(type="log")
    fig.update_xaxes(title_text=xlabel, row=len(groups), col=1)
    height = size[1] if len(groups) == 1 else int(size[1] * (0.35 + 0.55 * len(groups)))
    fig.update_layout(title=title, width=size[0], height=height, margin=dict(l=50, r=20, t=40, b=40))
    return fig


def _static_lines(x, series, groups, title, xlabel, ylabel, log_y, log_x, size) -> Chart:
    height = size[1] if len(groups) == 1 else int(size[1] * (0.35 + 0.55 * len(groups)))
    fig, axes = new_figure((size[0], height), rows=len(groups), sharex=True)
    if title:
        fig.suptitle(title, fontsize=11)
    colour = {k: rgb01(PALETTE[i % len(PALETTE)]) for i, k in enumerate(series)}
    for ax, names in zip(axes[:, 0], groups, strict=True):
        drawn = False
        for k in names:
            ys = np.asarray(series[k][: len(x)], dtype=np.float64)
            xs = np.asarray(x[: len(ys)], dtype=np.float64)
            if log_y:
                ys = np.where(ys > 0, ys, np.nan)
            if np.isfinite(ys).sum() == 1:  # a single point is a marker, not an invisible line
                ax.plot(xs, ys, "o", color=colour[k], label=k, markersize=4)
            else:
                ax.plot(xs, ys, color=colour[k], label=k, linewidth=1.6)
            drawn = drawn or bool(np.isfinite(ys).any())
        if not drawn:
            ax.text(0.5, 0.5, "no data yet", transform=ax.transAxes, ha="center", va="center", color="0.4")
        if log_y:
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis)
        if log_x:
            ax.set_xscale("log")
        if len(groups) == 1 and ylabel:
            ax.set_ylabel(ylabel, fontsize=10)
        legend_outside(ax)
    axes[-1, 0].set_xlabel(xlabel, fontsize=10)
    return Chart(fig)


def _plain_log_ticks(axis) -> None:
    """A log axis spanning less than two decades (a loss from 0.7 to 0.2) labelled 0.2, 0.3, ...,
    not 2 x 10^-1: matplotlib's default labels suit many decades, not a loss curve."""
    low, high = axis.get_view_interval()
    if low > 0 and high / low < 100:
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        axis.set_major_formatter(plain)
        axis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
        axis.set_minor_formatter(plain)


def histogram_chart(groups: dict[str, Sequence[float]], bins: int = 40, title: str = "", xlabel: str = "",
                    static: bool | None = None, size: tuple[int, int] = (620, 300)):
    """Overlaid density histograms (each group sums to 1), e.g. genuine vs impostor cosine
    similarities. plotly when interactive, a matplotlib `Chart` headless."""
    values = {k: np.asarray(v, dtype=np.float64) for k, v in groups.items()}
    lo = min(v.min() for v in values.values())
    hi = max(v.max() for v in values.values())
    edges = np.linspace(lo, hi + 1e-9, bins + 1)
    shares = {k: np.histogram(v, edges)[0] / max(1, len(v)) for k, v in values.items()}
    static = runtime.headless() if static is None else static
    if not static:
        centres = (edges[:-1] + edges[1:]) / 2
        fig = go.Figure([go.Bar(x=centres, y=s, name=k, opacity=0.6) for k, s in shares.items()])
        fig.update_layout(barmode="overlay", title=title, xaxis_title=xlabel, yaxis_title="share of pairs",
                          width=size[0], height=size[1], margin=dict(l=50, r=20, t=40, b=40))
        return fig
    fig, axes = new_figure(size)
    ax = axes[0, 0]
    for i, (k, s) in enumerate(shares.items()):
        c = rgb01(PALETTE[i % len(PALETTE)])
        ax.stairs(s, edges, fill=True, alpha=0.35, color=c)
        ax.stairs(s, edges, color=c, linewidth=1.4, label=k)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel("share", fontsize=10)
    if title:
        ax.set_title(title, fontsize=11)
    legend_outside(ax)
    return Chart(fig)
