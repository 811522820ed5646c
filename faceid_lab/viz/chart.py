"""Static charts with matplotlib, shown as one PNG.

Headless runs (tests, `faceid-lab course run`, the committed outputs) draw with matplotlib's
object API (no pyplot, so no global figure state and no second inline copy). A `Chart` shows
itself in a notebook as exactly one PNG; `.figure` is the matplotlib Figure for anyone who
wants to restyle it.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

# matplotlib's tab10, as RGB in 0..255 (PIL drawings and plotly use the same colours)
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
DPI = 100


class Chart:
    """A finished matplotlib figure. In a notebook it displays as one PNG (not PNG + JPEG)."""

    def __init__(self, figure) -> None:
        self.figure = figure

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def to_image(self) -> Image.Image:
        """The chart as an RGB PIL image (to paste into a bigger picture, or to test)."""
        return Image.open(io.BytesIO(self.png())).convert("RGB")

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        self.figure.savefig(path, dpi=DPI)
        return path


def new_figure(size: tuple[int, int], rows: int = 1, cols: int = 1, sharex: bool = False):
    """A matplotlib Figure of `size` pixels with a rows x cols grid of axes (constrained layout,
    so legends placed outside the axes get their room). Returns (figure, 2-D array of axes)."""
    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, cols, sharex=sharex, squeeze=False)
    for ax in axes.flat:
        ax.tick_params(labelsize=9)
        ax.grid(True, color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    return fig, axes


def legend_outside(ax, title: str | None = None, max_entries: int = 24) -> None:
    """The legend to the right of the axes, never over the data (skipped past `max_entries`)."""
    handles, names = ax.get_legend_handles_labels()
    if handles and len(handles) <= max_entries:
        ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9,
                  title=title, title_fontsize=9, borderaxespad=0.0)


def rgb01(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(c / 255 for c in colour)
