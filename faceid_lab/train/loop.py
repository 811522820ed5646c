"""What every training loop shares, so each loop shows only its own step.

The AMP context (`amp_context`), the optimiser update (`update`), the checkpoint set-up
(`resume_run`), the speed switches (`speed_up`, `to_memory_format`, `resident`), and `TrainLog`'s bookkeeping:
running means of the step's losses stay on the device (no host sync inside a step) and
are appended to `history` every `every` steps; the progress bar; the `on_log` callback
(live previews); the checkpoint's per-step save; and the wall-clock total.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..runtime import headless, ipython_shell
from .checkpoint import TrainCheckpoint
from .cores import CoreLock


def amp_context(device: torch.device):
    """(autocast context, GradScaler or None): bf16 where the GPU has it, else fp16 + scaler;
    plain float32 on CPU."""
    if device.type != "cuda" or os.environ.get("FACEID_LAB_AMP", "").lower() in ("0", "off", "false"):
        return contextlib.nullcontext(), None  # FACEID_LAB_AMP=off: float32 on a GPU too (as on a CPU)
    if torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16), None
    return torch.autocast("cuda", dtype=torch.float16), torch.amp.GradScaler("cuda")


def _say(text: str) -> None:
    """A progress line: into the notebook (stdout) in a kernel; to stderr elsewhere, where stdout
    belongs to the CLI's JSON report."""
    print(text, file=sys.stdout if ipython_shell() is not None else sys.stderr, flush=True)


class TrainLog:
    def __init__(self, history: dict, keys: tuple[str, ...], steps: int, start: int, every: int,
                 ckpt: TrainCheckpoint | None = None, desc: str = "", progress: bool = False,
                 on_log: Callable[[int, dict, nn.Module], None] | None = None,
                 device: str | torch.device = "cpu"):
        self.history, self.keys, self.steps, self.every = history, keys, steps, every
        self.ckpt, self.on_log = ckpt, on_log
        self.sums = torch.zeros(len(keys), device=device)
        self.count = 0
        window = ckpt.extra.get("log_window") if ckpt is not None else None
        if window and start % every and len(window["sums"]) == len(keys):
            # resumed mid-window: the steps before the crash still count in the next logged mean
            self.sums += window["sums"].to(device)
            self.count = int(window["count"])
        self.seconds_before = float(history.get("seconds", 0.0))  # earlier sessions of a resumed run
        here = torch.device(device)
        here = (torch.cuda.get_device_name(here) if here.type == "cuda" and torch.cuda.is_available()
                else f"{here.type} ({os.cpu_count()} cores)")
        before = history.get("device")
        # where the seconds were spent, so a notebook never prints a GPU's time as this machine's
        self.device_name = here if before in (None, here) else f"{before}, then {here}"
        self.cores = CoreLock(desc or "a training")  # taken at the first step: loading a model never waits

        self.start, self.desc, self.progress = start, desc or "training", progress
        self.bar = None
        if progress and not headless():
            self.bar = tqdm(total=steps, initial=start, desc=desc, leave=False)
        # a saved (headless) notebook keeps text, not a live bar: a line at each quarter instead
        self.quarters = progress and self.bar is None
        self.began = time.perf_counter()

    def step(self, done: int, values: torch.Tensor, model: nn.Module | None = None) -> None:
        """After step `done` (1-based) with losses `values` (len(keys),) still on the device."""
        if not self.cores.held:
            waited = self.cores.acquire(print if self.bar is None else self.bar.write)
            self.began += waited  # waiting is not training time
        self.cores.heartbeat()
        self.sums += values.detach().float()
        self.count += 1
        if done % self.every == 0 or done == self.steps:
            for key, mean in zip(self.keys, (self.sums / self.count).tolist(), strict=True):
                self.history[key].append(mean)
            self.history["step"].append(done)
            self.sums.zero_()
            self.count = 0
            if self.bar is not None:
                self.bar.set_postfix({k: f"{self.history[k][-1]:.3f}" for k in self.keys[:3]})
            if self.on_log is not None:
                self.on_log(done, self.history, model)
                model.train()
        if self.quarters and done < self.steps and done * 4 // self.steps > (done - 1) * 4 // self.steps:
            _say(f"{self.desc}: step {done} of {self.steps}{self._losses()}")
        if self.bar is not None:
            self.bar.update(1)
        if self.ckpt is not None:
            self.ckpt.step_done(done, extra=self._state)

    def _losses(self) -> str:
        logged = [(k, self.history[k][-1]) for k in self.keys[:3] if self.history.get(k)]
        return ("; " + ", ".join(f"{k} {v:.3f}" for k, v in logged)) if logged else ""

    def _summary(self, done: int, finished: bool) -> None:
        """The line that stays in a saved notebook, where a progress bar's picture would read 0%."""
        if not self.progress:
            return
        seconds = time.perf_counter() - self.began
        what = "trained" if finished else "stopped (time budget) at"
        resumed = f", resumed from step {self.start}" if self.start else ""
        again = "" if finished else "; run again to continue"
        _say(f"{self.desc}: {what} step {done} of {self.steps} in {seconds / 60:.1f} min{resumed}"
             f"{self._losses()}{again}")

    def _state(self) -> dict:
        """What a checkpoint keeps of the log: the curves, the seconds trained so far (over every
        session of a resumed run) and the open logging window, so a resumed run logs the same means."""
        self.history["seconds"] = self.seconds_before + time.perf_counter() - self.began
        self.history["device"] = self.device_name
        return {"history": self.history, "log_window": {"sums": self.sums.detach().cpu(), "count": self.count}}

    def stop(self, done: int) -> dict:
        """Stop early (a wall-clock budget) with the checkpoint saved but unfinished: calling the
        loop again continues the run."""
        if self.bar is not None:
            self.bar.close()
        self._summary(done, finished=False)
        state = self._state()
        if self.ckpt is not None:
            self.ckpt.save(done, extra=state)
        self.cores.release()
        return self.history

    def finish(self) -> dict:
        """Close the bar, add this run's seconds, mark the checkpoint finished; the history."""
        if self.bar is not None:
            self.bar.close()
        self._summary(self.steps, finished=True)
        state = self._state()
        if self.ckpt is not None:
            self.ckpt.finish(self.steps, extra=state)
        self.cores.release()
        return self.history


ONEDNN_NHWC_BUG = (
    "channels_last is off on the CPU: oneDNN's AVX2 kernel for a 1x1 stride-2 convolution's weight gradient "
    "in NHWC with fewer than 8 input channels (the identity network's shortcuts) computes wrong gradients or "
    "hangs (oneDNN issue #6035; measured here under ONEDNN_MAX_CPU_ISA=AVX2: 12% off the float64 gradient)")


def use_channels_last(device: torch.device, requested: bool | None) -> bool:
    """Whether a loop runs in channels_last: by default on CUDA (tensor cores want NHWC), never on
    the CPU (ONEDNN_NHWC_BUG: a wrong gradient on some CPUs is not worth a few percent of speed)."""
    if device.type == "cpu":
        if requested:
            warnings.warn(ONEDNN_NHWC_BUG, stacklevel=3)
        return False
    return device.type == "cuda" if requested is None else requested


def speed_up(module: nn.Module, channels_last: bool = False, compile: bool = False) -> nn.Module:
    """The one-GPU speed switches, in place (state_dict keys unchanged): channels_last memory
    (NHWC, what tensor cores and oneDNN convolutions prefer) and torch.compile of the forward."""
    if channels_last:
        module.to(memory_format=torch.channels_last)
    if compile:
        module.compile()
    return module


def to_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """An image batch (B, C, H, W) in the memory layout the models were given."""
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def resident(images: torch.Tensor, device: torch.device, fraction: float = 0.25) -> torch.Tensor:
    """Training images where the step reads them without waiting for the host: copied to the GPU
    once when they take under `fraction` of its memory (uint8 faces are small: 5,000 people x 12
    photos at 64 px is 0.7 GB), else in pinned host memory; untouched on CPU."""
    if device.type != "cuda":
        return images
    if images.numel() * images.element_size() < fraction * torch.cuda.get_device_properties(device).total_memory:
        return images.to(device)
    return images.pin_memory()


def update(loss: torch.Tensor, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None,
           last: bool = True) -> None:
    """One optimiser step, the only one in the package: zero_grad, backward, step (loss scaled
    under fp16). A step with several players calls it once per player; the scaler moves its scale
    after the `last` of them."""
    opt.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        opt.step()
        return
    scaler.scale(loss).backward()
    scaler.step(opt)
    if last:
        scaler.update()


def resume_run(checkpoint: str | Path | None, kind: str, config: dict, modules: dict[str, nn.Module],
               optimizers: dict[str, torch.optim.Optimizer], history: dict, scaler=None,
               save_every_s: float = 120.0, save_every_steps: int | None = None
               ) -> tuple[TrainCheckpoint | None, int, dict]:
    """The checkpoint set-up every loop shares: (the checkpoint, or None without a path; the step to
    continue from; the history so far). A finished run says `ckpt.finished`: the loop returns its models."""
    if checkpoint is None:
        return None, 0, history
    ckpt = TrainCheckpoint(checkpoint, kind=kind, config=config, modules=modules, optimizers=optimizers,
                           scaler=scaler, save_every_s=save_every_s, save_every_steps=save_every_steps)
    start = ckpt.resume()
    return ckpt, start, ckpt.extra.get("history", history)
