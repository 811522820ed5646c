"""The pose-guided GAN of notebook 03: G(f_id, f_pose, z) against a BEGAN discriminator D.

Data (`GanData`): for every training identity, "wild" photos (any light, background, pose)
that give the identity feature f_id, and "studio" photos (standard light and background,
random pose and expression, as in Multi-PIE) that G must produce: f_pose is P's reading of
the studio photo, the target. G's loss is BEGAN's adversarial term, P's pose error on G's
output, and an L1 term to the studio photo. There is no identity player: G is only told who
to paint through f_id, which is why the faces only vaguely resemble their source.

One explicit loop, per step: D, then G, then the BEGAN balance k. Checkpoints by time
with resume (k and the RNG streams included); AMP on CUDA.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import synthetic as S
from ..data.template import expand_guides, pose_guides
from ..errors import check_training_config
from ..images import to_float
from ..models import run_batched
from ..models.gan import BeganDiscriminator, Generator
from ..models.pose import POSE_SCALE, PoseNet
from .checkpoint import stored_fields
from .classifier import batch_indices
from .loop import TrainLog, amp_context, resume_run, update

STUDIO_IMAGE_OFFSET = 3_000_000  # studio photos use their own image indices: never a wild photo's pose


@dataclass
class GanConfig:
    width: int = 16
    resolution: int = 64
    z_dim: int = 32
    steps: int = 3500
    batch: int = 16
    lr: float = 4e-4
    # BEGAN's diversity ratio, the target of R(fake) / R(real). G's faces are smoother than the studio
    # photos, so D rebuilds them better: at 0.5, R(fake) / R(real) sat near 0.78 and k stayed at 0 for
    # the whole cpu run (D never pushed a fake away); 0.75 is FaceID-GAN's value (#19)
    gamma: float = 0.75
    lambda_k: float = 0.001     # how fast the balance k follows
    # P's error on G's output (poses divided by POSE_SCALE). Off: the guided G takes the pose from the
    # template's picture, and P's term at 0.1 turned its faces into stripes (#35, yaw error 3.1 -> 12.2)
    pose_weight: float = 0.0
    recon_weight: float = 1.0   # L1 to the studio photo of the same person in the target pose
    seed: int = 0
    guided: bool = True         # the pose-guided G (#35): f_pose also as the template's picture
    # the weight of D's term R(G(...)) in G's loss: at 1.0 D's autoencoder pulls G towards smooth faces (#35)
    adv_weight: float = 0.1

    def __post_init__(self):
        check_training_config(self)


# fields added after checkpoints were shared, at their old value
GAN_BEFORE_FIELD = {"guided": False, "adv_weight": 1.0}


def stored_gan_config(cfg: GanConfig) -> dict:
    """The config as checkpoints record it: GAN_BEFORE_FIELD's fields left out at their old value."""
    return stored_fields(cfg, GAN_BEFORE_FIELD)


@dataclass
class GanData:
    """sources (Ns, 3, R, R) uint8 wild photos and their identity features f_id (Ns, 256);
    targets (Nt, 3, R, R) uint8 studio photos, their f_pose (Nt, 7) and true pose (Nt, 7);
    labels: identity label of each photo. Sources are identity-major, `per_identity` each."""

    sources: torch.Tensor
    f_id: torch.Tensor
    source_labels: torch.Tensor
    targets: torch.Tensor
    f_pose: torch.Tensor
    true_pose: torch.Tensor
    target_labels: torch.Tensor
    per_identity: int
    target_parts: torch.Tensor | None = None  # (Nt, R, R) uint8 the renderer's part map of each target


def studio_nuisance(seed: int, identity_indices: np.ndarray, image_indices: np.ndarray) -> S.Nuisance:
    """Standard light and grey background (the reference view), with the pose and expression
    of a random photo: what a multi-view studio capture gives."""
    wild = S.sample_nuisance(seed, identity_indices, np.asarray(image_indices) + STUDIO_IMAGE_OFFSET)
    return S.Nuisance.reference(len(wild)).with_pose(wild.pose).with_expression(wild.expression)


def render_photos(seed: int, identity_indices: np.ndarray, image_indices: np.ndarray, studio: bool,
                  resolution: int = 64, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 3, R, R) uint8, targets (N, 7): yaw, pitch, roll, 4 expression factors)."""
    images, truth, _ = render_photos_with_parts(seed, identity_indices, image_indices, studio, resolution, device)
    return images, truth


def render_photos_with_parts(seed: int, identity_indices: np.ndarray, image_indices: np.ndarray, studio: bool,
                             resolution: int = 64, device: str = "cpu"
                             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """render_photos, plus each photo's part map (N, R, R) uint8 (index into PART_NAMES)."""
    ids = S.sample_identities(seed, identity_indices)
    nu = (studio_nuisance(seed, identity_indices, image_indices) if studio
          else S.sample_nuisance(seed, identity_indices, image_indices))
    r = S.render(ids, nu, resolution, device=device)
    truth = torch.cat([nu.pose, nu.expression], 1).float()
    return r.to_uint8().cpu(), truth, r.parts.cpu()


features = run_batched  # a frozen network's outputs (identity features, P's readings) for many images


def make_gan_data(identity_net: nn.Module, pose_net: PoseNet, seed: int, identity_indices: np.ndarray,
                  sources_per_identity: int, targets_per_identity: int, resolution: int = 64,
                  image_offset: int = 0) -> GanData:
    """Render wild sources and studio targets for these identities, and read f_id (frozen
    identity network) and f_pose (frozen P, divided by POSE_SCALE) once."""
    n = len(identity_indices)
    labels_s = np.repeat(np.arange(n), sources_per_identity)
    labels_t = np.repeat(np.arange(n), targets_per_identity)
    src, _ = render_photos(seed, identity_indices[labels_s], image_offset + np.tile(np.arange(sources_per_identity), n),
                           False, resolution)
    tgt, truth, parts = render_photos_with_parts(seed, identity_indices[labels_t],
                                                 image_offset + np.tile(np.arange(targets_per_identity), n), True,
                                                 resolution)
    f_pose = features(pose_net, tgt) / POSE_SCALE
    return GanData(src, features(identity_net, src), torch.from_numpy(labels_s), tgt, f_pose, truth,
                   torch.from_numpy(labels_t), sources_per_identity, parts)


class BeganBalance(nn.Module):
    """k_t, BEGAN's balance between fitting real faces and pushing fakes away, as a buffer (so
    it is checkpointed with the models and never synced to the host inside a step):
        k <- clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1)
    and the convergence measure M = R(real) + |gamma R(real) - R(fake)|."""

    def __init__(self):
        super().__init__()
        self.register_buffer("k", torch.zeros(()))

    @torch.no_grad()
    def update(self, r_real: torch.Tensor, r_fake: torch.Tensor, gamma: float, lambda_k: float) -> torch.Tensor:
        self.k.add_(lambda_k * (gamma * r_real - r_fake)).clamp_(0, 1)
        return r_real + (gamma * r_real - r_fake).abs()


@dataclass
class PoseGan:
    """Notebook 03's players: G and D with BEGAN's balance, their optimisers, and P (frozen)."""

    G: Generator
    D: BeganDiscriminator
    balance: BeganBalance
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    pose_net: PoseNet
    pose_scale: torch.Tensor  # POSE_SCALE on the device: P's outputs / pose_scale = f_pose


def build_pose_gan(cfg: GanConfig, pose_net: PoseNet, device: torch.device) -> PoseGan:
    torch.manual_seed(cfg.seed)
    G = Generator(cfg.width, cfg.resolution, cfg.z_dim, guided=cfg.guided).to(device)
    D = BeganDiscriminator(cfg.width, cfg.resolution).to(device)
    balance = BeganBalance().to(device)
    adam = dict(lr=cfg.lr, betas=(0.5, 0.999))
    return PoseGan(G=G, D=D, balance=balance, opt_g=torch.optim.Adam(G.parameters(), **adam),
                   opt_d=torch.optim.Adam(D.parameters(), **adam),
                   pose_net=pose_net.to(device).eval().requires_grad_(False), pose_scale=POSE_SCALE.to(device))


GAN_LOG_KEYS = ("r_real", "r_fake", "k", "M", "pose", "l1")


def pose_gan_step(p: PoseGan, cfg: GanConfig, real: torch.Tensor, f_id: torch.Tensor, f_pose: torch.Tensor,
                  z: torch.Tensor, autocast, scaler, guide: torch.Tensor | None = None) -> torch.Tensor:
    """One step of the two-player game on a batch: real (B, 3, R, R) studio photos in [0, 1],
    f_id (B, 256), f_pose (B, 7) the targets' poses / POSE_SCALE, z (B, z_dim), guide (B, 8, R, R)
    the pose-guided G's picture of f_pose or None (G draws it). Updates D, then G, then k.
    Returns the step's GAN_LOG_KEYS values (on the device)."""
    # D: rebuild real faces well, fakes badly (weighted by k)
    with autocast:
        fake = p.G(f_id, f_pose, z, guide)                                # (B, 3, R, R)
        r_real = p.D.recon_error(real).float().mean()
        r_fake_d = p.D.recon_error(fake.detach()).float().mean()
    update(r_real - p.balance.k * r_fake_d, p.opt_d, scaler, last=False)
    # G: fool D, show the target pose to P, look like the studio photo
    with autocast:
        r_fake = p.D.recon_error(fake).float().mean()
        pose_err = ((p.pose_net(fake.float()) / p.pose_scale) - f_pose).abs().mean()
    l1 = (fake.float() - real).abs().mean()
    update(cfg.adv_weight * r_fake + cfg.pose_weight * pose_err + cfg.recon_weight * l1, p.opt_g, scaler)
    measure = p.balance.update(r_real.detach(), r_fake.detach(), cfg.gamma, cfg.lambda_k)
    return torch.stack([r_real, r_fake, p.balance.k, measure, pose_err, l1]).detach()


def train_pose_gan(data: GanData, pose_net: PoseNet, cfg: GanConfig, checkpoint: str | Path | None = None,
                   device: str | torch.device = "cpu", save_every_s: float = 120.0,
                   save_every_steps: int | None = None, log_every: int = 50,
                   on_log: Callable[[int, dict, Generator], None] | None = None,
                   progress: bool = False) -> tuple[Generator, BeganDiscriminator, dict]:
    """Train (or load, or resume) G and D. Returns (G, D, history) with per-log-step means of
    R(real), R(fake), k, M, pose and L1 losses."""
    device = torch.device(device)
    p = build_pose_gan(cfg, pose_net, device)
    autocast, scaler = amp_context(device)
    ckpt, start, history = resume_run(checkpoint, "pose-guided-gan", stored_gan_config(cfg),
                                      {"G": p.G, "D": p.D, "balance": p.balance},
                                      {"opt_g": p.opt_g, "opt_d": p.opt_d},
                                      {"step": [], **{k: [] for k in GAN_LOG_KEYS}, "seconds": 0.0}, scaler,
                                      save_every_s, save_every_steps)
    if ckpt is not None and ckpt.finished:
        return p.G.eval(), p.D.eval(), history
    log = TrainLog(history, GAN_LOG_KEYS, cfg.steps, start, log_every, ckpt, "pose-guided GAN", progress, on_log,
                   device)
    p.G.train()
    p.D.train()
    guides = pose_guides(data.f_pose * POSE_SCALE, cfg.resolution) if cfg.guided else None  # once: P is frozen
    for step in range(start, cfg.steps):
        idx = batch_indices(step, len(data.targets), cfg.batch, cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        pick = torch.randint(data.per_identity, (len(idx),), generator=gen)
        src = data.target_labels[idx] * data.per_identity + pick          # a wild photo of the same person
        real = to_float(data.targets[idx], device)                        # (B, 3, R, R) studio photo
        z = torch.randn(len(idx), cfg.z_dim, generator=gen).to(device)
        guide = None if guides is None else expand_guides(guides[idx].to(device))
        values = pose_gan_step(p, cfg, real, data.f_id[src].to(device), data.f_pose[idx].to(device), z,
                               autocast, scaler, guide)
        log.step(step + 1, values, p.G)
    return p.G.eval(), p.D.eval(), log.finish()


def began_d_loss(D: BeganDiscriminator, real: torch.Tensor, fake: torch.Tensor, k: torch.Tensor, gamma: float,
                 lambda_k: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BEGAN's D loss and balance for one step (notebook 03's exercise): real, fake (B, 3, R, R), k (0-d).
    Returns (loss_d, new_k, M): loss_d = R(real) - k R(fake) on G's faces detached (D's loss never moves
    G); new_k = clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1) and M = R(real) + |gamma R(real) -
    R(fake)|, both without gradient. BeganBalance.update is the same rule in place, for the training loop."""
    r_real = D.recon_error(real).mean()
    r_fake = D.recon_error(fake.detach()).mean()
    loss_d = r_real - k * r_fake
    balance = (gamma * r_real - r_fake).detach()
    return loss_d, (k + lambda_k * balance).clamp(0.0, 1.0), r_real.detach() + balance.abs()


def fine_tune_pose_gan(G: Generator, D: BeganDiscriminator, k: float, data: GanData, cfg: GanConfig,
                       began: Callable = began_d_loss, steps: int = 100, seed: int = 1) -> dict[str, list]:
    """`steps` steps of notebook 03's game on copies of G and D (the trained ones are left as they were),
    D's loss and k from `began` (began_d_loss's signature: the learner's, or the reference), fresh
    Adam optimisers at cfg.lr, full precision, G drawing its own templates. The same start, data,
    steps and seed give the same batches and noise for every `began`, so two correct ones draw the
    same curves. Per step: D (its loss from `began`), then G (D's term and the L1), then k.
    Returns {"step", "D", "G", "k", "M"}."""
    G, D = copy.deepcopy(G).train(), copy.deepcopy(D).train()
    device = next(G.parameters()).device
    adam = dict(lr=cfg.lr, betas=(0.5, 0.999))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
    k_now = torch.tensor(float(k), device=device)
    curves: dict[str, list] = {"step": [], "D": [], "G": [], "k": [], "M": []}
    for s in range(steps):
        idx = batch_indices(s, len(data.targets), cfg.batch, seed)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + s)
        pick = torch.randint(data.per_identity, (len(idx),), generator=gen)
        src = data.target_labels[idx] * data.per_identity + pick          # a wild photo of the same person
        real = to_float(data.targets[idx], device)                        # (B, 3, R, R) studio photo
        z = torch.randn(len(idx), cfg.z_dim, generator=gen).to(device)
        fake = G(data.f_id[src].to(device), data.f_pose[idx].to(device), z)  # (B, 3, R, R)
        loss_d, new_k, measure = began(D, real, fake, k_now, cfg.gamma, cfg.lambda_k)
        update(loss_d, opt_d, None)
        D.requires_grad_(False)                                           # G's loss moves G only
        loss_g = cfg.adv_weight * D.recon_error(fake).mean() + cfg.recon_weight * (fake - real).abs().mean()
        update(loss_g, opt_g, None)
        D.requires_grad_(True)
        k_now = torch.as_tensor(new_k, dtype=torch.float32, device=device).detach()
        for key, value in zip(("D", "G", "k", "M"), (loss_d, loss_g, k_now, measure), strict=True):
            curves[key].append(float(torch.as_tensor(value).detach()))
        curves["step"].append(s + 1)
    return curves


@torch.no_grad()
def generate(G: Generator, f_id: torch.Tensor, f_pose: torch.Tensor, seed: int = 0, batch: int = 256) -> torch.Tensor:
    """G's faces (N, 3, R, R) in [0, 1] on the CPU, with seeded noise."""
    G.eval()
    device = next(G.parameters()).device
    z = torch.randn(len(f_id), G.z_dim, generator=torch.Generator().manual_seed(seed))
    out = [G(f_id[a:a + batch].to(device), f_pose[a:a + batch].to(device), z[a:a + batch].to(device)).float().cpu()
           for a in range(0, len(f_id), batch)]
    return torch.cat(out)
