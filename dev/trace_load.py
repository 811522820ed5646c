"""Follow one profile from the notebooks' set-up to FaceID-GAN's trainer: which of the package's
modules the calls cross, how often the call chain changes module, and how many times the
config is built.

    python dev/trace_load.py [ROOT] [--train]    # ROOT: a checkout (default this one)

Without --train: loads the ci profile's 2N model (its checkpoint must exist: `make test` or
`faceid-lab train faceidgan --profile ci` writes it). With --train: the same in a fresh
FACEID_LAB_HOME holding only the ci profile's other checkpoints, so the 2N model is trained.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path


def main(root: Path, train: bool) -> None:
    sys.path.insert(0, str(root))
    package = str(root / "faceid_lab")
    if train:
        home = Path(os.environ.get("FACEID_LAB_HOME", Path.home() / ".cache" / "faceid_lab"))
        fresh = Path(tempfile.mkdtemp())
        (fresh / "checkpoints").mkdir()
        for f in (home / "checkpoints").glob("*_ci.pt"):
            shutil.copy(f, fresh / "checkpoints" / f.name)
        os.environ["FACEID_LAB_HOME"] = str(fresh)
    from faceid_lab import profiles

    calls: Counter = Counter()
    modules: set[str] = set()
    crossings = 0
    stack: list[str] = []

    def module_of(frame) -> str | None:
        f = frame.f_code.co_filename
        return f[len(package) + 1:-3].replace("/", ".") if f.startswith(package) else None

    def watch(frame, event, _arg):
        nonlocal crossings
        if event == "call":
            m = module_of(frame)
            if m is None:
                return
            caller = next((s for s in reversed(stack) if s), None)
            if caller is not None and caller != m:
                crossings += 1
            modules.add(m)
            calls[f"{m}.{frame.f_code.co_name}"] += 1
            stack.append(m)
        elif event == "return" and module_of(frame) is not None and stack:
            stack.pop()

    sys.setprofile(watch)
    profiles.load_faceid_gan("2n", "ci")
    sys.setprofile(None)
    built = sum(n for k, n in calls.items() if k.endswith(".faceidgan_config"))
    print(f"{'train' if train else 'load'}: {len(modules)} modules ({', '.join(sorted(modules))}); "
          f"{crossings} calls into another module; faceidgan_config built {built} time(s)")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--train"]
    main(Path(args[0]).resolve() if args else Path(__file__).resolve().parents[1], "--train" in sys.argv)
