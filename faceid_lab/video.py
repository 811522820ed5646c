"""Notebook 01's swap video: a head turn swapped frame by frame, written to mp4 through imageio-ffmpeg's
ffmpeg, its stills, and the mp4 embedded in the notebook."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import imageio_ffmpeg
import torch
from IPython.display import HTML

from .data.pairs import DeepfakePair, crop_template, head_turn_nuisance, render_person
from .images import to_uint8_hwc
from .models.autoencoder import FaceSwapAutoencoder
from .swap import similarity_matrices, swap_frames
from .viz.grids import image_grid


def swap_clip(model: FaceSwapAutoencoder, pair: DeepfakePair, frames: int = 48, method: str = "alpha",
              colour: bool = False) -> torch.Tensor:
    """Frames for the swap video, side by side: A's frame | the swap blended in | (SynthFaces) the
    ground truth. SynthFaces: a smooth head turn in A's scene; real: A's test photos in turn."""
    if pair.kind == "synthfaces":
        i = pair.info
        nu = head_turn_nuisance(i["seed"], i["a"], frames)
        ra = render_person(i["seed"], i["a"], nu, pair.frame_resolution, "cpu")
        truth = render_person(i["seed"], i["b"], nu, pair.frame_resolution, "cpu").image
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
    picks = torch.linspace(0, len(clip) - 1, count).round().long()
    return image_grid(clip[picks], ncol=2, scale=scale, labels=[f"frame {int(i) + 1} of {len(clip)}" for i in picks])


def show_video(path: str | Path, width: int = 512):
    """The mp4 embedded in the notebook (base64), so it survives a saved notebook and GitHub."""

    data = base64.b64encode(Path(path).read_bytes()).decode()
    return HTML(f'<video width="{width}" controls loop autoplay muted playsinline>'
                f'<source src="data:video/mp4;base64,{data}" type="video/mp4"></video>')
