"""Shards: face crops on disk as uint8 memmaps plus a manifest, for SynthFaces and real faces.

A shard is a folder:

    manifest.json    format, kind, count, image size, array specs, provenance, progress
    images.u8        (N, H, W, 3) uint8 RGB
    labels.i64       (N,) int64 identity label, 0 .. num_identities - 1
    <name>.<dtype>   any further per-image arrays declared in the manifest (params, landmarks, ...)

Memmaps are read lazily, so a 50,000-image shard costs no RAM until used, and
DataLoader workers share the page cache. The writer records progress in the
manifest after every block: an interrupted preparation resumes where it stopped.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FaceidLabError, explain_os_error

FORMAT = "faceid-lab-shard"
VERSION = 1
_DTYPES = {"u8": np.uint8, "i64": np.int64, "f32": np.float32, "bool": np.bool_}


class ShardError(FaceidLabError):
    """A shard is missing, unfinished, or not a faceid-lab shard."""


def _write_json_atomic(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=1))
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ShardError(explain_os_error(e, "writing the shard's manifest")) from None


def _allocate(path: Path, nbytes: int) -> None:
    """Reserve the disk space of an array file up front. A memmap over a sparse file that the
    disk cannot fill dies by SIGBUS at the first write; reserving makes a full disk an error
    here, with the path and the size, before any work is done."""
    try:
        with open(path, "ab") as f:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(f.fileno(), 0, max(nbytes, 1))
            elif f.seek(0, os.SEEK_END) < nbytes:
                f.truncate(nbytes)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            free = shutil.disk_usage(path.parent).free
            raise ShardError(f"{path.parent}: no space left on the device for this shard (it needs "
                             f"{nbytes / 2**20:.0f} MB for {path.name}, {free / 2**20:.0f} MB are free): free disk "
                             "space or give --out on a bigger disk, then run the same command again") from None
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # file systems without fallocate: sparse is all we get
            raise ShardError(explain_os_error(e, "creating the shard file")) from None


class ShardWriter:
    """Fills a shard of known capacity in order; resumes when the same spec is already on disk.

    arrays: name -> (shape per item, dtype key in {"u8", "i64", "f32", "bool"}); "images" and
    "labels" are always present. `spec` is any JSON-able description of what is being made
    (seed, identities, ...): a shard on disk with another spec is an error, not a silent mix."""

    def __init__(self, path: str | Path, capacity: int, size: int, kind: str, spec: dict,
                 arrays: dict[str, tuple[tuple[int, ...], str]] | None = None):
        self.path = Path(path)
        self.capacity, self.size, self.kind, self.spec = capacity, size, kind, spec
        self.arrays = {"images": ((size, size, 3), "u8"), "labels": ((), "i64"), **(arrays or {})}
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ShardError(explain_os_error(e, "creating the shard folder")) from None
        manifest_path = self.path / "manifest.json"
        self.done, self.extra = 0, {}
        if manifest_path.exists():
            old = json.loads(manifest_path.read_text())
            if old.get("spec") != spec or old.get("capacity") != capacity:
                raise ShardError(
                    f"{self.path} already holds a different shard (spec {old.get('spec')}); "
                    "delete that folder or choose another output path")
            self.done, self.extra = old.get("done", 0), old.get("extra", {})
        self._maps = {}
        for name, (shape, dt) in self.arrays.items():
            file = self.path / f"{name}.{dt}"
            _allocate(file, capacity * int(np.prod(shape, dtype=np.int64)) * np.dtype(_DTYPES[dt]).itemsize)
            self._maps[name] = np.memmap(file, dtype=_DTYPES[dt], mode="r+", shape=(capacity, *shape))
        self._save_manifest(complete=False)

    @property
    def complete(self) -> bool:
        return self.done >= self.capacity

    def write(self, **rows: np.ndarray) -> None:
        """Append a block of rows (every declared array, same length)."""
        n = len(rows["images"])
        if self.done + n > self.capacity:
            raise ShardError(f"{self.path}: writing {n} rows would exceed capacity {self.capacity}")
        missing = set(self.arrays) - set(rows)
        if missing:
            raise ValueError(f"ShardWriter.write: missing arrays {sorted(missing)}")
        for name, value in rows.items():
            self._maps[name][self.done:self.done + n] = value
        self.done += n
        try:
            for m in self._maps.values():
                m.flush()
        except OSError as e:
            raise ShardError(explain_os_error(e, "writing the shard")) from None
        self._save_manifest(complete=False)

    def save_progress(self) -> None:
        """Record `extra` (e.g. per-file records) without new rows."""
        self._save_manifest(complete=False)

    def finish(self, count: int | None = None, **extra: Any) -> Path:
        """Mark the shard complete (optionally with fewer rows than its capacity) and add
        provenance (`extra`, JSON-able) to the manifest."""
        if count is not None:
            self.done = count
        self.extra.update(extra)
        self._save_manifest(complete=True)
        return self.path

    def _save_manifest(self, complete: bool) -> None:
        _write_json_atomic(self.path / "manifest.json", {
            "format": FORMAT, "version": VERSION, "kind": self.kind, "spec": self.spec,
            "capacity": self.capacity, "done": self.done, "count": self.done if complete else None,
            "complete": complete, "size": self.size,
            "arrays": {k: [list(s), dt] for k, (s, dt) in self.arrays.items()},
            "extra": self.extra,
        })


class Shard:
    """Read a finished shard: `shard.images[i]` is (H, W, 3) uint8, arrays load lazily."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        manifest_path = self.path / "manifest.json"
        if not manifest_path.exists():
            raise ShardError(
                f"{self.path} is not a shard (no manifest.json). Make one with "
                "`faceid-lab synth shard ...` or `faceid-lab prepare ...`, or check the path")
        try:
            m = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise ShardError(f"{manifest_path} is corrupt ({e}); delete the folder and prepare it again") from e
        if m.get("format") != FORMAT:
            raise ShardError(f"{manifest_path} is not a faceid-lab shard manifest")
        if m.get("version") != VERSION:
            raise ShardError(f"{manifest_path} has shard version {m.get('version')}, this package "
                             f"reads version {VERSION}: prepare the shard again")
        if not m.get("complete"):
            raise ShardError(f"{self.path} is unfinished ({m.get('done')} of {m.get('capacity')} rows): "
                             "run the same preparation command again to resume it")
        self.manifest, self.count, self.size, self.kind = m, m["count"], m["size"], m["kind"]
        self._cache: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.count

    @property
    def names(self) -> list[str]:
        return list(self.manifest["arrays"])

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("manifest", {}).get("arrays", {})
        if name not in arrays:
            raise AttributeError(name)
        if name not in self._cache:
            shape, dt = arrays[name]
            full = np.memmap(self.path / f"{name}.{dt}", dtype=_DTYPES[dt], mode="r",
                             shape=(self.manifest["capacity"], *shape))
            self._cache[name] = full[: self.count]
        return self._cache[name]

    @property
    def extra(self) -> dict:
        return self.manifest.get("extra", {})
