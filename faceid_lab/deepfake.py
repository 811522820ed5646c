"""The deepfake of notebook 01, end to end: a pair of people, training data, swaps, judging.

On SynthFaces each person is filmed in one "video": a fixed scene (background,
light, framing) in which the head turns and the expression changes, as in the
footage a real deepfake is trained on. Because the renderer knows everything,
every held-out frame of A has a ground-truth swap: person B rendered with A's
exact pose, expression, light and background.

The pipeline is faceswap's: *extract* each frame's face to a tight crop aligned on its five
landmarks (a similarity transform), train the autoencoder on crops, and *convert* by warping the
swapped crop back with the inverse transform and blending it into the frame. The autoencoder
starts from a *pretraining* on other people (DeepFaceLab's pretrain mode), done once per machine.

On real faces (a prepared shard of two or more people) there is no ground truth:
the swap is judged by dlib's face descriptor only, and the blend mask is a face
oval built from the five alignment points.
"""

from __future__ import annotations

import functools
import math
import subprocess
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import synthetic as S
from .data.datasets import HELDOUT_IMAGE_OFFSET
from .data.real import DataError
from .images import from_hwc, to_uint8_hwc
from .metrics import ssim
from .models.autoencoder import FaceSwapAutoencoder
from .swap import blend, crop_faces, paste_faces, similarity_matrices, swap
from .train.autoencoder import AutoencoderConfig, train_autoencoder
from .viz.tables import markdown_table, report_table  # noqa: F401 - notebooks use them from here too

SCENE_IMAGE_INDEX = 2 ** 40  # the image index whose random nuisance becomes a person's scene
POSE_LIMITS = (40.0, 15.0, 10.0)  # yaw, pitch, roll in degrees: a talking head, not a profile shot


@dataclass
class DeepfakePair:
    """Everything the notebook needs about persons A and B.

    faces_*: training crops (N, 3, R, R) uint8, each face aligned on its landmarks (what the
    autoencoder trains on); masks_*: (N, R, R) uint8 head masks in the crops, or None.
    frames_*: the training frames themselves (N, 3, F, F) uint8 (the judge's view of each person).
    test_a: held-out frames of A (M, 3, F, F) float in [0, 1]; test_masks_a: (M, 1, F, F) the
    region a blend may replace; test_matrices_a: (M, 2, 3) each frame's crop transform (frame
    pixels -> crop pixels). truth_ab: the ground-truth swaps (B in A's frames) or None,
    pose_a: A's true (yaw, pitch, roll) per test frame or None; truth_parts_ab: the true swaps'
    part maps (M, 64, 64), in the instruments' view, and params_a / params_b: A's and B's true
    identity parameters (26,), for the instruments (SynthFaces only)."""

    kind: str
    name_a: str
    name_b: str
    faces_a: torch.Tensor
    faces_b: torch.Tensor
    masks_a: torch.Tensor | None
    masks_b: torch.Tensor | None
    frames_a: torch.Tensor
    frames_b: torch.Tensor
    test_a: torch.Tensor
    test_masks_a: torch.Tensor
    test_matrices_a: torch.Tensor
    truth_ab: torch.Tensor | None = None
    pose_a: torch.Tensor | None = None
    info: dict = field(default_factory=dict)
    truth_parts_ab: torch.Tensor | None = None
    params_a: torch.Tensor | None = None
    params_b: torch.Tensor | None = None

    @property
    def key(self) -> str:
        """A short name for checkpoint files: which people, from where, how many faces."""
        if self.kind == "synthfaces":
            i = self.info
            return f"synth{i['seed']}-{i['a']}-{i['b']}-{len(self.faces_a)}-{self.frame_resolution}-{self.resolution}"
        import hashlib

        where = hashlib.sha256(f"{self.info.get('shard')}|{self.name_a}|{self.name_b}".encode()).hexdigest()[:10]
        return f"real-{where}-{len(self.faces_a)}"

    @property
    def resolution(self) -> int:
        """The crops' side: what the autoencoder trains on."""
        return self.faces_a.shape[-1]

    @property
    def frame_resolution(self) -> int:
        return self.test_a.shape[-1]

    def __repr__(self) -> str:
        truth = "with ground truth" if self.truth_ab is not None else "no ground truth"
        return (f"DeepfakePair({self.kind}: A={self.name_a} {len(self.faces_a)} faces, "
                f"B={self.name_b} {len(self.faces_b)} faces, {len(self.test_a)} test frames of A, {truth})")


# ----------------------------------------------------------------------------
# SynthFaces people on video
# ----------------------------------------------------------------------------

def _scene_of(seed: int, identity: int) -> S.Nuisance:
    return S.sample_nuisance(seed, [identity], [SCENE_IMAGE_INDEX])


def video_nuisance(seed: int, identity: int, frames: np.ndarray | list[int],
                   pose_limits: tuple[float, float, float] = POSE_LIMITS) -> S.Nuisance:
    """Frames of `identity`'s video: random pose (within pose_limits) and expression per frame,
    the person's own scene (light, background, framing) in all of them, with a little head sway."""
    frames = np.asarray(frames, dtype=np.int64)
    nu = S.sample_nuisance(seed, np.full(len(frames), identity), frames)
    scene = _scene_of(seed, identity)
    n = len(frames)
    limits = torch.tensor(pose_limits, dtype=torch.float64) / torch.tensor(list(S.POSE_RANGE.values()))
    nu.pose = nu.pose * limits
    for name in ("light_dir", "light_color", "light_intensity", "ambient", "background", "bg_colors",
                 "bg_pattern", "scale"):
        value = getattr(scene, name)
        setattr(nu, name, value.expand(n, *value.shape[1:]).clone())
    nu.shift = scene.shift + 0.3 * nu.shift  # the head sways a little in a fixed camera
    return nu


def head_turn_nuisance(seed: int, identity: int, frames: int = 48,
                       pose_limits: tuple[float, float, float] = POSE_LIMITS) -> S.Nuisance:
    """A smooth clip in `identity`'s scene: the head turns left and right, nods, smiles, talks
    and blinks once. For the swap video."""
    nu = video_nuisance(seed, identity, np.arange(frames) + 2 * HELDOUT_IMAGE_OFFSET, pose_limits)
    t = torch.linspace(0, 1, frames, dtype=torch.float64)
    yaw, pitch, roll = pose_limits
    nu.pose = torch.stack([0.9 * yaw * torch.sin(2 * math.pi * t), 0.6 * pitch * torch.sin(4 * math.pi * t + 0.6),
                           0.5 * roll * torch.sin(2 * math.pi * t + 1.2)], 1)
    smile = 0.5 - 0.5 * torch.cos(2 * math.pi * t)
    mouth = (0.5 + 0.5 * torch.sin(6 * math.pi * t)).clamp(0, 1) * (t > 0.5)
    brow = 0.4 * (0.5 - 0.5 * torch.cos(4 * math.pi * t))
    blink = torch.exp(-(((t - 0.3) / 0.03) ** 2))
    nu.expression = torch.stack([smile, mouth, brow, blink], 1)
    nu.shift = nu.shift.mean(0, keepdim=True).expand(frames, 2).clone()
    return nu


def _render(seed: int, identity: int, nu: S.Nuisance, resolution: int, device: str) -> S.Render:
    return S.render(S.sample_identities(seed, np.full(len(nu), identity)), nu, resolution, device=device)


INSTRUMENT_RESOLUTION = 64  # the judge, P and the instruments read 64 px frames


def instrument_view(frames: torch.Tensor) -> torch.Tensor:
    """Frames (N, 3, F, F) as the judge, P and the instruments read them: area-downsampled to 64 px."""
    if frames.shape[-1] == INSTRUMENT_RESOLUTION:
        return frames
    return F.interpolate(frames.float(), size=(INSTRUMENT_RESOLUTION, INSTRUMENT_RESOLUTION), mode="area")


TIGHT_SCALE = 1.3  # the crop: a centred frontal head at 1.3 x the reference framing (hair line to chin)


@functools.lru_cache(maxsize=8)
def crop_template(size: int) -> torch.Tensor:
    """(5, 2) where the five SynthFaces landmarks sit in a `size` crop: their mean over 64
    training people, frontal and neutral, centred at TIGHT_SCALE. Like faceswap's mean face."""
    nu = S.Nuisance.reference(64)
    nu.scale = nu.scale * TIGHT_SCALE
    r = S.render(S.sample_identities(0, np.arange(64)), nu, size)
    return r.landmarks.double().mean(0)


def aligned(render: S.Render, crop: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Extract a render's faces: (crops (N, 3, crop, crop) uint8, crop masks (N, crop, crop) uint8,
    matrices (N, 2, 3) frame pixels -> crop pixels), aligned on the rendered landmarks."""
    matrices = similarity_matrices(render.landmarks.cpu(), crop_template(crop))
    both = crop_faces(torch.cat([render.image, render.mask], 1).cpu(), matrices, crop)   # (N, 4, crop, crop)
    u8 = (both * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    return u8[:, :3].contiguous(), u8[:, 3].contiguous(), matrices


def person_video(seed: int, identity: int, frames: int, frame_resolution: int = 128, resolution: int = 64,
                 device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`frames` frames of a person's video: (frames (N, 3, F, F) uint8, aligned crops (N, 3, R, R)
    uint8, crop masks (N, R, R) uint8)."""
    r = _render(seed, identity, video_nuisance(seed, identity, np.arange(frames)), frame_resolution, device)
    crops, masks, _ = aligned(r, resolution)
    return r.to_uint8().cpu(), crops, masks


def synthfaces_pair(seed: int = 0, a: int = 2, b: int = 4, frames: int = 800, test_frames: int = 200,
                    frame_resolution: int = 128, resolution: int = 64, device: str = "cpu") -> DeepfakePair:
    """Person a's and person b's videos in the SynthFaces world of `seed` (frames at
    `frame_resolution`, aligned crops at `resolution`), and held-out frames of A with their
    ground-truth swaps (b rendered in exactly those frames)."""
    if a == b:
        raise ValueError("synthfaces_pair: A and B must be different people")
    frames_a, faces_a, masks_a = person_video(seed, a, frames, frame_resolution, resolution, device)
    frames_b, faces_b, masks_b = person_video(seed, b, frames, frame_resolution, resolution, device)
    test_nu = video_nuisance(seed, a, HELDOUT_IMAGE_OFFSET + np.arange(test_frames))
    test = _render(seed, a, test_nu, frame_resolution, device)
    truth = _render(seed, b, test_nu, frame_resolution, device)
    truth_parts = _render(seed, b, test_nu, INSTRUMENT_RESOLUTION, device).parts.cpu()
    params = S.sample_identities(seed, np.array([a, b])).to_vector()
    matrices = similarity_matrices(test.landmarks.cpu(), crop_template(resolution))
    return DeepfakePair("synthfaces", f"SynthFaces #{a}", f"SynthFaces #{b}", faces_a, faces_b, masks_a, masks_b,
                        frames_a, frames_b, test.image.cpu(), test.mask.cpu(), matrices, truth.image.cpu(),
                        test_nu.pose.float(), {"seed": seed, "a": a, "b": b}, truth_parts, params[0], params[1])


# ----------------------------------------------------------------------------
# Real people from a prepared shard
# ----------------------------------------------------------------------------

def face_oval_masks(points: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """(N, 5, 2) dlib 5-point landmarks (two corners of each eye, the base of the nose), as a
    real shard stores them -> (N, R, R) uint8 face ovals, forehead to chin and cheek to cheek,
    turned with the eye line. Our stand-in for a face segmentation on real photos (a 68-point
    landmark hull would be the next step)."""
    from .data.align import eye_centres

    p = np.asarray(points, dtype=np.float64)
    eyes = torch.as_tensor(eye_centres(p), dtype=torch.float32)     # (N, 2, 2) image-left, image-right
    mid = eyes.mean(1)                                               # (N, 2) between the eyes
    across = eyes[:, 1] - eyes[:, 0]
    d = across.norm(dim=1).clamp_min(1e-3)                           # eye distance
    right = across / d[:, None]                                      # unit vector along the eye line
    down = torch.stack([-right[:, 1], right[:, 0]], 1)               # perpendicular, towards the chin
    centre = mid + 0.5 * d[:, None] * down                           # faces run ~0.9 d above, ~1.9 d below
    half_h, half_w = 1.4 * d, 1.05 * d
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    dx = xs[None] - centre[:, 0, None, None]                         # (N, R, R)
    dy = ys[None] - centre[:, 1, None, None]
    u = dx * right[:, 0, None, None] + dy * right[:, 1, None, None]  # along the eye line
    v = dx * down[:, 0, None, None] + dy * down[:, 1, None, None]    # along the face
    inside = (u / half_w[:, None, None]) ** 2 + (v / half_h[:, None, None]) ** 2 <= 1
    return (inside * 255).to(torch.uint8)


def real_pair(shard_path: str | Path, a: str | None = None, b: str | None = None,
              test_fraction: float = 0.25, seed: int = 0, resolution: int = 64) -> DeepfakePair:
    """Two people from a prepared shard (`faceid-lab prepare folder|video|celeba`). a, b: identity
    names; by default the two with the most photos. Each person's photos are split into training
    and test photos; A's test photos are the frames to swap."""
    from .data.shards import Shard

    shard = Shard(shard_path)
    names = shard.extra.get("identities")
    if not names or "points" not in shard.names:
        raise DataError(f"{shard_path}: not a prepared real-face shard (no identities or alignment points). "
                        "Fix: make one with `faceid-lab prepare folder|video|celeba ... --out DIR`.")
    labels = np.asarray(shard.labels)
    counts = np.bincount(labels, minlength=len(names))
    if a is None or b is None:
        order = [int(k) for k in np.argsort(-counts, kind="stable")]
        a = a if a is not None else names[order[0]]
        b = b if b is not None else next(names[k] for k in order if names[k] != a)
    for person in (a, b):
        if person not in names:
            raise DataError(f"{shard_path}: no person {person!r} in this shard (it has {', '.join(names[:10])}"
                            f"{' ...' if len(names) > 10 else ''}). Fix: pass one of those names.")
        if counts[names.index(person)] < 4:
            raise DataError(f"{shard_path}: person {person!r} has {counts[names.index(person)]} aligned photos; "
                            "a deepfake needs at least 4 (hundreds are better). Fix: add photos or frames.")
    rng = np.random.default_rng(seed)
    split = {}
    for person in (a, b):
        rows = np.flatnonzero(labels == names.index(person))
        rows = rows[rng.permutation(len(rows))]
        n_test = max(1, int(round(len(rows) * test_fraction)))
        split[person] = (np.sort(rows[n_test:]), np.sort(rows[:n_test]))
    images = from_hwc(np.array(shard.images))
    points = np.array(shard.points, dtype=np.float64)
    missing = np.isnan(points).any(axis=(1, 2))  # OpenCV-fallback crops have no points: use the template's
    if missing.any():
        from .data.align import template

        points[missing] = template(shard.size, shard.manifest["spec"].get("margin", 0.25))
    masks = face_oval_masks(points, shard.size)
    train_a, test_a = split[a]
    train_b, _ = split[b]
    # a shard's photos are already extracted and aligned (faceid-lab prepare): the crop is the photo,
    # resized to the autoencoder's resolution
    side = resolution / shard.size
    matrices = torch.tensor([[side, 0.0, 0.0], [0.0, side, 0.0]]).expand(len(images), 2, 3)
    crops = crop_faces(torch.cat([images.float() / 255, masks[:, None].float() / 255], 1), matrices, resolution)
    crops = (crops * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    return DeepfakePair("real", str(a), str(b), crops[train_a, :3].contiguous(), crops[train_b, :3].contiguous(),
                        crops[train_a, 3].contiguous(), crops[train_b, 3].contiguous(), images[train_a].contiguous(),
                        images[train_b].contiguous(), images[test_a].float() / 255,
                        masks[test_a, None].float() / 255, matrices[test_a].contiguous(),
                        info={"shard": str(shard_path), "licence": shard.extra.get("licence", "")})


# ----------------------------------------------------------------------------
# Budgets, data and train-or-load for the notebook and the CLI
# ----------------------------------------------------------------------------

SYNTH_A, SYNTH_B = 2, 4  # the course's default pair: different hair, skin and face shape
# Pretraining people: SynthFaces training people from 100 on. Never A or B (nor notebook 01's unseen
# person 7), never a validation or test person (those live at offsets of a million and more).
PRETRAIN_FIRST_PERSON = 100


def load_pair(shard: str | Path | None = None, a: str | int | None = None, b: str | int | None = None,
              frames: int = 800, test_frames: int = 200, seed: int = 0, frame_resolution: int = 128,
              resolution: int = 64) -> DeepfakePair:
    """SynthFaces people a and b (default 2 and 4; `frames` each, `test_frames` held out, frames at
    `frame_resolution`, crops at `resolution`) when `shard` is None, else two people from a
    prepared real-face shard (default: the two with the most photos; all their photos)."""
    if shard is None:
        return synthfaces_pair(seed, SYNTH_A if a is None else int(a), SYNTH_B if b is None else int(b),
                               frames, test_frames, frame_resolution, resolution)
    if not Path(shard).exists():
        raise DataError(f"{shard}: no such shard. Fix: prepare one with `faceid-lab prepare folder --root PHOTOS "
                        f"--out {shard}` (or `prepare video A.mp4 B.mp4 --out {shard}`).")
    return real_pair(shard, None if a is None else str(a), None if b is None else str(b), seed=seed,
                     resolution=resolution)


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
    from .train.checkpoint import config_fingerprint

    return config_fingerprint(asdict(cfg))[:10]


def checkpoint_path(pair: DeepfakePair, cfg: AutoencoderConfig) -> Path:
    """FACEID_LAB_HOME/checkpoints/deepfake_<pair>_<config key>.pt: another pair or
    another config is another run, never a clash."""
    from . import course

    return course.path("checkpoints", f"deepfake_{pair.key}_{config_key(cfg)}.pt")


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
    from . import course
    from .train.checkpoint import checkpoint_finished

    path = course.path("checkpoints", f"deepfake_{pre.key}.pt")
    if checkpoint_finished(path):  # loading needs no faces: skip rendering them
        return train_autoencoder(None, None, pre.cfg, checkpoint=path, device=device, **kwargs)
    faces_a, masks_a, faces_b, masks_b = pretrain_faces(pre)
    return train_autoencoder(faces_a, faces_b, pre.cfg, masks_a, masks_b, checkpoint=path, device=device, **kwargs)


def train_or_load(pair: DeepfakePair, cfg: AutoencoderConfig, device: str | torch.device = "cpu",
                  start: FaceSwapAutoencoder | None = None, **kwargs) -> tuple[FaceSwapAutoencoder, dict]:
    """Train the pair's autoencoder, resume an unfinished run, or load a finished one (at
    checkpoint_path). `start`: the model a fresh run starts from (the pretraining; its key must be
    cfg.init). kwargs go to train_autoencoder (on_log, progress, save_every_s, ...)."""
    path = checkpoint_path(pair, cfg)
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
        model, history = train_or_load(pair, cfg, device, **kwargs)
        return model, {**history, "pretrain_seconds": 0.0}, cfg
    model_keys = ("width", "resolution", "mask", "batch", "lr", "warp_strength")
    shared = {k: v for k, v in overrides.items() if k in model_keys}
    pre = pretraining(budget, **shared)
    base, base_history = pretrain_or_load(pre, device, progress=kwargs.get("progress", False),
                                          save_every_s=kwargs.get("save_every_s", 120.0))
    cfg = autoencoder_config(budget, init=pre.key, **overrides)
    model, history = train_or_load(pair, cfg, device, start=base, **kwargs)
    return model, {**history, "pretrain_seconds": base_history["seconds"]}, cfg


def judge_for(pair: DeepfakePair, profile: str, device: str | torch.device = "cpu"):
    """The independent judge: the SynthFaces judge of the profile, or dlib's face descriptor on
    real faces. Never the autoencoder itself."""
    if pair.kind == "synthfaces":
        from .judge import load_synth_judge

        return load_synth_judge(profile, device)
    from .judge import DlibJudge

    return DlibJudge()


# ----------------------------------------------------------------------------
# Swapping whole frames and judging the result
# ----------------------------------------------------------------------------

@dataclass
class SwapResult:
    swapped: torch.Tensor   # (M, 3, F, F) B's decoder output warped back into A's frames (zero where no crop)
    masks: torch.Tensor     # (M, 1, F, F) the blend mask used
    blended: torch.Tensor   # (M, 3, F, F) the swap put back into A's frames
    crops: torch.Tensor | None = None  # (M, 3, R, R) B's decoder output on A's aligned crops


def crop_window(size: int, ramp: float = 0.15) -> torch.Tensor:
    """(1, 1, size, size): 1 inside the crop, falling smoothly to 0 over the outer `ramp` of each side."""
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    edge = (torch.minimum(centres, size - centres) / (ramp * size)).clamp(0, 1)
    edge = edge * edge * (3 - 2 * edge)                                           # smoothstep
    return (edge[:, None] * edge[None, :])[None, None]


def swap_frames(model: FaceSwapAutoencoder, frames: torch.Tensor, frame_masks: torch.Tensor | None,
                matrices: torch.Tensor, to: str = "B", method: str = "poisson", colour: bool = True,
                whole_crop: bool = False) -> SwapResult:
    """Extract, swap, convert: crop every frame (M, 3, F, F) in [0, 1] by its transform (M, 2, 3),
    swap the crop to person `to`, warp the swapped crop and its mask back into the frame and blend.
    The blend mask is the union of the decoder's mask (the new head) and `frame_masks` (the old
    head), so that neither person's outline is left behind where it can be avoided, faded out towards
    the crop's edge (crop_window). whole_crop: paste the decoder's whole square, background included
    (the window alone)."""
    crops = crop_faces(frames, matrices, model.resolution)
    swapped, decoder_masks = swap(model, crops, to)
    window = crop_window(model.resolution).expand_as(decoder_masks)
    back = paste_faces(torch.cat([swapped, decoder_masks, window], 1), matrices, frames.shape[-1])
    face, pasted_mask, window = back[:, :3], back[:, 3:4], back[:, 4:5]
    if whole_crop:
        masks = window
    else:  # the crop's edge fades out, so that no seam is left where the crop ends inside a head
        masks = pasted_mask if frame_masks is None else torch.maximum(pasted_mask, frame_masks.float())
        masks = masks * window
    blended = torch.stack([blend(frames[i], face[i], masks[i], method, colour) for i in range(len(frames))])
    return SwapResult(face, masks, blended, swapped)


def identity_centroid(judge, faces: torch.Tensor, count: int = 32) -> torch.Tensor:
    """The unit mean of the judge's features of (up to) `count` of a person's training frames."""
    pick = torch.linspace(0, len(faces) - 1, min(count, len(faces))).round().long()
    f = judge.embed(instrument_view(faces[pick].float() / (255 if faces.dtype == torch.uint8 else 1))).mean(0)
    return f / f.norm()


def evaluate_swap(result: SwapResult, pair: DeepfakePair, judge, pose_net=None, instruments=None) -> dict:
    """Numbers for the notebook's verdict, per frame and averaged, every reading taken in the
    instruments' 64 px view of the frame (instrument_view):

    - with ground truth: pixel L1 of the swap to the true swap and to the input frame (is the
      swap closer to what B would look like than to A?), SSIM to the true swap, for the raw
      decoder output and for the blended frame (and the blended frame's SSIM at full resolution);
    - the judge's cosine similarity of each blended frame to B's and to A's identity centroid;
    - with a pose regressor P and true poses: P's pose error on the swap against A's true pose,
      next to P's own error on A's input frames (the floor);
    - with the instruments (instruments.py, never a training signal): the same by the independent
      pose reader P', part IoU of the blended swap against the true swap's part map (and the
      segmenter's IoU on the true swap itself: the bound), and the identity-parameter reader's
      error to B's and to A's true parameters (is it B by R's reading?)."""
    out: dict = {"frames": len(pair.test_a), "kind": pair.kind}
    blended, test_a = instrument_view(result.blended), instrument_view(pair.test_a)
    if pair.truth_ab is not None:
        truth = instrument_view(pair.truth_ab)
        for name, x in (("raw", instrument_view(result.swapped)), ("blended", blended)):
            l1_truth = (x - truth).abs().flatten(1).mean(1)
            l1_input = (x - test_a).abs().flatten(1).mean(1)
            out[name] = {"l1_to_truth": l1_truth.mean().item(), "l1_to_input": l1_input.mean().item(),
                         "closer_to_truth": (l1_truth < l1_input).float().mean().item(),
                         "ssim_to_truth": ssim(x, truth, reduce=False).mean().item()}
        out["blended"]["ssim_to_truth_full_resolution"] = ssim(result.blended, pair.truth_ab).item()
        out["input"] = {"l1_to_truth": (test_a - truth).abs().mean().item(),
                        "ssim_to_truth": ssim(test_a, truth).item()}
    centre_a, centre_b = identity_centroid(judge, pair.frames_a), identity_centroid(judge, pair.frames_b)
    feats = judge.embed(blended)
    sim_b, sim_a = feats @ centre_b, feats @ centre_a
    feats_in = judge.embed(test_a)
    out["judge"] = {"name": getattr(judge, "name", type(judge).__name__), "similarity_to_b": sim_b.mean().item(),
                    "similarity_to_a": sim_a.mean().item(), "closer_to_b": (sim_b > sim_a).float().mean().item(),
                    "input_similarity_to_a": (feats_in @ centre_a).mean().item(),
                    "input_similarity_to_b": (feats_in @ centre_b).mean().item()}
    if pose_net is not None and pair.pose_a is not None:
        from .train.pose import predict_pose

        on_swap = predict_pose(pose_net, blended)[:, :3]
        on_input = predict_pose(pose_net, test_a)[:, :3]
        out["pose_error_deg"] = {
            "swap": dict(zip(("yaw", "pitch", "roll"), (on_swap - pair.pose_a).abs().mean(0).tolist(), strict=True)),
            "input": dict(zip(("yaw", "pitch", "roll"), (on_input - pair.pose_a).abs().mean(0).tolist(), strict=True))}
    if instruments is not None:
        out["instruments"] = _instrument_verdict(blended, test_a, pair, instruments)
    return out


def _instrument_verdict(blended: torch.Tensor, test_a: torch.Tensor, pair: DeepfakePair, instruments) -> dict:
    from .instruments import mean_part_iou, part_iou

    out: dict = {}
    angles = ("yaw", "pitch", "roll")
    if pair.pose_a is not None:
        on_swap, on_input = (instruments.read_pose(x)[:, :3] for x in (blended, test_a))
        out["pose_error_deg"] = {
            "swap": dict(zip(angles, (on_swap - pair.pose_a).abs().mean(0).tolist(), strict=True)),
            "input": dict(zip(angles, (on_input - pair.pose_a).abs().mean(0).tolist(), strict=True))}
    if pair.truth_parts_ab is not None:
        ious = part_iou(instruments.segment(blended), pair.truth_parts_ab)
        out["part_iou"] = {p: float(v.nanmean()) for p, v in ious.items()}
        out["part_iou"]["mean"] = float(mean_part_iou(ious).nanmean())
        if pair.truth_ab is not None:  # the segmenter on the true swaps themselves: what a perfect swap scores
            bound = part_iou(instruments.segment(instrument_view(pair.truth_ab)), pair.truth_parts_ab)
            out["part_iou_truth"] = {p: float(v.nanmean()) for p, v in bound.items()}
            out["part_iou_truth"]["mean"] = float(mean_part_iou(bound).nanmean())
    if pair.params_a is not None and pair.params_b is not None:
        n = len(blended)
        out["param_error_to_b"] = float(instruments.parameter_error(blended, pair.params_b.expand(n, -1)).mean())
        out["param_error_to_a"] = float(instruments.parameter_error(blended, pair.params_a.expand(n, -1)).mean())
    return out


def swap_by_yaw(result: SwapResult, pair: DeepfakePair, judge, instruments,
                edges: tuple[float, ...] = (0.0, 10.0, 20.0, 30.0, 40.0)) -> list[dict]:
    """The swap's weakness by head turn: per bin of A's true |yaw| (SynthFaces), the frames, P''s yaw
    error on the blended swap and on A's own frame (its floor), and the share of frames the judge
    finds closer to B than to A."""
    if pair.pose_a is None:
        raise ValueError("swap_by_yaw needs A's true poses (a SynthFaces pair)")
    blended, test_a = instrument_view(result.blended), instrument_view(pair.test_a)
    err_swap = (instruments.read_pose(blended)[:, 0] - pair.pose_a[:, 0]).abs()
    err_input = (instruments.read_pose(test_a)[:, 0] - pair.pose_a[:, 0]).abs()
    feats = judge.embed(blended)
    closer = feats @ identity_centroid(judge, pair.frames_b) > feats @ identity_centroid(judge, pair.frames_a)
    yaw = pair.pose_a[:, 0].abs()
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (yaw >= lo) & (yaw < hi) if hi < edges[-1] else (yaw >= lo) & (yaw <= hi)
        if inside.any():
            rows.append({"|yaw| of A (deg)": f"{lo:.0f}-{hi:.0f}", "frames": int(inside.sum()),
                         "yaw error by P' (deg)": float(err_swap[inside].mean()),
                         "P' on A's frame (deg)": float(err_input[inside].mean()),
                         "judge: closer to B": float(closer[inside].float().mean())})
    return rows


BLEND_VARIANTS = {  # name: (method, colour matching, add the frame's head mask)
    "raw decoder output (the whole crop)": (None, False, False),
    "alpha, head masks": ("alpha", False, True),
    "alpha + colour match": ("alpha", True, True),
    "poisson (seamlessClone)": ("poisson", True, True),
}


def compare_blends(model: FaceSwapAutoencoder, pair: DeepfakePair, judge, pose_net=None,
                   variants: dict | None = None, instruments=None) -> list[dict]:
    """evaluate_swap for each way of putting the swap back into the frame: one flat row each."""
    rows = []
    for name, (method, colour, frame_mask) in (variants or BLEND_VARIANTS).items():
        if method is None:  # the decoder's whole crop, its background included, warped back
            result = swap_frames(model, pair.test_a, None, pair.test_matrices_a, "B", "alpha", False, whole_crop=True)
        else:
            result = swap_frames(model, pair.test_a, pair.test_masks_a if frame_mask else None, pair.test_matrices_a,
                                 "B", method, colour)
        ev = evaluate_swap(result, pair, judge, pose_net, instruments)
        row = {"variant": name}
        if "blended" in ev:
            row.update({"closer to truth (L1)": ev["blended"]["closer_to_truth"],
                        "L1 to truth": ev["blended"]["l1_to_truth"], "SSIM to truth": ev["blended"]["ssim_to_truth"]})
        row.update({"judge: closer to B": ev["judge"]["closer_to_b"], "judge sim. to B": ev["judge"]["similarity_to_b"],
                    "judge sim. to A": ev["judge"]["similarity_to_a"]})
        if "pose_error_deg" in ev:
            row["yaw error (deg)"] = ev["pose_error_deg"]["swap"]["yaw"]
        seen = ev.get("instruments", {})
        if "pose_error_deg" in seen:
            row["yaw error by P' (deg)"] = seen["pose_error_deg"]["swap"]["yaw"]
        if "part_iou" in seen:
            row["part IoU"] = seen["part_iou"]["mean"]
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------
# The swap video
# ----------------------------------------------------------------------------

def swap_clip(model: FaceSwapAutoencoder, pair: DeepfakePair, frames: int = 48, method: str = "alpha",
              colour: bool = False) -> torch.Tensor:
    """Frames for the swap video, side by side: A's frame | the swap blended in | (SynthFaces) the
    ground truth. SynthFaces: a smooth head turn in A's scene; real: A's test photos in turn."""
    if pair.kind == "synthfaces":
        i = pair.info
        nu = head_turn_nuisance(i["seed"], i["a"], frames)
        ra = _render(i["seed"], i["a"], nu, pair.frame_resolution, "cpu")
        truth = _render(i["seed"], i["b"], nu, pair.frame_resolution, "cpu").image
        clip, masks = ra.image, ra.mask
        matrices = similarity_matrices(ra.landmarks.cpu(), crop_template(pair.resolution))
    else:
        clip, masks, matrices, truth = pair.test_a, pair.test_masks_a, pair.test_matrices_a, None
    result = swap_frames(model, clip, masks, matrices, "B", method, colour)
    panels = [clip, result.blended] + ([truth] if truth is not None else [])
    return torch.cat(panels, dim=-1)  # (T, 3, R, k * R)


def write_video(frames: torch.Tensor, path: str | Path, fps: int = 12, scale: int = 4) -> Path:
    """Frames (T, 3, H, W) in [0, 1] -> an H.264 mp4 (yuv420p, plays in browsers) through the
    ffmpeg that imageio-ffmpeg ships. Upscaled `scale` times with nearest pixels, so 64 px faces
    are visible."""
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = frames.clamp(0, 1)
    if scale > 1:
        x = x.repeat_interleave(scale, -1).repeat_interleave(scale, -2)
    t, _, h, w = x.shape
    pixels = to_uint8_hwc(x)
    # imageio-ffmpeg's own binary (it has libx264; IMAGEIO_FFMPEG_EXE overrides it), never a system
    # ffmpeg that may lack the encoder
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
           "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20", str(path)]
    done = subprocess.run(cmd, input=pixels.tobytes(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not write {path}: {done.stderr.decode(errors='replace')[-500:]}")
    return path


def video_stills(clip: torch.Tensor, count: int = 4, scale: int = 2):
    """`count` evenly spaced frames of a swap clip (T, 3, R, k * R) as one picture: what the video
    shows, for readers whose viewer (GitHub, a PDF export) does not play it."""
    from .viz.grids import image_grid

    picks = torch.linspace(0, len(clip) - 1, count).round().long()
    return image_grid(clip[picks], ncol=2, scale=scale, labels=[f"frame {int(i) + 1} of {len(clip)}" for i in picks])


def show_video(path: str | Path, width: int = 512):
    """The mp4 embedded in the notebook (base64), so it survives a saved notebook and GitHub."""
    import base64

    from IPython.display import HTML

    data = base64.b64encode(Path(path).read_bytes()).decode()
    return HTML(f'<video width="{width}" controls loop autoplay muted playsinline>'
                f'<source src="data:video/mp4;base64,{data}" type="video/mp4"></video>')


# ----------------------------------------------------------------------------
# Live preview while training
# ----------------------------------------------------------------------------

class LivePreview:
    """An `on_log` callback for train_autoencoder: one picture (rows: A, A rebuilt, A -> B;
    B, B rebuilt, B -> A) and the loss curves, updated in place in the notebook."""

    def __init__(self, pair: DeepfakePair, count: int = 6, scale: int = 2):
        from IPython.display import display

        pick = lambda faces: faces[torch.linspace(0, len(faces) - 1, count).round().long()]  # noqa: E731
        self.a, self.b = pick(pair.faces_a).float() / 255, pick(pair.faces_b).float() / 255
        self.scale = scale
        self.images = display(None, display_id=True)
        self.curves = display(None, display_id=True)

    def picture(self, model: FaceSwapAutoencoder):
        from .viz import image_grid

        rows = [self.a, swap(model, self.a, "A")[0], swap(model, self.a, "B")[0],
                self.b, swap(model, self.b, "B")[0], swap(model, self.b, "A")[0]]
        return image_grid(torch.cat(rows), len(self.a), scale=self.scale,
                          row_labels=["A", "A rebuilt", "A -> B", "B", "B rebuilt", "B -> A"])

    def __call__(self, step: int, history: dict, model: FaceSwapAutoencoder) -> None:
        from .viz.curves import line_chart

        self.images.update(self.picture(model))
        self.curves.update(line_chart(history["step"], {"loss A": history["loss_a"], "loss B": history["loss_b"]},
                                      title=f"training loss (MAE + 1 - SSIM), step {step}", log_y=True))
