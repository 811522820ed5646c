"""Notebook 07: snapshots over training, cluster numbers in feature space, the UMAP pictures."""

import numpy as np
import pytest
import torch

from conftest import PooledPixelJudge as PixelJudge
from faceid_lab.clusters import (
    ClusterSet,
    centroid_distances,
    cluster_findings,
    cluster_table,
    collect_clusters,
    distance_over_training,
    neighbourhood_mixing,
    umap_layout,
)
from faceid_lab.train.checkpoint import CheckpointError
from faceid_lab.train.faceidgan import FaceIdGanConfig, load_snapshot, snapshot_steps, train_faceid_gan


def test_centroid_distance_and_mixing_on_hand_made_points():
    labels = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])
    synthesized = torch.tensor([False] * 4 + [True] * 4)
    real = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    on_top = torch.cat([real, real + 1e-3])                      # G's faces on their real photos
    d = centroid_distances(on_top, labels, synthesized)
    assert d.shape == (2,) and d.max() < 1e-2
    assert neighbourhood_mixing(on_top, labels, synthesized, k=1).tolist() == [1.0] * 4
    apart = torch.cat([real, torch.tensor([[-1.0, 0.0], [-1.0, -0.1], [0.0, -1.0], [-0.1, -1.0]])])
    assert centroid_distances(apart, labels, synthesized).min() > 1.9
    assert neighbourhood_mixing(apart, labels, synthesized, k=1).tolist() == [0.0] * 4


@pytest.fixture(scope="module")
def two_models(tmp_path_factory, tiny_gan_world):
    identity_net, pose_net, data = tiny_gan_world
    folder = tmp_path_factory.mktemp("models")
    models = {}
    for classifier in ("n", "2n"):
        cfg = FaceIdGanConfig(classifier=classifier, width=4, resolution=32, z_dim=8, steps=8, batch=4)
        path = folder / f"{classifier}.pt"
        models[classifier], _ = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path)
    return models


def test_training_keeps_snapshots_and_they_load(two_models):
    p = two_models["2n"]
    assert snapshot_steps(p.cfg) == (2, 4, 6)
    mid = load_snapshot(p, 4)
    assert mid is not p and not all(torch.equal(a, b) for a, b in zip(mid.G.state_dict().values(),
                                                                       p.G.state_dict().values(), strict=True))
    assert not torch.equal(mid.C.head.weight, p.C.head.weight)
    assert load_snapshot(p, p.cfg.steps) is p
    with pytest.raises(CheckpointError, match="no snapshot at step 5"):
        load_snapshot(p, 5)


@pytest.fixture(scope="module")
def clusters(two_models):
    return collect_clusters({"N": two_models["n"], "2N": two_models["2n"]}, PixelJudge(), identities=3,
                            per_identity=2, resolution=32)


def test_collect_clusters_embeds_real_and_synthesized_faces_at_every_step(clusters, two_models):
    assert isinstance(clusters, ClusterSet) and clusters.models == ["N", "2N"]
    assert clusters.steps["N"] == [2, 4, 6, 8] and clusters.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert clusters.synthesized[("2N", 4)].shape == clusters.real.shape == (6, 3, 32, 32)
    assert clusters.judge[("synthesized", "N", 8)].shape == (6, 48)  # PixelJudge: 3 x 4 x 4
    assert clusters.own_c[("real", "2N", 2)].shape == (6, 256)
    final = two_models["2n"]  # C's own space is C's features of faces as C sees them (blurred)
    assert torch.allclose(clusters.own_c[("real", "2N", 8)], final.c_features(clusters.real), atol=1e-5)
    rows = cluster_table(clusters)
    assert [(r["model"], r["space"]) for r in rows] == [("N", "judge"), ("N", "own C"), ("2N", "judge"),
                                                        ("2N", "own C")]
    assert all(r["centroid distance"] >= 0 and 0 <= r["mixing (k=5)"] <= 1 for r in rows)
    curve = distance_over_training(clusters)
    assert set(curve) == {"N", "2N"} and len(curve["N"]) == 4


def test_umap_layout_and_pictures(clusters, monkeypatch):
    from faceid_lab.viz.clusters import cluster_explorer, cluster_figure, umap_playground, umap_settings_picture

    layout = umap_layout(clusters, n_neighbors=5)
    assert len(layout) == 1 + 2 * 4 and all(v.shape == (6, 2) for v in layout.values())
    assert np.allclose(layout[("real", "", 0)], umap_layout(clusters, n_neighbors=5)[("real", "", 0)])  # seeded
    static = cluster_figure(clusters, layout, static=True, size=200)
    assert [ax.get_title() for ax in static.figure.axes] == ["N, step 2", "2N, step 2", "N, step 8", "2N, step 8"]
    assert static.figure.axes[1].get_legend() is not None  # markers explained beside the panels
    fig = cluster_figure(clusters, layout, static=False)
    assert len(fig.frames) == 4 and len(fig.data) == 6
    hover = fig.data[2].text[0]
    assert "person 0" in hover and "synthesized" in hover and "step 2" in hover
    faces = cluster_explorer(clusters, layout)  # headless: what hovering shows, not the picture again
    assert faces.size[1] > 3 * clusters.real.shape[-1]  # a row of real photos and one per model
    picture = umap_settings_picture(clusters, "2N", settings=((3, 0.0), (5, 0.5)), size=150)
    assert [ax.get_title().split("\n")[0] for ax in picture.figure.axes] == ["n_neighbors 3, min_dist 0.0",
                                                                            "n_neighbors 5, min_dist 0.5"]
    assert "interactive" in umap_playground(clusters, "2N")
    monkeypatch.setenv("FACEID_LAB_HEADLESS", "0")  # the widget explorer: slider moves the crosses
    monkeypatch.delenv("CI", raising=False)          # (CI=true also means headless)
    box = cluster_explorer(clusters, layout)
    slider, (plot, _) = box.children[0], box.children[1].children
    final = np.array(plot.data[2].x)
    slider.value = 0
    assert not np.allclose(np.array(plot.data[2].x), final)
    assert np.allclose(np.array(plot.data[2].x), layout[("synthesized", "N", 2)][:, 0])
    playground = umap_playground(clusters, "2N")  # what a learner runs in JupyterLab: real sliders
    controls = playground.children[0]
    sliders = {w.description: w for w in controls.children[:2]}
    assert (sliders["n_neighbors"].value, sliders["min_dist"].max) == (15, 0.99)


def _hand_made_clusters(offset_near: float, offset_far: float, people: int = 6, photos: int = 4):
    """Real features at one centre per person; model "far"'s faces `offset_far` away from their
    person's centre, model "near"'s `offset_near` away (features in 8-D, the judge's space)."""
    g = torch.Generator().manual_seed(0)
    centres = torch.eye(8)[:people] * 5
    labels = torch.arange(people).repeat_interleave(photos)
    real = centres[labels] + 0.1 * torch.randn(len(labels), 8, generator=g)
    shift = torch.zeros(8)
    shift[-1] = 1.0
    cs = ClusterSet(real=torch.zeros(len(labels), 3, 4, 4), labels=labels, steps={"far": [10], "near": [10]})
    cs.judge[("real", "", 0)] = real
    cs.judge[("synthesized", "far", 10)] = real + offset_far * shift
    cs.judge[("synthesized", "near", 10)] = real + offset_near * shift
    return cs


def test_cluster_findings_word_the_paired_measurement():
    lines = cluster_findings(_hand_made_clusters(offset_near=0.05, offset_far=3.0))
    assert "near minus far" in lines[0] and "near's faces sit closer to their real clusters than far's" in lines[0]
    assert "more mixed into" in lines[1]
    assert "6 of 6 people with near" in lines[2] and "0 of 6 people with far" in lines[2]
    same = cluster_findings(_hand_made_clusters(offset_near=3.0, offset_far=3.0))
    assert "no measurable difference" in same[0]
