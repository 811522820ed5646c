"""Real faces to shards: CelebA, LFW, a folder per person, or videos (frames via ffmpeg).

Every input path gets a record in the shard's manifest: source, sha256, identity,
status and, when skipped, the reason (unreadable, not an image, image too large,
corrupt image, no face, face too small, no identity label, conflicting identity
labels, duplicate, missing file, dangling link, symlink loop, hidden file). Nothing
is dropped silently and one bad file never stops a run. Run-level problems (a wrong
path, an empty folder, a missing identity file, a full disk) stop at once with a
message that names the path and the fix.

Re-running a preparation resumes by content, not by position: each record keeps its
file's size and modification time, so a run whose inputs are unchanged continues
where it stopped, and a run whose inputs changed (a photo edited, added or deleted)
rebuilds the shard, reusing every face whose file is unchanged.

Real photos are opt-in: `LICENCES` says under which terms each dataset may be
used; the preparation commands print it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import multiprocessing
import os
import re
import subprocess
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import FaceidLabError
from .align import Aligner
from .shards import _DTYPES as SHARD_DTYPES
from .shards import ShardWriter

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
MAX_PIXELS = 50_000_000  # 50 megapixels: any photo; a "decompression bomb" declares far more
LICENCES = {
    "celeba": "CelebA: for non-commercial research and educational purposes only; images are the copyright "
              "of their owners (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html). Do not redistribute.",
    "lfw": "LFW: collected from the web for research; the people did not consent to this use. Use for "
           "non-commercial research and education (http://vis-www.cs.umass.edu/lfw/).",
    "folder": "Your own photos: use only faces of people who agreed, and label anything you synthesise.",
    "video": "Your own videos: use only faces of people who agreed, and label anything you synthesise.",
}


class DataError(FaceidLabError):
    """A run-level input problem; the message names the path and what to do."""


@dataclass
class Source:
    """One input image: where it is, whose face it is (None: no label), how to name it, and
    `skip`: a reason known before reading it (a file in the root folder, a dangling link, ...)."""

    path: Path
    identity: str | None
    name: str
    skip: str | None = None


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
    """(H, W, 3) uint8 RGB, upright (EXIF orientation applied), and the file's sha256; raises
    ValueError(reason) for bad files. 16-bit and float images are scaled, not clipped; an alpha
    channel is laid over white; a GIF gives its first frame."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"unreadable ({e.strerror or e})") from e
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width * height > MAX_PIXELS:  # checked before decoding a single pixel
                    raise ValueError(_too_large(f"{width}x{height} = {width * height / 1e6:.0f} megapixels"))
                im.load()  # decode now: a truncated JPEG fails here, not later
                rgb = to_rgb8(ImageOps.exif_transpose(im))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # Pillow's own check, at open
        found = re.search(r"\((\d+) pixels\)", str(e))
        declared = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too many pixels"
        raise ValueError(_too_large(declared)) from e
    except UnidentifiedImageError as e:
        raise ValueError("not an image (the file's content is no known image format)") from e
    except (OSError, SyntaxError, EOFError) as e:
        raise ValueError(f"corrupt image ({e})") from e
    return rgb, digest


def _too_large(declared: str) -> str:
    return (f"image too large (it declares {declared}; at most {MAX_PIXELS // 1_000_000} megapixels are read, "
            "so a decompression bomb never fills the memory)")


def to_rgb8(im: Image.Image) -> np.ndarray:
    """Any Pillow image as (H, W, 3) uint8 RGB, keeping the tones of 16-bit and float images."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im).astype(np.float64)
        if im.mode == "F":
            top = 1.0 if a.max(initial=0) <= 1.0 else 255.0
        else:  # 16-bit grayscale (Pillow opens it as I;16 or I): scale 0..65535, not clip at 255
            top = 65535.0 if im.mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
        gray = np.clip(np.rint(a / top * 255), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


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
    if src.skip is not None:
        rec["reason"] = src.skip
        return out
    if src.identity is None:
        rec["reason"] = "no identity label"
        return out
    if not src.path.exists():
        rec["reason"] = path_problem(src.path) or "missing file"
        return out
    try:
        rgb, rec["sha256"] = read_rgb(src.path)
        result = _WORKER_ALIGNER.align(rgb)
        if result.crop is None:
            raise ValueError(result.reason)
    except ValueError as e:
        rec["reason"] = str(e)
        return out
    except Exception as e:  # noqa: BLE001 - one bad file never stops a run: record what happened
        rec["reason"] = f"unreadable ({type(e).__name__}: {str(e)[:120]})"
        return out
    face = result.face
    points = (np.full((5, 2), np.nan) if face.points is None
              else _apply(_WORKER_ALIGNER.transform(face), face.points))
    out.update(crop=result.crop, points=points.astype(np.float32), faces_found=result.faces_found)
    return out


def stat_key(path: Path) -> list[int] | None:
    """[size in bytes, mtime in ns] of a file (after links), or None if it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def path_problem(path: Path) -> str | None:
    """Why a path is no readable file, in a learner's words (None: nothing wrong found)."""
    try:
        path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (the link leads back to itself)"
        if e.errno == errno.ENOENT:
            if path.is_symlink():
                return f"dangling link (it points to {os.readlink(path)}, which does not exist)"
            return "missing file"
        return f"unreadable ({e.strerror})"
    if path.is_dir():
        return "a folder, not a file"
    return None


def _previous_run(out: Path, spec: dict) -> tuple[list[dict], dict[str, np.ndarray]] | None:
    """Records and arrays of a shard already at `out` made with the same settings (None: none).
    Another kind of shard there is an error, not a silent mix."""
    manifest = out / "manifest.json"
    if not manifest.exists():
        return None
    try:
        old = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        raise DataError(f"{manifest} is unreadable or corrupt: delete {out} and prepare it again") from None
    settings = {k: v for k, v in old.get("spec", {}).items() if k != "files"}
    if settings != spec:
        raise DataError(f"{out} already holds a shard made with other settings ({settings}); delete that folder "
                        "or choose another --out")
    arrays = {}
    for name, (shape, dt) in old.get("arrays", {}).items():
        arrays[name] = np.memmap(out / f"{name}.{dt}", dtype=SHARD_DTYPES[dt], mode="r",
                                 shape=(old["capacity"], *shape))
    return old.get("extra", {}).get("records", []), arrays


def _same_inputs(records: list[dict], sources: list[Source], keys: list) -> bool:
    """True if the records are the start of this run over the same, unchanged files."""
    if len(records) > len(sources):
        return False
    return all(r["file"] == s.name and r.get("stat") == k for r, s, k in zip(records, sources, keys, strict=False))


def prepare(sources: list[Source], out: str | Path, kind: str, spec: dict, size: int = 64,
            margin: float = 0.25, backend: str = "auto", min_face: int = 40, block: int = 32,
            workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> PrepareReport:
    """Align every source into a shard at `out` (resumable by content; `workers` processes,
    default all cores; results keep the input order). Returns the summary."""
    began = time.perf_counter()
    out = Path(out)
    aligner_kwargs = {"size": size, "margin": margin, "min_face": min_face, "backend": backend}
    aligner = Aligner(**aligner_kwargs)
    aligner_kwargs["backend"] = aligner.backend
    identities = sorted({s.identity for s in sources if s.identity is not None and s.skip is None})
    label_of = {name: k for k, name in enumerate(identities)}
    spec = {**spec, "size": size, "margin": margin, "backend": aligner.backend, "min_face": min_face}
    keys = [stat_key(s.path) for s in sources]
    reuse: dict[str, dict] = {}  # file name -> the earlier run's result, where its file is unchanged
    previous = _previous_run(out, spec)
    if previous is not None and not _same_inputs(previous[0], sources, keys):
        old_records, old_arrays = previous
        now = {s.name: (k, s.identity, s.skip) for s, k in zip(sources, keys, strict=True)}
        for r in old_records:
            # duplicates are judged again: the photo they copied may be gone
            unchanged = r.get("stat") is not None and now.get(r["file"], (None,))[0] == r["stat"]
            if unchanged and now[r["file"]][1:] == (r["identity"], None) and \
                    not r.get("reason", "").startswith("duplicate"):
                done = {"record": {k: v for k, v in r.items() if k != "row"}}
                if r["status"] == "ok":
                    done.update(crop=np.array(old_arrays["images"][r["row"]]),
                                points=np.array(old_arrays["points"][r["row"]]),
                                faces_found=int(old_arrays["faces_found"][r["row"]]))
                reuse[r["file"]] = done
        gone = len({r["file"] for r in old_records} - set(now))
        print(f"{out}: the input files changed since the last run ({len(sources) - len(reuse)} new or changed, "
              f"{gone} gone): rebuilding the shard, reusing {len(reuse)} unchanged results")
        files = [Path(m.filename) for m in old_arrays.values()]
        del old_arrays, previous
        for f in [*files, out / "manifest.json"]:  # only the shard's own files: nothing else in the folder
            f.unlink(missing_ok=True)
    writer = ShardWriter(out, max(1, len(sources)), size, kind, {**spec, "files": len(sources)},
                         {"points": ((5, 2), "f32"), "faces_found": ((), "i64")})
    records: list[dict] = writer.extra.get("records", [])
    seconds_before = writer.extra.get("seconds", 0.0) if records else 0.0  # earlier sessions of this run
    seen_hashes = {r["sha256"]: r["file"] for r in records if r.get("sha256") and r["status"] == "ok"}
    rows: dict[str, list] = {"images": [], "labels": [], "points": [], "faces_found": []}

    def flush():
        writer.extra["records"] = records
        writer.extra["seconds"] = seconds_before + time.perf_counter() - began
        if rows["images"]:
            writer.write(**{k: np.asarray(v) for k, v in rows.items()})
        else:
            writer.save_progress()
        for v in rows.values():
            v.clear()

    todo = sources[len(records):]
    to_align = [s for s in todo if s.name not in reuse]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(to_align) > 4 * block:
        # fork where the platform has it: no `if __name__ == "__main__"` needed in scripts and
        # notebooks, and the workers never touch torch
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = multiprocessing.get_context(method).Pool(workers, _init_worker, (aligner_kwargs,))
        aligned = pool.imap(_process, to_align, chunksize=4)
    else:
        pool = None
        _init_worker(aligner_kwargs)
        aligned = map(_process, to_align)

    def in_order() -> Iterator[dict]:
        for src in todo:
            yield reuse[src.name] if src.name in reuse else next(aligned)

    try:
        for done in in_order():
            record = done["record"]
            record["stat"] = keys[len(records)]
            digest = record.get("sha256")
            if "crop" in done and digest in seen_hashes:
                record["reason"] = f"duplicate (same bytes as {seen_hashes[digest]})"
                record["status"] = "skipped"
            elif "crop" in done:
                seen_hashes[digest] = record["file"]
                record.update(status="ok", row=writer.done + len(rows["images"]), faces_found=done["faces_found"])
                record.pop("reason", None)
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
    seconds = seconds_before + time.perf_counter() - began
    used = sorted({r["identity"] for r in records if r["status"] == "ok"})
    writer.finish(count=writer.done, records=records, identities=identities, aligner=aligner.name,
                  licence=LICENCES.get(kind, ""), seconds=round(seconds, 2), skipped=dict(skipped),
                  num_identities=len(identities))
    return PrepareReport(out, aligner.name, len(sources), writer.done, skipped, seconds, len(used))


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
    line_of: dict[str, int] = {}
    conflicts: dict[str, str] = {}  # file -> why it has no single label
    for n, line in enumerate(ident.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            if n <= 2 and line.strip():  # a count or a header line
                continue
            if line.strip():
                raise DataError(f"{ident} line {n} is not '<file> <identity>': {line[:80]!r}")
            continue
        name, label = parts
        if name in labels and labels[name] != label:
            conflicts[name] = (f"conflicting identity labels ({ident.name} line {line_of[name]} says {labels[name]}, "
                               f"line {n} says {label}): correct the file")
        labels.setdefault(name, label)
        line_of.setdefault(name, n)
    for name in conflicts:
        del labels[name]
    counts = Counter(labels.values())
    keep = sorted((i for i, c in counts.items() if c >= min_images_per_identity), key=int)
    if max_identities is not None:
        keep = keep[:max_identities]
    keep_set = set(keep)
    on_disk = {p.name for p in images.iterdir() if p.is_file()}
    names = sorted(n for n in labels if labels[n] in keep_set)
    sources = [Source(images / n, labels[n], f"{images.name}/{n}") for n in names]
    sources += [Source(images / n, None, f"{images.name}/{n}", skip=why) for n, why in sorted(conflicts.items())]
    unlabeled = sorted(on_disk - set(labels) - set(conflicts))
    sources += [Source(images / n, None, f"{images.name}/{n}") for n in unlabeled]
    if not sources:
        raise DataError(f"{images}: no image is listed in {ident.name} with at least "
                        f"{min_images_per_identity} images per identity; lower --min-images-per-identity")
    return sources


def _entries(folder: Path, seen: set[Path]) -> Iterator[tuple[Path, str | None]]:
    """(path, skip reason or None) of every entry below `folder`, in sorted order: files, links
    and all. Folders (also linked ones) are entered once; a link back into a folder already
    walked is recorded as a loop, not followed."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():  # follows links
            real = entry.resolve()
            if real in seen:
                yield entry, f"symlink loop (the folder link leads back to {real.name}/)"
                continue
            seen.add(real)
            yield from _entries(entry, seen)
        elif entry.name.startswith("."):
            yield entry, "hidden file (names starting with '.' are system files, e.g. .DS_Store)"
        else:
            yield entry, path_problem(entry)


def folder_sources(root: str | Path) -> list[Source]:
    """One sub-folder per person, any image files inside, also in nested folders (the top
    sub-folder's name = identity). Every entry becomes a source, so the manifest records each:
    files in the root itself (no person), hidden files, links that lead nowhere or in a loop,
    and files that are no image all get their reason."""
    root = _existing_dir(root, "a folder with one sub-folder per person",
                         "Create root/<person>/<photos> or pass the right --root")
    seen = {root.resolve()}
    sources = []
    people = 0
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            people += 1
            seen.add(entry.resolve())
            for f, why in _entries(entry, seen):
                sources.append(Source(f, entry.name, f.relative_to(root).as_posix(), skip=why))
        else:
            why = (f"not in a person's sub-folder (move it to {root.name}/<person>/)" if not entry.name.startswith(".")
                   else "hidden file (names starting with '.' are system files, e.g. .DS_Store)")
            sources.append(Source(entry, None, entry.name, skip=path_problem(entry) or why))
    if not any(s.skip is None and s.path.suffix.lower() in IMAGE_SUFFIXES for s in sources):
        raise DataError(f"{root} holds no images: expected one sub-folder per person with .jpg/.png "
                        f"files inside ({people} sub-folders found)")
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
    counts = Counter(s.identity for s in sources if s.skip is None)
    return [s for s in sources if s.identity is None or counts[s.identity] >= min_images_per_identity]


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
    made_from = json.dumps({"video": str(video.resolve()), "stat": stat_key(video), "every": every,
                            "max_frames": max_frames})
    if done.exists() and done.read_text().partition("\n")[2] == made_from:  # the same video, the same options
        return sorted(out_dir.glob("frame_*.png"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("frame_*.png"):
        old.unlink()
    if ffmpeg is None:
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
    done.write_text(f"{len(frames)}\n{made_from}")
    return frames


def video_names(videos: Iterable[str | Path]) -> list[str]:
    """A person name per video: the file name without suffix, or folder_file where two videos
    share a file name (a/clip.mp4 and b/clip.mp4 are two people: a_clip and b_clip)."""
    videos = [Path(v) for v in videos]
    resolved = [v.expanduser().resolve() for v in videos]
    for k, v in enumerate(resolved):
        if v in resolved[:k]:
            raise DataError(f"{videos[k]} is given twice: give one video per person")
    stems = [v.stem for v in videos]
    names = [f"{v.parent.name}_{v.stem}" if stems.count(v.stem) > 1 else v.stem for v in resolved]
    if len(set(names)) < len(names):
        raise DataError(f"videos {', '.join(map(str, videos))} give the same person names {names}: pass --names, "
                        "one per video")
    return names


def video_sources(videos: Iterable[str | Path], names: Iterable[str], work_dir: str | Path,
                  every: int = 1, max_frames: int | None = None) -> list[Source]:
    """Frames of each video, labelled with its person's name (two videos: the A/B pair)."""
    videos, names = list(videos), list(names)
    if len(set(names)) < len(names):
        raise DataError(f"--names {' '.join(names)}: each video needs its own person name")
    sources = []
    for video, name in zip(videos, names, strict=True):
        frames = extract_frames(video, Path(work_dir) / f"frames_{name}", every, max_frames)
        sources += [Source(f, name, f"{name}/{Path(video).name}#{f.stem}") for f in frames]
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
        from torchvision.datasets import CelebA  # why: torchvision is 1.5 s to import; a CelebA download only

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
    from sklearn.datasets import fetch_lfw_people  # why: 1.5 s to import, for one LFW source only

    fetch_lfw_people(data_home=str(root), download_if_missing=True, funneled=True)
    return tree
