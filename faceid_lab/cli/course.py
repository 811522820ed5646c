"""`faceid-lab exercises|course|kit|source`: the course's own tooling (student notebooks, headless
runs, classroom kits, where the notebooks link to)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import runtime, source
from ..errors import ConfigError, positive_int
from ..kit import export_kit, import_kit
from ..notebooks import build_exercises, format_table, run_notebooks
from ..speed import FIRST_RUN_LIMIT_S, course_plan, format_plan
from .common import add_profile


def exercises(a: argparse.Namespace) -> int:
    changed = build_exercises(write=a.action == "build")
    if a.action == "build":
        print(f"wrote {len(changed)} student notebook(s)" + "".join(f"\n  {p}" for p in changed))
        return 0
    if changed:
        print("student notebooks are out of date; run `faceid-lab exercises build`:")
        for p in changed:
            print(f"  {p}")
        return 1
    print("student notebooks are up to date")
    return 0


def add_exercises(sub) -> None:
    x = sub.add_parser("exercises", help="student notebooks from the reference solutions")
    x.add_argument("action", choices=["build", "check"])
    x.set_defaults(fn=exercises)


def course_run(a: argparse.Namespace) -> int:
    plan = course_plan(a.profile, [a.only] if a.only else None)
    print(format_plan(plan), flush=True)
    if a.plan:
        return 0
    if plan.measured and plan.seconds > FIRST_RUN_LIMIT_S and sys.stdin.isatty() and not a.yes:
        if input("Go on with this profile? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Stopped before training anything.")
            return 1
    results = run_notebooks(a.profile, a.only, Path(a.out) if a.out else None, a.timeout, a.write_back)
    print(format_table(results))
    if results and results[0].output is not None:
        print(f"executed notebooks in {results[0].output.parent}")
    return 0 if all(r.status == "ok" for r in results) else 1


def add_course(sub) -> None:
    c = sub.add_parser("course", help="run the course notebooks headless").add_subparsers(dest="what", required=True)
    r = c.add_parser("run", help="execute notebooks and print notebook, status, seconds")
    add_profile(r)
    r.add_argument("--only", default=None, help="run only notebooks whose name contains this")
    r.add_argument("--out", default=None, help="folder for executed copies (default FACEID_LAB_HOME/runs/P)")
    r.set_defaults(out_is_folder=True)
    r.add_argument("--timeout", type=positive_int, default=1800, help="seconds per cell")
    r.add_argument("--write-back", action="store_true",
                   help="maintainers: store the outputs in the committed notebooks")
    r.add_argument("--plan", action="store_true", help="only print what would train, and how long it takes here")
    r.add_argument("--yes", action="store_true", help="do not ask before a run longer than 90 minutes")
    r.set_defaults(fn=course_run)


def kit_export(a: argparse.Namespace) -> int:
    manifest = export_kit(a.target, a.profile)
    size = sum(e["bytes"] for e in manifest["files"]) / 2**20
    print(f"wrote {len(manifest['files'])} {a.profile}-profile checkpoints ({size:.0f} MiB) and manifest.json to "
          f"{a.target}")
    print(f"learners: faceid-lab kit import {a.target}   (or in a notebook: !faceid-lab kit import ...)")
    return 0


def kit_import(a: argparse.Namespace) -> int:
    written = import_kit(a.source, replace=a.replace)
    print(f"checked every file of {a.source}; wrote {len(written)} checkpoints to {runtime.home() / 'checkpoints'}"
          + (f": {', '.join(written)}" if written else " (all were already there)"))
    return 0


def add_kit(sub) -> None:
    k = sub.add_parser("kit", help="a classroom kit: every trained model of a profile, to copy to a class")
    kk = k.add_subparsers(dest="what", required=True)
    q = kk.add_parser("export", help="write this profile's finished checkpoints and a manifest to DIR or DIR.zip")
    q.add_argument("target", help="a folder, or a file name ending in .zip")
    add_profile(q)
    q.set_defaults(fn=kit_export)
    q = kk.add_parser("import", help="check a kit (folder or .zip) and copy its checkpoints to FACEID_LAB_HOME")
    q.add_argument("source", help="the kit's folder or .zip")
    q.add_argument("--replace", action="store_true", help="overwrite checkpoints that differ from the kit's")
    q.set_defaults(fn=kit_import)


def source_command(a: argparse.Namespace) -> int:
    if a.action == "show":
        print(f"repository {source.REPOSITORY}, ref {source.REF}\npip: {source.pip_spec()}")
        return 0
    if a.action == "check":
        wrong = source.mismatches()
        for line in wrong:
            print(line)
        print(f"{len(wrong)} links disagree with {source.REPOSITORY}@{source.REF}" if wrong else
              f"every notebook and the README point at {source.REPOSITORY}@{source.REF}")
        return 1 if wrong else 0
    if a.repository is None and a.ref is None:
        raise ConfigError("source set needs --repository owner/name and/or --ref TAG")
    changed = source.retarget(a.repository or source.REPOSITORY, a.ref or source.REF)
    print(f"pointed {len(changed)} files at {a.repository or source.REPOSITORY}@{a.ref or source.REF}")
    return 0


def add_source(sub) -> None:
    q = sub.add_parser("source", help="the repository and ref the notebooks install from and link to")
    q.add_argument("action", choices=["show", "check", "set"])
    q.add_argument("--repository", default=None, help="owner/name on GitHub (set)")
    q.add_argument("--ref", default=None, help="a release tag or branch (set)")
    q.set_defaults(fn=source_command)
