"""Train-or-load with resume: the one checkpoint helper every training loop uses.

    ckpt = TrainCheckpoint(path, kind="classifier", config=cfg,
                           modules={"net": net}, optimizers={"opt": opt}, scaler=scaler)
    step = ckpt.resume()                 # 0, or where an unfinished run stopped, or total if done
    for step in range(step, total):
        ...one explicit training step...
        ckpt.step_done(step + 1)         # saves when `save_every_s` has passed
    ckpt.finish(total, metrics={...})    # a finished checkpoint is simply loaded next time

Writes are atomic (temporary file, fsync, rename), so a crash or a killed kernel
leaves the last good checkpoint, never half of one: at most `save_every_s` of
work is lost. Resume restores modules, optimizers, the AMP scaler and the RNG
streams (Python, NumPy, torch CPU and CUDA), so a resumed run ends with the same
numbers as an uninterrupted one. Loading uses `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
import signal
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import FaceidLabError, explain_os_error, is_disk_full, pid_alive

FORMAT = "faceid-lab-checkpoint"
VERSION = 1


class CheckpointError(FaceidLabError):
    """A checkpoint that cannot be used here; the message names the file and the fix."""


def config_fingerprint(config: dict) -> str:
    """A short hash of a JSON-able config: a checkpoint only resumes under the same one."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_fields(cfg: Any, before: dict) -> dict:
    """A config dataclass as checkpoints record (and name) it: asdict(cfg) without each field of `before`
    that holds the value every checkpoint trained before the field existed had, so those keep their names."""
    return {k: v for k, v in asdict(cfg).items() if not (k in before and v == before[k])}


def rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "gauss": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(x):
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of saves whose process is gone (killed mid-save, or a failed save)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-len(".tmp")]
        if not pid.isdigit() or not pid_alive(int(pid)) or int(pid) == os.getpid():
            tmp.unlink(missing_ok=True)


def atomic_save(obj: Any, path: str | Path) -> None:
    """torch.save to a temporary file in the same folder, fsync, then rename over `path`.
    A failed save (disk full, a read-only folder) leaves the last good file and no temporary
    file, and raises CheckpointError with the fix."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path)
    except OSError as e:
        raise CheckpointError(explain_os_error(e, "saving the checkpoint")) from None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:
        tmp.unlink(missing_ok=True)
        if is_disk_full(e):
            e = OSError(28, "No space left on device", str(path))
        elif not isinstance(e, OSError):
            raise
        raise CheckpointError(explain_os_error(e, "saving the checkpoint") +
                              (" (the last good checkpoint is kept)" if path.exists() else "")) from None


# what torch's weights-only unpickler says when a file asks it to build a Python object
_FORBIDDEN = re.compile(r"Unsupported global: GLOBAL ([\w.]+)|Trying to (?:load|call) unsupported \w+ ([\w.]+)")


def safe_load(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """torch.load(weights_only=True) with one-line answers: a missing, truncated or corrupt file,
    or one holding Python objects that are not weights (refused; never loaded unsafely)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint. Train it first (see the notebook's "
                              "train-or-load cell), or check FACEID_LAB_HOME and the file name")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file: give the path of a .pt file")
    corrupt = f"{path} is not a readable checkpoint: it is truncated or corrupt ({{}}); delete it to train again, " \
              "or restore a good copy"
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = _FORBIDDEN.search(str(e))
        if found:
            what = next(g for g in found.groups() if g)
            raise CheckpointError(
                f"{path} is not a readable checkpoint: it holds Python objects that are not weights ({what}), so "
                "faceid-lab refused it (it loads only tensors and plain values). It was not written by faceid-lab "
                "or was altered: delete it and train again, or restore a copy you trust") from None
        raise CheckpointError(corrupt.format(f"UnpicklingError: {_unpickling_reason(e)}")) from None
    except OSError as e:
        raise CheckpointError(explain_os_error(e, "reading the checkpoint")) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, AttributeError, TypeError) as e:
        raise CheckpointError(corrupt.format(f"{type(e).__name__}: {_first_line(e)}")) from None


def _unpickling_reason(e: BaseException) -> str:
    """The unpickler's own reason, without torch's advice to load the file unsafely."""
    text = str(e)
    found = re.search(r"WeightsUnpickler error: ([^\n]+)", text)
    return (found.group(1) if found else _first_line(e)).split(". ")[0].rstrip(".")[:160]


def _first_line(e: BaseException) -> str:
    """The first sentence of an error's text (torch's go on with advice that does not apply)."""
    line = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return line.split(". ")[0].rstrip(".")[:160]


def load_state(module: torch.nn.Module, state: Any, path: str | Path, name: str) -> None:
    """module.load_state_dict(state) with a one-line answer when the weights do not fit."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: '{name}' holds no weights (found {type(state).__name__}); delete the file "
                              "to train again")
    try:
        _unwrap(module).load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as e:
        keys = set(_unwrap(module).state_dict())
        missing, unexpected = sorted(keys - set(state)), sorted(set(state) - keys)
        detail = "; ".join(x for x in (f"missing {', '.join(missing[:3])}" if missing else "",
                                       f"unexpected {', '.join(unexpected[:3])}" if unexpected else "") if x)
        raise CheckpointError(f"{path}: the '{name}' weights do not fit this model ({detail or _first_line(e)}). "
                              "It was written by another version or altered: delete it to train again") from None


def _trace(path: Path) -> None:
    """FACEID_LAB_CHECKPOINT_LOG=FILE: append every checkpoint opened or written (dev/measure_course.py
    learns from it which trainings each notebook needs)."""
    log = os.environ.get("FACEID_LAB_CHECKPOINT_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{path.name}\n")


def load_checkpoint(path: str | Path, kind: str | None = None, config: dict | None = None,
                    map_location: str | torch.device = "cpu") -> dict:
    """Load and validate a faceid-lab checkpoint safely (weights_only=True).

    Raises CheckpointError naming the file and what to do when the file is unreadable,
    not a faceid-lab checkpoint, for another model `kind`, or trained under another config."""
    path = Path(path)
    _trace(path)
    ckpt = safe_load(path, map_location)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a faceid-lab checkpoint (no '{FORMAT}' header). "
                              "Point to a file written by faceid-lab, or delete it to train again")
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ckpt.get('version')}, this package "
                              f"reads {VERSION}: retrain, or install the faceid-lab version that wrote it")
    if kind is not None and ckpt.get("kind") != kind:
        raise CheckpointError(f"{path} holds a '{ckpt.get('kind')}' model, not a '{kind}' model. Use "
                              f"another file name for this model, or delete {path.name} to train again")
    if config is not None and ckpt.get("fingerprint") != config_fingerprint(config):
        raise CheckpointError(
            f"{path} was trained with another config ({ckpt.get('config')}), not {config}. Delete it "
            "to train again with this config, or use a separate path per config")
    return ckpt


class TrainCheckpoint:
    """Checkpoint and resume for one explicit training loop (see the module docstring)."""

    def __init__(self, path: str | Path, kind: str, config: dict, modules: dict[str, torch.nn.Module],
                 optimizers: dict[str, torch.optim.Optimizer] | None = None, scaler: Any = None,
                 save_every_s: float = 120.0, save_every_steps: int | None = None, is_writer: bool = True):
        self.path, self.kind, self.config = Path(path), kind, config
        self.modules, self.optimizers, self.scaler = modules, optimizers or {}, scaler
        self.save_every_s, self.save_every_steps = save_every_s, save_every_steps
        self.is_writer = is_writer  # in multi-process training only rank 0 writes
        self.finished, self.metrics, self.extra = False, {}, {}
        self._last_save = time.monotonic()
        self._kill_at = _kill_step(kind)  # crash drill

    def resume(self) -> int:
        """Load the checkpoint if there is one; return the step to continue from."""
        if not self.path.exists():
            return 0
        ckpt = load_checkpoint(self.path, self.kind, self.config)
        stored = ckpt.get("modules") if isinstance(ckpt.get("modules"), dict) else {}
        for name, module in self.modules.items():
            load_state(module, stored.get(name), self.path, name)
        if not ckpt.get("finished"):
            try:
                for name, opt in self.optimizers.items():
                    opt.load_state_dict(ckpt["optimizers"][name])
                if self.scaler is not None and ckpt.get("scaler"):
                    self.scaler.load_state_dict(ckpt["scaler"])
                set_rng_state(ckpt["rng"])
            except (KeyError, ValueError, TypeError, RuntimeError) as e:
                raise CheckpointError(f"{self.path}: its optimiser or random state does not fit this run "
                                      f"({type(e).__name__}: {_first_line(e)}); delete it to train again") from None
        self.finished, self.metrics = ckpt["finished"], ckpt.get("metrics", {})
        self.extra = ckpt.get("extra", {})
        self._last_save = time.monotonic()
        return ckpt["step"]

    def step_done(self, step: int, extra: dict | Callable[[], dict] | None = None) -> bool:
        """Call after each step with the number of steps done; saves when an interval is due.
        `extra` (tensors, numbers, strings; or a function that returns them, called only when a
        save is due) is saved too, e.g. loss curves. Returns True if saved."""
        due = (time.monotonic() - self._last_save >= self.save_every_s
               or (self.save_every_steps is not None and step % self.save_every_steps == 0))
        if due:
            self.save(step, extra=extra() if callable(extra) else extra)
        if self._kill_at and step == self._kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # FACEID_LAB_KILL_AT_STEP: the crash test's drill
        return due

    def save(self, step: int, finished: bool = False, metrics: dict | None = None, extra: dict | None = None) -> None:
        if extra is not None:
            self.extra = extra
        if not self.is_writer:
            return
        _trace(self.path)
        atomic_save({
            "format": FORMAT, "version": VERSION, "kind": self.kind, "config": self.config,
            "fingerprint": config_fingerprint(self.config), "step": step, "finished": finished,
            "modules": {k: _unwrap(m).state_dict() for k, m in self.modules.items()},
            "optimizers": {} if finished else {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": self.scaler.state_dict() if (self.scaler is not None and not finished) else None,
            "rng": rng_state(), "metrics": metrics or self.metrics, "extra": self.extra,
            "saved_at": time.time(),
        }, self.path)
        self._last_save = time.monotonic()

    def finish(self, step: int, metrics: dict | None = None, extra: dict | None = None) -> None:
        """Mark the run finished: the next resume() loads the weights and trains no more."""
        self.finished = True
        self.metrics = metrics or self.metrics
        self.save(step, finished=True, metrics=self.metrics, extra=extra)


def _kill_step(kind: str) -> int:
    """FACEID_LAB_KILL_AT_STEP=N (any loop) or KIND:N (only the loop of that checkpoint kind)."""
    text = os.environ.get("FACEID_LAB_KILL_AT_STEP", "").strip()
    if ":" in text:
        which, _, text = text.rpartition(":")
        if which != kind:
            return 0
    return int(text) if text.isdigit() else 0


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel or torch.compile wrappers."""
    module = getattr(module, "module", module)
    return getattr(module, "_orig_mod", module)


def checkpoint_finished(path: str | Path) -> bool:
    """True if `path` holds a finished faceid-lab checkpoint (train-or-load: then only load).
    A corrupt or foreign file raises CheckpointError with its message."""
    return Path(path).exists() and bool(load_checkpoint(path).get("finished"))
