"""The notebook's set-up: device, seeds, Colab, the banner and what this notebook will train here.

The profile's name, FACEID_LAB_HOME and its paths live in `runtime` (the bottom of the package).

    from faceid_lab import course
    env = course.setup()                      # banner + seeds; returns profile, device, home
    cfg = course.by_profile(ci=dict(steps=20), cpu=dict(steps=2000), gpu=dict(steps=20000))

Profiles: `ci` proves every cell runs (seconds), `cpu` shows the real effect on a
laptop (minutes), `gpu` is the full course. Set FACEID_LAB_PROFILE to choose;
unset means `gpu` when CUDA is available, else `cpu`.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import random
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image

from . import __version__, source
from .errors import check_device
from .runtime import PROFILES, home, in_colab, ipython_shell, profile
from .speed import notebook_line

REPO_URL = source.repository_url()  # faceid_lab/source.py names the repository and the ref
PIP_SPEC = source.pip_spec()
COLAB_DRIVE_HOME = "/content/drive/MyDrive/faceid_lab"








def by_profile(**choices: Any) -> Any:
    """Pick the value for the active profile: by_profile(ci=..., cpu=..., gpu=...)."""
    missing = [p for p in PROFILES if p not in choices]
    if missing:
        raise ValueError(f"by_profile needs a value for every profile; missing {missing}")
    return choices[profile()]


def device(prefer: str | None = None) -> torch.device:
    """cuda, then mps, then cpu (or `prefer`, or FACEID_LAB_DEVICE). Warns when the `gpu`
    profile has to run on the CPU: it will work, but slowly."""
    name = prefer or os.environ.get("FACEID_LAB_DEVICE")
    if name:
        return torch.device(check_device(name, "device" if prefer else "FACEID_LAB_DEVICE"))
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    if profile() == "gpu":
        warnings.warn("The `gpu` profile is running on the CPU: this will take hours. On Colab choose "
                      "Runtime > Change runtime type > GPU, or set FACEID_LAB_PROFILE=cpu.", stacklevel=2)
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a torch.Generator for DataLoaders."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader(worker_init_fn=seed_worker, generator=seed_everything(s)): each worker gets
    its own reproducible NumPy/random streams, derived from torch's per-worker seed."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)














def colab_setup(use_drive: bool = False) -> str:
    """On Colab: enable the custom widget manager and, only when `use_drive`, mount Google Drive
    (Colab asks for permission) and keep FACEID_LAB_HOME there, so a disconnect loses no
    checkpoints. Returns one line saying what was done ("" off Colab)."""
    if not in_colab():
        return ""
    from google.colab import output  # type: ignore[import-not-found]  # why: exists on Colab only

    output.enable_custom_widget_manager()
    if "FACEID_LAB_HOME" in os.environ:
        return f"Colab: models and data in FACEID_LAB_HOME={os.environ['FACEID_LAB_HOME']} (Drive not touched)."
    if not use_drive:
        return (f"Colab: models and data in {home()}, lost when the runtime is recycled. To keep them, set "
                "USE_DRIVE = True at the top of this cell and run it again (Colab asks to access your Drive).")
    from google.colab import drive  # type: ignore[import-not-found]  # why: exists on Colab only

    drive.mount("/content/drive")
    os.environ["FACEID_LAB_HOME"] = COLAB_DRIVE_HOME
    return f"Colab: models and data on your Google Drive, {COLAB_DRIVE_HOME} (they survive a disconnect)."


@dataclass
class Environment:
    profile: str
    device: torch.device
    home: Path
    seed: int


def banner(dev: torch.device | None = None) -> str:
    dev = dev or device()
    gpu = f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""
    return (f"faceid-lab {__version__} | torch {torch.__version__} | python {platform.python_version()}"
            f" | device {dev.type}{gpu} | profile {profile()} | home {home()}")


def setup(seed: int = 0, use_drive: bool = False, notebook: str | None = None) -> Environment:
    """The set-up cell of every notebook: Colab extras (Drive only if `use_drive`), seeds, the
    banner, and what `notebook` will train on this machine and for how long."""
    where = colab_setup(use_drive)
    one_image_per_picture()
    dev = device()
    print(banner(dev))
    if where:
        print(where)
    if notebook is not None:
        line = notebook_line(notebook, profile())
        if line:
            print(line)
    seed_everything(seed)  # after the speed probe, so the notebook's random stream is the seed's alone
    return Environment(profile=profile(), device=dev, home=home(), seed=seed)


def trained_on(history: dict) -> str:
    """Where a checkpoint's training seconds were spent ("cpu (2 cores)", a GPU's name), as its
    history recorded it: a model trained elsewhere (an instructor's kit) is not this machine."""
    return history.get("device") or "a device its checkpoint did not record"





def one_image_per_picture() -> None:
    """IPython stores a PIL image as a PNG and again as a JPEG; the PNG alone is enough (it is
    lossless, and the committed notebooks lose a copy of every picture)."""
    shell = ipython_shell()
    if shell is not None:
        shell.display_formatter.formatters["image/jpeg"].for_type(Image.Image, lambda _image: None)


def environment_report() -> dict[str, str]:
    """What notebook 00 checks: package versions, device, a writable home, ffmpeg."""

    report: dict[str, str] = {}
    for name in ("torch", "torchvision", "numpy", "pillow", "plotly", "ipywidgets", "umap-learn",
                 "scikit-learn", "opencv-python-headless", "imageio-ffmpeg"):
        try:
            report[name] = md.version(name)
        except md.PackageNotFoundError:
            report[name] = "MISSING: pip install -e . (or rerun the set-up cell)"
    dev = device()
    report["device"] = dev.type + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")
    report["profile"] = profile()
    try:
        with tempfile.NamedTemporaryFile(dir=home()):
            report["home"] = f"{home()} (writable)"
    except OSError as e:
        report["home"] = f"{home()} NOT WRITABLE ({e}): set FACEID_LAB_HOME to a folder you can write"
    try:
        report["ffmpeg"] = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001
        report["ffmpeg"] = shutil.which("ffmpeg") or "MISSING: pip install imageio-ffmpeg"
    return report
