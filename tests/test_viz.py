"""Charts and scatter plots: plotly when interactive, PIL images headless; UMAP is reproducible."""

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from faceid_lab.viz.curves import histogram_chart, line_chart
from faceid_lab.viz.grids import with_pose_arrows
from faceid_lab.viz.scatter import scatter_2d, umap_2d


def test_charts_are_plotly_when_interactive_and_images_headless():
    fig = line_chart([1, 2, 3], {"loss": [3.0, 2.0, 1.5]}, log_y=True, static=False)
    assert isinstance(fig, go.Figure) and fig.layout.yaxis.type == "log"
    im = line_chart([1, 2, 3], {"loss": [3.0, 2.0, float("nan")]})  # headless in tests (conftest)
    assert isinstance(im, Image.Image) and np.asarray(im).std() > 0
    assert isinstance(line_chart([], {"loss": []}), Image.Image)
    hist = histogram_chart({"genuine": np.random.default_rng(0).normal(0.7, 0.1, 200), "impostor": np.zeros(50)},
                           static=False)
    assert isinstance(hist, go.Figure) and len(hist.data) == 2
    assert abs(sum(hist.data[0].y) - 1) < 1e-9  # each group is a share of its pairs


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
    assert isinstance(scatter_2d(coords, labels, kinds), Image.Image)


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
