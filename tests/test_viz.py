"""Charts and scatter plots: plotly when interactive, matplotlib Charts (one PNG) headless; UMAP is reproducible."""

import numpy as np
import plotly.graph_objects as go
import torch

from faceid_lab.viz.chart import Chart
from faceid_lab.viz.curves import histogram_chart, line_chart, scale_groups
from faceid_lab.viz.grids import with_pose_arrows
from faceid_lab.viz.scatter import scatter_2d, umap_2d


def test_charts_are_plotly_when_interactive_and_images_headless():
    fig = line_chart([1, 2, 3], {"loss": [3.0, 2.0, 1.5]}, log_y=True, static=False)
    assert isinstance(fig, go.Figure) and fig.layout.yaxis.type == "log"
    chart = line_chart([1, 2, 3], {"loss": [3.0, 2.0, float("nan")]})  # headless in tests (conftest)
    assert isinstance(chart, Chart) and np.asarray(chart.to_image()).std() > 0
    assert isinstance(line_chart([], {"loss": []}), Chart)
    hist = histogram_chart({"genuine": np.random.default_rng(0).normal(0.7, 0.1, 200), "impostor": np.zeros(50)},
                           static=False)
    assert isinstance(hist, go.Figure) and len(hist.data) == 2
    assert abs(sum(hist.data[0].y) - 1) < 1e-9  # each group is a share of its pairs


def test_series_of_different_scales_get_their_own_panel():
    series = {"M (convergence)": [0.2, 0.1, 0.08], "k": [0.0, 0.0, 0.0], "pose loss": [0.5, 0.3, 0.2],
              "C loss": [4.0, 3.0, 2.5], "accuracy": [0.1, 0.5, 0.9]}
    assert scale_groups(series) == [["pose loss", "C loss", "accuracy"], ["M (convergence)"], ["k"]]
    chart = line_chart([0, 1, 2], series)
    assert len(chart.figure.axes) == 3
    fig = line_chart([0, 1, 2], series, static=False)
    assert {t.yaxis for t in fig.data} == {"y", "y2", "y3"}
    assert len(line_chart([0, 1, 2], series, log_y=True).figure.axes) == 1  # a log axis holds every scale


def test_static_legends_sit_outside_the_data_and_roc_reads_on_a_log_axis():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    far = np.r_[0.0, np.logspace(-4, 0, 30)]
    chart = line_chart(far, {"judge": far ** 0.1, "baseline": far ** 0.5}, xlabel="false accept rate", log_x=True)
    ax = chart.figure.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines[0].get_xdata()) == 30  # the FAR = 0 point is dropped
    canvas = FigureCanvasAgg(chart.figure)
    canvas.draw()
    legend = ax.get_legend().get_window_extent(canvas.get_renderer())
    assert legend.x0 >= ax.get_window_extent(canvas.get_renderer()).x1  # right of the plotting area
    hist = histogram_chart({"genuine": np.random.default_rng(0).normal(0.7, 0.1, 200), "impostor": np.zeros(50)})
    assert [t.get_text() for t in hist.figure.axes[0].get_legend().get_texts()] == ["genuine", "impostor"]


def test_a_log_loss_axis_reads_in_plain_numbers():
    x = list(range(100, 5001, 100))
    loss = [0.2 + 0.6 * np.exp(-v / 1500) for v in x]
    chart = line_chart(x, {"loss": loss}, log_y=True, static=True)
    chart.png()  # draws the figure, so the tick labels are final
    ax = chart.figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels(minor=False) + ax.get_yticklabels(minor=True) if t.get_text()]
    assert labels and all("10^" not in t and "times" not in t and "\\" not in t for t in labels), labels
    assert {"0.2", "0.3", "0.5"} <= set(labels)


def test_a_chart_is_one_png_in_a_notebook():
    from IPython.core.interactiveshell import InteractiveShell

    shown, _ = InteractiveShell.instance().display_formatter.format(line_chart([1, 2], {"loss": [2.0, 1.0]}))
    assert set(shown) == {"image/png", "text/plain"} and shown["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_the_set_up_cell_stores_a_picture_once(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from PIL import Image

    from faceid_lab import course

    shell = InteractiveShell.instance()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    picture = Image.new("RGB", (8, 8))
    assert "image/jpeg" in shell.display_formatter.format(picture)[0]  # IPython's default: PNG and JPEG
    course.one_image_per_picture()
    assert set(shell.display_formatter.format(picture)[0]) == {"image/png", "text/plain"}


def test_umap_is_reproducible_and_separates_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 5
    labels = np.repeat(np.arange(3), 20)
    x = centres[labels] + rng.normal(size=(60, 16))
    a, b = umap_2d(x, n_neighbors=10, random_state=0), umap_2d(x, n_neighbors=10, random_state=0)
    assert a.shape == (60, 2) and np.allclose(a, b)
    means = np.stack([a[labels == k].mean(0) for k in range(3)])
    within = np.mean([np.linalg.norm(a[labels == k] - means[k], axis=1).mean() for k in range(3)])
    between = min(np.linalg.norm(means[i] - means[j]) for i in range(3) for j in range(i + 1, 3))
    assert between > 2 * within


def test_scatter_marks_identity_and_kind():
    coords = np.random.default_rng(1).normal(size=(6, 2))
    labels, kinds = ["a", "a", "b", "b", "c", "c"], ["real", "synth"] * 3
    fig = scatter_2d(coords, labels, kinds, hover=[str(i) for i in range(6)], static=False)
    assert len(fig.data) == 6 and {t.marker.symbol for t in fig.data} == {"circle", "x"}
    chart = scatter_2d(coords, labels, kinds)
    names = [t.get_text() for t in chart.figure.axes[0].get_legend().get_texts()]
    assert names == ["a", "b", "c", "real", "synth"]  # every person and both kinds are in the legend


def test_pose_arrows_point_where_the_face_looks():
    faces = torch.zeros(2, 3, 32, 32)
    im = np.asarray(with_pose_arrows(faces, torch.tensor([[60.0, 0, 0], [-60.0, 0, 0]]), scale=2, length=0.45))
    yellow = (im[..., 0] > 200) & (im[..., 1] > 150) & (im[..., 2] < 80)
    ys, xs = np.nonzero(yellow)
    tile = im.shape[1] // 2
    first, second = xs[xs < tile], xs[xs >= tile] - tile
    assert first.mean() > tile / 2 > second.mean()  # yaw > 0 points to the image's right


def test_the_synthfaces_explorer_builds_its_sliders_in_jupyter(monkeypatch):
    # what a learner runs in JupyterLab (headless off): ipywidgets 8 takes only `value` positionally
    from faceid_lab.viz.synthfaces import explorer

    monkeypatch.setenv("FACEID_LAB_HEADLESS", "0")
    monkeypatch.delenv("CI", raising=False)
    box = explorer(resolution=32)
    sliders, view = box.children[0].children, box.children[1]
    identity, yaw = sliders[0], sliders[1]
    assert (identity.max, yaw.min, yaw.max) == (99, -75, 75)
    before = view.value
    yaw.value = 45
    assert view.value != before and view.value[:4] == b"\x89PNG"  # the face turned
