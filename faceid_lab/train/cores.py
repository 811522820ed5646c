"""One training at a time per machine: two on the same cores each run several times slower.

Measured here: two torch processes with 2 threads each on 2 cores ran one training more
than 6x slower, so a second training waits for the first instead of starting beside it.
The lock is a small file (FACEID_LAB_TRAINING_LOCK, default in the system's temp folder)
naming the training that holds it; a holder that died, or stopped stepping for
STALE_S seconds (an interrupted notebook cell keeps its kernel alive), no longer counts.
FACEID_LAB_PARALLEL_TRAINING=1 skips the wait (you asked for the slowdown). Not on Windows
(no portable way to ask whether the holder lives): there every training starts at once.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import torch.distributed as dist

from ..errors import pid_alive

STALE_S = 120.0  # well above one step plus a checkpoint save or a preview, in every profile
HEARTBEAT_S = 10.0
POLL_S = 2.0


def lock_path() -> Path:
    default = Path(tempfile.gettempdir()) / f"faceid_lab_training_{getattr(os, 'getuid', lambda: 0)()}.lock"
    return Path(os.environ.get("FACEID_LAB_TRAINING_LOCK", default))


def _holder(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text())
        if not isinstance(info, dict):
            return None
        info["age_s"] = time.time() - path.stat().st_mtime
        return info
    except (OSError, ValueError):
        return None


def _create(path: Path, content: str) -> bool:
    """Create `path` holding `content` in one step (never seen empty): False if it exists."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".faceid_lab_lock.")
    with os.fdopen(fd, "w") as f:
        f.write(content)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def _live(info: dict | None) -> bool:
    return bool(info) and pid_alive(int(info.get("pid", -1))) and info["age_s"] < STALE_S


class CoreLock:
    """acquire() before the first step, heartbeat() on every step, release() at the end."""

    def __init__(self, what: str):
        self.what, self.held, self.beat = what, False, 0.0

    def acquire(self, say=print) -> float:
        """Wait until no other live training holds the machine; returns the seconds waited."""
        if os.environ.get("FACEID_LAB_PARALLEL_TRAINING") == "1" or os.name == "nt" or _distributed():
            return 0.0
        path, began, told = lock_path(), time.monotonic(), False
        mine = json.dumps({"pid": os.getpid(), "what": self.what, "since": time.strftime("%H:%M:%S")})
        path.parent.mkdir(parents=True, exist_ok=True)
        while not _create(path, mine):
            info = _holder(path)
            if info is not None and int(info.get("pid", -1)) == os.getpid():
                path.write_text(mine)  # this process's earlier training (an interrupted cell): take it over
                break
            if not _live(info):
                try:
                    path.unlink(missing_ok=True)  # a dead or stalled holder
                except OSError:  # not ours to remove: wait as if it were alive, then give up on it
                    if time.monotonic() - began > STALE_S:
                        break
                    time.sleep(POLL_S)
                continue
            if not told:
                say(f"faceid-lab: waiting for another training on this machine to finish ({info.get('what')}, "
                    f"pid {info.get('pid')}, since {info.get('since')}): two at once on these cores each run "
                    f"several times slower. An interrupted one stops counting after {STALE_S / 60:.0f} minutes; "
                    "FACEID_LAB_PARALLEL_TRAINING=1 starts anyway.")
                told = True
            time.sleep(POLL_S)
        self.held, self.beat = True, time.monotonic()
        return time.monotonic() - began

    def heartbeat(self) -> None:
        if self.held and time.monotonic() - self.beat > HEARTBEAT_S:
            self.beat = time.monotonic()
            try:
                os.utime(lock_path())
            except OSError:
                pass

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        info = _holder(lock_path())
        if info is not None and int(info.get("pid", -1)) == os.getpid():
            lock_path().unlink(missing_ok=True)


def _distributed() -> bool:
    """torchrun's ranks split the machine on purpose: they never wait for each other."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
