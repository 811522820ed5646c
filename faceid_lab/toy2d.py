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

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import runtime
from .train.toy2d import ToyRun, real_centres
from .viz.chart import PALETTE, Chart, new_figure


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
