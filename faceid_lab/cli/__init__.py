"""The `faceid-lab` command (also `python -m faceid_lab`).

Each subcommand's parser stands beside its handler in the module of its name (synth, bench,
evaluate, train, prepare, course: exercises, course run, kit, source); `main` resolves the profile
once and runs the handler."""

from __future__ import annotations

import argparse
import sys

from .. import runtime
from ..errors import FaceidLabError, check_device, check_output, explain_os_error
from ..train.distributed import leave
from . import bench, course, evaluate, prepare, synth, train
from .common import Parser


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="faceid-lab", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for module in (synth, bench, evaluate, train, prepare):
        module.add(sub)
    course.add_exercises(sub)
    course.add_course(sub)
    course.add_kit(sub)
    course.add_source(sub)
    return p


def check_arguments(args: argparse.Namespace) -> None:
    """What argparse's types cannot see: the device exists here, the output can be written."""
    if getattr(args, "device", None) is not None:
        check_device(args.device)
    if getattr(args, "out", None) is not None:
        check_output(args.out, "--out", folder=args.out_is_folder)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        if getattr(args, "profile", "") is None:
            args.profile = runtime.profile()  # resolved once, here; every command passes it down
        code = args.fn(args)
        leave()  # under torchrun: every rank waits for the others, then leaves the group cleanly
        return code
    except FaceidLabError as e:
        print(f"faceid-lab: {e}", file=sys.stderr)  # a clear message, not a traceback
        leave(finished=False)
        return 2
    except OSError as e:  # a full disk, a read-only folder, a vanished file: the file and the fix
        print(f"faceid-lab: {explain_os_error(e)}", file=sys.stderr)
        leave(finished=False)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
