"""Pictures of real vs synthesized identity clusters (notebook 07).

`cluster_figure`: the models side by side in one UMAP layout (colour = person, circle = real
photo, cross = G's face, a grey line from each synthesized face to the photo it was made from),
with a slider (and play button) over training steps; a matplotlib `Chart` headless.
`cluster_explorer`: the same as a plotly FigureWidget with an ipywidgets step slider, and the
face under the mouse shown beside the plot.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import torch
from IPython.display import display
from matplotlib.collections import LineCollection
from PIL import Image
from plotly.subplots import make_subplots

from .. import runtime
from ..clusters import only, umap_layout
from ..images import to_uint8_hwc
from .chart import Chart, legend_outside, new_figure, rgb01
from .grids import image_grid
from .scatter import _colour


def _rgb(p: int) -> str:
    r, g, b = _colour(p)
    return f"rgb({r},{g},{b})"


def _segments(a: np.ndarray, b: np.ndarray) -> tuple[list, list]:
    xs, ys = [], []
    for (x0, y0), (x1, y1) in zip(a, b, strict=True):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


def _traces(clusters, layout: dict, model: str, step: int, show_legend: bool) -> list:
    labels = clusters.labels.numpy()
    real, fake = layout[("real", "", 0)], layout[("synthesized", model, step)]
    xs, ys = _segments(fake, real)
    colours = [_rgb(int(p)) for p in labels]
    return [
        go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="rgba(120,120,120,0.35)", width=1), hoverinfo="skip",
                   showlegend=False),
        go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real photo", showlegend=show_legend,
                   marker=dict(symbol="circle", size=7, color=colours),
                   text=[f"person {p}, real photo {j}" for j, p in enumerate(labels)], hoverinfo="text"),
        go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="synthesized", showlegend=show_legend,
                   marker=dict(symbol="x", size=8, color=colours),
                   text=[f"person {p}, synthesized from photo {j}, {model}, step {step}" for j, p in enumerate(labels)],
                   hoverinfo="text"),
    ]


def cluster_figure(clusters, layout: dict, static: bool | None = None, size: int = 420):
    """Models side by side, a slider over training steps (by position: the k-th step of each model)."""
    static = runtime.headless() if static is None else static
    models = clusters.models
    if static:
        count = len(clusters.steps[models[0]])
        picks = sorted({0, count - 1})
        fig, axes = new_figure((int(size * 0.75 * len(models)) + 170, int(size * 0.75 * len(picks))),
                               rows=len(picks), cols=len(models))
        for r, k in enumerate(picks):
            for c, model in enumerate(models):
                _draw_panel(axes[r, c], clusters, layout, model, clusters.steps[model][k])
        _panel_legend(axes[0, -1])
        return Chart(fig)

    fig = make_subplots(rows=1, cols=len(models), subplot_titles=models)
    for c, model in enumerate(models):
        for tr in _traces(clusters, layout, model, clusters.steps[model][0], c == 0):
            fig.add_trace(tr, row=1, col=c + 1)
    count = min(len(clusters.steps[m]) for m in models)
    frames = []
    for k in range(count):
        data = [tr for c, m in enumerate(models) for tr in _traces(clusters, layout, m, clusters.steps[m][k], c == 0)]
        frames.append(go.Frame(data=data, name=str(clusters.steps[models[0]][k])))
    fig.frames = frames
    fig.update_layout(
        width=size * len(models) + 80, height=size + 120, margin=dict(l=20, r=20, t=60, b=20),
        title="UMAP of the judge's features: real photos (circles) and G's faces (crosses)",
        sliders=[dict(currentvalue=dict(prefix="training step "), steps=[
            dict(method="animate", label=f.name, args=[[f.name], dict(mode="immediate", frame=dict(duration=0))])
            for f in frames])],
        updatemenus=[dict(type="buttons", x=0, y=-0.05, buttons=[
            dict(label="play", method="animate", args=[None, dict(frame=dict(duration=700))])])])
    return fig


def _draw_panel(ax, clusters, layout: dict, model: str, step: int) -> None:
    """One model at one step on `ax`: real photos (circles), G's faces (crosses) in the person's
    colour, a grey line from each face to the photo it was made from. Every panel of a figure
    shares the same limits (the whole layout's), so panels can be compared by eye."""
    real, fake = layout[("real", "", 0)], layout[("synthesized", model, step)]
    every = np.concatenate([v for v in layout.values()])
    lo, hi = every.min(0), every.max(0)
    pad = 0.04 * np.where(hi > lo, hi - lo, 1.0)
    colours = [rgb01(_colour(int(p))) for p in clusters.labels.numpy()]
    ax.add_collection(LineCollection(np.stack([real, fake], 1), colors="0.8", linewidths=0.8, zorder=1))
    ax.scatter(real[:, 0], real[:, 1], s=16, marker="o", c=colours, linewidths=0, zorder=2)
    ax.scatter(fake[:, 0], fake[:, 1], s=22, marker="x", c=colours, linewidths=1.4, zorder=3)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_title(f"{model}, step {step}", fontsize=10)


def _panel_legend(ax) -> None:
    ax.scatter([], [], s=16, marker="o", color="0.3", label="real photo")
    ax.scatter([], [], s=22, marker="x", color="0.3", linewidths=1.4, label="G's face")
    ax.plot([], [], color="0.8", label="made from")
    legend_outside(ax, title="colour = person")


def _static_panel(clusters, layout: dict, model: str, step: int, size: int) -> Chart:
    fig, axes = new_figure((size + 150, size))
    _draw_panel(axes[0, 0], clusters, layout, model, step)
    _panel_legend(axes[0, 0])
    return Chart(fig)


def _png(image) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(to_uint8_hwc(image[None])[0]).resize((128, 128), Image.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


def hover_faces(clusters, people: int = 8) -> Image.Image:
    """What the explorer shows under the mouse, for a saved notebook: one real photo of each of
    `people` people and each model's face made from it at its last kept step."""
    count = min(people, int(clusters.labels.max()) + 1)
    picks = [int(np.flatnonzero(clusters.labels.numpy() == p)[0]) for p in range(count)]
    rows = [clusters.real[picks]] + [clusters.synthesized[(m, clusters.steps[m][-1])][picks] for m in clusters.models]
    labels = ["real photo"] + [f"{m}, step {clusters.steps[m][-1]}" for m in clusters.models]
    return image_grid(torch.cat(rows), ncol=len(picks), scale=2, row_labels=labels)


def cluster_explorer(clusters, layout: dict, size: int = 380, widget: bool | None = None):
    """Interactive: a FigureWidget (models side by side), a step slider, and the face under the
    mouse shown beside the plot. Where FigureWidgets do not render (Colab; runtime.figure_widgets),
    the plain plotly figure with frames and a step slider; headless, what hovering shows: faces."""
    if runtime.headless():
        return hover_faces(clusters)
    if not (runtime.figure_widgets() if widget is None else widget):
        return cluster_figure(clusters, layout, static=False, size=size)

    models = clusters.models
    count = min(len(clusters.steps[m]) for m in models)
    base = make_subplots(rows=1, cols=len(models), subplot_titles=models)
    for c, model in enumerate(models):
        for tr in _traces(clusters, layout, model, clusters.steps[model][-1], c == 0):
            base.add_trace(tr, row=1, col=c + 1)
    base.update_layout(width=size * len(models) + 60, height=size + 60, margin=dict(l=20, r=20, t=40, b=20))
    fig = go.FigureWidget(base)
    face = widgets.Image(value=_png(clusters.real[0]), format="png", width=128, height=128)
    caption = widgets.Label("hover over a point")
    slider = widgets.IntSlider(value=count - 1, min=0, max=count - 1, description="checkpoint")

    def on_step(change) -> None:
        with fig.batch_update():
            for c, model in enumerate(models):
                step = clusters.steps[model][change["new"]]
                fresh = _traces(clusters, layout, model, step, c == 0)
                for t, tr in enumerate(fresh):
                    fig.data[3 * c + t].x, fig.data[3 * c + t].y = tr.x, tr.y
                    fig.data[3 * c + t].text = tr.text

    def on_hover(trace, points, _state) -> None:
        if not points.point_inds:
            return
        j = points.point_inds[0]
        c, kind = divmod(fig.data.index(trace), 3)
        model = models[c]
        if kind == 1:
            image, text = clusters.real[j], f"person {int(clusters.labels[j])}: real photo {j}"
        else:
            step = clusters.steps[model][slider.value]
            image = clusters.synthesized[(model, step)][j]
            text = f"person {int(clusters.labels[j])}: G's face from photo {j} ({model}, step {step})"
        face.value, caption.value = _png(image), text

    slider.observe(on_step, names="value")
    for c in range(len(models)):
        fig.data[3 * c + 1].on_hover(on_hover)
        fig.data[3 * c + 2].on_hover(on_hover)
    return widgets.VBox([slider, widgets.HBox([fig, widgets.VBox([face, caption])])])


def umap_playground(clusters, model: str, step: int | None = None):
    """Sliders for UMAP's n_neighbors and min_dist, refitting the real photos and one model's faces
    (the judge's features) on every change. Headless: a note (the notebook shows fixed settings)."""
    if runtime.headless():
        return "(interactive in Jupyter or Colab: sliders for n_neighbors and min_dist)"

    one = only(clusters, model, step)
    step = one.steps[model][0]
    out = widgets.Output()

    def refit(n_neighbors: int, min_dist: float) -> None:
        layout = umap_layout(one, n_neighbors=n_neighbors, min_dist=min_dist)
        with out:
            out.clear_output(wait=True)
            display(_static_panel(one, layout, model, step, 420))

    # keywords: ipywidgets 8 takes only `value` positionally (positional min/max/step raise TypeError)
    controls = widgets.interactive(
        refit, n_neighbors=widgets.IntSlider(value=15, min=2, max=60, step=1, continuous_update=False),
        min_dist=widgets.FloatSlider(value=0.1, min=0.0, max=0.99, step=0.05, continuous_update=False))
    return widgets.VBox([controls, out])


def umap_settings_picture(clusters, model: str, settings=((5, 0.0), (30, 0.8)), size: int = 300) -> Chart:
    """The same points (real photos and one model's final faces) laid out with several
    (n_neighbors, min_dist) settings, side by side."""
    one = only(clusters, model)
    step = one.steps[model][0]
    fig, axes = new_figure((size * len(settings) + 150, size + 20), cols=len(settings))
    for ax, (nn, md) in zip(axes[0], settings, strict=True):
        _draw_panel(ax, one, umap_layout(one, n_neighbors=nn, min_dist=md), model, step)
        ax.set_title(f"n_neighbors {nn}, min_dist {md}\n{model}, step {step}", fontsize=10)
    _panel_legend(axes[0, -1])
    return Chart(fig)
