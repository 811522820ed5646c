"""`faceid-lab prepare celeba|lfw|folder|video`: real faces to an aligned shard (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import real
from ..errors import nonnegative_float, positive_int
from .common import progress_printer

KINDS = {"celeba": "CelebA: img_celeba/ (wild) or img_align_celeba/ + identity_CelebA.txt",
         "lfw": "LFW: a <Person_Name>/<image>.jpg tree (or torchvision / scikit-learn's)",
         "folder": "one sub-folder per person, any image files",
         "video": "frames of one video per person with ffmpeg (two videos: the A/B pair)"}


def prepare(a: argparse.Namespace) -> int:
    work = Path(a.out)
    if a.what == "celeba":
        sources = real.celeba_sources(a.root, a.identity_file, a.min_images_per_identity, a.max_identities)
    elif a.what == "lfw":
        sources = real.lfw_sources(a.root, a.min_images_per_identity)
    elif a.what == "folder":
        sources = real.folder_sources(a.root)
    else:
        names = a.names or real.video_names(a.videos)
        if len(names) != len(a.videos):
            raise real.DataError(f"--names gives {len(names)} names for {len(a.videos)} videos; give one per video")
        sources = real.video_sources(a.videos, names, work.parent / f"{work.name}_frames", a.every, a.max_frames)
    print(real.LICENCES[a.what])
    print(real.prepare(sources, work, a.what, {"source": a.what, "root": str(getattr(a, "root", ""))},
                       size=a.size, margin=a.margin, backend=a.backend, min_face=a.min_face, workers=a.workers,
                       progress=progress_printer()))
    return 0


def add_kind(pr, name: str, text: str) -> None:
    q = pr.add_parser(name, help=text, description=text)
    if name == "video":
        q.add_argument("videos", nargs="+", help="video files, one per person")
        q.add_argument("--names", nargs="+", help="person names (default: the file names)")
        q.add_argument("--every", type=positive_int, default=1, help="keep every k-th frame")
        q.add_argument("--max-frames", type=positive_int, default=None, help="at most this many frames per video")
    else:
        q.add_argument("--root", required=True, help="the dataset folder")
    if name in ("celeba", "lfw"):
        q.add_argument("--min-images-per-identity", type=positive_int, default=1)
    if name == "celeba":
        q.add_argument("--identity-file", default=None, help="default: ROOT/identity_CelebA.txt")
        q.add_argument("--max-identities", type=positive_int, default=None)
    q.add_argument("--out", required=True, help="shard folder (resumed if unfinished)")
    q.set_defaults(out_is_folder=True)
    q.add_argument("--size", type=positive_int, default=64, help="crop side in pixels (64 or 128)")
    q.add_argument("--margin", type=nonnegative_float, default=0.25, help="context around the face (dlib's padding)")
    q.add_argument("--min-face", type=positive_int, default=40, help="skip faces narrower than this (pixels)")
    q.add_argument("--backend", choices=["auto", "dlib", "opencv"], default="auto")
    q.add_argument("--workers", type=positive_int, default=None, help="processes (default: all cores)")
    q.set_defaults(fn=prepare)


def add(sub) -> None:
    pr = sub.add_parser("prepare", help="real faces to an aligned shard (resumable; bad files are "
                        "counted, never fatal)").add_subparsers(dest="what", required=True)
    for name, text in KINDS.items():
        add_kind(pr, name, text)
