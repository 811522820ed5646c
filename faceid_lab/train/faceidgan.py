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

import contextlib
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data.synthetic import PART_NAMES
from ..data.template import expand_guides, pose_guides
from ..errors import check_training_config
from ..images import to_float
from ..metrics import gaussian_blurred
from ..models import run_batched
from ..models.gan import BeganDiscriminator, Generator
from ..models.identity import IdentityNet
from ..models.pose import POSE_SCALE, PoseNet
from .checkpoint import CheckpointError, atomic_save, load_state, safe_load, stored_fields
from .classifier import batch_indices
from .distributed import SINGLE, Dist, mean_across, wrap
from .gan import BeganBalance, GanData
from .loop import TrainLog, amp_context, resident, resume_run, speed_up, to_memory_format, update, use_channels_last

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
    # BEGAN's diversity ratio, the target of R(fake) / R(real): at 0.5 k never left 0 (G's fakes are
    # smoother than real faces, so R(fake) < 0.5 R(real) never held); at 0.75 k moves (#19, 600 steps)
    gamma: float = 0.75
    lambda_k: float = 0.001        # how fast the balance k follows
    # P's error on G's output (poses divided by POSE_SCALE) and G's identity loss. At 1.0 either term
    # alone turns G's faces into colour noise (P and C are networks: G satisfies them with patterns).
    # The guided G takes the pose from the template's picture: P's term at 0.1 striped its faces (#35,
    # validation yaw error 3.1 -> 12.2 deg, eyes IoU 0.36 -> 0.05), so it is off; C's at 0.1 blurred
    # them (eyes IoU 0.07), at 0.03 G keeps the eyes (0.29) and gains the judge's similarity (0.30 -> 0.46).
    pose_weight: float = 0.0
    recon_weight: float = 1.0      # L1 to the studio photo of the same person in the target pose
    id_weight: float = 0.03        # G's identity loss: 1 - cos(C(source), C(output))
    synth_weight_start: float = 1.0  # weight of C's loss on synthesized faces at step 0 ...
    synth_weight_end: float = 0.25   # ... decaying (cosine) to this at the last step
    imprint: bool = True           # C's head starts at each person's mean feature (real and synthesized rows)
    seed: int = 0
    # G's L1 to the studio photo counts each pixel of the face's features (eyes, brows, nose, lips,
    # mouth in the target's part map, which the renderer gives with the training data) this many
    # times: 1.0 is plain L1. Eyes are a few pixels, so plain L1 lets G paint a featureless head.
    # 2N, guided G, 1200 cpu steps, validation people, one seed (#38 session): weight 1 / 4 / 8 gave
    # part IoU 0.41 / 0.52 / 0.55, eyes 0.26 / 0.41 / 0.44, lips 0.10 / 0.33 / 0.40, judge similarity
    # 0.44 / 0.47 / 0.49, yaw error by P' 3.6 / 2.6 / 2.2 deg.
    feature_weight: float = 8.0
    # Against adversarial texture (#19): C and P are networks, and a face that only satisfies them
    # with pixel-level patterns is noise to a person. soften: sigma (pixels) of the Gaussian blur on
    # every face C sees (its update, f_id, G's identity loss) and on G's output before P reads it.
    soften: float = 1.0
    # The pose-guided G (#35): G also sees f_pose as a picture, the template person rendered at that
    # pose (data.template), at every block. False: the vector-only G, f_pose as 7 numbers.
    guided: bool = True
    # The weight of D's term, R(G(...)), in G's loss. BEGAN's D is an autoencoder: while k stays near 0
    # it learns to rebuild every face, and a smooth face is the easiest to rebuild: at 1.0 the guided
    # G's eyes IoU was 0.05, at 0.1 0.26, at 0 0.29 (#35, validation, one seed; D stays in the game).
    adv_weight: float = 0.1
    # Measured in #19 and dropped (off in every default, gone from the step): an identity anchor on the
    # studio photo, a warm-up of D's, P's and C's terms, an edge term, and P's error in one angular unit.

    def __post_init__(self):
        check_training_config(self)
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}, not {self.classifier!r}")
        if self.classifier == "none":
            self.symmetric = False  # no C: f_id always comes from the frozen identity network
        if self.classifier == "frozen":
            self.symmetric = True   # a frozen C is the identity network: f_id is the same either way


# Fields added after checkpoints were shared, each with the value every checkpoint trained before it
# existed had (not a default: FaceIdGanConfig holds those). At that value a field is left out of the
# stored config (and so of the checkpoint's name), so every earlier checkpoint keeps its name and loads.
# The levers dropped after #19 (id_anchor, warmup, edge_weight, angle_scale) were left out of every
# checkpoint at their off values, so the checkpoints trained with them off keep their names too.
BEFORE_FIELD = {"feature_weight": 1.0, "soften": 0.0, "guided": False, "adv_weight": 1.0}
FEATURE_PARTS = ("nose", "eye", "brow", "lips", "mouth")


def stored_config(cfg: FaceIdGanConfig) -> dict:
    """The config as checkpoints record it (and fingerprint it): BEFORE_FIELD's fields left out at their
    value from before they existed."""
    return stored_fields(cfg, BEFORE_FIELD)


def pixel_weights(parts: torch.Tensor, feature_weight: float) -> torch.Tensor:
    """(B, R, R) part maps -> (B, 1, R, R) weights of G's L1: feature_weight on the face's features
    (FEATURE_PARTS), 1 elsewhere, scaled to a mean of 1 per image so the term keeps its size."""
    ids = torch.tensor([PART_NAMES.index(n) for n in FEATURE_PARTS], device=parts.device)
    w = torch.where(torch.isin(parts.long(), ids), feature_weight, 1.0)[:, None].float()
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


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


def softened(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """What C and P see of a face: a Gaussian blur of `sigma` pixels (none at 0), so that no
    pattern finer than a face's features can move them."""
    return gaussian_blurred(to_float(images), sigma) if sigma > 0 else images


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

    def c_sees(self, images: torch.Tensor) -> torch.Tensor:
        """What C (and P, reading G's faces) sees of faces (B, 3, R, R): blurred by cfg.soften. Every
        user of C goes through this view: C is trained on it, so a sharp face is out of its world."""
        return softened(images, self.cfg.soften)

    def f_id(self, sources: torch.Tensor) -> torch.Tensor:
        """G's identity input for source photos (B, 3, R, R) on the device: (B, 256)."""
        with torch.no_grad():
            return self.id_encoder.features(self.c_sees(sources))

    def identity_features(self, images: torch.Tensor) -> torch.Tensor:
        """f_id for many images (N, 3, R, R) on the CPU, batched (for tests and previews)."""
        return run_batched(self.id_encoder, images, view=self.c_sees)  # forward: the feature layer

    def c_features(self, images: torch.Tensor) -> torch.Tensor:
        """C's own features (N, 256) for many images on the CPU, batched, as C sees them."""
        return run_batched(self.C, images, view=self.c_sees)


@torch.no_grad()
def imprint_head(C: IdentityNet, images: torch.Tensor, labels: torch.Tensor, num_identities: int,
                 soften: float = 0.0) -> None:
    """Start C's head knowing the people: row i = the mean feature of person i's photos, unit length
    (weight imprinting). A 2N head gets the same row for synthesized person N + i, so C starts
    unable to tell the two apart and must learn what makes G's faces different. `soften`: the blur
    C sees faces through (Players.c_sees)."""
    feats = run_batched(C, images, view=lambda x: softened(x, soften))  # (M, 256)
    centres = torch.zeros(num_identities, feats.shape[1]).index_add_(0, labels, feats)
    centres = F.normalize(centres, dim=1).to(C.head.weight.device)
    C.head.weight.copy_(centres.repeat(C.head.out_features // num_identities, 1))
    C.head.bias.zero_()
    C.eval()


def build_players(cfg: FaceIdGanConfig, identity_net: IdentityNet, pose_net: PoseNet, num_identities: int,
                  device: torch.device, data: GanData | None = None) -> Players:
    torch.manual_seed(cfg.seed)
    G = Generator(cfg.width, cfg.resolution, cfg.z_dim, pose_gain=cfg.pose_gain, guided=cfg.guided).to(device)
    D = BeganDiscriminator(cfg.width, cfg.resolution).to(device)
    C = None
    if cfg.classifier != "none":
        classes = num_identities * (2 if cfg.classifier == "2n" else 1)
        C = make_classifier(identity_net, classes, cfg.seed).to(device)
        if cfg.classifier == "frozen":
            C.requires_grad_(False)
        if cfg.imprint and data is not None:
            imprint_head(C, torch.cat([data.sources, data.targets]),
                         torch.cat([data.source_labels, data.target_labels]), num_identities, cfg.soften)
    adam = dict(lr=cfg.lr, betas=(0.5, 0.999))
    trained_c = C is not None and cfg.classifier != "frozen"
    return Players(
        G=G, D=D, C=C, identity_net=identity_net.to(device).eval().requires_grad_(False),
        pose_net=pose_net.to(device).eval().requires_grad_(False), balance=BeganBalance().to(device),
        opt_g=torch.optim.Adam(G.parameters(), **adam), opt_d=torch.optim.Adam(D.parameters(), **adam),
        opt_c=torch.optim.Adam(C.parameters(), lr=cfg.c_lr, betas=(0.5, 0.999)) if trained_c else None,
        num_identities=num_identities, cfg=cfg, pose_scale=POSE_SCALE.to(device))


LOG_KEYS = ("r_real", "r_fake", "k", "M", "pose", "l1", "id", "c_loss", "c_fooled")


def faceid_gan_step(p: Players, sources: torch.Tensor, real: torch.Tensor,
                    labels: torch.Tensor, f_pose: torch.Tensor, z: torch.Tensor, synth_weight: float,
                    autocast, scaler, pixel_weight: torch.Tensor | None = None,
                    guide: torch.Tensor | None = None, losses: dict | None = None,
                    c_loss_fn: Callable | None = None, id_loss_fn: Callable | None = None) -> torch.Tensor:
    """One step of the three-player game on a batch: sources (B, 3, R, R) wild photos that give
    f_id; real (B, 3, R, R) the studio photos of the same people (the targets); labels (B,)
    person indices; f_pose (B, 7) the targets' poses / POSE_SCALE; z (B, z_dim); pixel_weight
    (B, 1, R, R) or None: the weight of each pixel in G's L1 to the studio photo (pixel_weights);
    guide (B, 8, R, R) or None: the pose-guided G's picture of f_pose (drawn by G itself if None);
    losses: a dict that receives the loss each player minimised ("D", "C" where C trains, "G"), detached.
    c_loss_fn, id_loss_fn: notebook 04's exercises in place of C's loss and G's identity loss (None: the
    package's): c_loss_fn(C, real, real_labels, fake, fake_labels, synth_weight) with the faces as C sees
    them, id_loss_fn(C, sources, outputs); used by `fine_tune`, one process, full precision.
    Updates D, then C, then G, then k. Returns the step's LOG_KEYS values (on the device).
    Each player's update is one forward and one backward of its (DDP-wrapped) module."""
    cfg, B = p.cfg, len(labels)
    phase = torch.profiler.record_function  # named ranges: `faceid-lab bench train faceidgan --breakdown`
    with phase("f_id + G forward"):
        # every face as C and P see it (softened), blurred once per step
        seen_sources, seen_real = p.c_sees(sources), p.c_sees(real)
        with torch.no_grad():
            f_id = p.id_encoder.features(seen_sources)                        # (B, 256), as Players.f_id
        with autocast:
            fake = p.train_G(f_id, f_pose, z, guide)                          # (B, 3, R, R)
        seen_fake = p.c_sees(fake)
    # D: rebuild real faces well, fakes badly (weighted by k)
    with phase("D update"):
        with autocast:
            both = torch.cat([real, fake.detach()])                           # (2B, 3, R, R)
            errors = (both - p.train_D(both)).abs().flatten(1).mean(1).float()  # (2B,) R(x) per face
        r_real, r_fake_d = errors[:B].mean(), errors[B:].mean()
        update(r_real - p.balance.k * r_fake_d, p.opt_d, scaler, last=False)
    # C: name every real face; name the synthesized ones as i (N) or as N + i (2N)
    zero = torch.zeros((), device=real.device)
    c_loss, c_fooled = zero, zero
    if p.opt_c is not None:  # a frozen C never trains
        labels_real = torch.cat([labels, labels])
        labels_fake = two_n_labels(labels, torch.ones_like(labels), p.num_identities) if cfg.classifier == "2n" \
            else labels
        weight = 0.0 if cfg.classifier == "real" else synth_weight  # a real-only C never learns from G's faces
        if c_loss_fn is not None:  # notebook 04: the learner's C loss, on the faces as C sees them
            c_loss = c_loss_fn(p.C, torch.cat([seen_real, seen_sources]), labels_real, seen_fake, labels_fake, weight)
            update(c_loss, p.opt_c, scaler, last=False)
        else:
            with phase("C update"):
                with autocast:
                    seen = torch.cat([seen_real, seen_sources, seen_fake.detach()])     # (3B, 3, R, R)
                    logits = p.C.logits(p.train_C(seen))                                # (3B, classes)
                logits_real, logits_fake = logits[:2 * B].float(), logits[2 * B:].float()
                c_loss = classifier_loss(logits_real, labels_real, logits_fake, labels_fake, weight)
                update(c_loss, p.opt_c, scaler, last=False)
                # how often C takes a synthesized face for the real person: G's score against C (a
                # real-only C still scores G's faces)
                c_fooled = (logits_fake.argmax(1) == labels).float().mean()
    # G: fool D, keep the person (C's features), show P the target pose, look like the studio photo.
    # D and C are frozen for G's step: gradients flow through them to the face, not into them.
    with phase("G update (through D, C, P)"):
        judges = [m for m in (p.D, p.C if p.opt_c is not None else None) if m is not None]  # a frozen C stays frozen
        for m in judges:
            m.requires_grad_(False)
        with autocast:
            r_fake = p.D.recon_error(fake).float().mean()
            pose_err = ((p.pose_net(seen_fake.float()) / p.pose_scale) - f_pose).abs().mean()
            id_err = zero
            if p.C is not None and id_loss_fn is not None:  # the learner's identity loss (notebook 04)
                id_err = id_loss_fn(p.C, seen_sources, seen_fake)
            elif p.C is not None:
                f_anchor = f_id if cfg.symmetric else p.C(seen_sources).detach()
                id_err = identity_loss(f_anchor.float(), p.C(seen_fake).float())
        l1 = (fake.float() - real).abs()                                         # (B, 3, R, R)
        l1 = (l1 * pixel_weight).mean() if pixel_weight is not None else l1.mean()
        loss_g = cfg.recon_weight * l1 + (cfg.adv_weight * r_fake + cfg.pose_weight * pose_err + cfg.id_weight * id_err)
        update(loss_g, p.opt_g, scaler)  # the step's last update: the scaler moves after it
        for m in judges:
            m.requires_grad_(True)
    if losses is not None:
        d_loss = (r_real - p.balance.k * r_fake_d).detach()  # k as D used it: it moves below
        losses.update({"D": d_loss, "G": loss_g.detach()} | ({"C": c_loss.detach()} if p.opt_c is not None else {}))
    # every rank moves k by the whole batch's errors, so k stays the same everywhere
    r = mean_across(p.dist, torch.stack([r_real.detach(), r_fake.detach()]))
    measure = p.balance.update(r[0], r[1], cfg.gamma, cfg.lambda_k)
    return torch.stack([r[0], r[1], p.balance.k.clone(), measure, pose_err.detach(),
                        l1.detach(), id_err.detach(), c_loss.detach(), c_fooled])


def reference_step(p: Players, sources: torch.Tensor, real: torch.Tensor, labels: torch.Tensor,
                   f_pose: torch.Tensor, z: torch.Tensor, synth_weight: float, c_loss_fn: Callable | None = None,
                   id_loss_fn: Callable | None = None) -> dict[str, torch.Tensor]:
    """faceid_gan_step with notebook 06's exercise signature (full precision, one process, G draws its
    own guides): updates the players and returns the losses {"D", "C", "G"} it minimised. c_loss_fn,
    id_loss_fn: notebook 04's exercises in place of the package's C loss and identity loss."""
    losses: dict = {}
    faceid_gan_step(p, sources, real, labels, f_pose, z, synth_weight, contextlib.nullcontext(), None, losses=losses,
                    c_loss_fn=c_loss_fn, id_loss_fn=id_loss_fn)
    return losses


def n_class_c_loss(C: IdentityNet, real: torch.Tensor, real_labels: torch.Tensor, fake: torch.Tensor,
                   fake_labels: torch.Tensor, synth_weight: float) -> torch.Tensor:
    """Notebook 04's exercise, the reference: C's loss on real faces (B1, 3, R, R) and G's faces (B2, ...),
    G's faces detached (C's loss never moves G), logits from C's head without a margin (as in the game)."""
    logits_real = C.logits(C(real))
    logits_fake = C.logits(C(fake.detach()))
    return classifier_loss(logits_real, real_labels, logits_fake, fake_labels, synth_weight)


def identity_loss_of(C: IdentityNet, sources: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """Notebook 04's exercise, the reference: mean 1 - cos(C(sources), C(outputs)), the sources' features a
    fixed target (no gradient)."""
    with torch.no_grad():
        f_source = C(sources)
    return identity_loss(f_source, C(outputs))


def fine_tune(p: Players, data: GanData, step: Callable[..., dict], steps: int, seed: int = 1) -> dict[str, list]:
    """`steps` steps of `step` (reference_step's signature: a learner's step, or reference_step) on a
    copy of the players p (p itself is left as it was), batches drawn as training draws them with
    `seed`, C's synthesized weight at the schedule's end. The same players, data, steps and seed give
    the same batches and noise for every step function, so two correct steps draw the same curves.
    Returns {"step", "D", "C", "G", "k"}: each player's loss and BEGAN's k after every step."""
    q = copy.deepcopy(p)
    q.G.train()
    q.D.train()
    device = next(q.G.parameters()).device
    curves: dict[str, list] = {"step": [], "D": [], "C": [], "G": [], "k": []}
    for s in range(steps):
        idx = batch_indices(s, len(data.targets), q.cfg.batch, seed)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + s)
        pick = torch.randint(data.per_identity, (len(idx),), generator=gen)
        z = torch.randn(len(idx), q.cfg.z_dim, generator=gen).to(device)
        labels = data.target_labels[idx]
        sources = to_float(data.sources[labels * data.per_identity + pick], device)   # (B, 3, R, R) wild photo
        real = to_float(data.targets[idx], device)                                      # (B, 3, R, R) studio photo
        losses = step(q, sources, real, labels.to(device), data.f_pose[idx].to(device), z, q.cfg.synth_weight_end)
        curves["step"].append(s + 1)
        for key in ("D", "C", "G"):
            curves[key].append(float(losses[key]) if key in losses else float("nan"))
        curves["k"].append(float(q.balance.k))
    return curves


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
    modules = {"G": p.G, "D": p.D, "balance": p.balance} | ({"C": p.C} if p.C is not None else {})
    optimizers = {"opt_g": p.opt_g, "opt_d": p.opt_d} | ({"opt_c": p.opt_c} if p.opt_c is not None else {})
    ckpt, start, history = resume_run(checkpoint, "faceid-gan", {**stored_config(cfg), "identities": num_identities},
                                      modules, optimizers, {"step": [], **{k: [] for k in LOG_KEYS}, "seconds": 0.0},
                                      scaler, save_every_s, save_every_steps)
    p.checkpoint = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.finished:
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
    # the pose-guided G's guides: the template at each target's f_pose, rendered once (P is frozen)
    guides = pose_guides(data.f_pose * POSE_SCALE, cfg.resolution) if cfg.guided else None
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
        sources, real = (to_memory_format(to_float(x, device), channels_last) for x in (sources, real))
        weight = None
        if cfg.feature_weight != 1.0:
            if data.target_parts is None:
                raise ValueError("feature_weight needs the targets' part maps (GanData.target_parts)")
            weight = pixel_weights(data.target_parts[idx[rows]].to(device), cfg.feature_weight)
        guide = None if guides is None else expand_guides(guides[idx[rows]].to(device))
        values = faceid_gan_step(p, sources, real, labels[rows].to(device), data.f_pose[idx][rows].to(device), z,
                                 synth_weight_at(step, cfg), autocast, scaler, weight, guide)
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
    atomic_save({"step": step, "G": p.G.state_dict(), "C": p.C.state_dict() if p.C is not None else {}},
                snapshot_path(p.checkpoint, step))


def load_snapshot(p: Players, step: int) -> Players:
    """A copy of the players with G and C as they were at `step` (a snapshot_steps step, or the end)."""
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


