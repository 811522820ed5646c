"""Training throughput: `faceid-lab bench train identity|pose|autoencoder|posegan|faceidgan`, each
game timed through its own `step()`, the function its training loop calls.

One line per setting, `NAME: X img/s`: fp32 eager, then the optimised path the
loops use (on CUDA channels_last and autocast, bf16 where supported else fp16 with
a scaler; optionally torch.compile; on the CPU only torch.compile, so without
--compile the CPU prints the eager line alone: loop.ONEDNN_NHWC_BUG). Inputs are random tensors already on the
device, so the figure is the model's step alone; data loading is measured
separately (`bench render`). Warm-up steps are not timed; timing syncs once at
the end, never inside the step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from .data import synthetic as S
from .data.augment import random_warp
from .models.autoencoder import FaceSwapAutoencoder
from .models.identity import IdentityNet
from .models.pose import PoseNet
from .train.autoencoder import AutoencoderConfig, BothPeople, autoencoder_step
from .train.classifier import ClassifierConfig, Classify, build_classifier, classifier_step
from .train.faceidgan import FaceIdGanConfig, build_players, faceid_gan_step
from .train.gan import GanConfig, build_pose_gan, pose_gan_step
from .train.loop import amp_context, speed_up, to_memory_format, use_channels_last
from .train.pose import pose_step

GAMES = ("identity", "pose", "autoencoder", "posegan", "faceidgan")  # each timed through its own step()


def _amp(device: torch.device, amp: bool):
    """The training loops' AMP context on the optimised path, plain float32 on the fp32 one."""
    return amp_context(device) if amp else (contextlib.nullcontext(), None)


def _image(batch: int, resolution: int, device: torch.device, channels_last: bool) -> torch.Tensor:
    return to_memory_format(torch.rand(batch, 3, resolution, resolution, device=device), channels_last)


def _identity_step(resolution: int, batch: int, device: torch.device, channels_last: bool, amp: bool,
                   compile: bool):
    """The identity network's step (classifier.classifier_step) at the judge's width, 1,000 people."""
    cfg = ClassifierConfig(num_classes=1000, width=32)
    net = build_classifier(cfg).to(device)
    classify = speed_up(Classify(net), channels_last, compile)  # what train_classifier runs
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr)
    x = _image(batch, resolution, device, channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    autocast, scaler = _amp(device, amp)
    return (lambda: classifier_step(classify, opt, x, y, cfg, autocast, scaler)), batch


def _pose_step(resolution: int, batch: int, device: torch.device, channels_last: bool, amp: bool, compile: bool):
    """P's step (pose.pose_step; float32, as its loop runs)."""

    net = speed_up(PoseNet(32).to(device), channels_last, compile)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    x, y = _image(batch, resolution, device, channels_last), torch.randn(batch, 7, device=device) * 0.3
    return (lambda: pose_step(net, opt, x, y)), batch


def _autoencoder_step(resolution: int, batch: int, device: torch.device, channels_last: bool, amp: bool,
                      compile: bool, width: float = 1.0):
    """The 1.5 autoencoders' step (autoencoder.autoencoder_step), with the random warps it trains on."""
    cfg = AutoencoderConfig(width=width, resolution=resolution, batch=batch)
    model = FaceSwapAutoencoder(width, resolution, cfg.mask).to(device)
    both = speed_up(BothPeople(model), channels_last, compile)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    faces = [torch.rand(batch, 4, resolution, resolution, device=device) for _ in "AB"]  # face and mask
    autocast, scaler = _amp(device, amp)
    gen = torch.Generator().manual_seed(0)

    def step():
        pairs = [random_warp(x, cfg.warp_strength, generator=gen) for x in faces]
        autoencoder_step(both, opt, pairs, cfg, True, autocast, scaler, channels_last)

    return step, 2 * batch  # both people's images per step


def _posegan_step(resolution: int, batch: int, device: torch.device, channels_last: bool, amp: bool,
                  compile: bool):
    """Notebook 03's step (gan.pose_gan_step: D, then G, then k) at the gpu profile's width."""

    cfg = GanConfig(width=64, resolution=resolution, batch=batch)
    p = build_pose_gan(cfg, PoseNet(width=32), device)
    for m in (p.G, p.D, p.pose_net):
        speed_up(m, channels_last, compile)
    real = _image(batch, resolution, device, channels_last)
    f_id, f_pose = torch.randn(batch, 256, device=device), torch.randn(batch, 7, device=device) * 0.3
    z = torch.randn(batch, cfg.z_dim, device=device)
    autocast, scaler = _amp(device, amp)
    p.G.train()
    p.D.train()
    return (lambda: pose_gan_step(p, cfg, real, f_id, f_pose, z, autocast, scaler)), batch


def _faceidgan_step(resolution: int, batch: int, device: torch.device, channels_last: bool, amp: bool,
                    compile: bool, people: int = 5000):
    """FaceID-GAN's full step (D, then the 2N-class C, then G, then k) at the gpu profile's widths."""

    cfg = FaceIdGanConfig(classifier="2n", width=64, resolution=resolution, batch=batch)
    identity_net, pose_net = IdentityNet(num_classes=people, width=32), PoseNet(width=32)
    p = build_players(cfg, identity_net, pose_net, people, device)
    for m in (p.G, p.D, p.C, p.pose_net):  # as train_faceid_gan prepares them
        speed_up(m, channels_last, compile)
    sources, real = _image(batch, resolution, device, channels_last), _image(batch, resolution, device, channels_last)
    labels = torch.randint(0, people, (batch,), device=device)
    f_pose, z = torch.randn(batch, 7, device=device) * 0.3, torch.randn(batch, cfg.z_dim, device=device)
    autocast, scaler = _amp(device, amp)
    p.G.train()
    p.D.train()

    def step():
        faceid_gan_step(p, sources, real, labels, f_pose, z, 0.5, autocast, scaler)

    return step, batch


_BUILDERS: dict[str, Callable] = {"identity": _identity_step, "pose": _pose_step, "autoencoder": _autoencoder_step,
                                  "posegan": _posegan_step, "faceidgan": _faceidgan_step}


def bench_train(game: str, resolution: int = 64, batch: int = 64, device: str = "cpu", steps: int = 10,
                warmup: int = 3, compile: bool = False) -> list[dict]:
    """Images per second of one training step of `game`, fp32 eager vs optimised."""
    if game not in _BUILDERS:
        raise ValueError(f"bench train: unknown game {game!r}; choose from {', '.join(GAMES)}")
    device = torch.device(device)
    cuda = device.type == "cuda"
    settings = [("fp32 eager", False, False, False)]
    # the loops' own choice: channels_last on CUDA, never on the CPU (loop.ONEDNN_NHWC_BUG)
    channels_last = use_channels_last(device, None)
    parts = (["channels_last"] if channels_last else []) + (["autocast"] if cuda else []) + \
        (["compile"] if compile else [])
    if parts:
        settings.append((f"optimised ({' + '.join(parts)})", channels_last, cuda, compile))
    results = []
    for name, channels_last, amp, use_compile in settings:
        torch.manual_seed(0)
        step, images_per_step = _BUILDERS[game](resolution, batch, device, channels_last, amp, use_compile)
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(warmup):
            step()
        if cuda:
            torch.cuda.synchronize(device)
        began = time.perf_counter()
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - began
        results.append({"game": game, "setting": name, "img_per_s": steps * images_per_step / seconds,
                        "peak_gpu_mib": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
                        "resolution": resolution, "batch": batch, "device": str(device)})
        del step
    return results


def bench_render(resolution: int = 64, batch: int = 256, repeats: int = 4, device: str = "cpu") -> dict:
    """SynthFaces images rendered per second: `repeats` batches of `batch` people after one warm-up batch."""
    n = batch * repeats
    ids = S.sample_identities(0, np.arange(n) % 1000)
    nu = S.sample_nuisance(0, np.arange(n) % 1000, np.arange(n))
    S.render(ids[:batch], nu[:batch], resolution, device=device)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    for k in range(repeats):
        sl = slice(k * batch, (k + 1) * batch)
        S.render(ids[sl], nu[sl], resolution, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    return {"img_per_s": n / seconds, "resolution": resolution, "batch": batch, "device": device,
            "threads": torch.get_num_threads()}


def flops_per_image(game: str, resolution: int = 64, batch: int = 16) -> float:
    """Floating-point operations of one training step per image (forward and backward, counted by
    torch.utils.flop_counter on CPU): with a GPU's peak rate, an upper bound on its img/s."""
    step, images = _BUILDERS[game](resolution, batch, torch.device("cpu"), False, False, False)
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops() / images


FACEIDGAN_PHASES = ("f_id + G forward", "D update", "C update", "G update (through D, C, P)")


def faceidgan_breakdown(resolution: int = 64, batch: int = 64, device: str = "cpu", steps: int = 5,
                        warmup: int = 2, channels_last: bool = False) -> dict[str, float]:
    """Where FaceID-GAN's step spends its time: each phase's share (torch.profiler over `steps`
    steps of the named ranges in faceid_gan_step; device time on CUDA, CPU time otherwise)."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    step, _ = _faceidgan_step(resolution, batch, device, channels_last, cuda, False)
    for _ in range(warmup):
        step()
    activities = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize(device)
    totals = {e.key: (e.device_time_total if cuda else e.cpu_time_total) for e in prof.key_averages()
              if e.key in FACEIDGAN_PHASES}
    whole = sum(totals.values()) or 1.0
    return {name: totals.get(name, 0.0) / whole for name in FACEIDGAN_PHASES}


def format_result(r: dict) -> str:
    mem = f", peak GPU memory {r['peak_gpu_mib']:.0f} MiB" if r["peak_gpu_mib"] is not None else ""
    return (f"{r['game']} {r['setting']}: {r['img_per_s']:.1f} img/s "
            f"({r['resolution']} px, batch {r['batch']}, {r['device']}{mem})")
