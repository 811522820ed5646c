"""Pictures of real vs synthesized identity clusters (notebook 07).

`cluster_figure`: the models side by side in one UMAP layout (colour = person, circle = real
photo, cross = G's face, a grey line from each synthesized face to the photo it was made from),
with a slider (and play button) over training steps; a PIL picture headless.
`cluster_explorer`: the same as a plotly FigureWidget with an ipywidgets step slider, and the
face under the mouse shown beside the plot.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from .. import course
from .grids import label_font
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
    import plotly.graph_objects as go

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
    static = course.headless() if static is None else static
    models = clusters.models
    if static:
        count = len(clusters.steps[models[0]])
        picks = sorted({0, count - 1})
        out = Image.new("RGB", (size * len(models), size * len(picks)), (255, 255, 255))
        for r, k in enumerate(picks):
            for c, model in enumerate(models):
                out.paste(_static_panel(clusters, layout, model, clusters.steps[model][k], size), (size * c, size * r))
        return out
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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


def _static_panel(clusters, layout: dict, model: str, step: int, size: int) -> Image.Image:
    im = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    real, fake = layout[("real", "", 0)], layout[("synthesized", model, step)]
    every = np.concatenate([v for v in layout.values()])
    lo, hi = every.min(0), every.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)

    def xy(p):
        q = (p - lo) / span * (size - 40) + 20
        return float(q[0]), float(size - q[1])

    labels = clusters.labels.numpy()
    for a, b in zip(real, fake, strict=True):
        draw.line((*xy(a), *xy(b)), fill=(200, 200, 200), width=1)
    for p, lab in zip(real, labels, strict=True):
        x, y = xy(p)
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=_colour(int(lab)))
    for p, lab in zip(fake, labels, strict=True):
        x, y = xy(p)
        c = _colour(int(lab))
        draw.line((x - 4, y - 4, x + 4, y + 4), fill=c, width=2)
        draw.line((x - 4, y + 4, x + 4, y - 4), fill=c, width=2)
    draw.text((6, 4), f"{model}, step {step}", fill=(0, 0, 0), font=label_font(12))
    draw.text((6, 18), "o real photo   x G's face   grey: made from", fill=(90, 90, 90), font=label_font(12))
    draw.rectangle((0, 0, size - 1, size - 1), outline=(180, 180, 180))
    return im


def _png(image) -> bytes:
    from ..images import to_uint8_hwc

    buf = io.BytesIO()
    Image.fromarray(to_uint8_hwc(image[None])[0]).resize((128, 128), Image.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


def cluster_explorer(clusters, layout: dict, size: int = 380, widget: bool | None = None):
    """Interactive: a FigureWidget (models side by side), a step slider, and the face under the
    mouse shown beside the plot. Where FigureWidgets do not render (Colab; course.figure_widgets),
    the plain plotly figure with frames and a step slider; headless, the static picture."""
    if course.headless():
        return cluster_figure(clusters, layout, static=True)
    if not (course.figure_widgets() if widget is None else widget):
        return cluster_figure(clusters, layout, static=False, size=size)
    import ipywidgets as widgets
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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
    from ..clusters import only, umap_layout

    if course.headless():
        return "(interactive in Jupyter or Colab: sliders for n_neighbors and min_dist)"
    import ipywidgets as widgets
    from IPython.display import display

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


def umap_settings_picture(clusters, model: str, settings=((5, 0.0), (30, 0.8)), size: int = 300) -> Image.Image:
    """The same points (real photos and one model's final faces) laid out with several
    (n_neighbors, min_dist) settings, side by side."""
    from ..clusters import only, umap_layout

    one = only(clusters, model)
    step = one.steps[model][0]
    out = Image.new("RGB", (size * len(settings), size + 16), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    for i, (nn, md) in enumerate(settings):
        out.paste(_static_panel(one, umap_layout(one, n_neighbors=nn, min_dist=md), model, step, size), (size * i, 16))
        draw.text((size * i + 6, 2), f"n_neighbors {nn}, min_dist {md}", fill=(0, 0, 0), font=label_font(12))
    return out
