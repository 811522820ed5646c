"""Swapping and blending: faceswap's aligned crop of the face (extract), the swap, and the swapped
crop warped back and blended into the frame (convert), colour-matched if asked: swap_frames does all three."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .data.align import similarity_transform
from .models.autoencoder import FaceSwapAutoencoder


@torch.no_grad()
def swap(model: FaceSwapAutoencoder, faces: torch.Tensor, to: str,
         batch: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """Faces (N, 3, R, R) in [0, 1] through the shared encoder and `to`'s decoder:
    (swapped faces (N, 3, R, R), masks (N, 1, R, R); ones if the model has no mask head)."""
    model.eval()
    device = next(model.parameters()).device
    out, masks = [], []
    for a in range(0, len(faces), batch):
        face, mask = model(faces[a:a + batch].to(device).float(), to)
        out.append(face.float().cpu())
        masks.append((mask if mask is not None else torch.ones_like(face[:, :1])).float().cpu())
    return torch.cat(out), torch.cat(masks)


def _to_u8(x: torch.Tensor) -> np.ndarray:
    """(3, H, W) float [0, 1] -> (H, W, 3) uint8."""
    return (x.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def _to_float(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x.astype(np.float32) / 255).permute(2, 0, 1)


def match_colour(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer in Lab: give `source` (H, W, 3 uint8) the per-channel mean and
    standard deviation that `target` has inside the mask (H, W) in [0, 1]."""
    m = mask > 0.5
    if m.sum() < 16:
        return source
    src = cv2.cvtColor(source, cv2.COLOR_RGB2LAB).astype(np.float32)
    tgt = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = src[m].mean(0), src[m].std(0) + 1e-3
    t_mean, t_std = tgt[m].mean(0), tgt[m].std(0) + 1e-3
    out = (src - s_mean) / s_std * t_std + t_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def feather(mask: np.ndarray, erode: int = 1, blur: int = 5) -> np.ndarray:
    """Shrink a [0, 1] mask a little and soften its edge: the alpha of a feathered blend."""
    m = (mask > 0.5).astype(np.uint8)
    if erode:
        m = cv2.erode(m, np.ones((3, 3), np.uint8), iterations=erode)
    k = blur | 1
    return cv2.GaussianBlur(m.astype(np.float32), (k, k), 0)


def blend(frame: torch.Tensor, face: torch.Tensor, mask: torch.Tensor, method: str = "poisson",
          colour: bool = True) -> torch.Tensor:
    """Put `face` (3, R, R) into `frame` (3, R, R) where `mask` (1 or (1, R, R)) says.

    method: "alpha" (a feathered alpha blend) or "poisson" (cv2.seamlessClone: the gradients of
    the face, the boundary colours of the frame). colour: Lab mean/std matching first."""
    f, s = _to_u8(frame), _to_u8(face)
    m = mask.detach().cpu().reshape(mask.shape[-2:]).numpy()
    if colour:
        s = match_colour(s, f, m)
    if method == "alpha":
        a = feather(m)[..., None]
        return _to_float((a * s + (1 - a) * f + 0.5).astype(np.uint8))
    if method != "poisson":
        raise ValueError(f"method must be 'alpha' or 'poisson', not {method!r}")
    binary = (feather(m, erode=1, blur=1) > 0.5).astype(np.uint8) * 255
    binary[[0, -1], :] = 0  # seamlessClone needs the mask clear of the border
    binary[:, [0, -1]] = 0
    if binary.sum() == 0:
        return frame.detach().cpu().clone()
    ys, xs = np.nonzero(binary)
    centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    return _to_float(cv2.seamlessClone(s, f, binary, centre, cv2.NORMAL_CLONE))


# ----------------------------------------------------------------------------
# Extract and convert: faceswap's aligned crop, and back into the frame
# ----------------------------------------------------------------------------

def similarity_matrices(landmarks: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """(N, K, 2) landmarks in a frame -> (N, 2, 3) similarity transforms taking each frame's points
    to `template` (K, 2), their places in the crop: data.align's Umeyama fit, frame by frame.
    Coordinates are continuous pixels: x = 0 at the left edge, pixel i covers [i, i + 1)."""
    dst = template.double().numpy()
    return torch.from_numpy(np.stack([similarity_transform(p, dst) for p in landmarks.double().numpy()])).float()


def _invert(matrices: torch.Tensor) -> torch.Tensor:
    """(N, 2, 3) affine maps -> their inverses."""
    lin_inv = torch.linalg.inv(matrices[:, :, :2].double())
    return torch.cat([lin_inv, -(lin_inv @ matrices[:, :, 2:].double())], 2).float()


def _sample(images: torch.Tensor, out_to_in: torch.Tensor, size: int, padding: str) -> torch.Tensor:
    """images (N, C, H, W) resampled to (N, C, size, size): output pixel p shows input point
    out_to_in @ (p, 1) (continuous pixels); outside the input, `padding` (grid_sample's mode)."""
    n, _, h, w = images.shape
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, -1, 3)   # (1, S*S, 3)
    src = points @ out_to_in.transpose(1, 2)                                    # (N, S*S, 2)
    grid = torch.stack([src[..., 0] / w * 2 - 1, src[..., 1] / h * 2 - 1], -1).reshape(n, size, size, 2)
    return F.grid_sample(images.float(), grid.to(images.device), mode="bilinear", padding_mode=padding,
                         align_corners=False)


def crop_faces(frames: torch.Tensor, matrices: torch.Tensor, size: int) -> torch.Tensor:
    """Extract: frames (N, C, H, W) -> aligned crops (N, C, size, size), matrices (N, 2, 3) taking
    frame pixels to crop pixels (similarity_matrices). Where a crop reaches past the frame's edge it
    repeats the edge's pixels, as faceswap's extractor does."""
    return _sample(frames, _invert(matrices), size, "border")


def paste_faces(crops: torch.Tensor, matrices: torch.Tensor, frame_size: int) -> torch.Tensor:
    """Convert: crops (N, C, S, S) warped back into (N, C, frame_size, frame_size) frames by the
    inverse of their crop's transform; zero where the crop does not reach."""
    return _sample(crops, matrices, frame_size, "zeros")


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
