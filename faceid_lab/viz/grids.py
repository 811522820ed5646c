"""Image grids as PIL images: for notebooks, the CLI and committed outputs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..images import to_uint8_hwc


@lru_cache(maxsize=8)
def label_font(size: int = 13) -> ImageFont.ImageFont:
    """A legible TrueType font for labels: Pillow's bundled one at `size` px (Pillow >= 10.1). Its
    default 10 px font drops the spaces between words ("noC"); older Pillow falls back to its bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: no size, no bundled TrueType font
        return ImageFont.load_default()


def image_grid(images: torch.Tensor | np.ndarray, ncol: int, scale: int = 1, pad: int = 2,
               labels: list[str] | None = None, row_labels: list[str] | None = None) -> Image.Image:
    """Tile N images row by row into one picture; optional caption under each image and
    label left of each row."""
    arr = to_uint8_hwc(images)
    n, h, w, _ = arr.shape
    nrow = (n + ncol - 1) // ncol
    font = label_font()
    cap = 16 if labels else 0
    left = int(max((font.getlength(s) for s in row_labels), default=0)) + 10 if row_labels else 0
    cell_w, cell_h = w * scale + pad, h * scale + pad + cap
    canvas = Image.new("RGB", (left + ncol * cell_w + pad, nrow * cell_h + pad), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for k in range(n):
        r, c = divmod(k, ncol)
        tile = Image.fromarray(arr[k]).resize((w * scale, h * scale), Image.NEAREST)
        x, y = left + pad + c * cell_w, pad + r * cell_h
        canvas.paste(tile, (x, y))
        if labels:
            draw.text((x + 1, y + h * scale + 1), labels[k], fill=(0, 0, 0), font=font)
    for r, text in enumerate(row_labels or []):
        draw.text((4, pad + r * cell_h + h * scale // 2 - 7), text, fill=(0, 0, 0), font=font)
    return canvas


def save_grid(path: str | Path, images, ncol: int, **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(images, ncol, **kwargs).save(path)
    return path


def show_images(images, ncol: int = 8, **kwargs) -> Image.Image:
    """Display a grid in a notebook (returns the PIL image, which Jupyter shows as PNG)."""
    return image_grid(images, ncol, **kwargs)


def with_landmarks(images, landmarks: torch.Tensor, visible: torch.Tensor, scale: int = 4) -> list[Image.Image]:
    """Upscale each image and mark its landmarks: green dot visible, red cross hidden."""
    arr = to_uint8_hwc(images)
    out = []
    for k in range(len(arr)):
        im = Image.fromarray(arr[k]).resize((arr.shape[2] * scale, arr.shape[1] * scale), Image.NEAREST)
        draw = ImageDraw.Draw(im)
        for (x, y), seen in zip(landmarks[k].tolist(), visible[k].tolist(), strict=True):
            x, y = x * scale, y * scale
            if seen:
                draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(0, 255, 0))
            else:
                draw.line((x - 4, y - 4, x + 4, y + 4), fill=(255, 0, 0), width=2)
                draw.line((x - 4, y + 4, x + 4, y - 4), fill=(255, 0, 0), width=2)
        out.append(im)
    return out


def with_pose_arrows(images, poses: torch.Tensor, truth: torch.Tensor | None = None, scale: int = 3,
                     length: float = 0.45) -> Image.Image:
    """Upscale each face and draw where it looks: an arrow from the image centre along the nose
    direction given by yaw and pitch (degrees), with roll as the tilt of a short bar. Yellow: the
    prediction; cyan (optional): the truth. Captions give predicted yaw / pitch / roll. Returns one
    grid image (a row)."""
    arr = to_uint8_hwc(images)
    n, h, w, _ = arr.shape
    tiles = []
    for k in range(n):
        im = Image.fromarray(arr[k]).resize((w * scale, h * scale), Image.NEAREST)
        draw = ImageDraw.Draw(im)
        cx, cy, r = w * scale / 2, h * scale / 2, length * w * scale
        for pose, colour in (((truth[k] if truth is not None else None), (0, 220, 255)), (poses[k], (255, 210, 0))):
            if pose is None:
                continue
            yaw, pitch, roll = (float(v) * np.pi / 180 for v in pose[:3])
            tip = (cx + r * np.sin(yaw) * np.cos(pitch), cy - r * np.sin(pitch))
            draw.line((cx, cy, *tip), fill=colour, width=3)
            draw.ellipse((tip[0] - 3, tip[1] - 3, tip[0] + 3, tip[1] + 3), fill=colour)
            bar = (0.3 * r * np.cos(roll), -0.3 * r * np.sin(roll))  # roll > 0: counter-clockwise
            draw.line((cx - bar[0], cy - bar[1], cx + bar[0], cy + bar[1]), fill=colour, width=2)
        y, p, ro = (float(v) for v in poses[k][:3])
        draw.text((3, 2), f"{y:+.0f}/{p:+.0f}/{ro:+.0f}", fill=(255, 255, 255), font=label_font(12))
        tiles.append(np.asarray(im))
    return image_grid(np.stack(tiles), ncol=n)
