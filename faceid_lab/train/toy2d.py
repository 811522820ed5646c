"""The 2-D game of notebook 05 (the paper's Figure 2): N identities as Gaussian clusters on a circle,
a generator of one cloud per identity, and an N- or 2N-class MLP classifier C played against it.
Why a 2N-class C pulls the synthesized clouds to the real ones, and the pictures: faceid_lab/toy2d.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .faceidgan import two_n_labels
from .loop import update


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
