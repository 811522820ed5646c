"""The SynthFaces tour: the identities x poses grid, and an explorer with sliders."""

from __future__ import annotations

import io
import math

import ipywidgets as W
import numpy as np
import torch
from PIL import Image

from .. import runtime
from ..data import synthetic as S
from ..images import to_uint8_hwc
from .grids import image_grid

# (yaw, pitch, roll), (smile, mouth_open, brow_raise, eye_closure), caption
TOUR_VIEWS = [
    ((0, 0, 0), (0, 0, 0, 0), "frontal"),
    ((-45, 0, 0), (0, 0, 0, 0), "yaw -45"),
    ((45, 0, 0), (0, 0, 0, 0), "yaw +45"),
    ((-75, 0, 0), (0, 0, 0, 0), "yaw -75"),
    ((20, 20, 0), (1, 0, 0, 0), "up, smile"),
    ((-20, -20, 10), (0, 1, 0, 0), "down, open"),
    ((0, 0, -15), (0, 0, 1, 0), "roll, brows"),
    ((30, 0, 0), (0.5, 0.3, 0, 1), "eyes shut"),
]


def tour_nuisance(count_identities: int) -> S.Nuisance:
    views = TOUR_VIEWS * count_identities
    nu = S.Nuisance.reference(len(views))
    return nu.with_pose(torch.tensor([v[0] for v in views], dtype=torch.float64)).with_expression(
        torch.tensor([v[1] for v in views], dtype=torch.float64))


def tour_grid(seed: int = 0, identities: int = 8, resolution: int = 64, scale: int = 2) -> Image.Image:
    """Rows: identities; columns: the poses and expressions of TOUR_VIEWS."""
    ids = S.sample_identities(seed, np.arange(identities))
    rep = S.cat([ids[i] for i in range(identities) for _ in TOUR_VIEWS])
    r = S.render(rep, tour_nuisance(identities), resolution)
    names = [v[2] for v in TOUR_VIEWS] if scale * resolution >= 96 else None
    return image_grid(r.image, len(TOUR_VIEWS), scale=scale,
                      labels=names * identities if names else None,
                      row_labels=[f"id {i}" for i in range(identities)])


def light_direction(azimuth_deg: float, elevation_deg: float) -> torch.Tensor:
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    return torch.tensor([[math.sin(a) * math.cos(e), math.sin(e), math.cos(a) * math.cos(e)]],
                        dtype=torch.float64)


def render_one(seed: int, identity: int, yaw=0.0, pitch=0.0, roll=0.0, smile=0.0, mouth_open=0.0,
               brow_raise=0.0, eye_closure=0.0, light_azimuth=15.0, light_elevation=25.0,
               resolution: int = 128) -> Image.Image:
    """One identity under chosen factors, as a PIL image (what the explorer shows)."""
    ident = S.sample_identities(seed, [identity])
    nu = S.Nuisance.reference(1, yaw, pitch, roll).with_expression(
        torch.tensor([[smile, mouth_open, brow_raise, eye_closure]], dtype=torch.float64))
    nu.light_dir = light_direction(light_azimuth, light_elevation)
    img = to_uint8_hwc(S.render(ident, nu, resolution).to_uint8())[0]
    return Image.fromarray(img)


def explorer(seed: int = 0, resolution: int = 128):
    """An ipywidgets explorer: sliders for identity, pose, expression and light.

    Headless (tests, `course run`) it returns a static strip of the same controls' effects
    instead, so the notebook still runs top to bottom."""
    if runtime.headless():
        frames = [render_one(seed, 0, yaw=y, resolution=resolution // 2) for y in (-60, -30, 0, 30, 60)]
        strip = Image.new("RGB", (sum(f.width for f in frames), frames[0].height))
        for k, f in enumerate(frames):
            strip.paste(f, (k * f.width, 0))
        return strip

    sliders = {
        "identity": W.IntSlider(value=0, min=0, max=99, description="identity"),
        "yaw": W.FloatSlider(0, min=-75, max=75, step=5, description="yaw"),
        "pitch": W.FloatSlider(0, min=-25, max=25, step=5, description="pitch"),
        "roll": W.FloatSlider(0, min=-15, max=15, step=5, description="roll"),
        "smile": W.FloatSlider(0, min=0, max=1, step=0.1, description="smile"),
        "mouth_open": W.FloatSlider(0, min=0, max=1, step=0.1, description="mouth open"),
        "brow_raise": W.FloatSlider(0, min=0, max=1, step=0.1, description="brows"),
        "eye_closure": W.FloatSlider(0, min=0, max=1, step=0.1, description="eyes shut"),
        "light_azimuth": W.FloatSlider(15, min=-80, max=80, step=5, description="light az"),
        "light_elevation": W.FloatSlider(25, min=-30, max=60, step=5, description="light el"),
    }
    view = W.Image(format="png", width=256, height=256)

    def update(_=None):
        values = {k: s.value for k, s in sliders.items()}
        buf = io.BytesIO()
        render_one(seed, values.pop("identity"), resolution=resolution, **values).save(buf, "png")
        view.value = buf.getvalue()

    for s in sliders.values():
        s.observe(update, "value")
    update()
    return W.HBox([W.VBox(list(sliders.values())), view])
