"""The paper's Figure 2 made live: why a 2N-class classifier pulls synthesized faces to the centre.

A 2-D world: N "identities" are Gaussian clusters of real points on a circle. A generator moves
a cloud of synthesized points per identity (a learnable centre offset and spread); it starts
inside identity i's region but off its real cluster, as a half-trained G's faces sit near the
decision boundary. A small MLP classifier C plays against it:

- N classes: real and synthesized points of i are both class i. G's goal, "be classified as i",
  is met anywhere in i's region; C even enlarges the region to take in G's points. Nothing asks
  the synthesized cloud to reach the real one, and maximising the class-i score pushes it away
  from the other identities, outwards.
- 2N classes: synthesized i is its own class N + i, so C draws a boundary between real i and
  synthesized i. G, still asking for class i (real), can only get it where C has seen real i
  and no fakes: on the real cluster. The cloud is pulled to the centre.

The pull is measured as the distance from each synthesized centroid to its real centroid over
training (`ToyRun.distance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from torch import nn

from . import runtime
from .train.faceidgan import two_n_labels
from .train.loop import update
from .viz.chart import PALETTE, Chart, new_figure


@dataclass
class ToyConfig:
    identities: int = 4
    radius: float = 2.0          # real cluster centres on a circle
    spread: float = 0.3          # std of each real cluster
    start_shift: float = 1.2     # synthesized clouds start this far from their real centre (tangentially)
    steps: int = 800
    batch: int = 64              # real and synthesized points per identity per step
    lr_g: float = 0.01
    lr_c: float = 0.01
    snapshot_every: int = 40
    extent: float = 4.0          # the plotted square [-extent, extent]^2
    seed: int = 0


def real_centres(cfg: ToyConfig) -> torch.Tensor:
    """(N, 2) centres of the real clusters, evenly on a circle."""
    angle = torch.arange(cfg.identities) * 2 * math.pi / cfg.identities + math.pi / 4
    return cfg.radius * torch.stack([angle.cos(), angle.sin()], 1)


def sample_real(cfg: ToyConfig, per_identity: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(N * per_identity, 2) real points and their (N * per_identity,) identity labels."""
    labels = torch.arange(cfg.identities).repeat_interleave(per_identity)
    return real_centres(cfg)[labels] + cfg.spread * torch.randn(len(labels), 2, generator=gen), labels


class ToyGenerator(nn.Module):
    """Synthesized points of identity i: start_i + offset_i + z @ spread_i, z ~ N(0, I2).
    The start is the real centre moved sideways (along the circle), inside i's region."""

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        centres = real_centres(cfg)
        tangent = torch.stack([-centres[:, 1], centres[:, 0]], 1) / cfg.radius   # (N, 2) unit, along the circle
        self.register_buffer("start", centres + cfg.start_shift * tangent)
        self.offset = nn.Parameter(torch.zeros(cfg.identities, 2))
        self.spread = nn.Parameter(torch.eye(2).repeat(cfg.identities, 1, 1) * cfg.spread)

    def forward(self, labels: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        # (B,), (B, 2) -> (B, 2)
        return self.start[labels] + self.offset[labels] + torch.einsum("bi,bij->bj", z, self.spread[labels])


class ToyClassifier(nn.Module):
    """C: a point (B, 2) -> logits (B, classes), classes = N or 2N."""

    def __init__(self, classes: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class ToySnapshot:
    step: int
    fake: np.ndarray          # (N * 48, 2) synthesized points
    fake_labels: np.ndarray
    regions: np.ndarray       # (grid, grid) C's winning class on the plot's grid (real i: i, synthesized i: N + i)
    distance: np.ndarray      # (N,) synthesized centroid to real centroid


@dataclass
class ToyRun:
    classifier: str
    cfg: ToyConfig
    real: np.ndarray
    real_labels: np.ndarray
    snapshots: list[ToySnapshot] = field(default_factory=list)

    @property
    def steps(self) -> list[int]:
        return [s.step for s in self.snapshots]

    @property
    def distance(self) -> np.ndarray:
        """(snapshots,) mean over identities of the synthesized-to-real centroid distance."""
        return np.array([s.distance.mean() for s in self.snapshots])


def _grid(cfg: ToyConfig, size: int) -> torch.Tensor:
    t = torch.linspace(-cfg.extent, cfg.extent, size)
    yy, xx = torch.meshgrid(t.flip(0), t, indexing="ij")     # row 0 at the top (y = +extent)
    return torch.stack([xx, yy], -1).reshape(-1, 2)


def train_toy(classifier: str, cfg: ToyConfig | None = None, grid: int = 80) -> ToyRun:
    """Play G against an N-class or 2N-class C in the 2-D world; snapshots every cfg.snapshot_every steps."""
    if classifier not in ("n", "2n"):
        raise ValueError(f"classifier must be 'n' or '2n', not {classifier!r}")
    cfg = cfg or ToyConfig()
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    n = cfg.identities
    G, C = ToyGenerator(cfg), ToyClassifier(n * (2 if classifier == "2n" else 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g)
    opt_c = torch.optim.Adam(C.parameters(), lr=cfg.lr_c)
    real_plot, real_plot_labels = sample_real(cfg, 48, gen)
    z_plot = torch.randn(len(real_plot), 2, generator=gen)
    points = _grid(cfg, grid)
    run = ToyRun(classifier, cfg, real_plot.numpy(), real_plot_labels.numpy())
    for step in range(cfg.steps + 1):
        if step % cfg.snapshot_every == 0:
            with torch.no_grad():
                fake = G(real_plot_labels, z_plot)
                centre_fake = torch.stack([fake[real_plot_labels == i].mean(0) for i in range(n)])
                regions = C(points).argmax(1).reshape(grid, grid)
            run.snapshots.append(ToySnapshot(step, fake.numpy(), real_plot_labels.numpy(), regions.numpy(),
                                             (centre_fake - real_centres(cfg)).norm(dim=1).numpy()))
        if step == cfg.steps:
            break
        real, labels = sample_real(cfg, cfg.batch, gen)
        z = torch.randn(len(labels), 2, generator=gen)
        fake = G(labels, z)
        # C: real i is class i; synthesized i is class i (N) or N + i (2N)
        fake_labels = labels if classifier == "n" else two_n_labels(labels, torch.ones_like(labels), n)
        loss_c = F.cross_entropy(C(real), labels) + F.cross_entropy(C(fake.detach()), fake_labels)
        update(loss_c, opt_c, None)
        # G: be classified as the real person i
        update(F.cross_entropy(C(fake), labels), opt_g, None)
    return run


def pull_table(runs: dict[str, ToyRun]) -> list[dict]:
    """Start vs end synthesized-to-real centroid distance per classifier."""
    return [{"classifier": name, "distance at start": float(r.distance[0]), "distance at end": float(r.distance[-1]),
             "pulled in by": float(r.distance[0] - r.distance[-1])} for name, r in runs.items()]


def _light(c: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(int(v + (255 - v) * amount) for v in c)


def _snapshot_panel(ax, run: ToyRun, index: int) -> None:
    """One snapshot on matplotlib axes: C's regions (real classes light, synthesized classes dark),
    real points (dots), synthesized points (crosses), each synthesized centroid joined to its real one."""
    cfg, snap, n = run.cfg, run.snapshots[index], run.cfg.identities
    colours = [PALETTE[i % len(PALETTE)] for i in range(n)]
    lut = np.array([_light(c, 0.75) for c in colours] + [_light(tuple(v // 2 for v in c), 0.55) for c in colours],
                   dtype=np.uint8)
    e = cfg.extent
    ax.imshow(lut[snap.regions], extent=(-e, e, -e, e), origin="upper", interpolation="nearest")
    centres = real_centres(cfg).numpy()
    for i in range(n):
        rgb = np.array(colours[i]) / 255
        real, fake = run.real[run.real_labels == i], snap.fake[snap.fake_labels == i]
        ax.plot(real[:, 0], real[:, 1], "o", color=rgb, markersize=2.5)
        ax.plot(fake[:, 0], fake[:, 1], "x", color=rgb / 2, markersize=3.5, markeredgewidth=0.9)
        centre = fake.mean(0)
        ax.plot([centres[i, 0], centre[0]], [centres[i, 1], centre[1]], color="black", linewidth=1.6)
    name = "N-class C" if run.classifier == "n" else "2N-class C"
    ax.set_title(f"{name}, step {snap.step}\ncentroid distance {snap.distance.mean():.2f}", fontsize=9)
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def toy_figure(runs: dict[str, ToyRun], static: bool | None = None):
    """N vs 2N side by side over training: a plotly figure with a step slider and a play button,
    or (headless) a matplotlib `Chart` of the first, middle and last snapshots of each run."""
    static = runtime.headless() if static is None else static
    names = list(runs)
    if static:
        picks = sorted({0, len(runs[names[0]].snapshots) // 2, len(runs[names[0]].snapshots) - 1})
        fig, axes = new_figure((230 * len(picks), 250 * len(names) + 30), rows=len(names), cols=len(picks))
        for r, name in enumerate(names):
            for c, i in enumerate(picks):
                _snapshot_panel(axes[r, c], runs[name], i)
        fig.supxlabel("dots: real points · crosses: synthesized points · line: synthesized centre to real centre\n"
                      "light / dark regions: where C answers a real / a synthesized class", fontsize=8)
        return Chart(fig)

    cfg = runs[names[0]].cfg
    n = cfg.identities
    colours = [PALETTE[i % len(PALETTE)] for i in range(n)]
    scale = [[k / (2 * n - 1), f"rgb{_light(c, 0.75) if k < n else _light(tuple(v // 2 for v in c), 0.55)}"]
             for k, c in enumerate(colours + colours)]
    t = np.linspace(-cfg.extent, cfg.extent, runs[names[0]].snapshots[0].regions.shape[0])

    def traces(k: int) -> list:
        out = []
        for run in runs.values():
            s = run.snapshots[k]
            out += [go.Heatmap(x=t, y=t[::-1], z=s.regions, colorscale=scale, zmin=0, zmax=2 * n - 1,
                               showscale=False, hoverinfo="skip"),
                    go.Scatter(x=run.real[:, 0], y=run.real[:, 1], mode="markers", showlegend=False,
                               marker=dict(size=4, color=[f"rgb{colours[i]}" for i in run.real_labels]), name="real"),
                    go.Scatter(x=s.fake[:, 0], y=s.fake[:, 1], mode="markers", showlegend=False, name="synthesized",
                               marker=dict(size=6, symbol="x", color=[f"rgb{colours[i]}" for i in s.fake_labels]))]
        return out

    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[
        "N-class C" if nm == "n" else "2N-class C" for nm in names])
    for j, tr in enumerate(traces(0)):
        fig.add_trace(tr, row=1, col=j // 3 + 1)
    count = len(runs[names[0]].snapshots)
    fig.frames = [go.Frame(data=traces(k), name=str(runs[names[0]].snapshots[k].step)) for k in range(count)]
    steps = [dict(method="animate", label=f.name, args=[[f.name], dict(mode="immediate", frame=dict(duration=0))])
             for f in fig.frames]
    fig.update_layout(width=820, height=440, sliders=[dict(steps=steps, currentvalue=dict(prefix="step "))],
                      updatemenus=[dict(type="buttons", buttons=[dict(label="play", method="animate", args=[None])])])
    return fig
