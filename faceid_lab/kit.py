"""A classroom kit: every checkpoint of a profile, trained once, loaded by a class.

    faceid-lab kit export kit_cpu/ --profile cpu      # or kit_cpu.zip
    faceid-lab kit import kit_cpu.zip                 # into FACEID_LAB_HOME/checkpoints

The kit holds the checkpoint files and `manifest.json`: for each file its sha256, size,
model kind, config and step, plus the versions that wrote them. Import checks everything
before it copies anything: a file the manifest does not list, a missing file, a changed
byte, a checkpoint that does not load safely or is not what the manifest says are named
and refused, and nothing is imported.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import tempfile
import zipfile
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import torch

from . import __version__, runtime
from .errors import FaceidLabError
from .profiles import DEEPFAKE_BUDGETS, autoencoder_config, config_key, pretraining
from .train.checkpoint import safe_load

MANIFEST = "manifest.json"
KIT_FORMAT = "faceid-lab kit 1"
_HASH_CHUNK = 1 << 20


class KitError(FaceidLabError):
    """A kit that is not ours, or not intact: the message names the file."""


@cache
def _deepfake_fingerprints(profile: str) -> dict[str, str]:
    """{config key: training} of notebook 01's checkpoints for `profile`: the pair's autoencoder and
    the pretraining it starts from (their file names name the pair and the config, not the profile)."""

    budget = DEEPFAKE_BUDGETS[profile]
    pre = pretraining(budget)
    return {config_key(autoencoder_config(budget, init=pre.key)): "autoencoder",
            config_key(pre.cfg): "autoencoder_pretrain"}


def belongs_to(name: str, profile: str) -> bool:
    """Whether checkpoint file `name` was trained in `profile` (judge_cpu.pt, faceidgan_2n_cpu_<fp>.pt,
    deepfake_<pair>_<fp of the profile's autoencoder config>.pt, deepfake_pretrain..._<fp>.pt)."""
    stem = name.removesuffix(".pt")
    if stem.startswith("deepfake_"):
        return stem.rsplit("_", 1)[-1] in _deepfake_fingerprints(profile)
    parts = stem.split("_")
    return profile in parts[1:]


def training_of(name: str, profile: str) -> str | None:
    """The training a checkpoint file of `profile` holds, by its name: judge_cpu.pt -> judge,
    faceidgan_2n_cpu_<fp>.pt -> faceidgan_2n, deepfake_<pair>_<fp>.pt -> autoencoder,
    deepfake_pretrain..._<fp>.pt -> autoencoder_pretrain; None for a file of another profile."""
    if not belongs_to(name, profile):
        return None
    stem = name.removesuffix(".pt")
    if stem.startswith("deepfake_"):
        return _deepfake_fingerprints(profile)[stem.rsplit("_", 1)[-1]]
    parts = stem.split("_")
    at = parts.index(profile, 1)
    rest = [p for p in parts[at + 1:] if not re.fullmatch(r"[0-9a-f]{10}", p)]  # drop the config fingerprint
    return "_".join(parts[:at] + rest)


def profile_checkpoints(profile: str, folder: Path | None = None) -> list[Path]:
    """The checkpoint files of `profile` in FACEID_LAB_HOME/checkpoints (finished or not)."""
    folder = folder or runtime.home() / "checkpoints"
    return sorted(p for p in folder.glob("*.pt") if belongs_to(p.name, profile))


def sha256(data: Path | bytes) -> str:
    h = hashlib.sha256()
    if isinstance(data, bytes):
        h.update(data)
    else:
        with open(data, "rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                h.update(chunk)
    return h.hexdigest()


SNAPSHOT = re.compile(r"_step\d+\.pt$")  # FaceID-GAN's G and C during training (notebook 07 reads them)
KIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*\.pt$")
OS_JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}  # what file managers add to a copied folder


def _kind_of(ckpt: object, name: str) -> dict:
    """The manifest's description of a loaded checkpoint, or KitError if it is none of ours."""
    if SNAPSHOT.search(name) and isinstance(ckpt, dict) and {"step", "G", "C"} <= set(ckpt):
        return {"kind": "snapshot", "config": None, "fingerprint": None, "step": ckpt["step"], "finished": True}
    if not isinstance(ckpt, dict) or "kind" not in ckpt:
        raise KitError(f"{name} is not a faceid-lab checkpoint (no model kind)")
    return {"kind": ckpt["kind"], "config": ckpt.get("config"), "fingerprint": ckpt.get("fingerprint"),
            "step": ckpt.get("step"), "finished": bool(ckpt.get("finished"))}


def _describe(path: Path) -> dict:
    """What the manifest says of one checkpoint (read safely: weights_only)."""
    try:
        return _kind_of(safe_load(path), path.name)
    except KitError as e:
        raise KitError(f"{path.parent / str(e)}; move it out of {path.parent} to export the rest") from None


def export_kit(target: str | Path, profile: str, folder: Path | None = None) -> dict:
    """Write the finished checkpoints of `profile` and their manifest to folder `target`, or to
    a zip file when `target` ends in .zip. Returns the manifest."""
    target = Path(target)
    paths = profile_checkpoints(profile, folder)
    entries, unfinished = [], []
    for path in paths:
        entry = {"file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size, **_describe(path)}
        (entries if entry["finished"] else unfinished).append(entry)
    if unfinished:
        names = ", ".join(e["file"] for e in unfinished)
        raise KitError(f"{names}: still training (unfinished); let the run finish, or delete the file, then export")
    if not entries:
        where = folder or runtime.home() / "checkpoints"
        raise KitError(f"{where} holds no {profile}-profile checkpoints: run the course first "
                       f"(FACEID_LAB_PROFILE={profile} make course), then export")
    manifest = {"format": KIT_FORMAT, "profile": profile,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": {"faceid-lab": __version__, "torch": torch.__version__,
                             "python": platform.python_version()},
                "files": entries}
    text = json.dumps(manifest, indent=1, default=str)
    if target.suffix == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:  # weights do not compress
            z.writestr(MANIFEST, text)
            for path in paths:
                z.write(path, path.name)
    else:
        if target.exists() and any(target.iterdir()):
            raise KitError(f"{target} is not empty: export into a new folder (a kit holds its files only)")
        target.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy2(path, target / path.name)
        (target / MANIFEST).write_text(text)
    return manifest


class _Kit:
    """A kit folder or zip, read the same way."""

    def __init__(self, source: Path):
        self.source = source
        if source.is_dir():
            self.zip = None
            self.names = sorted(p.name for p in source.iterdir() if p.is_file() and p.name not in OS_JUNK)
            others = [p.name for p in source.iterdir() if not p.is_file() and p.name != "__MACOSX"]
            if others:
                raise KitError(f"{source / others[0]}: a kit holds files only; remove it")
        elif source.is_file() and zipfile.is_zipfile(source):
            self.zip = zipfile.ZipFile(source)
            self.names = sorted(n for n in self.zip.namelist()
                                if not n.startswith("__MACOSX/") and n.rsplit("/", 1)[-1] not in OS_JUNK)
            nested = [n for n in self.names if "/" in n or "\\" in n or n.startswith(".")]
            if nested:
                raise KitError(f"{source}: {nested[0]!r} is not a plain file name; this zip was not written "
                               "by `faceid-lab kit export`")
        elif source.exists():
            raise KitError(f"{source} is neither a kit folder nor a zip file (write one with `faceid-lab kit export`)")
        else:
            raise KitError(f"{source} does not exist: give the kit's folder or .zip")

    def read(self, name: str, limit: int) -> bytes:
        try:
            return self._read(name, limit)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as e:
            raise KitError(f"{self.source}: {name} cannot be read ({type(e).__name__}: {e}); copy the kit "
                           "again") from None

    def _read(self, name: str, limit: int) -> bytes:
        if self.zip is None:
            path = self.source / name
            if path.stat().st_size > limit:
                raise KitError(f"{path}: {path.stat().st_size} bytes, more than the {limit} the manifest allows: "
                           "the file was changed; copy the kit again")
            return path.read_bytes()
        info = self.zip.getinfo(name)
        if info.file_size > limit:
            raise KitError(f"{self.source}:{name}: {info.file_size} bytes, more than the {limit} the manifest "
                           "allows: the file was changed; copy the kit again")
        return self.zip.read(name)


def read_manifest(kit: _Kit) -> dict:
    where = f"{kit.source}:{MANIFEST}" if kit.zip else kit.source / MANIFEST
    if MANIFEST not in kit.names:
        raise KitError(f"{kit.source} has no {MANIFEST}: it is not a faceid-lab kit (write one with "
                       "`faceid-lab kit export`)")
    try:
        manifest = json.loads(kit.read(MANIFEST, 16 << 20))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise KitError(f"{where} is not valid JSON ({e.msg if hasattr(e, 'msg') else e}); export the kit again") from e
    if not isinstance(manifest, dict) or manifest.get("format") != KIT_FORMAT:
        raise KitError(f"{where}: format {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
                       f"expected {KIT_FORMAT!r}: not a kit this faceid-lab can read")
    files = manifest.get("files")
    fields = {"file": str, "sha256": str, "bytes": int, "kind": str}
    if not isinstance(files, list) or not all(
            isinstance(e, dict) and all(isinstance(e.get(k), t) for k, t in fields.items()) for e in files):
        raise KitError(f"{where}: 'files' must list entries with file, sha256, bytes and kind; export the kit again")
    return manifest


def import_kit(source: str | Path, folder: Path | None = None, replace: bool = False) -> list[str]:
    """Check the kit at `source` (folder or .zip) completely, then copy its checkpoints into
    FACEID_LAB_HOME/checkpoints. Returns the names of the files written (unchanged ones skipped)."""
    kit = _Kit(Path(source))
    manifest = read_manifest(kit)
    entries = {e["file"]: e for e in manifest.get("files", [])}
    foreign = [n for n in kit.names if n != MANIFEST and n not in entries]
    if foreign:
        raise KitError(f"{kit.source}: {foreign[0]} is not in the kit's manifest (a foreign file); remove it or "
                       "export the kit again")
    checked: dict[str, bytes] = {}
    for name, entry in entries.items():
        if not KIT_NAME.match(name):
            raise KitError(f"{kit.source}: the manifest lists {name!r}, which is not a checkpoint file name")
        if name not in kit.names:
            raise KitError(f"{kit.source}: {name} is listed in the manifest but missing; copy the whole kit")
        data = kit.read(name, int(entry["bytes"]))
        if sha256(data) != entry["sha256"]:
            raise KitError(f"{kit.source}: {name} does not match its sha256 in the manifest (corrupted or "
                           "changed); copy the kit again")
        try:
            ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unpickling failure: refused, named
            raise KitError(f"{kit.source}: {name} is not a checkpoint that loads safely ({type(e).__name__}); "
                           "it was refused") from e
        try:
            found = _kind_of(ckpt, name)
        except KitError:
            found = {}
        if found.get("kind") != entry["kind"] or found.get("fingerprint") != entry.get("fingerprint"):
            raise KitError(f"{kit.source}: {name} is not the {entry['kind']} checkpoint the manifest lists; "
                           "it was refused")
        checked[name] = data
    folder = folder or runtime.home() / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    clashes = [n for n, data in checked.items() if (folder / n).exists() and sha256(folder / n) != sha256(data)]
    if clashes and not replace:
        raise KitError(f"{folder / clashes[0]} already exists with other weights (your own run?); "
                       "import with --replace to overwrite it")
    written = []
    for name, data in checked.items():
        dest = folder / name
        if dest.exists() and name not in clashes:
            continue
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".kit-tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        written.append(name)
    if manifest.get("versions", {}).get("faceid-lab") not in (None, __version__):
        print(f"faceid-lab: note: the kit was written by faceid-lab {manifest['versions']['faceid-lab']}, "
              f"this is {__version__}; checkpoints are checked by their config when loaded")
    return written

