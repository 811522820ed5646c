"""FaceID-GAN (Shen et al., CVPR 2018): G against D *and* an identity classifier C.

The three players, and P (fixed):
- G(f_id, f_pose, z) paints the face (notebook 03's generator);
- D, BEGAN's autoencoder discriminator, with the balance k (notebook 03);
- C, an identity classifier that is trained *during* the game:
    classifier="n":  N classes, real and synthesized faces of person i are both class i
                     (the AC-GAN / DR-GAN prior art: C helps G);
    classifier="2n": 2N classes, real person i is class i and synthesized person i is class
                     N + i (FaceID-GAN: C competes with G, as D does);
    classifier="none": no C; notebook 03's game, with f_id from the frozen identity network.
  and two baselines that the paper's claim needs:
    classifier="frozen": an N-class C that never trains: the classic fixed recogniser as G's
                     identity loss (information symmetry still holds: it gives f_id too);
    classifier="real": an N-class C fine-tuned on real faces only (it never sees G's faces).
- P reads pose and expression, frozen.

Information symmetry (`symmetric=True`): the same C gives G its input feature
f_id = C(source) and scores its output, and G's identity loss is 1 - cos(C(source), C(G(...))).
Without symmetry, f_id comes from the frozen identity network while C still scores the output.

C starts as a copy of the identity network (notebook 02) with a fresh N or 2N head; its batch
norm keeps the copied statistics (eval mode), so real and synthesized batches are normalised
alike and f_id does not shift with the batch's mix. The weight of C's loss on synthesized faces
follows a schedule: large early (C learns what G's faces look like), smaller later.

Per step: D, then C, then G, then the balance k (`faceid_gan_step`, which `faceid-lab bench train
faceidgan` times too). Checkpoints by time with resume; AMP on CUDA.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import check_training_config
from ..models.gan import BeganDiscriminator, Generator
from ..models.identity import IdentityNet
from ..models.pose import POSE_SCALE, PoseNet
from .checkpoint import TrainCheckpoint
from .classifier import batch_indices
from .distributed import SINGLE, Dist, mean_across, wrap
from .gan import BeganBalance, GanData, _u8
from .loop import TrainLog, amp_context, resident, speed_up, to_memory_format, use_channels_last

CLASSIFIERS = ("none", "frozen", "real", "n", "2n")
VARIANT_LABELS = {  # what each row of a comparison is
    "none": "no C (no identity loss)",
    "frozen": "frozen C (fixed N-class recogniser)",
    "real": "real-only C (N classes, real faces only)",
    "n": "N-class C (prior art)",
    "2n": "2N-class C (FaceID-GAN)",
    "2n-nosym": "2N-class C, no information symmetry",
}


def variant_name(classifier: str, symmetric: bool) -> str:
    """The variant's key in tables and JSON: the classifier, plus -nosym without symmetry."""
    return classifier + ("" if symmetric or classifier in ("none", "frozen") else "-nosym")


@dataclass
class FaceIdGanConfig:
    classifier: str = "2n"         # none | frozen | real | n | 2n: which C plays (see the module docstring)
    symmetric: bool = True         # f_id from C itself (True) or from the frozen identity network
    width: int = 16                # G's and D's width
    resolution: int = 64
    z_dim: int = 32
    pose_gain: float = 8.0         # f_pose x 8 in G's condition (2N, 1000 steps: gain 4 / 8 / 16: yaw 8.0 / 6.0 / 6.6)
    steps: int = 3000
    batch: int = 16
    lr: float = 4e-4               # G and D (Adam, betas 0.5 / 0.999)
    c_lr: float = 2e-4             # C's fine-tuning learning rate
    gamma: float = 0.5             # BEGAN's diversity ratio: the target of R(fake) / R(real)
    lambda_k: float = 0.001        # how fast the balance k follows
    pose_weight: float = 1.0       # P's error on G's output (poses divided by POSE_SCALE)
    recon_weight: float = 1.0      # L1 to the studio photo of the same person in the target pose
    id_weight: float = 1.0         # G's identity loss: 1 - cos(C(source), C(output))
    synth_weight_start: float = 1.0  # weight of C's loss on synthesized faces at step 0 ...
    synth_weight_end: float = 0.25   # ... decaying (cosine) to this at the last step
    imprint: bool = True           # C's head starts at each person's mean feature (real and synthesized rows)
    seed: int = 0
    # G's L1 to the studio photo counts each pixel of the face's features (eyes, brows, nose, lips,
    # mouth in the target's part map, which the renderer gives with the training data) this many
    # times: 1.0 is plain L1. Eyes are a few pixels, so plain L1 lets G paint a featureless head.
    feature_weight: float = 1.0

    def __post_init__(self):
        check_training_config(self)
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}, not {self.classifier!r}")
        if self.classifier == "none":
            self.symmetric = False  # no C: f_id always comes from the frozen identity network
        if self.classifier == "frozen":
            self.symmetric = True   # a frozen C is the identity network: f_id is the same either way


# The notebooks' and the CLI's budgets, so `faceid-lab train faceidgan` pre-trains exactly the
# checkpoints that notebooks 04-08 load. identities / sources / targets: GanData (notebook 03);
# test_identities: unseen people for the judge (2 photos each).
FACEIDGAN_BUDGETS = {
    "ci": dict(identities=8, sources=2, targets=4, width=8, batch=8, steps=20, test_identities=6),
    "cpu": dict(identities=2000, sources=2, targets=4, width=16, batch=16, steps=3000, test_identities=100),
    "gpu": dict(identities=5000, sources=4, targets=8, width=64, batch=128, steps=20000, test_identities=200),
}


# Fields added after checkpoints were shared: each enters a checkpoint's config (and so its name)
# only when it differs from its default here, so every earlier checkpoint still loads.
LATER_DEFAULTS = {"feature_weight": 1.0}
FEATURE_PARTS = ("nose", "eye", "brow", "lips", "mouth")


def stored_config(cfg: FaceIdGanConfig) -> dict:
    """The config as checkpoints record it (and fingerprint it): LATER_DEFAULTS left out at their defaults."""
    return {k: v for k, v in asdict(cfg).items() if not (k in LATER_DEFAULTS and v == LATER_DEFAULTS[k])}


def pixel_weights(parts: torch.Tensor, feature_weight: float) -> torch.Tensor:
    """(B, R, R) part maps -> (B, 1, R, R) weights of G's L1: feature_weight on the face's features
    (FEATURE_PARTS), 1 elsewhere, scaled to a mean of 1 per image so the term keeps its size."""
    from ..data.synthetic import PART_NAMES

    ids = torch.tensor([PART_NAMES.index(n) for n in FEATURE_PARTS], device=parts.device)
    w = torch.where(torch.isin(parts.long(), ids), feature_weight, 1.0)[:, None].float()
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def faceidgan_config(classifier: str, profile: str | None = None, symmetric: bool = True,
                     **overrides) -> FaceIdGanConfig:
    """The FaceIdGanConfig of a profile's budget for one variant."""
    from .. import course

    b = FACEIDGAN_BUDGETS[profile or course.profile()]
    budget = {"width": b["width"], "batch": b["batch"], "steps": b["steps"]}
    return FaceIdGanConfig(classifier=classifier, symmetric=symmetric, **(budget | overrides))


def faceidgan_data(identity_net: IdentityNet, pose_net: PoseNet, profile: str | None = None) -> GanData:
    """The training people of a profile: wild sources and studio targets (notebook 03's GanData)."""
    from .. import course
    from .gan import make_gan_data

    b = FACEIDGAN_BUDGETS[profile or course.profile()]
    return make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(b["identities"]),
                         sources_per_identity=b["sources"], targets_per_identity=b["targets"])


def two_n_labels(labels: torch.Tensor, synthesized: torch.Tensor, num_identities: int) -> torch.Tensor:
    """FaceID-GAN's labels: person i is class i when real and class N + i when synthesized."""
    return labels + num_identities * synthesized.long()


def classifier_loss(logits_real: torch.Tensor, labels_real: torch.Tensor, logits_fake: torch.Tensor,
                    labels_fake: torch.Tensor, synth_weight: float | torch.Tensor) -> torch.Tensor:
    """C's loss: cross-entropy on real faces plus `synth_weight` x cross-entropy on synthesized ones
    (labels already in C's label space: i, or N + i for the 2N classifier)."""
    return F.cross_entropy(logits_real, labels_real) + synth_weight * F.cross_entropy(logits_fake, labels_fake)


def identity_loss(f_source: torch.Tensor, f_output: torch.Tensor) -> torch.Tensor:
    """G's identity loss: mean of 1 - cos(f_source, f_output) over the batch (features of the same C)."""
    return (1 - F.cosine_similarity(f_source, f_output, dim=1)).mean()


def synth_weight_at(step: int, cfg: FaceIdGanConfig) -> float:
    """The schedule of C's weight on synthesized faces: cosine from start to end over training."""
    t = min(1.0, step / max(1, cfg.steps - 1))
    return cfg.synth_weight_end + (cfg.synth_weight_start - cfg.synth_weight_end) * 0.5 * (1 + math.cos(math.pi * t))


def make_classifier(identity_net: IdentityNet, num_classes: int, seed: int = 0) -> IdentityNet:
    """C: the identity network's trunk and feature layer, a fresh `num_classes` head, batch norm frozen."""
    torch.manual_seed(seed)
    C = copy.deepcopy(identity_net).requires_grad_(True)
    C.head = nn.Linear(C.head.in_features, num_classes)
    C.margin = 0.0  # a plain softmax head: C plays with cross-entropy
    return C.eval()


@dataclass
class Players:
    G: Generator
    D: BeganDiscriminator
    C: IdentityNet | None
    identity_net: IdentityNet         # frozen: f_id when there is no C or no symmetry
    pose_net: PoseNet                 # frozen
    balance: BeganBalance
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    opt_c: torch.optim.Optimizer | None
    num_identities: int
    cfg: FaceIdGanConfig
    pose_scale: torch.Tensor          # POSE_SCALE on the device: P's outputs / pose_scale = f_pose
    checkpoint: Path | None = None    # where train_faceid_gan keeps them
    dist: Dist = SINGLE               # this process's rank under torchrun
    ddp: dict[str, nn.Module] = field(default_factory=dict, repr=False)  # "G", "D", "C": DDP wrappers

    def distribute(self, d: Dist, device: torch.device) -> None:
        """Wrap the trained players in DDP for a torchrun launch (distributed.wrap)."""
        self.dist = d
        trained_c = self.C if self.opt_c is not None else None  # a frozen C has nothing to synchronise
        self.ddp = {name: wrap(m, d, device) for name, m in (("G", self.G), ("D", self.D), ("C", trained_c))
                    if m is not None}

    # G, D and C as the training step calls them: their DDP wrappers under torchrun, else themselves
    @property
    def train_G(self) -> nn.Module:
        return self.ddp.get("G", self.G)

    @property
    def train_D(self) -> nn.Module:
        return self.ddp.get("D", self.D)

    @property
    def train_C(self) -> nn.Module | None:
        return self.ddp.get("C", self.C)

    @property
    def id_encoder(self) -> IdentityNet:
        """The network whose features G receives: C (symmetric) or the frozen identity network."""
        return self.C if (self.C is not None and self.cfg.symmetric) else self.identity_net

    def f_id(self, sources: torch.Tensor) -> torch.Tensor:
        """G's identity input for source photos (B, 3, R, R) on the device: (B, 256)."""
        with torch.no_grad():
            return self.id_encoder.features(sources)

    def identity_features(self, images: torch.Tensor) -> torch.Tensor:
        """f_id for many images (N, 3, R, R) on the CPU, batched (for tests and previews)."""
        from ..models import run_batched

        return run_batched(self.id_encoder, images)  # IdentityNet.forward is its feature layer


@torch.no_grad()
def imprint_head(C: IdentityNet, images: torch.Tensor, labels: torch.Tensor, num_identities: int) -> None:
    """Start C's head knowing the people: row i = the mean feature of person i's photos, unit length
    (weight imprinting). A 2N head gets the same row for synthesized person N + i, so C starts
    unable to tell the two apart and must learn what makes G's faces different."""
    from ..models import run_batched

    feats = run_batched(C, images)                                        # (M, 256)
    centres = torch.zeros(num_identities, feats.shape[1]).index_add_(0, labels, feats)
    centres = F.normalize(centres, dim=1).to(C.head.weight.device)
    C.head.weight.copy_(centres.repeat(C.head.out_features // num_identities, 1))
    C.head.bias.zero_()
    C.eval()


def build_players(cfg: FaceIdGanConfig, identity_net: IdentityNet, pose_net: PoseNet, num_identities: int,
                  device: torch.device, data: GanData | None = None) -> Players:
    torch.manual_seed(cfg.seed)
    G = Generator(cfg.width, cfg.resolution, cfg.z_dim, pose_gain=cfg.pose_gain).to(device)
    D = BeganDiscriminator(cfg.width, cfg.resolution).to(device)
    C = None
    if cfg.classifier != "none":
        classes = num_identities * (2 if cfg.classifier == "2n" else 1)
        C = make_classifier(identity_net, classes, cfg.seed).to(device)
        if cfg.classifier == "frozen":
            C.requires_grad_(False)
        if cfg.imprint and data is not None:
            imprint_head(C, torch.cat([data.sources, data.targets]),
                         torch.cat([data.source_labels, data.target_labels]), num_identities)
    adam = dict(lr=cfg.lr, betas=(0.5, 0.999))
    return Players(
        G, D, C, identity_net.to(device).eval().requires_grad_(False), pose_net.to(device).eval().requires_grad_(False),
        BeganBalance().to(device), torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam),
        torch.optim.Adam(C.parameters(), lr=cfg.c_lr, betas=(0.5, 0.999))
        if C is not None and cfg.classifier != "frozen" else None, num_identities,
        cfg, POSE_SCALE.to(device))


LOG_KEYS = ("r_real", "r_fake", "k", "M", "pose", "l1", "id", "c_loss", "c_fooled")


def _update(loss: torch.Tensor, opt: torch.optim.Optimizer, scaler) -> None:
    opt.zero_grad(set_to_none=True)
    (scaler.scale(loss) if scaler else loss).backward()
    scaler.step(opt) if scaler else opt.step()


def faceid_gan_step(p: Players, sources: torch.Tensor, real: torch.Tensor,
                    labels: torch.Tensor, f_pose: torch.Tensor, z: torch.Tensor, synth_weight: float,
                    autocast, scaler, pixel_weight: torch.Tensor | None = None) -> torch.Tensor:
    """One step of the three-player game on a batch: sources (B, 3, R, R) wild photos that give
    f_id; real (B, 3, R, R) the studio photos of the same people (the targets); labels (B,)
    person indices; f_pose (B, 7) the targets' poses / POSE_SCALE; z (B, z_dim); pixel_weight
    (B, 1, R, R) or None: the weight of each pixel in G's L1 to the studio photo (pixel_weights).
    Updates D, then C, then G, then k. Returns the step's LOG_KEYS values (on the device).
    Each player's update is one forward and one backward of its (DDP-wrapped) module."""
    cfg, B = p.cfg, len(labels)
    phase = torch.profiler.record_function  # named ranges: `faceid-lab bench train faceidgan --breakdown`
    with phase("f_id + G forward"):
        f_id = p.f_id(sources)                                              # (B, 256)
        with autocast:
            fake = p.train_G(f_id, f_pose, z)                                 # (B, 3, R, R)
    # D: rebuild real faces well, fakes badly (weighted by k)
    with phase("D update"):
        with autocast:
            both = torch.cat([real, fake.detach()])                           # (2B, 3, R, R)
            errors = (both - p.train_D(both)).abs().flatten(1).mean(1).float()  # (2B,) R(x) per face
        r_real, r_fake_d = errors[:B].mean(), errors[B:].mean()
        _update(r_real - p.balance.k * r_fake_d, p.opt_d, scaler)
    # C: name every real face; name the synthesized ones as i (N) or as N + i (2N)
    zero = torch.zeros((), device=real.device)
    c_loss, c_fooled = zero, zero
    if p.opt_c is not None:  # a frozen C never trains
        with phase("C update"):
            with autocast:
                logits = p.C.logits(p.train_C(torch.cat([real, sources, fake.detach()])))  # (3B, classes)
            logits_real, logits_fake = logits[:2 * B].float(), logits[2 * B:].float()
            labels_real = torch.cat([labels, labels])
            synthesized = torch.ones_like(labels)
            labels_fake = two_n_labels(labels, synthesized, p.num_identities) if cfg.classifier == "2n" else labels
            # a real-only C never learns from G's faces (it still scores them, for c_fooled)
            c_loss = classifier_loss(logits_real, labels_real, logits_fake, labels_fake,
                                     0.0 if cfg.classifier == "real" else synth_weight)
            _update(c_loss, p.opt_c, scaler)
            # how often C takes a synthesized face for the real person: G's score against C
            c_fooled = (logits_fake.argmax(1) == labels).float().mean()
    # G: fool D, keep the person (C's features), show P the target pose, look like the studio photo.
    # D and C are frozen for G's step: gradients flow through them to the face, not into them.
    with phase("G update (through D, C, P)"):
        judges = [m for m in (p.D, p.C if p.opt_c is not None else None) if m is not None]  # a frozen C stays frozen
        for m in judges:
            m.requires_grad_(False)
        with autocast:
            r_fake = p.D.recon_error(fake).float().mean()
            pose_err = ((p.pose_net(fake.float()) / p.pose_scale) - f_pose).abs().mean()
            id_err = zero
            if p.C is not None:
                f_source = f_id if cfg.symmetric else p.C(sources).detach()
                id_err = identity_loss(f_source.float(), p.C(fake).float())
        l1 = (fake.float() - real).abs()                                         # (B, 3, R, R)
        l1 = (l1 * pixel_weight).mean() if pixel_weight is not None else l1.mean()
        loss_g = r_fake + cfg.pose_weight * pose_err + cfg.recon_weight * l1 + cfg.id_weight * id_err
        _update(loss_g, p.opt_g, scaler)
        for m in judges:
            m.requires_grad_(True)
    if scaler:
        scaler.update()
    # every rank moves k by the whole batch's errors, so k stays the same everywhere
    r = mean_across(p.dist, torch.stack([r_real.detach(), r_fake.detach()]))
    measure = p.balance.update(r[0], r[1], cfg.gamma, cfg.lambda_k)
    return torch.stack([r[0], r[1], p.balance.k.clone(), measure, pose_err.detach(),
                        l1.detach(), id_err.detach(), c_loss.detach(), c_fooled])


def train_faceid_gan(data: GanData, identity_net: IdentityNet, pose_net: PoseNet, cfg: FaceIdGanConfig,
                     checkpoint: str | Path | None = None, device: str | torch.device = "cpu",
                     save_every_s: float = 120.0, save_every_steps: int | None = None, log_every: int = 50,
                     on_log: Callable[[int, dict, Players], None] | None = None,
                     progress: bool = False, dist: Dist = SINGLE, channels_last: bool | None = None,
                     compile: bool = False) -> tuple[Players, dict]:
    """Train (or load, or resume) FaceID-GAN's players on `data` (notebook 03's GanData: its
    f_id column is ignored, f_id is computed every step from the sources). Returns (players,
    history) with per-log-step means of LOG_KEYS. `on_log(step, history, players)` runs every
    `log_every` steps (live previews).

    Speed: channels_last (default: on CUDA) and `compile` (torch.compile of every player's
    forward) change how the step runs, not what it computes, so they are not part of the
    config and a checkpoint resumes with or without them. Under torchrun (`dist` from
    distributed.from_env()) each rank trains on its share of the global batch cfg.batch;
    rank 0 alone logs, previews and saves."""
    device = torch.device(device)
    channels_last = use_channels_last(device, channels_last)
    rows = dist.share(cfg.batch)
    num_identities = int(data.target_labels.max()) + 1
    resuming = checkpoint is not None and Path(checkpoint).exists()   # C's head comes from the file: no imprint
    p = build_players(cfg, identity_net, pose_net, num_identities, device, None if resuming else data)
    autocast, scaler = amp_context(device)
    history: dict = {"step": [], **{k: [] for k in LOG_KEYS}, "seconds": 0.0}
    ckpt, start = None, 0
    if checkpoint is not None:
        modules = {"G": p.G, "D": p.D, "balance": p.balance}
        optimizers = {"opt_g": p.opt_g, "opt_d": p.opt_d}
        if p.C is not None:
            modules["C"] = p.C
            if p.opt_c is not None:
                optimizers["opt_c"] = p.opt_c
        ckpt = TrainCheckpoint(checkpoint, kind="faceid-gan",
                               config={**stored_config(cfg), "identities": num_identities}, modules=modules,
                               optimizers=optimizers, scaler=scaler, save_every_s=save_every_s,
                               save_every_steps=save_every_steps)
        p.checkpoint = Path(checkpoint)
        start = ckpt.resume()
        history = ckpt.extra.get("history", history)
        if ckpt.finished:
            return _eval(p), history
    for m in (p.G, p.D, p.C, p.pose_net):  # P too: G's step runs it forward and backward (in place)
        if m is not None:
            speed_up(m, channels_last, compile)
    p.distribute(dist, device)
    name = VARIANT_LABELS[variant_name(cfg.classifier, cfg.symmetric)]
    callback = None if on_log is None or not dist.main else (lambda step, hist, _G: on_log(step, hist, p))
    log = TrainLog(history, LOG_KEYS, cfg.steps, start, log_every, ckpt if dist.main else None,
                   f"FaceID-GAN ({name})", progress and dist.main, callback, device)
    p.G.train()
    p.D.train()
    all_sources, all_targets = resident(data.sources, device), resident(data.targets, device)
    for step in range(start, cfg.steps):
        # the global batch of step s (a pure function of the seed and s), then this rank's rows
        idx = batch_indices(step, len(data.targets), cfg.batch, cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        pick = torch.randint(data.per_identity, (len(idx),), generator=gen)
        z = torch.randn(len(idx), cfg.z_dim, generator=gen)[rows].to(device)
        labels = data.target_labels[idx]
        take = (labels * data.per_identity + pick)[rows].to(all_sources.device)
        sources = all_sources[take]                                                 # (b, 3, R, R) wild photo
        real = all_targets[idx[rows].to(all_targets.device)]                        # (b, 3, R, R) studio photo
        sources, real = (to_memory_format(_u8(x, device), channels_last) for x in (sources, real))
        weight = None
        if cfg.feature_weight != 1.0:
            if data.target_parts is None:
                raise ValueError("feature_weight needs the targets' part maps (GanData.target_parts)")
            weight = pixel_weights(data.target_parts[idx[rows]].to(device), cfg.feature_weight)
        values = faceid_gan_step(p, sources, real, labels[rows].to(device), data.f_pose[idx][rows].to(device), z,
                                 synth_weight_at(step, cfg), autocast, scaler, weight)
        log.step(step + 1, values, p.G)
        if p.checkpoint is not None and dist.main and (step + 1) in snapshot_steps(cfg):
            save_snapshot(p, step + 1)
    return _eval(p), log.finish()


def snapshot_steps(cfg: FaceIdGanConfig) -> tuple[int, ...]:
    """The steps at which training keeps G and C for later study (notebook 07: clusters over training)."""
    return tuple(sorted({max(1, cfg.steps * k // 4) for k in (1, 2, 3)}))


def snapshot_path(checkpoint: Path, step: int) -> Path:
    return checkpoint.with_name(f"{checkpoint.stem}_step{step}.pt")


def save_snapshot(p: Players, step: int) -> None:
    from .checkpoint import atomic_save

    atomic_save({"step": step, "G": p.G.state_dict(), "C": p.C.state_dict() if p.C is not None else {}},
                snapshot_path(p.checkpoint, step))


def load_snapshot(p: Players, step: int) -> Players:
    """A copy of the players with G and C as they were at `step` (a snapshot_steps step, or the end)."""
    from .checkpoint import CheckpointError, load_state, safe_load

    if step == p.cfg.steps:
        return p
    path = snapshot_path(p.checkpoint, step)
    if not path.exists():
        raise CheckpointError(f"{path}: no snapshot at step {step}; snapshots are kept at steps "
                              f"{snapshot_steps(p.cfg)} of a run with a checkpoint. Train the model again to get them")
    state = safe_load(path, map_location=next(p.G.parameters()).device)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a FaceID-GAN snapshot (found {type(state).__name__}); delete it and "
                              "train again to get the snapshots")
    q = copy.copy(p)
    q.ddp = {}  # a snapshot is for looking at, not training
    q.G = copy.deepcopy(p.G)
    load_state(q.G, state.get("G"), path, "G")
    if p.C is not None:
        q.C = copy.deepcopy(p.C)
        load_state(q.C, state.get("C"), path, "C")
    return _eval(q)


def _eval(p: Players) -> Players:
    p.G.eval()
    p.D.eval()
    return p


def checkpoint_name(cfg: FaceIdGanConfig, people: int, targets: int, profile: str) -> str:
    """faceidgan_<classifier>[-nosym]_<profile>_<fingerprint of the config and the data's size>.pt"""
    from .checkpoint import config_fingerprint

    spec = {**stored_config(cfg), "people": people, "targets": targets}
    return f"faceidgan_{variant_name(cfg.classifier, cfg.symmetric)}_{profile}_{config_fingerprint(spec)[:10]}.pt"


def train_faceid_gan_or_load(data: GanData, identity_net: IdentityNet, pose_net: PoseNet, cfg: FaceIdGanConfig,
                             profile: str | None = None, **kwargs) -> tuple[Players, dict]:
    """train_faceid_gan with its checkpoint at FACEID_LAB_HOME/checkpoints/faceidgan_<classifier>_<profile>_<config>.pt:
    a finished run is loaded, an unfinished one resumes, another config is another run."""
    from .. import course

    profile = profile or course.profile()
    people = int(data.target_labels.max()) + 1
    path = course.path("checkpoints", checkpoint_name(cfg, people, len(data.targets), profile))
    return train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, **kwargs)


def ablation_rows(verdicts: dict[str, dict]) -> list[dict]:
    """One row per variant of `judge_generator` verdicts (plus Frechet distance), for the table."""
    rows = []
    for name, v in verdicts.items():
        pose = v["pose_error_deg"]
        rows.append({"variant": name, "judge id similarity": v["id_similarity"], "top-1": v["id_top1"],
                     "pose error (yaw/pitch/roll deg)": "/".join(f"{pose[k]:.1f}" for k in ("yaw", "pitch", "roll")),
                     "Frechet (judge)": v.get("frechet_judge", float("nan")),
                     "L1": v["l1_to_truth"], "SSIM": v["ssim_to_truth"]})
    return rows


def evaluate_faceid_gan(players: Players, judge, identities: int = 100,
                        per_identity: int = 2, seed: int = 0) -> dict:
    """The judge's verdict on G for unseen people (`gan.judge_generator`: identity similarity,
    top-1, pose error, L1 / SSIM to the truth), plus image quality as the Frechet distance
    between the judge's features of G's outputs and of real studio photos of the same people."""
    from ..metrics import frechet_distance
    from .gan import judge_generator, run_generator_test

    test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=identities,
                              per_identity=per_identity, seed=seed, resolution=players.cfg.resolution)
    verdict = judge_generator(test, judge, players.pose_net)
    verdict["frechet_judge"] = frechet_distance(judge.embed(test.outputs), judge.embed(test.targets))
    return verdict


def load_faceid_gan(classifier: str = "2n", profile: str | None = None, symmetric: bool = True,
                    device: str | torch.device = "cpu", progress: bool = False, dist: Dist = SINGLE,
                    compile: bool = False, save_every_s: float = 120.0, **overrides) -> tuple[Players, dict]:
    """Train-or-load one variant at a profile's budget, from nothing but the profile: the identity
    network and P (train-or-load too), the training people, then FaceID-GAN's players.
    This is what `faceid-lab train faceidgan` and the notebooks share. Under torchrun, rank 0
    trains-or-loads the identity network and P alone while the others wait, then all load them."""
    from .. import course
    from .checkpoint import checkpoint_finished
    from .classifier import load_identity_net
    from .distributed import barrier
    from .pose import load_pose

    profile = profile or course.profile()
    if not dist.main:
        barrier(dist)  # wait for rank 0's identity network and P
    identity_net, _ = load_identity_net(profile, device=device, progress=progress and dist.main,
                                        save_every_s=save_every_s)
    pose_net = load_pose(profile, device, progress=progress and dist.main, save_every_s=save_every_s)
    if dist.main:
        barrier(dist)
    cfg = faceidgan_config(classifier, profile, symmetric, **overrides)
    b = FACEIDGAN_BUDGETS[profile]
    path = course.path("checkpoints", checkpoint_name(cfg, b["identities"], b["identities"] * b["targets"], profile))
    if checkpoint_finished(path):  # loading only: no need to render the training people
        return train_faceid_gan(_size_only(b["identities"]), identity_net, pose_net, cfg, checkpoint=path,
                                device=device)
    data = faceidgan_data(identity_net, pose_net, profile)
    return train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, device=device, progress=progress,
                            dist=dist, compile=compile, save_every_s=save_every_s)


def _size_only(people: int) -> GanData:
    """A GanData that only says how many people there are (for loading a finished run)."""
    empty = torch.zeros(0, 3, 1, 1, dtype=torch.uint8)
    return GanData(empty, torch.zeros(0, 256), torch.zeros(0, dtype=torch.long), empty, torch.zeros(0, 7),
                   torch.zeros(0, 7), torch.tensor([people - 1]), 1)


class FaceIdGanPreview:
    """An `on_log` callback: unseen people's wild photo, G's face in the studio target's pose, the
    true studio photo (rows), and the curves (BEGAN's M and k, G's identity loss, C's loss),
    updated in place. f_id is recomputed each time: with symmetry it moves as C learns."""

    def __init__(self, pose_net: PoseNet, count: int = 8, seed: int = 0):
        from IPython.display import display

        from ..data.datasets import TEST_IDENTITY_OFFSET
        from .gan import features, render_photos

        ids = TEST_IDENTITY_OFFSET + np.arange(count)
        src, _ = render_photos(seed, ids, np.full(count, 7), False)
        tgt, _ = render_photos(seed, ids, np.full(count, 7), True)
        self.sources, self.targets = src.float() / 255, tgt.float() / 255
        self.f_pose = features(pose_net, self.targets) / POSE_SCALE
        self.images = display(None, display_id=True)
        self.curves = display(None, display_id=True)

    def __call__(self, step: int, history: dict, players: Players) -> None:
        from ..viz import image_grid
        from ..viz.curves import line_chart
        from .gan import generate

        out = generate(players.G, players.identity_features(self.sources), self.f_pose)
        self.images.update(image_grid(torch.cat([self.sources, out, self.targets]), len(out), scale=2,
                                      row_labels=["source", f"G @ {step}", "truth"]))
        series = {"M (convergence)": history["M"], "k": history["k"], "pose loss": history["pose"]}
        if players.C is not None:
            series |= {"identity loss (1 - cos)": history["id"], "C loss": history["c_loss"]}
        self.curves.update(line_chart(history["step"], series, title=f"FaceID-GAN training, step {step}"))


class ClassifierLogits(nn.Module):
    """C as a plain classifier: face (B, 3, R, R) -> logits (B, classes)."""

    def __init__(self, C: IdentityNet):
        super().__init__()
        self.C = C

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.C.logits(self.C.features(x))


def two_n_probe(players: Players, data: GanData, two_n_labels_fn: Callable = two_n_labels,
                classifier_loss_fn: Callable = classifier_loss, steps: int = 300, batch: int = 16,
                held_out: int = 2, people: int = 500, seed: int = 0) -> dict:
    """Notebook 05's experiment: what does a 2N-class C see in a trained G's faces?

    Trains a fresh 2N-class C (the identity network with a new head) for `steps` on real studio
    photos and G's faces of the training people (G frozen), with the given label and loss
    functions, then asks it, and the game's own C, about `held_out` new photos per person of the
    first `people` people and G's faces made from them. Returns {"table": rows, "c_2n": C}."""
    from ..data.datasets import HELDOUT_IMAGE_OFFSET
    from ..models import run_batched
    from .gan import features, generate, render_photos

    device = next(players.G.parameters()).device
    n = players.num_identities
    C2 = make_classifier(players.identity_net, 2 * n, seed).to(device)
    imprint_head(C2, torch.cat([data.sources, data.targets]), torch.cat([data.source_labels, data.target_labels]), n)
    opt = torch.optim.Adam(C2.parameters(), lr=players.cfg.c_lr, betas=(0.5, 0.999))
    players.G.eval()
    for step in range(steps):
        idx = batch_indices(step, len(data.targets), batch, seed + 1)
        gen = torch.Generator().manual_seed(seed * 7919 + step)
        labels = data.target_labels[idx]
        sources = _u8(data.sources[labels * data.per_identity + torch.randint(data.per_identity, (len(idx),),
                                                                              generator=gen)], device)
        real = _u8(data.targets[idx], device)
        with torch.no_grad():
            fake = players.G(players.f_id(sources), data.f_pose[idx].to(device),
                             torch.randn(len(idx), players.cfg.z_dim, generator=gen).to(device))
        labels = labels.to(device)
        logits = C2.logits(C2.features(torch.cat([real, fake])))
        fake_labels = two_n_labels_fn(labels, torch.ones_like(labels, dtype=torch.bool), n)
        loss = classifier_loss_fn(logits[:len(idx)], labels, logits[len(idx):], fake_labels, 1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    # held-out photos of training people, and G's faces from them
    people = min(people, n)
    person = np.repeat(np.arange(people), held_out)
    photos = HELDOUT_IMAGE_OFFSET + np.tile(np.arange(held_out), people)
    # faceidgan_data's people are SynthFaces identities 0 .. N-1, so person p is identity p
    wild, _ = render_photos(seed, person, photos, False, players.cfg.resolution)
    studio, _ = render_photos(seed, person, photos, True, players.cfg.resolution)
    fakes = generate(players.G, players.identity_features(wild), features(players.pose_net, studio) / POSE_SCALE,
                     seed=seed)
    truth = torch.from_numpy(person)

    def verdict(C: IdentityNet, images: torch.Tensor) -> torch.Tensor:
        return run_batched(ClassifierLogits(C), images).argmax(1)

    rows = []
    for name, C in (("N-class C (the game's, notebook 04)", players.C), ("2N-class C (trained here)", C2)):
        if C is None:
            continue
        on_real, on_fake = verdict(C, studio), verdict(C, fakes)
        two_n = C.head.out_features == 2 * n
        nan = float("nan")
        rows.append({
            "classifier": name, "real photos called real i": (on_real == truth).float().mean().item(),
            "G's faces called real i": (on_fake == truth).float().mean().item(),
            "G's faces called synthesized i": (on_fake == truth + n).float().mean().item() if two_n else nan,
            "real photos called synthesized (anyone)": (on_real >= n).float().mean().item() if two_n else nan,
            "G's faces called synthesized (anyone)": (on_fake >= n).float().mean().item() if two_n else nan})
    return {"table": rows, "c_2n": C2.eval()}

