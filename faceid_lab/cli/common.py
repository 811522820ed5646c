"""What every subcommand's parser shares: one-line errors, --profile, --save-every-s, a progress line."""

from __future__ import annotations

import argparse
import sys

from .. import runtime
from ..errors import positive_float


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `faceid-lab: argument --steps: must be at least 1 ...` (exit 2)."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"faceid-lab: {message} (see `{self.prog} --help`)\n")


def add_profile(q: argparse.ArgumentParser, help: str = "default: auto") -> None:
    q.add_argument("--profile", choices=runtime.PROFILES, default=None, help=help)


def add_save_interval(q: argparse.ArgumentParser) -> None:
    q.add_argument("--save-every-s", type=positive_float, default=120.0,
                   help="checkpoint at least this often (seconds); a killed run resumes from there")


def progress_printer():
    """`\\rdone/total` on a terminal; nothing when the output goes to a file or a notebook log."""
    if not sys.stdout.isatty():
        return None
    return lambda done, total: print(f"\r{done}/{total}", end="\n" if done == total else "", flush=True)


def on_terminal() -> bool:
    """Progress bars only when a person watches stderr."""
    return sys.stderr.isatty()
