"""Measure faceid_lab/timings.json: what each notebook trains, and what every training costs.

    python dev/measure_course.py --profile ci          # a fresh FACEID_LAB_HOME, about 10 minutes here

Runs the reference notebooks in order on an empty FACEID_LAB_HOME, with the checkpoint trace
on (FACEID_LAB_CHECKPOINT_LOG), and records for the profile:
- the probe rate of this machine (speed.probe, img/s), before and after, averaged;
- each training's cost: its checkpoint's own training seconds x the probe rate;
- each notebook's other cost: its wall seconds minus the trainings it ran, x the probe rate;
- which trainings each notebook needs (the checkpoints it opened or wrote), for every profile.
"""
import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from faceid_lab import kit, speed
from faceid_lab.notebooks import reference_notebooks, run_notebooks
from faceid_lab.train.checkpoint import load_checkpoint


def main() -> None:
    a = argparse.ArgumentParser()
    a.add_argument("--profile", default="ci")
    a.add_argument("--keep-trainings-map", action="store_true", help="only add this profile's costs")
    args = a.parse_args()
    home = Path(tempfile.mkdtemp(prefix="faceid_lab_measure_"))
    os.environ["FACEID_LAB_HOME"] = str(home)
    trace = home / "trace.txt"
    os.environ["FACEID_LAB_CHECKPOINT_LOG"] = str(trace)
    before = speed.probe(3.0)
    trainings, others, needs = {}, {}, {}
    for nb in reference_notebooks():
        trace.write_text("")
        began = time.perf_counter()
        [result] = run_notebooks(args.profile, only=nb.stem, out_dir=home / "runs")
        seconds = time.perf_counter() - began
        if result.status != "ok":
            raise SystemExit(f"{nb.stem} failed: {result.error}")
        names = sorted({ln for ln in trace.read_text().splitlines() if ln})
        used = sorted({t for n in names if (t := kit.training_of(n, args.profile))})
        needs[nb.stem] = used
        trained_here = 0.0
        for n in names:
            t = kit.training_of(n, args.profile)
            if t and t not in trainings:
                ckpt = load_checkpoint(home / "checkpoints" / n)
                s = float(ckpt.get("extra", {}).get("history", {}).get("seconds", 0.0))
                trainings[t] = s
                trained_here += s
        others[nb.stem] = max(seconds - trained_here, 0.0)
        print(f"{nb.stem}: {seconds:.0f} s, trained {trained_here:.0f} s, needs {used}", flush=True)
    speed._PROBE_CACHE.clear()
    after = speed.probe(3.0)
    rate = (before + after) / 2
    old = json.loads(speed.TIMINGS.read_text()) if speed.TIMINGS.exists() else {"profiles": {}}
    old["profiles"][args.profile] = {
        "measured": f"{date.today()} by dev/measure_course.py on {platform.machine()} ({os.cpu_count()} cores), "
                    f"probe {before:.1f} and {after:.1f} img/s",
        "probe_img_s": round(rate, 2),
        "trainings": {t: round(s * rate, 1) for t, s in sorted(trainings.items())},
        "notebooks": {n: round(s * rate, 1) for n, s in others.items()},
        "seconds_here": {"trainings": {t: round(s, 1) for t, s in trainings.items()},
                         "notebooks": {n: round(s, 1) for n, s in others.items()}},
        "notebook_trainings": needs,  # this profile's own: a notebook may train less on one profile
    }
    if not args.keep_trainings_map:
        old["notebook_trainings"] = needs
    speed.TIMINGS.write_text(json.dumps(old, indent=1) + "\n")
    print(f"wrote {speed.TIMINGS}")


if __name__ == "__main__":
    main()
