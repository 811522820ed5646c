"""Profiles: what the course trains on each profile, where it keeps it, and how to load it.

The one home of what trains where: a profile (`ci`, `cpu`, `gpu`) mapped to every model's budget,
config, training data, world constants (the judge's, the instruments') and checkpoint path, notebook
01's deepfake (its pair, pretraining and autoencoder) included, with two ways in:

    net, history = load("identity", "cpu")          # a finished model: no training code, no data
    net, history = load_identity_net("cpu")         # train-or-load: trains (and resumes) when missing

The profile is resolved once (the notebook's set-up cell: `env.profile`; the CLI's --profile) and
passed to every function here; nothing below reads the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import runtime
from .data.datasets import SynthSplit, render_split
from .data.pairs import DeepfakePair, person_video
from .data.real_pairs import load_pair
from .models.autoencoder import FaceSwapAutoencoder
from .models.identity import IdentityNet
from .models.pose import PoseNet
from .train.autoencoder import AutoencoderConfig, train_autoencoder
from .train.checkpoint import CheckpointError, checkpoint_finished, config_fingerprint, load_checkpoint, load_state
from .train.classifier import ClassifierConfig, build_classifier, train_classifier
from .train.distributed import SINGLE, Dist, barrier
from .train.faceidgan import FaceIdGanConfig, Players, build_players, stored_config, train_faceid_gan, variant_name
from .train.gan import GanConfig, GanData, make_gan_data, stored_gan_config, train_pose_gan
from .train.instruments import InstrumentConfig, build, render_world, train_instrument
from .train.pose import PoseConfig, pose_targets, train_pose

# ----------------------------------------------------------------------------
# Budgets: each model's size, data and steps on each profile
# ----------------------------------------------------------------------------

# Notebook 01's deepfake: frames per person (rendered at frame_resolution), held-out frames of A, the
# aligned crops' resolution (what the autoencoder trains on), its width, batch, steps, learning rate and
# warp strength, the pretraining on other people (people per decoder, frames each, steps; once per
# machine) and the length of the swap video.
# cpu (#40, validation pairs): a tight aligned crop from 128 px frames, warp 0.03, and a pretraining are
# what paint eyes, brows and lips at this width; width 0.125 and batch 16 at lr 1e-3 (#19: 2e-3
# diverged, width 0.25 collapsed at 1e-3).
DEEPFAKE_BUDGETS = {
    "ci": {"frames": 96, "test_frames": 24, "frame_resolution": 64, "resolution": 64, "width": 0.0625, "batch": 8,
           "steps": 40, "lr": 5e-4, "warp": 0.03, "pretrain": {"people": 2, "frames": 24, "steps": 30},
           "video_frames": 8},
    "cpu": {"frames": 800, "test_frames": 200, "frame_resolution": 128, "resolution": 64, "width": 0.125,
            "batch": 16, "steps": 3000, "lr": 1e-3, "warp": 0.03,
            "pretrain": {"people": 8, "frames": 100, "steps": 5000}, "video_frames": 48},
    "gpu": {"frames": 2000, "test_frames": 400, "frame_resolution": 128, "resolution": 64, "width": 0.5, "batch": 64,
            "steps": 20000, "lr": 5e-4, "warp": 0.03, "pretrain": {"people": 32, "frames": 200, "steps": 20000},
            "video_frames": 72},
}


DETECTION_BUDGETS = {
    "ci": {"train_images": 32, "detector_steps": 20, "test_identities": 6},
    "cpu": {"train_images": 2000, "detector_steps": 300, "test_identities": 100},
    "gpu": {"train_images": 10000, "detector_steps": 2000, "test_identities": 200},
}


FRONTALIZATION_BUDGETS = {"ci": {"identities": 4}, "cpu": {"identities": 40}, "gpu": {"identities": 200}}


INSTRUMENT_BUDGETS = {  # per instrument: R reads what is fixed per person, so it needs many people
    "ci": {"people": {"pose_reader": (24, 12), "param_reader": (96, 3), "segmenter": (24, 12)},
           "steps": {"pose_reader": 120, "param_reader": 120, "segmenter": 300},
           "batch": {"pose_reader": 32, "param_reader": 32, "segmenter": 16},
           "width": {"pose_reader": 8, "param_reader": 8, "segmenter": 6}},
    "cpu": {"people": {"pose_reader": (400, 24), "param_reader": (2400, 4), "segmenter": (400, 24)},
            "steps": {"pose_reader": 1500, "param_reader": 1500, "segmenter": 1500},
            "batch": {"pose_reader": 64, "param_reader": 64, "segmenter": 32},
            "width": {"pose_reader": 20, "param_reader": 20, "segmenter": 8}},
    "gpu": {"people": {"pose_reader": (2000, 32), "param_reader": (12000, 6), "segmenter": (2000, 32)},
            "steps": {"pose_reader": 8000, "param_reader": 8000, "segmenter": 8000},
            "batch": {"pose_reader": 128, "param_reader": 128, "segmenter": 64},
            "width": {"pose_reader": 32, "param_reader": 32, "segmenter": 16}},
}  # people: (identities, images per identity) of the instrument's own world
# Each instrument's own world (none of its people appears anywhere else in the course) and init seed.
WORLD_SEEDS = {"pose_reader": 104_729, "param_reader": 130_363, "segmenter": 155_921}
INIT_SEEDS = {"pose_reader": 11, "param_reader": 13, "segmenter": 17}


# The judge: an identity network of its own world (none of its people appear anywhere else), width
# and margin (additive cosine: tighter identity clusters than plain softmax); judge.py reads with it.
JUDGE_WORLD_SEED = 7919
JUDGE_RESOLUTION = 64
JUDGE_MARGIN = 0.2
JUDGE_BUDGETS = {
    "ci": {"identities": 30, "images_per_identity": 12, "steps": 40, "width": 16, "batch": 64},
    "cpu": {"identities": 300, "images_per_identity": 60, "steps": 1200, "width": 32, "batch": 128},
    "gpu": {"identities": 2000, "images_per_identity": 60, "steps": 20000, "width": 48, "batch": 256},
}


# The course's identity network (notebook 02; G's identity features in notebook 03): trained on
# the course world's training identities (seed 0), width 24: not the judge (its own world, width 32).
IDENTITY_BUDGETS = {
    "ci": {"identities": 16, "images_per_identity": 12, "steps": 30, "width": 16, "batch": 64},
    "cpu": {"identities": 300, "images_per_identity": 40, "steps": 1000, "width": 24, "batch": 128},
    "gpu": {"identities": 2000, "images_per_identity": 60, "steps": 15000, "width": 32, "batch": 256},
}
IDENTITY_RESOLUTION = 64


POSE_BUDGETS = {
    "ci": {"identities": 16, "images_per_identity": 32, "steps": 40, "width": 16, "batch": 64},
    "cpu": {"identities": 400, "images_per_identity": 60, "steps": 1500, "width": 24, "batch": 128},
    "gpu": {"identities": 2000, "images_per_identity": 100, "steps": 20000, "width": 32, "batch": 256},
}
POSE_RESOLUTION = 64


# The notebooks' and the CLI's FaceID-GAN budgets, so `faceid-lab train faceidgan` pre-trains exactly
# the checkpoints that notebooks 04-09 load. identities / sources / targets: GanData (notebook 03);
# test_identities: unseen people for the judge (2 photos each).
FACEIDGAN_BUDGETS = {
    "ci": dict(identities=8, sources=2, targets=4, width=8, batch=8, steps=20, test_identities=6),
    # cpu: 1200 steps of batch 16, the pose-guided G (#35): 7 to 8 minutes a variant on 2 cores
    "cpu": dict(identities=2000, sources=2, targets=4, width=16, batch=16, steps=1200, test_identities=100),
    "gpu": dict(identities=5000, sources=4, targets=8, width=64, batch=128, steps=20000, test_identities=200),
}


# ----------------------------------------------------------------------------
# Configs and data
# ----------------------------------------------------------------------------

def identity_config(profile: str, **overrides) -> ClassifierConfig:
    """The ClassifierConfig of a profile's identity network."""
    b = IDENTITY_BUDGETS[profile]
    cfg = ClassifierConfig(num_classes=b["identities"], width=b["width"], steps=b["steps"], batch=b["batch"])
    return ClassifierConfig(**(asdict(cfg) | overrides))


def judge_config(profile: str) -> ClassifierConfig:
    """The judge's ClassifierConfig: its own world (JUDGE_WORLD_SEED), width and margin."""
    b = JUDGE_BUDGETS[profile]
    return ClassifierConfig(num_classes=b["identities"], width=b["width"], margin=JUDGE_MARGIN, steps=b["steps"],
                            batch=b["batch"], seed=JUDGE_WORLD_SEED)


def instrument_config(name: str, profile: str) -> InstrumentConfig:
    b = INSTRUMENT_BUDGETS[profile]
    return InstrumentConfig(width=b["width"][name], steps=b["steps"][name], batch=b["batch"][name],
                            seed=INIT_SEEDS[name])


def pose_config(profile: str) -> PoseConfig:
    b = POSE_BUDGETS[profile]
    return PoseConfig(width=b["width"], steps=b["steps"], batch=b["batch"])


def faceidgan_config(classifier: str, profile: str, symmetric: bool = True, **overrides) -> FaceIdGanConfig:
    """The FaceIdGanConfig of a profile's budget for one variant."""
    b = FACEIDGAN_BUDGETS[profile]
    budget = {"width": b["width"], "batch": b["batch"], "steps": b["steps"]}
    return FaceIdGanConfig(classifier=classifier, symmetric=symmetric, **(budget | overrides))


def faceidgan_data(identity_net: IdentityNet, pose_net: PoseNet, profile: str) -> GanData:
    """The training people of a profile: wild sources and studio targets (notebook 03's GanData)."""
    b = FACEIDGAN_BUDGETS[profile]
    return make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(b["identities"]),
                         sources_per_identity=b["sources"], targets_per_identity=b["targets"])


def _render_training_set(seed: int, identities: int, per_identity: int, resolution: int):
    """(images (N, 3, R, R) uint8, labels (N,), nuisance) of a world's training people."""
    r, labels, _, nuisance = render_split(SynthSplit(seed, identities, per_identity, "train"), resolution)
    return r.to_uint8(), labels, nuisance


# ----------------------------------------------------------------------------
# Checkpoint paths
# ----------------------------------------------------------------------------

def faceidgan_checkpoint_name(cfg: FaceIdGanConfig, people: int, targets: int, profile: str) -> str:
    """faceidgan_<classifier>[-nosym]_<profile>_<fingerprint of the config and the data's size>.pt"""
    spec = {**stored_config(cfg), "people": people, "targets": targets}
    return f"faceidgan_{variant_name(cfg.classifier, cfg.symmetric)}_{profile}_{config_fingerprint(spec)[:10]}.pt"


def faceidgan_path(cfg: FaceIdGanConfig, profile: str) -> Path:
    """Where a FaceID-GAN config trained on the profile's people lives (faceidgan_checkpoint_name)."""
    b = FACEIDGAN_BUDGETS[profile]
    return runtime.path("checkpoints", faceidgan_checkpoint_name(cfg, b["identities"], b["identities"] * b["targets"],
                                                                 profile))


INSTRUMENT_STEMS = {"pose_reader": "posereader", "param_reader": "paramreader", "segmenter": "segmenter"}
KINDS = ("identity", "pose", "judge", "faceidgan", *INSTRUMENT_STEMS)


def checkpoint_path(kind: str, profile: str, margin: float = 0.0, classifier: str = "2n", symmetric: bool = True,
                    **overrides) -> Path:
    """Where a profile's model lives under FACEID_LAB_HOME/checkpoints: kind "identity" (with its
    `margin`), "pose", "judge", "faceidgan" (`classifier`, `symmetric`, config `overrides`), or an
    instrument ("pose_reader", "param_reader", "segmenter")."""
    if kind == "identity":
        return runtime.path("checkpoints", f"identity_{profile}" + (f"_margin{margin:g}" if margin else "") + ".pt")
    if kind in ("pose", "judge"):
        return runtime.path("checkpoints", f"{kind}_{profile}.pt")
    if kind in INSTRUMENT_STEMS:
        return runtime.path("checkpoints", f"{INSTRUMENT_STEMS[kind]}_{profile}.pt")
    if kind == "faceidgan":
        return faceidgan_path(faceidgan_config(classifier, profile, symmetric, **overrides), profile)
    raise ValueError(f"checkpoint_path: unknown kind {kind!r}; choose one of {', '.join(KINDS)}")


# ----------------------------------------------------------------------------
# load: a finished model, nothing else
# ----------------------------------------------------------------------------

TRAINED_BY = {  # what trains each kind when its checkpoint is missing
    "identity": "notebook 02, or `faceid-lab train faceidgan` (it trains the identity network first)",
    "pose": "`faceid-lab train pose --profile {profile}`",
    "judge": "`faceid-lab train judge --profile {profile}`",
    "faceidgan": "`faceid-lab train faceidgan --profile {profile} --variants {variant}`",
    **{name: "`faceid-lab train instruments --profile {profile}`" for name in INSTRUMENT_STEMS},
}
CHECKPOINT_KINDS = {"identity": "identity-classifier", "judge": "identity-classifier", "pose": "pose-regressor",
                    "faceidgan": "faceid-gan", **{name: f"instrument-{name}" for name in INSTRUMENT_STEMS}}


def _finished(kind: str, profile: str, path: Path, config: dict, variant: str = "") -> dict:
    if not checkpoint_finished(path):
        how = TRAINED_BY[kind].format(profile=profile, variant=variant)
        raise CheckpointError(f"{path}: no finished {kind} model of the {profile} profile; train it with {how}")
    return load_checkpoint(path, CHECKPOINT_KINDS[kind], config)


def load(kind: str, profile: str, device: str | torch.device = "cpu", margin: float = 0.0, classifier: str = "2n",
         symmetric: bool = True, **overrides) -> tuple[IdentityNet | PoseNet | Players, dict]:
    """A finished model of a profile and its training history, built from its checkpoint alone
    (no training code, no data): "identity", "judge" -> IdentityNet; "pose" -> PoseNet (P);
    "faceidgan" -> Players (with the identity network and P it was trained with); "pose_reader",
    "param_reader", "segmenter" -> the instrument. Frozen, eval mode.
    A missing or unfinished checkpoint is a CheckpointError that names the file and what trains it."""
    device = torch.device(device)
    if kind == "faceidgan":
        return load_players(faceidgan_config(classifier, profile, symmetric, **overrides), profile, device)
    path = checkpoint_path(kind, profile, margin, classifier, symmetric, **overrides)
    if kind in ("identity", "judge"):
        cfg = identity_config(profile, margin=margin) if kind == "identity" else judge_config(profile)
        ckpt = _finished(kind, profile, path, asdict(cfg))
        net = build_classifier(cfg).to(device)
        load_state(net, ckpt["modules"].get("net"), path, "net")
        return net.eval().requires_grad_(False), ckpt.get("extra", {}).get("history", {})
    if kind == "pose":
        cfg = pose_config(profile)
        ckpt = _finished(kind, profile, path, asdict(cfg))
        net = PoseNet(cfg.width).to(device)
        load_state(net, ckpt["modules"].get("net"), path, "net")
        return net.eval().requires_grad_(False), ckpt.get("extra", {}).get("history", {})
    if kind in INSTRUMENT_STEMS:
        cfg = instrument_config(kind, profile)
        ckpt = _finished(kind, profile, path, asdict(cfg))
        net = build(kind, cfg.width).to(device)
        load_state(net, ckpt["modules"].get("net"), path, "net")
        return net.eval().requires_grad_(False), ckpt.get("extra", {}).get("history", {})
    raise ValueError(f"load: unknown kind {kind!r}; choose one of {', '.join(KINDS)}")


def load_players(cfg: FaceIdGanConfig, profile: str, device: str | torch.device = "cpu") -> tuple[Players, dict]:
    """A finished FaceID-GAN run of a config at the profile's budget (load("faceidgan", ...) for a
    variant), with the identity network and P it was trained with; G and D in eval mode."""
    device = torch.device(device)
    b, path = FACEIDGAN_BUDGETS[profile], faceidgan_path(cfg, profile)
    ckpt = _finished("faceidgan", profile, path, {**stored_config(cfg), "identities": b["identities"]},
                     variant_name(cfg.classifier, cfg.symmetric))
    identity_net, _ = load("identity", profile, device)
    pose_net, _ = load("pose", profile, device)
    p = build_players(cfg, identity_net, pose_net, b["identities"], device)
    for name, module in (("G", p.G), ("D", p.D), ("balance", p.balance), ("C", p.C)):
        if module is not None:
            load_state(module, ckpt["modules"].get(name), path, name)
    p.checkpoint = path
    p.G.eval()
    p.D.eval()
    return p, ckpt.get("extra", {}).get("history", {})


# ----------------------------------------------------------------------------
# Train-or-load: what the notebooks and the CLI call
# ----------------------------------------------------------------------------

def load_identity_net(profile: str, device: str | torch.device = "cpu", progress: bool = True,
                      save_every_s: float = 120.0, **overrides) -> tuple[IdentityNet, dict]:
    """Train-or-load the course's identity network of a profile
    (FACEID_LAB_HOME/checkpoints/identity_<profile>[_margin].pt): (net in eval mode, history)."""
    cfg = identity_config(profile, **overrides)
    path = checkpoint_path("identity", profile, cfg.margin)
    if checkpoint_finished(path):
        return load("identity", profile, device, margin=cfg.margin)
    b = IDENTITY_BUDGETS[profile]
    images, labels, _ = _render_training_set(0, b["identities"], b["images_per_identity"], IDENTITY_RESOLUTION)
    net, history = train_classifier(images, labels, cfg, checkpoint=path, device=device, progress=progress,
                                    save_every_s=save_every_s)
    return net.requires_grad_(False), history


def load_pose(profile: str, device: str | torch.device = "cpu", progress: bool = True,
              save_every_s: float = 120.0, with_history: bool = False) -> PoseNet | tuple[PoseNet, dict]:
    """Train-or-load P for a profile (FACEID_LAB_HOME/checkpoints/pose_<profile>.pt), frozen
    (with `with_history`: P and its training history).
    P learns from the course world's training identities (seed 0), whose poses it must read."""
    path = checkpoint_path("pose", profile)
    if checkpoint_finished(path):
        net, history = load("pose", profile, device)
    else:
        b = POSE_BUDGETS[profile]
        images, _, nuisance = _render_training_set(0, b["identities"], b["images_per_identity"], POSE_RESOLUTION)
        net, history = train_pose(images, pose_targets(nuisance.to_vector()), pose_config(profile), checkpoint=path,
                                  device=device, progress=progress, save_every_s=save_every_s)
    return (net, history) if with_history else net


def load_judge_net(profile: str, device: str | torch.device = "cpu", progress: bool = True,
                   save_every_s: float = 120.0) -> tuple[IdentityNet, dict]:
    """Train-or-load the SynthFaces judge's network of a profile (FACEID_LAB_HOME/checkpoints/judge_<profile>.pt):
    (net, history). judge.load_synth_judge wraps it with its provenance."""
    path = checkpoint_path("judge", profile)
    if checkpoint_finished(path):
        return load("judge", profile, device)
    b = JUDGE_BUDGETS[profile]
    images, labels, _ = _render_training_set(JUDGE_WORLD_SEED, b["identities"], b["images_per_identity"],
                                             JUDGE_RESOLUTION)
    return train_classifier(images, labels, judge_config(profile), checkpoint=path, device=device,
                            progress=progress, save_every_s=save_every_s, desc="SynthFaces judge")


def load_instrument(name: str, profile: str, device: str | torch.device = "cpu", progress: bool = False,
                    save_every_s: float = 120.0) -> tuple[nn.Module, dict]:
    """Train-or-load one instrument of a profile: a finished checkpoint is loaded (nothing is
    rendered), an unfinished one resumes, a missing one trains on its own world."""
    cfg, path = instrument_config(name, profile), checkpoint_path(name, profile)
    if checkpoint_finished(path):
        net, history = load(name, profile, device)
    else:
        identities, per_identity = INSTRUMENT_BUDGETS[profile]["people"][name]
        photos = render_world(WORLD_SEEDS[name], np.arange(identities), per_identity)
        net, history = train_instrument(name, photos, cfg, path, device, save_every_s, progress=progress)
    provenance = {"instrument": name, "profile": profile, "world_seed": WORLD_SEEDS[name], "init_seed": cfg.seed,
                  "width": cfg.width, "steps": cfg.steps, "checkpoint": str(path),
                  "train_seconds": round(history.get("seconds", 0.0), 1), "used_as_training_signal": False}
    return net, provenance


def train_pose_gan_or_load(data: GanData, pose_net: PoseNet, cfg: GanConfig, profile: str, name: str = "posegan",
                           **kwargs):
    """train_pose_gan with its checkpoint at FACEID_LAB_HOME/checkpoints/<name>_<profile>_<config>.pt:
    a finished run is loaded, an unfinished one resumes, another config is another run."""
    spec = {**stored_gan_config(cfg), "people": int(data.target_labels.max()) + 1, "targets": len(data.targets)}
    path = runtime.path("checkpoints", f"{name}_{profile}_{config_fingerprint(spec)[:10]}.pt")
    return train_pose_gan(data, pose_net, cfg, checkpoint=path, **kwargs)


def train_faceid_gan_or_load(data: GanData, identity_net: IdentityNet, pose_net: PoseNet, cfg: FaceIdGanConfig,
                             profile: str, **kwargs) -> tuple[Players, dict]:
    """train_faceid_gan on `data` with its checkpoint at
    FACEID_LAB_HOME/checkpoints/faceidgan_<classifier>_<profile>_<config>.pt (named by
    faceidgan_checkpoint_name from the config and the data's size): a finished run is loaded, an
    unfinished one resumes, another config or other data is another run."""
    people = int(data.target_labels.max()) + 1
    path = runtime.path("checkpoints", faceidgan_checkpoint_name(cfg, people, len(data.targets), profile))
    return train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, **kwargs)


def load_faceid_gan(classifier: str, profile: str, symmetric: bool = True, device: str | torch.device = "cpu",
                    progress: bool = False, dist: Dist = SINGLE, compile: bool = False, save_every_s: float = 120.0,
                    **overrides) -> tuple[Players, dict]:
    """Train-or-load one variant at a profile's budget, from nothing but the profile: the identity
    network and P (train-or-load too), the training people, then FaceID-GAN's players.
    This is what `faceid-lab train faceidgan` and the notebooks share. Under torchrun, rank 0
    trains-or-loads the identity network and P alone while the others wait, then all load them."""
    if not dist.main:
        barrier(dist)  # wait for rank 0's identity network and P
    identity_net, _ = load_identity_net(profile, device=device, progress=progress and dist.main,
                                        save_every_s=save_every_s)
    pose_net = load_pose(profile, device, progress=progress and dist.main, save_every_s=save_every_s)
    if dist.main:
        barrier(dist)
    cfg = faceidgan_config(classifier, profile, symmetric, **overrides)  # built once, used all the way down
    path = faceidgan_path(cfg, profile)
    if checkpoint_finished(path):  # loading only: no need to render the training people
        return load_players(cfg, profile, device)
    data = faceidgan_data(identity_net, pose_net, profile)
    return train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=path, device=device, progress=progress,
                            dist=dist, compile=compile, save_every_s=save_every_s)


# ----------------------------------------------------------------------------
# Notebook 01's deepfake: the pair, its autoencoder and the pretraining it starts from
# ----------------------------------------------------------------------------

# Pretraining people: SynthFaces training people from 100 on. Never A or B (nor notebook 01's unseen
# person 7), never a validation or test person (those live at offsets of a million and more).
PRETRAIN_FIRST_PERSON = 100


def budget_pair(budget: dict, shard: str | Path | None = None, a: str | int | None = None,
                b: str | int | None = None, seed: int = 0) -> DeepfakePair:
    """load_pair with a budget's (a row of DEEPFAKE_BUDGETS) frames, test frames and resolutions."""
    return load_pair(shard, a, b, budget["frames"], budget["test_frames"], seed, budget["frame_resolution"],
                     budget["resolution"])


def autoencoder_config(budget: dict, **overrides) -> AutoencoderConfig:
    """The AutoencoderConfig of a budget (a row of DEEPFAKE_BUDGETS), with any field overridden."""
    cfg = AutoencoderConfig(width=budget["width"], resolution=budget["resolution"], batch=budget["batch"],
                            steps=budget["steps"], lr=budget["lr"], warp_strength=budget["warp"])
    return replace(cfg, **overrides)


def config_key(cfg: AutoencoderConfig) -> str:
    """The config's part of the checkpoint's name (the first 10 hex digits of its fingerprint)."""
    return config_fingerprint(asdict(cfg))[:10]


def autoencoder_checkpoint_path(pair: DeepfakePair, cfg: AutoencoderConfig) -> Path:
    """FACEID_LAB_HOME/checkpoints/deepfake_<pair>_<config key>.pt: another pair or
    another config is another run, never a clash."""
    return runtime.path("checkpoints", f"deepfake_{pair.key}_{config_key(cfg)}.pt")


# ----------------------------------------------------------------------------
# Pretraining on other people (DeepFaceLab's pretrain mode), once per machine
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Pretraining:
    """Decoder A learns `people` SynthFaces people, decoder B `people` others (`frames` video frames
    each), through one shared encoder: a model that already paints eyes, brows, noses and lips in
    any pose, for every pair to start from."""

    people: int
    frames: int
    cfg: AutoencoderConfig
    frame_resolution: int = 128
    seed: int = 0

    @property
    def key(self) -> str:
        return (f"pretrain{self.seed}-{self.people}x{self.frames}-{self.frame_resolution}-{self.cfg.resolution}_"
                f"{config_key(self.cfg)}")

    def sides(self) -> tuple[list[int], list[int]]:
        """The people behind decoder A and behind decoder B."""
        first = PRETRAIN_FIRST_PERSON
        return (list(range(first, first + self.people)), list(range(first + self.people, first + 2 * self.people)))


def pretraining(budget: dict, **overrides) -> Pretraining:
    """The Pretraining of a budget: its people, frames and steps, the pair's model and learning rate."""
    spec = budget["pretrain"]
    cfg = autoencoder_config(budget, steps=spec["steps"], **overrides)
    return Pretraining(spec["people"], spec["frames"], cfg, budget["frame_resolution"])


def pretrain_faces(pre: Pretraining) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(crops A-side, masks A-side, crops B-side, masks B-side): every pretraining person's video,
    extracted like a pair's."""
    out = []
    for people in pre.sides():
        videos = [person_video(pre.seed, p, pre.frames, pre.frame_resolution, pre.cfg.resolution) for p in people]
        out += [torch.cat([v[1] for v in videos]), torch.cat([v[2] for v in videos])]
    return tuple(out)


def pretrain_or_load(pre: Pretraining, device: str | torch.device = "cpu",
                     **kwargs) -> tuple[FaceSwapAutoencoder, dict]:
    """Train the pretraining (resumable), or load it from FACEID_LAB_HOME/checkpoints once finished.
    kwargs go to train_autoencoder (progress, save_every_s, ...)."""
    path = runtime.path("checkpoints", f"deepfake_{pre.key}.pt")
    if checkpoint_finished(path):  # loading needs no faces: skip rendering them
        return train_autoencoder(None, None, pre.cfg, checkpoint=path, device=device, **kwargs)
    faces_a, masks_a, faces_b, masks_b = pretrain_faces(pre)
    return train_autoencoder(faces_a, faces_b, pre.cfg, masks_a, masks_b, checkpoint=path, device=device, **kwargs)


def train_autoencoder_or_load(pair: DeepfakePair, cfg: AutoencoderConfig, device: str | torch.device = "cpu",
                  start: FaceSwapAutoencoder | None = None, **kwargs) -> tuple[FaceSwapAutoencoder, dict]:
    """Train the pair's autoencoder, resume an unfinished run, or load a finished one (at
    autoencoder_checkpoint_path). `start`: the model a fresh run starts from (the pretraining; its key must be
    cfg.init). kwargs go to train_autoencoder (on_log, progress, save_every_s, ...)."""
    path = autoencoder_checkpoint_path(pair, cfg)
    init = None if start is None else start.state_dict()
    return train_autoencoder(pair.faces_a, pair.faces_b, cfg, pair.masks_a, pair.masks_b, checkpoint=path,
                             device=device, init=init, **kwargs)


def train_pair_or_load(pair: DeepfakePair, budget: dict, device: str | torch.device = "cpu", pretrain: bool = True,
                       overrides: dict | None = None, **kwargs) -> tuple[FaceSwapAutoencoder, dict, AutoencoderConfig]:
    """The course's deepfake: pretrain-or-load (once per machine), then train-or-load the pair from
    it (`pretrain=False`: from scratch). overrides: AutoencoderConfig fields of the pair's run (the
    model's own, width and resolution, apply to the pretraining too). kwargs go to the pair's
    train_autoencoder (on_log, progress, ...). Returns (model, history, the pair's config); the
    history has the pretraining's seconds as history["pretrain_seconds"] (0 without one)."""
    overrides = dict(overrides or {})
    if not pretrain:
        cfg = autoencoder_config(budget, **overrides)
        model, history = train_autoencoder_or_load(pair, cfg, device, **kwargs)
        return model, {**history, "pretrain_seconds": 0.0}, cfg
    model_keys = ("width", "resolution", "mask", "batch", "lr", "warp_strength")
    shared = {k: v for k, v in overrides.items() if k in model_keys}
    pre = pretraining(budget, **shared)
    base, base_history = pretrain_or_load(pre, device, progress=kwargs.get("progress", False),
                                          save_every_s=kwargs.get("save_every_s", 120.0))
    cfg = autoencoder_config(budget, init=pre.key, **overrides)
    model, history = train_autoencoder_or_load(pair, cfg, device, start=base, **kwargs)
    return model, {**history, "pretrain_seconds": base_history["seconds"]}, cfg
