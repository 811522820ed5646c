"""How long the course will take on this machine, before it starts.

Machines of one kind differ by 2-3x, so a time measured on one is wrong on the next. A
few-second probe (FaceID-GAN's training step at 32 px) measures this machine; every
training's cost is stored in *probe images* (its seconds times the probe rate of the
machine it was measured on, `faceid_lab/timings.json`), so here it takes cost / rate.

    plan = speed.course_plan("cpu")         # what a first `make course` will train, and for how long
    print(speed.format_plan(plan))

`dev/measure_course.py` re-measures timings.json (a fresh FACEID_LAB_HOME, the course run
end to end, each checkpoint's own training seconds).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from . import runtime
from .bench import _faceidgan_step
from .errors import FaceidLabError
from .kit import profile_checkpoints, training_of
from .train.checkpoint import checkpoint_finished

TIMINGS = Path(__file__).with_name("timings.json")
FIRST_RUN_LIMIT_S = 90 * 60  # past this, a first run is a long wait: say so and offer ci or a kit
_PROBE_CACHE: dict[str, float] = {}


def probe(seconds: float = 2.0) -> float:
    """Training images per second of FaceID-GAN's full step (32 px, batch 8, cpu) on this
    machine, measured for about `seconds` after two warm-up steps."""
    if "rate" in _PROBE_CACHE:
        return _PROBE_CACHE["rate"]

    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    step, images = _faceidgan_step(32, 8, torch.device("cpu"), False, False, False, people=64)
    for _ in range(2):
        step()
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds or done < 3:
        step()
        done += 1
    rate = done * images / (time.perf_counter() - began)
    torch.random.set_rng_state(state)  # the probe must not change the notebook's seeded stream
    _PROBE_CACHE["rate"] = rate
    return rate


@lru_cache(maxsize=1)
def timings() -> dict:
    return json.loads(TIMINGS.read_text())


@dataclass
class NotebookPlan:
    notebook: str
    to_train: list[tuple[str, float]] = field(default_factory=list)  # (training, seconds here)
    trained: list[str] = field(default_factory=list)
    other_s: float = 0.0  # the notebook's own cells once its models exist

    @property
    def seconds(self) -> float:
        return self.other_s + sum(s for _, s in self.to_train)


@dataclass
class Plan:
    profile: str
    rate: float  # this machine's probe, img/s
    notebooks: list[NotebookPlan]
    measured: bool  # False: no timing for this profile (gpu): only the list of trainings

    @property
    def seconds(self) -> float:
        return sum(n.seconds for n in self.notebooks)


def finished_trainings(profile: str, folder: Path) -> set[str]:
    """The trainings of `profile` with a finished checkpoint in `folder` (each file read once)."""

    done = set()
    for path in profile_checkpoints(profile, folder):
        training = training_of(path.name, profile)
        if training in done:
            continue
        try:
            if checkpoint_finished(path):
                done.add(training)
        except FaceidLabError:  # unreadable: the training itself will say so, with the fix
            continue
    return done


def course_plan(profile: str, notebooks: list[str] | None = None, rate: float | None = None,
                folder: Path | None = None) -> Plan:
    """For each notebook (in course order): the trainings it will run that have no finished
    checkpoint yet (a notebook's training counts once, where it first happens), with the
    expected seconds on this machine."""
    t = timings()
    folder = folder or runtime.home() / "checkpoints"
    costs = t["profiles"].get(profile)
    if rate is None:
        rate = probe() if costs else float("nan")  # no timings to scale: skip the probe
    # what each notebook trains; a profile may list its own (cpu trains a shorter ablation in notebook 06)
    trains = (costs or {}).get("notebook_trainings", t["notebook_trainings"])
    chosen = [n for n in sorted(trains) if notebooks is None or any(s in n for s in notebooks)]  # as --only
    done = finished_trainings(profile, folder)
    plans = []
    for name in chosen:
        plan = NotebookPlan(name)
        for training in trains[name]:
            if training in done:  # trained already, or by an earlier chosen notebook of this plan
                plan.trained.append(training)
                continue
            done.add(training)
            cost = costs["trainings"].get(training) if costs else None
            plan.to_train.append((training, cost / rate if cost is not None else float("nan")))
        if costs:
            plan.other_s = costs["notebooks"].get(name, 0.0) / rate
        plans.append(plan)
    return Plan(profile, rate, plans, measured=costs is not None)


def _minutes(seconds: float) -> str:
    if seconds != seconds:  # NaN: never measured
        return "not measured"
    if seconds >= 90 * 60:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def format_plan(plan: Plan, limit_s: float = FIRST_RUN_LIMIT_S) -> str:
    lines = [f"This machine: {plan.rate:.1f} img/s on the speed probe (profile {plan.profile})." if plan.measured
             else f"Profile {plan.profile}:"]
    for nb in plan.notebooks:
        if nb.to_train:
            what = ", ".join(f"{t} ~{_minutes(s)}" for t, s in nb.to_train)
            lines.append(f"  {nb.notebook}: trains {what}" +
                         (f"; then ~{_minutes(nb.other_s)} of cells" if plan.measured else ""))
        else:
            lines.append(f"  {nb.notebook}: nothing to train" +
                         (f"; ~{_minutes(nb.other_s)} of cells" if plan.measured else ""))
    if not plan.measured:
        lines.append(f"  No timings measured for the {plan.profile} profile yet: `faceid-lab bench train faceidgan"
                     " --device cuda` measures your GPU.")
        return "\n".join(lines)
    lines.append(f"Expected here: ~{_minutes(plan.seconds)} in all.")
    if plan.seconds > limit_s:
        lines.append(f"That is more than {limit_s / 60:.0f} minutes. Faster: FACEID_LAB_PROFILE=ci (every cell in "
                     "seconds, small models), or load an instructor's trained models with "
                     "`faceid-lab kit import KIT.zip`.")
    return "\n".join(lines)


def fresh_run_seconds(notebook: str, profile: str, rate: float) -> float:
    """Seconds a fresh run of `notebook` alone (nothing trained yet) takes here; NaN if unmeasured."""
    costs = timings()["profiles"].get(profile)
    if costs is None:
        return float("nan")
    plan = course_plan(profile, [notebook], rate=rate, folder=Path("/nonexistent-fresh-home"))  # nothing trained
    return plan.notebooks[0].seconds if plan.notebooks else float("nan")


def notebook_line(notebook: str, profile: str) -> str:
    """The set-up cell's lines: what this notebook will train here and for how long, and a
    fresh run's time in every profile."""
    plan = course_plan(profile, [notebook])
    if not plan.notebooks:
        return ""
    nb = plan.notebooks[0]
    rate = plan.rate if plan.measured else probe()
    times = {p: fresh_run_seconds(notebook, p, rate) for p in runtime.PROFILES}
    every = " · ".join(f"{p} ~{_minutes(t)}" if t == t else f"{p} not measured yet" for p, t in times.items())
    per_profile = f"A fresh run of this notebook here: {every}."
    if not plan.measured:
        trains = ", ".join(t for t, _ in nb.to_train)
        return (f"This notebook trains {trains} (no {profile} timings measured yet). " if trains else "") + per_profile
    if not nb.to_train:
        done = "its models are trained" if nb.trained else "it trains no model"
        return f"Expected time of this notebook here: ~{_minutes(nb.seconds)} ({done}).\n{per_profile}"
    what = ", ".join(f"{t} ~{_minutes(s)}" for t, s in nb.to_train)
    note = f"First run here: ~{_minutes(nb.seconds)} (trains {what}; later runs load them)."
    if nb.seconds > FIRST_RUN_LIMIT_S:
        note += " Long: try FACEID_LAB_PROFILE=ci, or `faceid-lab kit import` an instructor's kit."
    return f"{note}\n{per_profile}"
