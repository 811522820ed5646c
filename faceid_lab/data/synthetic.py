"""SynthFaces: a procedural 3D face renderer, the course's built-in dataset.

A head is a union of 28 ellipsoids (cranium, jaw, cheeks, chin, neck, nose,
eyes with iris and pupil, eyelids, brows, four lip halves, the mouth cavity,
ears and hair). Some are clipped by a plane (the hairline, the eyelids). The
camera is orthographic (weak perspective, as in 3DMM fitting), so every
primitive's ray hit depth is a closed-form function of the pixel position:

    q(u, v, t) = q0 + u * qu + v * qv + t * qd       (ray in the primitive's unit-sphere frame)
    |q|^2 = 1  ->  disc(u, v) = quadratic in (u, v),  t = (-h(u, v) - sqrt(disc)) / A

so a whole batch renders as a few broadcast tensor ops per primitive, on CPU
or GPU. Anti-aliasing is analytic: silhouette coverage from the distance to
each ellipse's rim, and a soft depth blend between the two nearest surfaces
(it smooths the lines where parts meet, such as eye and skin).

Conventions (tested in tests/test_synthetic.py):
    head frame: x to the image right (frontal view), y up, z out of the face
        towards the camera; the head is about 2 units tall.
    yaw > 0   turns the nose towards the image's right (+x), in degrees.
    pitch > 0 tilts the nose up (the face looks up), in degrees.
    roll > 0  tilts the head counter-clockwise in the image, in degrees.
    landmarks are (x, y) pixel coordinates, x to the right and y down, with
        pixel centres at integer + 0.5; names follow the 5-point alignment
        template, left and right as seen in the image of a frontal face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch

# ----------------------------------------------------------------------------
# Parameters: names, ranges and sampling
# ----------------------------------------------------------------------------

SHAPE_FACTORS = (
    "head_width", "head_height", "jaw_width", "chin_length", "cheekbones",
    "eye_size", "eye_spacing", "eye_height", "nose_length", "nose_width",
    "nose_projection", "mouth_width", "lip_thickness", "brow_thickness",
    "brow_angle", "ear_size",
)  # each in [-1, 1]; 0 is the average face
HAIR_STYLES = ("short", "long", "bun", "buzz", "fringe", "volume")
EXPRESSION_FACTORS = ("smile", "mouth_open", "brow_raise", "eye_closure")  # each in [0, 1]
POSE_FACTORS = ("yaw", "pitch", "roll")  # degrees
BACKGROUND_KINDS = ("flat", "gradient", "texture")
LANDMARK_NAMES = ("left_eye", "right_eye", "nose_tip", "left_mouth", "right_mouth")
PART_NAMES = ("background", "skin", "nose", "eye", "brow", "lips", "mouth", "hair")

POSE_RANGE = {"yaw": 75.0, "pitch": 25.0, "roll": 15.0}  # sampled uniformly in [-r, r]
VIEW_HALF_WIDTH = 1.18  # the image spans 2 x 1.18 head units at scale 1
VIEW_CENTER_Y = -0.1  # ... centred a little below the head's centre (the neck is cut off)

_SKIN_LIGHT = np.array([0.96, 0.80, 0.69])
_SKIN_DARK = np.array([0.33, 0.21, 0.15])
_IRIS_PALETTE = np.array([
    [0.35, 0.20, 0.10], [0.18, 0.10, 0.05], [0.25, 0.45, 0.70],
    [0.30, 0.50, 0.30], [0.50, 0.40, 0.20], [0.45, 0.50, 0.55],
])
_HAIR_PALETTE = np.array([
    [0.06, 0.05, 0.05], [0.22, 0.13, 0.07], [0.42, 0.27, 0.14],
    [0.55, 0.22, 0.10], [0.85, 0.70, 0.42], [0.75, 0.75, 0.73],
])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A counter-based hash: the same key gives the same bits on every platform."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)).astype(np.uint64)
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)).astype(np.uint64)
    return x ^ (x >> np.uint64(31))


def _keys(*parts: np.ndarray | int) -> np.ndarray:
    """Combine integers (scalars or arrays) into one 64-bit key per element."""
    key = np.zeros(np.broadcast(*[np.asarray(p) for p in parts]).shape, dtype=np.uint64)
    for p in parts:
        key = _splitmix64(key ^ np.asarray(p, dtype=np.int64).astype(np.uint64))
    return key


class _Uniforms:
    """Independent uniform [0, 1) streams for one key per element: `next()` gives the next field."""

    def __init__(self, keys: np.ndarray):
        self.keys, self.field = keys, 0

    def next(self) -> np.ndarray:
        self.field += 1
        salt = _splitmix64(np.array([(self.field * 0x632BE59BD9B4E019) % (1 << 64)], dtype=np.uint64))
        bits = _splitmix64(self.keys ^ salt)
        return (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass
class Identity:
    """What stays fixed for a person: face shape, colours and hair. Tensors with batch dim B."""

    shape: torch.Tensor       # (B, 16) shape factors in [-1, 1], see SHAPE_FACTORS
    skin: torch.Tensor        # (B, 3) skin RGB in [0, 1]
    iris: torch.Tensor        # (B, 3) iris RGB
    hair_style: torch.Tensor  # (B,) int64 index into HAIR_STYLES
    hair_color: torch.Tensor  # (B, 3) hair RGB

    def __len__(self) -> int:
        return self.shape.shape[0]

    def __getitem__(self, index) -> Identity:
        return _index(self, index)

    def to_vector(self) -> torch.Tensor:
        """(B, 26) float32: shape, skin, iris, hair style, hair colour (see identity_columns())."""
        return torch.cat([self.shape, self.skin, self.iris, self.hair_style[:, None].double(),
                          self.hair_color], dim=1).float()

    @staticmethod
    def columns() -> list[str]:
        rgb = ("r", "g", "b")
        return ([*SHAPE_FACTORS] + [f"skin_{c}" for c in rgb] + [f"iris_{c}" for c in rgb]
                + ["hair_style"] + [f"hair_{c}" for c in rgb])

    @classmethod
    def from_vector(cls, vec: torch.Tensor) -> Identity:
        vec = vec.double()
        return cls(shape=vec[:, :16], skin=vec[:, 16:19], iris=vec[:, 19:22],
                   hair_style=vec[:, 22].round().long(), hair_color=vec[:, 23:26])


@dataclass
class Nuisance:
    """What changes from photo to photo: pose, expression, light, background, framing."""

    pose: torch.Tensor           # (B, 3) yaw, pitch, roll in degrees
    expression: torch.Tensor     # (B, 4) smile, mouth_open, brow_raise, eye_closure in [0, 1]
    light_dir: torch.Tensor      # (B, 3) unit vector towards the light, camera frame
    light_color: torch.Tensor    # (B, 3) RGB multiplier of the light
    light_intensity: torch.Tensor  # (B,) direct light strength
    ambient: torch.Tensor        # (B,) ambient light strength
    background: torch.Tensor     # (B,) int64 index into BACKGROUND_KINDS
    bg_colors: torch.Tensor      # (B, 6) two background RGB colours
    bg_pattern: torch.Tensor     # (B, 3) texture angle (rad), frequency, phase
    scale: torch.Tensor          # (B,) head size multiplier
    shift: torch.Tensor          # (B, 2) head position in head units (x right, y up)

    def __len__(self) -> int:
        return self.pose.shape[0]

    def __getitem__(self, index) -> Nuisance:
        return _index(self, index)

    def to_vector(self) -> torch.Tensor:
        """(B, 25) float32, columns as in columns()."""
        return torch.cat([self.pose, self.expression, self.light_dir, self.light_color,
                          self.light_intensity[:, None], self.ambient[:, None],
                          self.background[:, None].double(), self.bg_colors, self.bg_pattern,
                          self.scale[:, None], self.shift], dim=1).float()

    @staticmethod
    def columns() -> list[str]:
        return ([*POSE_FACTORS, *EXPRESSION_FACTORS] + ["light_x", "light_y", "light_z"]
                + ["light_r", "light_g", "light_b", "light_intensity", "ambient", "background"]
                + [f"bg_{i}" for i in range(6)] + ["bg_angle", "bg_freq", "bg_phase"]
                + ["scale", "shift_x", "shift_y"])

    @classmethod
    def from_vector(cls, vec: torch.Tensor) -> Nuisance:
        vec = vec.double()
        return cls(pose=vec[:, 0:3], expression=vec[:, 3:7], light_dir=vec[:, 7:10],
                   light_color=vec[:, 10:13], light_intensity=vec[:, 13], ambient=vec[:, 14],
                   background=vec[:, 15].round().long(), bg_colors=vec[:, 16:22],
                   bg_pattern=vec[:, 22:25], scale=vec[:, 25], shift=vec[:, 26:28])

    @classmethod
    def reference(cls, count: int, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> Nuisance:
        """The reference view: neutral expression, standard white light from the front and
        above, plain grey background, centred. With yaw=pitch=roll=0 this is the frontal
        reference of an identity (the ground truth for frontalization)."""
        d = torch.float64
        light = torch.tensor([0.25, 0.45, 1.0], dtype=d)
        return cls(
            pose=torch.tensor([yaw, pitch, roll], dtype=d).repeat(count, 1),
            expression=torch.zeros(count, 4, dtype=d),
            light_dir=(light / light.norm()).repeat(count, 1),
            light_color=torch.ones(count, 3, dtype=d),
            light_intensity=torch.full((count,), 0.75, dtype=d),
            ambient=torch.full((count,), 0.35, dtype=d),
            background=torch.zeros(count, dtype=torch.long),
            bg_colors=torch.full((count, 6), 0.5, dtype=d),
            bg_pattern=torch.zeros(count, 3, dtype=d),
            scale=torch.ones(count, dtype=d),
            shift=torch.zeros(count, 2, dtype=d),
        )

    def with_pose(self, pose: torch.Tensor) -> Nuisance:
        """A copy with another pose (B, 3) in degrees."""
        return _replace(self, pose=pose.double().expand(len(self), 3).clone())

    def with_expression(self, expression: torch.Tensor) -> Nuisance:
        """A copy with another expression (B, 4)."""
        return _replace(self, expression=expression.double().expand(len(self), 4).clone())


def _index(obj, index):
    if isinstance(index, int):
        index = slice(index, index + 1)
    return type(obj)(**{f.name: getattr(obj, f.name)[index] for f in fields(obj)})


def _replace(obj, **changes):
    return type(obj)(**{f.name: changes.get(f.name, getattr(obj, f.name)) for f in fields(obj)})


def cat(items: list) -> Identity | Nuisance:
    """Concatenate Identity or Nuisance batches."""
    return type(items[0])(**{f.name: torch.cat([getattr(x, f.name) for x in items])
                             for f in fields(items[0])})


def sample_identities(seed: int, indices: np.ndarray | list[int]) -> Identity:
    """The identities with these indices in the world of `seed` (deterministic, any order)."""
    idx = np.asarray(indices, dtype=np.int64)
    rnd = _Uniforms(_keys(seed, 0x1D, idx))
    shape = np.stack([2 * rnd.next() - 1 for _ in SHAPE_FACTORS], axis=1)
    tone = rnd.next() ** 1.2  # more light than dark tones, as in most face datasets
    skin = _SKIN_LIGHT + (_SKIN_DARK - _SKIN_LIGHT) * tone[:, None]
    skin = skin * (1 + 0.06 * (rnd.next()[:, None] - 0.5) * np.array([1.0, -0.5, -1.0]))
    iris = _IRIS_PALETTE[(rnd.next() * len(_IRIS_PALETTE)).astype(int)]
    iris = iris * (0.85 + 0.3 * rnd.next()[:, None])
    style = (rnd.next() * len(HAIR_STYLES)).astype(np.int64)
    hair = _HAIR_PALETTE[(rnd.next() * len(_HAIR_PALETTE)).astype(int)]
    hair = hair * (0.8 + 0.4 * rnd.next()[:, None]) + 0.05 * (rnd.next()[:, None] - 0.5)
    rgb = lambda a: torch.from_numpy(np.clip(a, 0, 1))  # noqa: E731
    return Identity(shape=torch.from_numpy(shape), skin=rgb(skin), iris=rgb(iris),
                    hair_style=torch.from_numpy(style), hair_color=rgb(hair))


def sample_nuisance(seed: int, identity_indices: np.ndarray | list[int],
                    image_indices: np.ndarray | list[int]) -> Nuisance:
    """Per-photo factors for (identity, image) pairs in the world of `seed`: uniform pose in
    the full range, random expression, light, background and framing."""
    i = np.asarray(identity_indices, dtype=np.int64)
    j = np.asarray(image_indices, dtype=np.int64)
    rnd = _Uniforms(_keys(seed, 0x2E, i, j))
    u = lambda lo, hi: lo + (hi - lo) * rnd.next()  # noqa: E731
    pose = np.stack([u(-r, r) for r in POSE_RANGE.values()], axis=1)
    smile = np.clip(u(-0.4, 1.0), 0, 1)
    mouth = np.clip(u(-0.8, 1.0), 0, 1)
    brow = np.clip(u(-0.5, 1.0), 0, 1)
    blink = np.where(rnd.next() < 0.15, u(0.5, 1.0), u(0.0, 0.3))
    expression = np.stack([smile, mouth, brow, blink], axis=1)
    azimuth, elevation = u(-1.2, 1.2), u(-0.5, 1.0)
    light_dir = np.stack([np.sin(azimuth) * np.cos(elevation), np.sin(elevation),
                          np.cos(azimuth) * np.cos(elevation)], axis=1)
    warmth = u(-1, 1)
    light_color = np.stack([1 + 0.12 * warmth, 1 + 0.02 * warmth, 1 - 0.12 * warmth], axis=1)
    light_color = light_color * (1 + 0.06 * (np.stack([rnd.next() for _ in range(3)], 1) - 0.5))
    intensity, ambient = u(0.45, 1.0), u(0.2, 0.5)
    background = (rnd.next() * len(BACKGROUND_KINDS)).astype(np.int64)
    bg_colors = np.stack([rnd.next() for _ in range(6)], axis=1).reshape(-1, 2, 3) * 0.9 + 0.05
    bg_colors = (0.55 * bg_colors + 0.45 * bg_colors.mean(-1, keepdims=True)).reshape(-1, 6)  # muted
    bg_pattern = np.stack([u(0, math.pi), u(2, 9), u(0, 2 * math.pi)], axis=1)
    scale, shift = u(0.92, 1.08), np.stack([u(-0.07, 0.07), u(-0.07, 0.07)], axis=1)
    f = torch.from_numpy
    return Nuisance(pose=f(pose), expression=f(expression), light_dir=f(light_dir),
                    light_color=f(light_color), light_intensity=f(intensity), ambient=f(ambient),
                    background=f(background), bg_colors=f(bg_colors), bg_pattern=f(bg_pattern),
                    scale=f(scale), shift=f(shift))


# ----------------------------------------------------------------------------
# Geometry: identity + expression -> ellipsoids in the head frame
# ----------------------------------------------------------------------------

# name, part, material (0 plain, 1 eye, 2 hair, 3 mouth), specular, attached to the head
_PRIMS = [
    ("cranium", "skin", 0, 0.25, True), ("jaw", "skin", 0, 0.25, True),
    ("chin", "skin", 0, 0.25, True), ("cheek_l", "skin", 0, 0.25, True),
    ("cheek_r", "skin", 0, 0.25, True), ("neck", "skin", 0, 0.15, False),
    ("nose_bridge", "nose", 0, 0.35, True), ("nose_tip", "nose", 0, 0.4, True),
    ("ala_l", "nose", 0, 0.25, True), ("ala_r", "nose", 0, 0.25, True),
    ("eye_l", "eye", 1, 0.9, True), ("eye_r", "eye", 1, 0.9, True),
    ("brow_l", "brow", 2, 0.05, True), ("brow_r", "brow", 2, 0.05, True),
    ("lip_ul", "lips", 0, 0.5, True), ("lip_ur", "lips", 0, 0.5, True),
    ("lip_ll", "lips", 0, 0.5, True), ("lip_lr", "lips", 0, 0.5, True),
    ("mouth", "mouth", 3, 0.0, True), ("ear_l", "skin", 0, 0.2, True),
    ("ear_r", "skin", 0, 0.2, True),
    ("hair_side_l", "hair", 2, 0.3, True), ("hair_side_r", "hair", 2, 0.3, True),
    ("hair_bun", "hair", 2, 0.3, True), ("hair_back", "hair", 2, 0.3, True),
    # the primitives cut by a plane come last (only they pay for the clip test)
    ("lid_l", "skin", 0, 0.2, True), ("lid_r", "skin", 0, 0.2, True),
    ("hair_cap", "hair", 2, 0.3, True),
]
_N_CLIPPED = 3
# which primitives each landmark belongs to: (P, 5) bool
_LANDMARK_PRIMS = torch.zeros(len(_PRIMS), 5, dtype=torch.bool)
for _k, _names in enumerate((("eye_l",), ("eye_r",), ("nose_tip", "ala_l", "ala_r"),
                             ("lip_ul", "lip_ll"), ("lip_ur", "lip_lr"))):
    for _name in _names:
        _LANDMARK_PRIMS[[p[0] for p in _PRIMS].index(_name), _k] = True
PRIM_NAMES = tuple(p[0] for p in _PRIMS)
_P = {name: k for k, name in enumerate(PRIM_NAMES)}
_PRIM_PART = torch.tensor([PART_NAMES.index(p[1]) for p in _PRIMS])
_PRIM_MATERIAL = torch.tensor([p[2] for p in _PRIMS])
_PRIM_SPECULAR = torch.tensor([p[3] for p in _PRIMS], dtype=torch.float32)
_PRIM_ON_HEAD = torch.tensor([p[4] for p in _PRIMS])


def _rot_x(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*a.shape, 3, 3)


def _rot_y(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*a.shape, 3, 3)


def _rot_z(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*a.shape, 3, 3)


def head_rotation(pose_deg: torch.Tensor) -> torch.Tensor:
    """(B, 3) yaw, pitch, roll in degrees -> (B, 3, 3) head-to-camera rotation R = Rz Rx Ry.
    Yaw rotates about y (nose to +x), pitch about x (nose up), roll about z (counter-clockwise)."""
    yaw, pitch, roll = torch.deg2rad(pose_deg.double()).unbind(-1)
    return _rot_z(roll) @ _rot_x(-pitch) @ _rot_y(yaw)


@dataclass
class _Geometry:
    center: torch.Tensor    # (B, P, 3) head frame
    axes: torch.Tensor      # (B, P, 3) semi-axes
    rot: torch.Tensor       # (B, P, 3, 3) local -> head frame
    clip: torch.Tensor      # (B, P, 4) keep where n . p_head >= o; n = [:3] (unit), o = [3]
    enabled: torch.Tensor   # (B, P) bool: the part exists for this person (hair style)
    albedo: torch.Tensor    # (B, P, 3)
    landmarks: torch.Tensor  # (B, 5, 3) head frame


def _geometry(identity: Identity, expression: torch.Tensor) -> _Geometry:
    s = identity.shape.double()
    f = {name: s[:, k] for k, name in enumerate(SHAPE_FACTORS)}
    smile, mouth_open, brow_raise, closure = expression.double().unbind(-1)
    B, P = s.shape[0], len(_PRIMS)
    d = torch.float64
    center = torch.zeros(B, P, 3, dtype=d)
    axes = torch.full((B, P, 3), 0.1, dtype=d)
    angles = torch.zeros(B, P, 3, dtype=d)  # local rotation: about x, y, z (applied z, y, x)
    clip = torch.zeros(B, P, 4, dtype=d)
    clip[..., 1], clip[..., 3] = 1.0, -1e9  # default: never clipped
    V = lambda *xs: torch.stack([torch.as_tensor(x, dtype=d).expand(B) for x in xs], -1)  # noqa: E731

    def put(name, c, a, ang=None):
        k = _P[name]
        center[:, k], axes[:, k] = c, a
        if ang is not None:
            angles[:, k] = ang

    head_w = 0.74 * (1 + 0.08 * f["head_width"])
    head_h = 0.86 * (1 + 0.07 * f["head_height"])
    jaw_w = 0.56 * (1 + 0.14 * f["jaw_width"])
    put("cranium", V(0, 0.12, -0.16), V(head_w, head_h, 0.84))
    put("jaw", V(0, -0.3, 0.06), V(jaw_w, 0.6, 0.64))
    chin_y = -0.76 - 0.07 * f["chin_length"] - 0.07 * mouth_open
    put("chin", V(0, chin_y, 0.4), V(0.19 + 0.04 * f["jaw_width"], 0.15, 0.28))
    cheek = 1 + 0.2 * f["cheekbones"]
    for side, name in ((-1, "cheek_l"), (1, "cheek_r")):
        put(name, V(side * 0.3 * cheek, -0.13 + 0.03 * smile, 0.33),
            V(0.17 * cheek, 0.14 + 0.02 * smile, 0.24 * (1 + 0.1 * f["cheekbones"])))
    put("neck", V(0, -0.95, -0.18), V(0.34, 0.6, 0.34))

    eye_r = 0.1 * (1 + 0.15 * f["eye_size"])
    eye_x = 0.27 * (1 + 0.1 * f["eye_spacing"])
    eye_y = 0.1 + 0.05 * f["eye_height"]
    eye_z = 0.56
    nose_len = 1 + 0.2 * f["nose_length"]
    nose_w = 1 + 0.25 * f["nose_width"]
    tip_y = eye_y - 0.34 * nose_len
    tip_z = 0.8 + 0.05 * f["nose_projection"]
    put("nose_bridge", V(0, (eye_y + tip_y) / 2 + 0.02, 0.62 + 0.5 * (tip_z - 0.8)),
        V(0.065 * nose_w, 0.2 * nose_len, 0.1), V(-0.32, 0, 0))
    put("nose_tip", V(0, tip_y, tip_z - 0.09), V(0.085 * nose_w, 0.075, 0.09))
    for side, name in ((-1, "ala_l"), (1, "ala_r")):
        put(name, V(side * 0.085 * nose_w, tip_y - 0.015, tip_z - 0.17), V(0.055, 0.05, 0.06))

    lid_cut = 1 - 2 * (0.12 + 0.88 * closure)  # local y above which the upper lid covers the eye
    for side, eye, lid in ((-1, "eye_l", "lid_l"), (1, "eye_r", "lid_r")):
        c = V(side * eye_x, eye_y, eye_z)
        put(eye, c, eye_r[:, None].expand(B, 3))
        put(lid, c, (1.1 * eye_r)[:, None].expand(B, 3))
        k = _P[lid]
        clip[:, k, :3] = V(0, 1, 0)
        clip[:, k, 3] = eye_y + lid_cut * 1.1 * eye_r
    brow_y = eye_y + 0.17 + 0.07 * brow_raise
    brow_t = 0.028 * (1 + 0.4 * f["brow_thickness"])
    brow_a = 0.22 * f["brow_angle"] + 0.12 * brow_raise
    for side, name in ((-1, "brow_l"), (1, "brow_r")):
        put(name, V(side * eye_x * 1.05, brow_y, 0.62), V(0.15, brow_t, 0.07),
            torch.stack([torch.zeros(B, dtype=d), side * torch.full((B,), 0.4, dtype=d),
                         -side * brow_a], -1))

    mouth_w = 0.17 * (1 + 0.18 * f["mouth_width"]) * (1 + 0.15 * smile)
    lip_t = 0.042 * (1 + 0.35 * f["lip_thickness"])
    mouth_y = tip_y - 0.25 - 0.02 * f["chin_length"]
    smile_a = 0.35 * smile
    open_drop = 0.09 * mouth_open
    for side, upper, lower in ((-1, "lip_ul", "lip_ll"), (1, "lip_ur", "lip_lr")):
        tilt = V(0, side * 0.2, side * smile_a)
        put(upper, V(side * mouth_w * 0.5, mouth_y + 0.75 * lip_t, 0.64),
            torch.stack([0.55 * mouth_w, lip_t, torch.full((B,), 0.07, dtype=d)], -1), tilt)
        put(lower, V(side * mouth_w * 0.5, mouth_y - 0.85 * lip_t - open_drop, 0.63),
            torch.stack([0.52 * mouth_w, 1.1 * lip_t, torch.full((B,), 0.07, dtype=d)], -1), tilt)
    put("mouth", V(0, mouth_y - open_drop / 2, 0.58),
        torch.stack([0.8 * mouth_w, 0.012 + open_drop * 0.6, torch.full((B,), 0.08, dtype=d)], -1))
    ear = 1 + 0.2 * f["ear_size"]
    for side, name in ((-1, "ear_l"), (1, "ear_r")):
        put(name, V(side * (head_w + 0.01), eye_y - 0.13, -0.18), V(0.06, 0.17 * ear, 0.11 * ear),
            V(0, side * 0.35, 0))

    # Hair: a cap around the cranium, cut by a tilted hairline plane, plus style volumes.
    style = identity.hair_style
    cap = torch.ones(B, dtype=d) * 1.06
    cap = torch.where(style == 3, torch.full_like(cap, 1.02), cap)   # buzz: thin
    cap = torch.where(style == 5, torch.full_like(cap, 1.22), cap)   # volume: big
    put("hair_cap", V(0, 0.14, -0.18) + V(0, 0.02, 0) * (cap[:, None] - 1),
        torch.stack([head_w * (cap - 0.02), head_h * cap, 0.84 * cap + 0.02], -1))
    line = torch.full((B,), 0.13, dtype=d)
    line = torch.where(style == 4, torch.full_like(line, -0.02), line)  # fringe: low at the front
    line = torch.where(style == 3, torch.full_like(line, 0.2), line)
    n = torch.tensor([0.0, 1.0, -0.55], dtype=d)
    k = _P["hair_cap"]
    clip[:, k, :3] = n / n.norm()
    clip[:, k, 3] = line
    for side, name in ((-1, "hair_side_l"), (1, "hair_side_r")):
        put(name, V(side * (head_w - 0.02), -0.3, -0.22), V(0.16, 0.72, 0.42))
    put("hair_back", V(0, -0.3, -0.42), V(head_w * 0.98, 0.75, 0.42))
    put("hair_bun", V(0, 0.72, -0.62), V(0.3, 0.3, 0.3))
    enabled = torch.ones(B, P, dtype=torch.bool)
    for name, style_name in (("hair_side_l", "long"), ("hair_side_r", "long"),
                             ("hair_back", "long"), ("hair_bun", "bun")):
        enabled[:, _P[name]] = style == HAIR_STYLES.index(style_name)

    a = angles
    rot = _rot_x(a[..., 0]) @ _rot_y(a[..., 1]) @ _rot_z(a[..., 2])

    skin = identity.skin.double()
    hair = identity.hair_color.double()
    albedo = skin[:, None, :].repeat(1, P, 1)
    for name in ("eye_l", "eye_r"):
        albedo[:, _P[name]] = identity.iris.double()  # iris colour; sclera and pupil are texture
    for name in ("brow_l", "brow_r"):
        albedo[:, _P[name]] = hair * 0.7 + 0.03
    lip_color = skin * torch.tensor([0.88, 0.62, 0.62], dtype=d) + torch.tensor([0.06, 0.0, 0.01], dtype=d)
    for name in ("lip_ul", "lip_ur", "lip_ll", "lip_lr"):
        albedo[:, _P[name]] = lip_color
    albedo[:, _P["mouth"]] = torch.tensor([0.25, 0.05, 0.06], dtype=d)
    for name in ("nose_bridge", "nose_tip", "ala_l", "ala_r"):
        albedo[:, _P[name]] = skin * 1.02
    for name in ("hair_cap", "hair_side_l", "hair_side_r", "hair_back", "hair_bun"):
        albedo[:, _P[name]] = hair

    lm = torch.stack([
        center[:, _P["eye_l"]] + V(0, 0, 1) * eye_r[:, None],
        center[:, _P["eye_r"]] + V(0, 0, 1) * eye_r[:, None],
        center[:, _P["nose_tip"]] + V(0, 0, 0.09),
        *[_surface_point(center, axes, rot, _P[name], (side * 0.85, 0.0, math.sqrt(1 - 0.85**2)))
          for side, name in ((-1, "lip_ul"), (1, "lip_ur"))],          # mouth corners, on the lip
    ], dim=1)
    return _Geometry(center, axes, rot, clip, enabled, albedo.clamp(0, 1), lm)


def _surface_point(center, axes, rot, k: int, local: tuple[float, float, float]) -> torch.Tensor:
    """Head-frame position of the point `local` (on the unit sphere) of primitive k: (B, 3)."""
    q = torch.tensor(local, dtype=torch.float64)
    return center[:, k] + (rot[:, k] @ (axes[:, k] * q)[..., None]).squeeze(-1)


# ----------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------

@dataclass
class Render:
    """The output of `render`. Images are float in [0, 1] on the renderer's device."""

    image: torch.Tensor      # (B, 3, H, W)
    mask: torch.Tensor       # (B, 1, H, W) foreground (head, hair, neck) coverage in [0, 1]
    parts: torch.Tensor      # (B, H, W) uint8 index into PART_NAMES of the visible surface
    landmarks: torch.Tensor  # (B, 5, 2) pixel (x, y) of LANDMARK_NAMES
    visible: torch.Tensor    # (B, 5) bool: the landmark is not hidden by another part

    def to_uint8(self) -> torch.Tensor:
        """(B, 3, H, W) uint8: the package's storage convention (faceid_lab.images)."""
        return (self.image * 255 + 0.5).clamp(0, 255).to(torch.uint8)


def render(identity: Identity, nuisance: Nuisance, resolution: int = 64,
           device: str | torch.device = "cpu", chunk: int | None = None) -> Render:
    """Render one image per (identity[b], nuisance[b]) pair at `resolution` x `resolution`.

    Deterministic: the same inputs give the same bytes, whatever the batch size or chunk.
    `chunk` images are rasterised at a time (default: what keeps the CPU cache warm)."""
    if len(identity) != len(nuisance):
        raise ValueError(f"render: {len(identity)} identities but {len(nuisance)} nuisance rows; "
                         "pass one of each per image (index or repeat them to match)")
    if resolution < 8:
        raise ValueError(f"render: resolution {resolution} is too small; use 32, 64 or 128")
    device = torch.device(device)
    if chunk is None:
        chunk = max(1, (16 if device.type == "cpu" else 256) * (64 * 64) // (resolution * resolution))
    outs = [_render_chunk(identity[i:i + chunk], nuisance[i:i + chunk], resolution, device)
            for i in range(0, len(identity), chunk)]
    return Render(*[torch.cat([getattr(o, f.name) for o in outs]) for f in fields(Render)])


def _render_chunk(identity: Identity, nuisance: Nuisance, res: int, device: torch.device) -> Render:
    geo = _geometry(identity, nuisance.expression)
    B, P = geo.center.shape[:2]
    d = torch.float64

    # --- per (image, primitive) coefficients, in float64 on the CPU ------------------------
    R_head = head_rotation(nuisance.pose)                                     # (B, 3, 3)
    body_pose = nuisance.pose.double() * torch.tensor([0.3, 0.0, 0.3], dtype=d)
    R_body = head_rotation(body_pose)
    R = torch.where(_PRIM_ON_HEAD[None, :, None, None], R_head[:, None], R_body[:, None])  # (B, P, 3, 3)
    scale = nuisance.scale.double()[:, None, None]                            # (B, 1, 1)
    shift = torch.cat([nuisance.shift.double(), torch.zeros(B, 1, dtype=d)], 1)  # (B, 3)
    # local q = diag(1/a) Q^T (p_head - c), p_head = R^T (p_cam - shift) / s
    L = (geo.rot.transpose(-1, -2) @ R.transpose(-1, -2)) / (scale[..., None] * geo.axes[..., None])
    qu, qv, qd = L[..., 0], L[..., 1], -L[..., 2]                             # (B, P, 3) each
    q0 = -(L @ shift[:, None, :, None]).squeeze(-1) - (
        geo.rot.transpose(-1, -2) @ geo.center[..., None]).squeeze(-1) / geo.axes
    A = (qd * qd).sum(-1)                                                     # (B, P)
    b0, bu, bv = (qd * q0).sum(-1), (qd * qu).sum(-1), (qd * qv).sum(-1)       # h = b0 + u bu + v bv
    c00 = (q0 * q0).sum(-1) - 1
    cu, cv = 2 * (q0 * qu).sum(-1), 2 * (q0 * qv).sum(-1)
    cuu, cuv, cvv = (qu * qu).sum(-1), 2 * (qu * qv).sum(-1), (qv * qv).sum(-1)
    # disc = h^2 - A C = e00 + eu u + ev v + euu u^2 + euv u v + evv v^2
    e00, eu, ev = b0 * b0 - A * c00, 2 * b0 * bu - A * cu, 2 * b0 * bv - A * cv
    euu, euv, evv = bu * bu - A * cuu, 2 * bu * bv - A * cuv, bv * bv - A * cvv
    # rim gradient for analytic coverage: disc ~ D0 - x^T M x, |grad| ~ 2 sqrt(D0 sqrt(det M))
    det = (euu * evv - euv * euv / 4).clamp_min(1e-12)
    cx = (euv * ev - 2 * evv * eu) / (4 * det)
    cy = (euv * eu - 2 * euu * ev) / (4 * det)
    D0 = e00 + eu * cx + ev * cy + euu * cx * cx + euv * cx * cy + evv * cy * cy
    rim = 2 * torch.sqrt(D0.clamp_min(1e-12) * det.sqrt())
    e00 = torch.where(geo.enabled, e00, torch.full_like(e00, -1e9))            # absent parts: no hit
    # clip plane in local coordinates: n_l = diag(a) Q^T n, o_l = o - n . c
    n_head = geo.clip[..., :3]
    n_loc = geo.axes * (geo.rot.transpose(-1, -2) @ n_head[..., None]).squeeze(-1)
    o_loc = geo.clip[..., 3] - (n_head * geo.center).sum(-1)

    half = VIEW_HALF_WIDTH
    px = 2 * half / res                                                       # pixel size
    f32 = lambda x: x.to(device=device, dtype=torch.float32)  # noqa: E731
    coords = (torch.arange(res, device=device, dtype=torch.float32) + 0.5) * px - half
    u = coords.view(1, 1, 1, res)                                             # columns, to the right
    v = VIEW_CENTER_Y - coords.view(1, 1, res, 1)                             # rows, upwards
    col = lambda x: f32(x)[:, :, None, None]  # noqa: E731                      (B, P, 1, 1)

    # --- per pixel and primitive: depth t and coverage (B, P, H, W), fused ops -----------------
    disc = torch.addcmul(col(e00) + u * (col(eu) + col(euu) * u), v, col(ev) + col(euv) * u)
    disc.add_(col(evv) * v * v)
    t = (col(bu) * u + col(b0)) + col(bv) * v                                 # h = B / 2
    t.add_(disc.clamp_min(0).sqrt_()).mul_(col(-1 / A))                       # nearest root
    cover = torch.addcmul(torch.full((), 0.5, device=device), disc, col(1 / (rim * px))).clamp_(0, 1)
    c = slice(P - _N_CLIPPED, P)                                              # clipped primitives
    k0 = ((n_loc * q0).sum(-1) - o_loc)[:, c]
    ku, kv, kd = [(n_loc * x).sum(-1)[:, c] for x in (qu, qv, qd)]
    clip_cover = (col(k0 / px + 0.5) + col(ku / px) * u) + col(kv / px) * v
    cover[:, c] *= clip_cover.addcmul_(t[:, c], col(kd / px)).clamp_(0, 1)
    t.masked_fill_(cover <= 0, float("inf"))
    t1, i1 = t.min(1, keepdim=True)                                           # nearest surface
    t2, i2 = t.scatter_(1, i1, float("inf")).min(1, keepdim=True)             # the one behind it
    cov1 = cover.gather(1, i1)
    alpha = cov1 * ((t2 - t1) / (1.5 * px) + 0.5).clamp(0, 1)                 # soft depth blend
    alpha = torch.where(torch.isinf(t2), cov1, alpha)

    # --- shading of the two layers: one gather of a per-primitive table per layer --------------
    table = f32(torch.cat([q0, qu, qv, qd, L.reshape(B, P, 9), geo.albedo,
                           _PRIM_SPECULAR.double().expand(B, P)[..., None],
                           _PRIM_MATERIAL.double().expand(B, P)[..., None]], -1))  # (B, P, 26)
    light = f32(nuisance.light_dir)
    light = light / light.norm(dim=1, keepdim=True)
    half_vec = light + torch.tensor([0.0, 0.0, 1.0], device=device)
    half_vec = half_vec / half_vec.norm(dim=1, keepdim=True)
    light_rgb = f32(nuisance.light_color)[:, :, None]                        # (B, 3, 1)
    intensity = f32(nuisance.light_intensity)[:, None, None]
    ambient = f32(nuisance.ambient)[:, None, None]
    iris = f32(identity.iris)[:, :, None]
    background = _background(nuisance, res, device).reshape(B, 3, res * res)
    uu = u.expand(1, 1, res, res).reshape(1, res * res)
    vv = v.expand(1, 1, res, res).reshape(1, res * res)

    def shade(idx: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        depth = depth.reshape(B, res * res)
        hit = torch.isfinite(depth)
        dd = torch.where(hit, depth, torch.zeros_like(depth))
        g = torch.gather(table, 1, idx.reshape(B, res * res, 1).clamp_max(P - 1).expand(-1, -1, table.shape[-1]))
        g = g.permute(2, 0, 1)                                                 # (26, B, HW)
        q = [g[i] + g[3 + i] * uu + g[6 + i] * vv + g[9 + i] * dd for i in range(3)]  # local hit
        Lk = g[12:21]
        n = [Lk[i] * q[0] + Lk[3 + i] * q[1] + Lk[6 + i] * q[2] for i in range(3)]  # L^T q
        inv = torch.rsqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2] + 1e-12)
        diffuse = ((n[0] * light[:, 0:1] + n[1] * light[:, 1:2] + n[2] * light[:, 2:3]) * inv).clamp_min(0)
        shine = ((n[0] * half_vec[:, 0:1] + n[1] * half_vec[:, 1:2] + n[2] * half_vec[:, 2:3]) * inv)
        shine = shine.clamp_min(0) ** 24
        rgb = g[21:24].permute(1, 0, 2)                                       # (B, 3, HW)
        material = g[25]
        # eyes: white sclera, coloured iris, black pupil (q_z is the cosine from the gaze axis)
        eye_rgb = torch.where(q[2][:, None] > 0.93, 0.03,
                              torch.where(q[2][:, None] > 0.78, iris, 0.92))
        rgb = torch.where((material == 1)[:, None], eye_rgb, rgb)
        # hair: strands as a soft stripe pattern along the head
        strands = 1 + 0.06 * torch.sin(40 * torch.atan2(q[0], q[2] + 1e-3) + 9 * q[1])
        rgb = torch.where((material == 2)[:, None], rgb * strands[:, None], rgb)
        light_term = (ambient + intensity * diffuse[:, None]) * light_rgb
        color = rgb * light_term + (g[24] * 0.35 * shine)[:, None] * intensity * light_rgb
        return torch.where(hit[:, None], color, background)

    c1, c2 = shade(i1, t1), shade(i2, t2)
    a = alpha.reshape(B, 1, res * res)
    image = (a * c1 + (1 - a) * c2).clamp(0, 1).reshape(B, 3, res, res)
    fg1 = torch.isfinite(t1).float()
    fg2 = torch.isfinite(t2).float()
    mask = alpha * fg1 + (1 - alpha) * fg2
    part = _PRIM_PART.to(device)
    front = torch.where(alpha >= 0.5, i1, i2)[:, 0]
    front_hit = torch.where(alpha >= 0.5, torch.isfinite(t1), torch.isfinite(t2))[:, 0]
    parts = torch.where(front_hit, part[front.clamp_max(P - 1)], torch.zeros_like(front)).to(torch.uint8)

    # --- landmarks: project, and test visibility against the depth buffer ---------------------
    lm_cam = nuisance.scale.double()[:, None, None] * (geo.landmarks @ R_head.transpose(-1, -2))
    lm_cam = lm_cam + shift[:, None, :]
    xy = torch.stack([(lm_cam[..., 0] + half) / px, (half + VIEW_CENTER_Y - lm_cam[..., 1]) / px], -1)
    lm_depth = -lm_cam[..., 2]                                                # t along the ray
    # visible: the landmark's own part is the front surface at its pixel or a neighbour (1 px),
    # and nothing nearer covers the landmark point itself (depth test at its pixel)
    ix = xy[..., 0].floor().long().clamp(0, res - 1)
    iy = xy[..., 1].floor().long().clamp(0, res - 1)
    bi = torch.arange(B)[:, None]
    seen = t1[:, 0].cpu().double()[bi, iy, ix]
    front_cpu = front.cpu()
    own = torch.zeros(B, 5, dtype=torch.bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            prim = front_cpu[bi, (iy + dy).clamp(0, res - 1), (ix + dx).clamp(0, res - 1)]
            own |= _LANDMARK_PRIMS[prim, torch.arange(5)]
    inside = (xy >= 0).all(-1) & (xy < res).all(-1)
    visible = own & seen.isfinite() & (lm_depth <= seen + 0.05) & inside
    return Render(image=image, mask=mask, parts=parts, landmarks=xy.float().to(device),
                  visible=visible.to(device))


def _background(nuisance: Nuisance, res: int, device: torch.device) -> torch.Tensor:
    """(B, 3, H, W): flat colour, vertical gradient, or a two-colour stripe texture."""
    B = len(nuisance)
    ca = nuisance.bg_colors[:, :3].float().to(device)[:, :, None, None]
    cb = nuisance.bg_colors[:, 3:].float().to(device)[:, :, None, None]
    y = torch.linspace(0, 1, res, device=device).view(1, 1, res, 1)
    x = torch.linspace(0, 1, res, device=device).view(1, 1, 1, res)
    angle, freq, phase = [p.float().to(device).view(B, 1, 1, 1) for p in nuisance.bg_pattern.unbind(1)]
    stripes = 0.5 + 0.5 * torch.sin(freq * (x * torch.cos(angle) + y * torch.sin(angle)) * 6.283 + phase)
    kind = nuisance.background.to(device).view(B, 1, 1, 1)
    mix = torch.where(kind == 0, torch.zeros_like(stripes),
                      torch.where(kind == 1, y.expand_as(stripes), stripes))
    return ca * (1 - mix) + cb * mix
