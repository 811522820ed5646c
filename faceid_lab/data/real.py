"""Real faces to shards: CelebA, LFW, a folder per person, or videos (frames via ffmpeg).

Every input file gets a record in the shard's manifest: source, sha256, identity,
status and, when skipped, the reason (unreadable, not an image, no face, face
too small, no identity label, duplicate, missing file). Nothing is dropped
silently and one bad file never stops a run. Run-level problems (a wrong path, an
empty folder, a missing identity file) stop at once with a message that names
the path and the fix. Re-running a preparation resumes where it stopped.

Real photos are opt-in: `LICENCES` says under which terms each dataset may be
used; the preparation commands print it.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .align import Aligner
from .shards import ShardWriter

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
LICENCES = {
    "celeba": "CelebA: for non-commercial research and educational purposes only; images are the copyright "
              "of their owners (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html). Do not redistribute.",
    "lfw": "LFW: collected from the web for research; the people did not consent to this use. Use for "
           "non-commercial research and education (http://vis-www.cs.umass.edu/lfw/).",
    "folder": "Your own photos: use only faces of people who agreed, and label anything you synthesise.",
    "video": "Your own videos: use only faces of people who agreed, and label anything you synthesise.",
}


class DataError(RuntimeError):
    """A run-level input problem; the message names the path and what to do."""


@dataclass
class Source:
    """One input image: where it is, whose face it is (None: no label), how to name it."""

    path: Path
    identity: str | None
    name: str


@dataclass
class PrepareReport:
    shard: Path
    aligner: str
    total: int
    aligned: int
    skipped: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    identities: int = 0

    def __str__(self) -> str:
        lines = [f"{self.shard}: aligned {self.aligned} of {self.total} images "
                 f"({100 * self.aligned / max(self.total, 1):.1f}%), {self.identities} identities, "
                 f"{self.seconds:.1f} s", f"aligner: {self.aligner}"]
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{n} {reason}" for reason, n in self.skipped.most_common()))
        return "\n".join(lines)


def read_rgb(path: Path) -> tuple[np.ndarray, str]:
    """(H, W, 3) uint8 RGB and the file's sha256; raises ValueError(reason) for bad files."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"unreadable ({e.strerror or e})") from e
    digest = hashlib.sha256(data).hexdigest()
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # decode now: a truncated JPEG fails here, not later
            rgb = np.asarray(im.convert("RGB"))
    except UnidentifiedImageError as e:
        raise ValueError("not an image (the file's content is no known image format)") from e
    except (OSError, SyntaxError) as e:
        raise ValueError(f"corrupt image ({e})") from e
    return rgb, digest


def _skip_reason_key(reason: str) -> str:
    return reason.split(" (")[0]


_WORKER_ALIGNER: Aligner | None = None


def _init_worker(kwargs: dict) -> None:
    global _WORKER_ALIGNER
    _WORKER_ALIGNER = Aligner(**kwargs)


def _process(src: Source) -> dict:
    """Read and align one source (in a worker): a record plus, if aligned, crop and points."""
    out: dict = {"record": {"file": src.name, "identity": src.identity, "status": "skipped"}}
    rec = out["record"]
    if src.identity is None:
        rec["reason"] = "no identity label"
        return out
    if not src.path.exists():
        rec["reason"] = "missing file"
        return out
    try:
        rgb, rec["sha256"] = read_rgb(src.path)
        result = _WORKER_ALIGNER.align(rgb)
        if result.crop is None:
            raise ValueError(result.reason)
    except ValueError as e:
        rec["reason"] = str(e)
        return out
    face = result.face
    points = (np.full((5, 2), np.nan) if face.points is None
              else _apply(_WORKER_ALIGNER.transform(face), face.points))
    out.update(crop=result.crop, points=points.astype(np.float32), faces_found=result.faces_found)
    return out


def prepare(sources: list[Source], out: str | Path, kind: str, spec: dict, size: int = 64,
            margin: float = 0.25, backend: str = "auto", min_face: int = 40, block: int = 32,
            workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> PrepareReport:
    """Align every source into a shard at `out` (resumable; `workers` processes, default all
    cores; results keep the input order). Returns the summary."""
    began = time.perf_counter()
    aligner_kwargs = {"size": size, "margin": margin, "min_face": min_face, "backend": backend}
    aligner = Aligner(**aligner_kwargs)
    aligner_kwargs["backend"] = aligner.backend
    identities = sorted({s.identity for s in sources if s.identity is not None})
    label_of = {name: k for k, name in enumerate(identities)}
    spec = {**spec, "size": size, "margin": margin, "backend": aligner.backend, "min_face": min_face,
            "files": len(sources)}
    writer = ShardWriter(out, max(1, len(sources)), size, kind, spec,
                         {"points": ((5, 2), "f32"), "faces_found": ((), "i64")})
    records: list[dict] = writer.extra.get("records", [])
    seen_hashes = {r["sha256"]: r["file"] for r in records if r.get("sha256") and r["status"] == "ok"}
    rows: dict[str, list] = {"images": [], "labels": [], "points": [], "faces_found": []}

    def flush():
        writer.extra["records"] = records
        if rows["images"]:
            writer.write(**{k: np.asarray(v) for k, v in rows.items()})
        else:
            writer.save_progress()
        for v in rows.values():
            v.clear()

    todo = sources[len(records):]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(todo) > 4 * block:
        # fork where the platform has it: no `if __name__ == "__main__"` needed in scripts and
        # notebooks, and the workers never touch torch
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = multiprocessing.get_context(method).Pool(workers, _init_worker, (aligner_kwargs,))
        results = pool.imap(_process, todo, chunksize=4)
    else:
        pool = None
        _init_worker(aligner_kwargs)
        results = map(_process, todo)
    try:
        for done in results:
            record = done["record"]
            digest = record.get("sha256")
            if "crop" in done and digest in seen_hashes:
                record["reason"] = f"duplicate (same bytes as {seen_hashes[digest]})"
            elif "crop" in done:
                seen_hashes[digest] = record["file"]
                record.update(status="ok", row=writer.done + len(rows["images"]), faces_found=done["faces_found"])
                rows["images"].append(done["crop"])
                rows["labels"].append(label_of[record["identity"]])
                rows["points"].append(done["points"])
                rows["faces_found"].append(done["faces_found"])
            records.append(record)
            if len(records) % block == 0:
                flush()
                if progress:
                    progress(len(records), len(sources))
    finally:
        if pool is not None:
            pool.terminate()
    flush()
    skipped = Counter(_skip_reason_key(r["reason"]) for r in records if r["status"] != "ok")
    seconds = writer.extra.get("seconds", 0.0) + time.perf_counter() - began
    used = sorted({r["identity"] for r in records if r["status"] == "ok"})
    writer.finish(count=writer.done, records=records, identities=identities, aligner=aligner.name,
                  licence=LICENCES.get(kind, ""), seconds=round(seconds, 2), skipped=dict(skipped),
                  num_identities=len(identities))
    return PrepareReport(Path(out), aligner.name, len(sources), writer.done, skipped, seconds, len(used))


def _apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ m[:, :2].T + m[:, 2]


# ----------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------

def _existing_dir(path: str | Path, what: str, fix: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist: {what} was expected there. {fix}")
    if not path.is_dir():
        raise DataError(f"{path} is a file, not a folder: {what} was expected. {fix}")
    return path


def celeba_sources(root: str | Path, identity_file: str | Path | None = None,
                   min_images_per_identity: int = 1, max_identities: int | None = None) -> list[Source]:
    """CelebA's `img_celeba/` (in the wild) or `img_align_celeba/` with `identity_CelebA.txt`
    (`<file> <identity>` per line). Identities with fewer listed images are left out."""
    root = _existing_dir(root, "the CelebA folder", "Pass --root to the folder that holds img_celeba/ "
                        "or img_align_celeba/ and identity_CelebA.txt")
    images = next((root / d for d in ("img_celeba", "img_align_celeba") if (root / d).is_dir()), None)
    if images is None:
        raise DataError(f"{root} holds neither img_celeba/ nor img_align_celeba/. Unpack CelebA's "
                        "img_celeba.7z or img_align_celeba.zip there (see `faceid-lab prepare celeba --help`)")
    ident = Path(identity_file) if identity_file else root / "identity_CelebA.txt"
    if not ident.exists():
        for candidate in (root / "Anno" / "identity_CelebA.txt", root / "identity_CelebA.txt"):
            if candidate.exists():
                ident = candidate
                break
        else:
            raise DataError(f"{ident} not found: CelebA's identity labels (Anno/identity_CelebA.txt on the "
                            f"CelebA download page) must be in {root}, or pass --identity-file")
    labels: dict[str, str] = {}
    for n, line in enumerate(ident.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            if n <= 2 and line.strip():  # a count or a header line
                continue
            if line.strip():
                raise DataError(f"{ident} line {n} is not '<file> <identity>': {line[:80]!r}")
            continue
        labels[parts[0]] = parts[1]
    counts = Counter(labels.values())
    keep = sorted((i for i, c in counts.items() if c >= min_images_per_identity), key=int)
    if max_identities is not None:
        keep = keep[:max_identities]
    keep_set = set(keep)
    on_disk = {p.name for p in images.iterdir() if p.is_file()}
    names = sorted(n for n in labels if labels[n] in keep_set)
    sources = [Source(images / n, labels[n], f"{images.name}/{n}") for n in names]
    unlabeled = sorted(on_disk - set(labels))
    sources += [Source(images / n, None, f"{images.name}/{n}") for n in unlabeled]
    if not sources:
        raise DataError(f"{images}: no image is listed in {ident.name} with at least "
                        f"{min_images_per_identity} images per identity; lower --min-images-per-identity")
    return sources


def folder_sources(root: str | Path) -> list[Source]:
    """One sub-folder per person, any image files inside (sub-folder name = identity)."""
    root = _existing_dir(root, "a folder with one sub-folder per person",
                         "Create root/<person>/<photos> or pass the right --root")
    people = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    sources = []
    for person in people:
        for f in sorted(person.iterdir()):
            if f.is_file() and (f.suffix.lower() in IMAGE_SUFFIXES):
                sources.append(Source(f, person.name, f"{person.name}/{f.name}"))
    if not sources:
        raise DataError(f"{root} holds no images: expected one sub-folder per person with .jpg/.png "
                        f"files inside ({len(people)} sub-folders found)")
    return sources


def lfw_sources(root: str | Path, min_images_per_identity: int = 1) -> list[Source]:
    """An LFW tree (lfw/<Person_Name>/<Person_Name>_0001.jpg), also inside torchvision's
    LFWPeople root (lfw-py/lfw_funneled/...) or scikit-learn's data home (lfw_home/...)."""
    root = _existing_dir(root, "an LFW folder", "Pass --root to the unpacked LFW tree")
    candidates = [root] + [root / p for p in ("lfw", "lfw_funneled", "lfw-deepfunneled", "lfw-py/lfw",
                                              "lfw-py/lfw_funneled", "lfw-py/lfw-deepfunneled",
                                              "lfw_home/lfw_funneled", "lfw_home/lfw")]
    tree = next((c for c in candidates if c.is_dir() and any(
        d.is_dir() and any(d.glob("*.jpg")) for d in list(c.iterdir())[:50])), None)
    if tree is None:
        raise DataError(f"{root} holds no LFW tree (<Person_Name>/<Person_Name>_0001.jpg); unpack lfw.tgz "
                        "or lfw-funneled.tgz there")
    sources = folder_sources(tree)
    counts = Counter(s.identity for s in sources)
    return [s for s in sources if counts[s.identity] >= min_images_per_identity]


def extract_frames(video: str | Path, out_dir: str | Path, every: int = 1, max_frames: int | None = None,
                   ffmpeg: str | None = None) -> list[Path]:
    """Frames of a video as PNG files with ffmpeg (imageio-ffmpeg's binary): every k-th frame,
    at most `max_frames`. Reuses frames extracted by an earlier, finished run."""
    video = Path(video)
    if not video.is_file():
        raise DataError(f"{video} does not exist or is not a file: pass the path of an mp4 (or any video "
                        "ffmpeg reads)")
    out_dir = Path(out_dir)
    done = out_dir / ".complete"
    if done.exists():
        return sorted(out_dir.glob("frame_*.png"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("frame_*.png"):
        old.unlink()
    if ffmpeg is None:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for timing in (["-fps_mode", "vfr"], ["-vsync", "vfr"]):  # ffmpeg >= 5.1, then older ones
        cmd = [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(video),
               "-vf", f"select=not(mod(n\\,{every}))", *timing]
        if max_frames:
            cmd += ["-frames:v", str(max_frames)]
        cmd.append(str(out_dir / "frame_%06d.png"))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if "Unrecognized option" not in proc.stderr:
            break
    if proc.returncode != 0:
        raise DataError(f"ffmpeg could not read {video}: {proc.stderr.strip()[-300:]}")
    frames = sorted(out_dir.glob("frame_*.png"))
    if not frames:
        raise DataError(f"{video}: ffmpeg produced no frames (is it a video? is --every too large?)")
    done.write_text(str(len(frames)))
    return frames


def video_sources(videos: Iterable[str | Path], names: Iterable[str], work_dir: str | Path,
                  every: int = 1, max_frames: int | None = None) -> list[Source]:
    """Frames of each video, labelled with its person's name (two videos: the A/B pair)."""
    sources = []
    for video, name in zip(videos, names, strict=True):
        frames = extract_frames(video, Path(work_dir) / f"frames_{name}", every, max_frames)
        sources += [Source(f, name, f"{Path(video).name}#{f.stem}") for f in frames]
    return sources


# ----------------------------------------------------------------------------
# Downloads for Colab users (never called by tests with network access)
# ----------------------------------------------------------------------------

GDRIVE_QUOTA_HINT = (
    "Google Drive refused the download (its daily quota for CelebA is often used up). Download these by hand "
    "from the CelebA page (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, 'Google Drive' link): "
    "Img/img_align_celeba.zip and Anno/identity_CelebA.txt. Put both in {root}/celeba/, unzip the zip "
    "there, then run this again: it will find the files and not download.")


def download_celeba(root: str | Path) -> Path:
    """CelebA through torchvision (gdown from Google Drive, with torchvision's checksums).
    Returns the folder with img_align_celeba/ and identity_CelebA.txt."""
    root = Path(root)
    folder = root / "celeba"
    if (folder / "img_align_celeba").is_dir() and (folder / "identity_CelebA.txt").exists():
        return folder
    print(LICENCES["celeba"])
    try:
        from torchvision.datasets import CelebA

        CelebA(str(root), split="all", target_type="identity", download=True)
    except Exception as e:  # noqa: BLE001 - gdown's quota error has several types across versions
        text = f"{type(e).__name__}: {e}"
        if any(k in text for k in ("quota", "Too many users", "FileURLRetrievalError", "virus scan")):
            raise DataError(GDRIVE_QUOTA_HINT.format(root=root)) from e
        raise
    return folder


def download_lfw(root: str | Path) -> Path:
    """LFW (funneled) through scikit-learn, which checks the archive's sha256.
    Returns the folder holding the per-person tree."""
    root = Path(root)
    tree = root / "lfw_home" / "lfw_funneled"
    if tree.is_dir():
        return tree
    print(LICENCES["lfw"])
    from sklearn.datasets import fetch_lfw_people

    fetch_lfw_people(data_home=str(root), download_if_missing=True, funneled=True)
    return tree
