"""Notebook 07: real vs synthesized identity clusters, in numbers and in UMAP pictures.

For unseen people, real photos and the faces G makes from them (one per photo, in a studio
target's pose) are embedded by the judge (one space shared by every model, so N-class and
2N-class models can be drawn in the same UMAP fit) and by each model's own C (at the same
training step as G). The numbers are computed in those original feature spaces, never in UMAP
coordinates:

- centroid distance: per person, |mean synthesized feature - mean real feature|;
- neighbourhood mixing: per synthesized face, the share of its k nearest neighbours (among all
  real and synthesized faces of that model) that are real photos of the same person. 1 means
  G's faces sit inside the person's real cluster; 0 means they form a cluster of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .data.datasets import HELDOUT_IMAGE_OFFSET, TEST_IDENTITY_OFFSET
from .models.pose import POSE_SCALE
from .stats import format_interval, paired_bootstrap
from .train.faceidgan import load_snapshot, snapshot_steps
from .train.gan import features, generate, render_photos
from .viz.scatter import umap_2d


@dataclass
class ClusterSet:
    """Real photos of unseen people and G's faces from them, for several models and steps.

    real: (R, 3, H, W) photos; labels: (R,) person index; synthesized[(model, step)]: (R, 3, H, W),
    row j made from real photo j; judge[key] / own_c[key]: (R, 256) features, where key is
    ("real", model, step) or ("synthesized", model, step) (for the judge, real features do not
    depend on the model: they are stored once under ("real", "", 0))."""

    real: torch.Tensor
    labels: torch.Tensor
    steps: dict[str, list[int]]
    synthesized: dict[tuple[str, int], torch.Tensor] = field(default_factory=dict)
    judge: dict[tuple, torch.Tensor] = field(default_factory=dict)
    own_c: dict[tuple, torch.Tensor] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return list(self.steps)


def collect_clusters(models: dict, judge, identities: int = 12, per_identity: int = 8, seed: int = 0,
                     resolution: int = 64) -> ClusterSet:
    """models: {name: Players} (trained with a checkpoint, so their snapshots exist). Renders
    `per_identity` wild photos and studio targets of `identities` unseen people, runs every model
    at each of its snapshot steps and the end, and embeds everything."""

    labels = np.repeat(np.arange(identities), per_identity)
    ids = TEST_IDENTITY_OFFSET + labels
    photos = HELDOUT_IMAGE_OFFSET + 100 + np.tile(np.arange(per_identity), identities)
    wild, _ = render_photos(seed, ids, photos, False, resolution)
    studio, _ = render_photos(seed, ids, photos, True, resolution)
    wild, studio = wild.float() / 255, studio.float() / 255
    out = ClusterSet(wild, torch.from_numpy(labels), {})
    out.judge[("real", "", 0)] = judge.embed(wild)
    for name, players in models.items():
        f_pose = features(players.pose_net, studio) / POSE_SCALE
        steps = [*snapshot_steps(players.cfg), players.cfg.steps] if players.checkpoint else [players.cfg.steps]
        out.steps[name] = steps
        for step in steps:
            p = load_snapshot(players, step)
            fake = generate(p.G, p.identity_features(wild), f_pose, seed=seed)
            out.synthesized[(name, step)] = fake
            out.judge[("synthesized", name, step)] = judge.embed(fake)
            if p.C is not None:
                out.own_c[("real", name, step)] = p.c_features(wild)       # as C sees faces (blurred)
                out.own_c[("synthesized", name, step)] = p.c_features(fake)
    return out


def centroid_distances(features: torch.Tensor, labels: torch.Tensor, synthesized: torch.Tensor) -> torch.Tensor:
    """(P,) per person p: |mean of p's synthesized features - mean of p's real features|.
    features (M, D), labels (M,) person index 0 .. P-1, synthesized (M,) bool."""
    people = int(labels.max()) + 1
    out = torch.zeros(people)
    for p in range(people):
        real = features[(labels == p) & ~synthesized].mean(0)
        fake = features[(labels == p) & synthesized].mean(0)
        out[p] = (fake - real).norm()
    return out


def neighbourhood_mixing(features: torch.Tensor, labels: torch.Tensor, synthesized: torch.Tensor,
                         k: int = 5) -> torch.Tensor:
    """(number of synthesized points,) for each synthesized point, the share of its k nearest
    neighbours (cosine, itself excluded) that are real points of the same person."""
    f = F.normalize(features.float(), dim=1)
    sim = f @ f.T
    sim.fill_diagonal_(-float("inf"))
    nearest = sim.topk(k, dim=1).indices                                   # (M, k)
    good = (labels[nearest] == labels[:, None]) & ~synthesized[nearest]    # (M, k)
    return good.float().mean(1)[synthesized]


def _space(clusters: ClusterSet, space: str, model: str, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    if space == "judge":
        real, fake = clusters.judge[("real", "", 0)], clusters.judge[("synthesized", model, step)]
    else:
        real, fake = clusters.own_c[("real", model, step)], clusters.own_c[("synthesized", model, step)]
    return torch.cat([real, fake]), torch.cat([torch.zeros(len(real)), torch.ones(len(fake))]).bool()


def _real_radius(real: torch.Tensor, labels: torch.Tensor) -> float:
    """The real clusters' own size: a real photo's mean distance to its person's real centroid."""
    centres = torch.stack([real[labels == p].mean(0) for p in range(int(labels.max()) + 1)])
    return (real - centres[labels]).norm(dim=1).mean().item()


def cluster_table(clusters: ClusterSet, step: int | None = None, k: int = 5,
                  distance: Callable = centroid_distances) -> list[dict]:
    """Per model and feature space (the judge's, the model's own C): mean and spread over people of
    the centroid distance, the mean neighbourhood mixing, and the real clusters' own radius (mean
    distance of a real photo to its person's real centroid) as the yardstick. distance:
    centroid_distances' signature (notebook 07 passes the learner's)."""
    rows = []
    labels = torch.cat([clusters.labels, clusters.labels])
    for model in clusters.models:
        at = step if step is not None else clusters.steps[model][-1]
        for space in ("judge", "own C"):
            if space == "own C" and ("real", model, at) not in clusters.own_c:
                continue
            feats, synth = _space(clusters, space, model, at)
            dist = torch.as_tensor(distance(feats, labels, synth), dtype=torch.float32)
            radius = _real_radius(feats[~synth], clusters.labels)
            rows.append({"model": model, "space": space, "step": at,
                         "centroid distance": dist.mean().item(), "(spread)": dist.std().item(),
                         "real cluster radius": radius,
                         f"mixing (k={k})": neighbourhood_mixing(feats, labels, synth, k).mean().item()})
    return rows


def cluster_findings(clusters: ClusterSet, space: str = "judge", k: int = 5,
                     distance: Callable = centroid_distances) -> list[str]:
    """What the cluster table says, worded from the measured values: the first two models' centroid
    distances (by `distance`, centroid_distances' signature) and mixing paired over people (2N minus
    N), a difference called one only where its 95% interval excludes 0, and whether G's faces reach
    the real cluster (distance under its radius)."""
    if len(clusters.models) < 2:
        return []
    labels = torch.cat([clusters.labels, clusters.labels])
    first, second = clusters.models[:2]
    per_person, radius = {}, {}
    for model in (first, second):
        feats, synth = _space(clusters, space, model, clusters.steps[model][-1])
        mixing = neighbourhood_mixing(feats, labels, synth, k)
        people = int(clusters.labels.max()) + 1
        per_person[model] = {
            "centroid distance": torch.as_tensor(distance(feats, labels, synth)).tolist(),
            f"mixing (k={k})": [mixing[clusters.labels == p].mean().item() for p in range(people)]}
        radius[model] = _real_radius(feats[~synth], clusters.labels)  # per model: own-C spaces differ
    out = []
    for measure, better in (("centroid distance", "closer to"), (f"mixing (k={k})", "more mixed into")):
        d = paired_bootstrap(per_person[second][measure], per_person[first][measure])
        worse = "further from" if better == "closer to" else "less mixed into"
        lower_is_better = measure == "centroid distance"
        wins = (d["difference"] < 0) == lower_is_better
        verdict = (f"{second}'s faces sit {better if wins else worse} their real clusters than {first}'s"
                   if d["separated"] else "no measurable difference between the two models")
        out.append(f"{space.capitalize()} space, {measure}, {second} minus {first}: {format_interval(d)} over "
                   f"{d['units']} people: {verdict}.")
    inside = {m: sum(x < radius[m] for x in per_person[m]["centroid distance"]) for m in (first, second)}
    out.append(f"A real photo sits {radius[second]:.3f} from its person's real centre on average; G's faces' centre is "
               "closer than that for " + " and ".join(f"{inside[m]} of {len(per_person[m]['centroid distance'])} "
                                                      f"people with {m}" for m in (first, second)) + ".")
    return out


def umap_layout(clusters: ClusterSet, n_neighbors: int = 15, min_dist: float = 0.1, random_state: int = 0,
                models: list[str] | None = None) -> dict[tuple, np.ndarray]:
    """One UMAP fit of the judge's features of the real photos and every model's synthesized faces
    at every step, so positions are comparable across models and steps. Returns
    {("real", "", 0): (R, 2), ("synthesized", model, step): (R, 2), ...}."""
    keys = [("real", "", 0)] + [("synthesized", m, s) for m in (models or clusters.models) for s in clusters.steps[m]]
    coords = umap_2d(torch.cat([clusters.judge[k] for k in keys]), n_neighbors=n_neighbors, min_dist=min_dist,
                     random_state=random_state)
    n = len(clusters.labels)
    return {key: coords[i * n:(i + 1) * n] for i, key in enumerate(keys)}


def distance_over_training(clusters: ClusterSet, space: str = "judge",
                           distance: Callable = centroid_distances) -> dict[str, list[float]]:
    """{model: mean centroid distance (by `distance`) over people, at each kept step}."""
    labels = torch.cat([clusters.labels, clusters.labels])
    out = {}
    for model in clusters.models:
        out[model] = []
        for step in clusters.steps[model]:
            feats, synth = _space(clusters, space, model, step)
            out[model].append(torch.as_tensor(distance(feats, labels, synth)).mean().item())
    return out


def only(clusters: ClusterSet, model: str, step: int | None = None) -> ClusterSet:
    """The real photos and one model's faces at one step (default: the end)."""
    step = step if step is not None else clusters.steps[model][-1]
    return ClusterSet(clusters.real, clusters.labels, {model: [step]}, clusters.synthesized, clusters.judge,
                      clusters.own_c)
