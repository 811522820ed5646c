"""Notebook 01's verdict on a swap: against the ground truth, by the judge, by P and the instruments.

Every reading is taken in the instruments' 64 px view of the frame (data.pairs.instrument_view);
the judge is never the autoencoder itself (SynthFaces: the profile's SynthFaces judge; real
faces: dlib's face descriptor).
"""

from __future__ import annotations

import torch

from .data.pairs import DeepfakePair, instrument_view
from .instruments import load_instruments, mean_part_iou, part_iou
from .judge import DlibJudge, load_synth_judge
from .metrics import ssim
from .models.autoencoder import FaceSwapAutoencoder
from .profiles import load_pose
from .swap import SwapResult, swap_frames
from .train.pose import predict_pose


def judge_for(pair: DeepfakePair, profile: str, device: str | torch.device = "cpu"):
    """The independent judge: the SynthFaces judge of the profile, or dlib's face descriptor on
    real faces. Never the autoencoder itself."""
    if pair.kind == "synthfaces":
        return load_synth_judge(profile, device)
    return DlibJudge()


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
        on_swap = predict_pose(pose_net, blended)[:, :3]
        on_input = predict_pose(pose_net, test_a)[:, :3]
        out["pose_error_deg"] = {
            "swap": dict(zip(("yaw", "pitch", "roll"), (on_swap - pair.pose_a).abs().mean(0).tolist(), strict=True)),
            "input": dict(zip(("yaw", "pitch", "roll"), (on_input - pair.pose_a).abs().mean(0).tolist(), strict=True))}
    if instruments is not None:
        out["instruments"] = _instrument_verdict(blended, test_a, pair, instruments)
    return out


def _instrument_verdict(blended: torch.Tensor, test_a: torch.Tensor, pair: DeepfakePair, instruments) -> dict:
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


def evaluate_autoencoder(model: FaceSwapAutoencoder, pair: DeepfakePair, profile: str,
                         device: str | torch.device = "cpu", method: str = "alpha", colour: bool = False) -> dict:
    """`faceid-lab evaluate autoencoder`: the pair's held-out frames of A swapped to B and blended
    (`method`, `colour`), judged by the profile's judge and, on SynthFaces, by P and the instruments."""
    judge = judge_for(pair, profile, device)
    synthfaces = pair.kind == "synthfaces"
    pose_net = load_pose(profile, device, progress=False) if synthfaces else None
    instruments = load_instruments(profile, device) if synthfaces else None
    result = swap_frames(model, pair.test_a, pair.test_masks_a, pair.test_matrices_a, "B", method, colour)
    return evaluate_swap(result, pair, judge, pose_net, instruments)
