"""The one input-validation layer: every bad input becomes one `faceid-lab:` line that names the
file or argument and the fix.

The CLI's argument types (`positive_int`, `nonnegative_float`), the training configs'
`__post_init__` checks (`require`), the device and output-path checks and the mapping of OS
errors (`explain_os_error`) all live here, so a notebook's config cell and a command line get
the same answer for the same mistake. `FaceidLabError` is the base of every error the package
raises for a learner to read; the CLI prints it as one line and exits 2.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import tempfile
from pathlib import Path

import torch


class FaceidLabError(RuntimeError):
    """An input problem; the message names the file or argument and what to do."""


class ConfigError(FaceidLabError, ValueError):
    """A bad setting: a config field, an environment variable, a device, an output path."""


# --- argument types (argparse turns ArgumentTypeError into "argument --x: <message>") ---------

def _number_type(convert, ok, rule: str, hint: str = ""):
    """An argparse type: `convert` the text, then require `ok(value)`, else say the `rule`."""
    noun = "whole number" if convert is int else "number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {noun}, {rule}, not {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text}{hint}")
        return value

    parse.__name__ = f"{noun} ({rule})"
    return parse


# counts (steps, batch, frames, ...): leaving one out means the profile's budget, 0 means nothing
positive_int = _number_type(int, lambda v: v >= 1, "at least 1", " (leave it out to use the profile's budget)")
nonnegative_int = _number_type(int, lambda v: v >= 0, "0 or more")
positive_float = _number_type(float, lambda v: 0 < v < float("inf"), "a positive number")
nonnegative_float = _number_type(float, lambda v: 0 <= v < float("inf"), "0 or more")  # nan fails both


# --- configs ---------------------------------------------------------------------------------

def require(owner: str, **checks: tuple[object, bool, str]) -> None:
    """Config checks: require("AutoencoderConfig", steps=(cfg.steps, cfg.steps >= 0, "0 or more"), ...)
    raises ConfigError naming the first field whose condition is False."""
    for name, (value, ok, rule) in checks.items():
        if not ok:
            raise ConfigError(f"{owner}.{name} must be {rule}, not {value!r}")


def check_training_config(cfg) -> None:
    """What every training config shares: steps >= 0 (0: the untrained start), batch >= 1, a
    positive width and learning rate. Called by each config's __post_init__."""
    owner = type(cfg).__name__
    checks = {"steps": (cfg.steps, isinstance(cfg.steps, int) and cfg.steps >= 0, "a whole number, 0 or more"),
              "batch": (cfg.batch, isinstance(cfg.batch, int) and cfg.batch >= 1, "a whole number, at least 1"),
              "lr": (cfg.lr, isinstance(cfg.lr, (int, float)) and cfg.lr > 0, "a positive number"),
              "width": (cfg.width, isinstance(cfg.width, (int, float)) and cfg.width > 0, "a positive number")}
    require(owner, **checks)


# --- devices and output paths ----------------------------------------------------------------

def check_device(name: str, source: str = "--device") -> str:
    """`name` if torch can place tensors there, else ConfigError (naming `source`, the flag or
    variable it came from) with what is available."""
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"{source} {name!r} is not a device: use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{source} {name}: no CUDA GPU is visible to this torch ({torch.__version__}); "
                              f"use {source} cpu, or install a CUDA build of torch on a machine with a GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"{source} {name}: this machine has {torch.cuda.device_count()} GPU(s), numbered "
                              f"from 0; use {source} cuda:0")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise ConfigError(f"{source} {name}: Apple's MPS is not available here; use {source} cpu")
    elif dev.type != "cpu":
        raise ConfigError(f"{source} {name}: faceid-lab runs on cpu, cuda or mps, not {dev.type}")
    return name


def check_output(path: str | Path, flag: str, folder: bool) -> Path:
    """An output we can write: `folder` (a shard, a run folder) or a file (a checkpoint, a PNG).
    Creates missing parent folders and tries a real write, because permission bits say nothing
    for root and nothing about a read-only file system."""
    path = Path(path).expanduser()
    if folder and path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file, but a folder is written there: give a folder path")
    if not folder and path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder: give the path of a file to write, inside it or elsewhere")
    where = path if folder else path.parent
    existing = next(p for p in (where, *where.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{flag} {path}: {existing} is a file, so nothing can be created below it; "
                          "choose another path")
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as e:
        raise ConfigError(f"{flag} {path}: cannot write in {where} ({e.strerror}); choose a folder you can "
                          "write, e.g. under your home or FACEID_LAB_HOME") from None
    return path


def explain_os_error(e: OSError, doing: str = "") -> str:
    """One line for an OS error: what failed, on which file, and the fix."""
    name = e.filename or ""
    what = f"{doing} {name}".strip() or "a file operation"
    if e.errno == errno.ENOSPC:
        folder = Path(name).parent if name else Path.cwd()
        try:
            free = f"{shutil.disk_usage(next(p for p in (folder, *folder.parents) if p.exists())).free / 2**20:.0f} MB"
        except OSError:
            free = "little"
        return (f"{what}: no space left on the device ({free} free): free disk space or set FACEID_LAB_HOME "
                "(or --out) to a bigger disk, then run the same command again; it resumes")
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{what}: not allowed to write there ({e.strerror}); choose a folder you can write"
    if e.errno == errno.EISDIR:
        return f"{what}: is a folder where a file was expected; give a file path"
    if e.errno == errno.ENOTDIR:
        return f"{what}: part of the path is a file, not a folder; choose another path"
    if e.errno == errno.ENOENT:
        return f"{what}: no such file or folder; check the path"
    return f"{what}: {e.strerror or e}"


def is_disk_full(e: BaseException) -> bool:
    """ENOSPC, or torch's zip writer's way of saying it ("unexpected pos" / "file write failed")."""
    if isinstance(e, OSError):
        return e.errno == errno.ENOSPC
    text = str(e)
    return isinstance(e, RuntimeError) and ("unexpected pos" in text or "file write failed" in text)


def pid_alive(pid: int) -> bool:
    if pid <= 0:  # os.kill(0 or -1, 0) asks about a whole process group: never a holder
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
