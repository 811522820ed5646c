"""Times that fit the machine: the probe, the plan of a first run, the 90-minute warning, the
one-training-at-a-time lock, and the set-up cell on (a stand-in for) Colab."""

import json
import os
import subprocess
import sys
import time
import types

import pytest
import torch

from conftest import ROOT, run_cli
from faceid_lab import course, runtime, speed
from faceid_lab.train import cores

TABLE = {
    "profiles": {"cpu": {"probe_img_s": 50.0, "trainings": {"judge": 50.0 * 300, "faceidgan_n": 50.0 * 750},
                         "notebooks": {"02_identity_features": 50.0 * 60, "07_umap_identity_clusters": 50.0 * 60}}},
    "notebook_trainings": {"02_identity_features": ["judge"], "07_umap_identity_clusters": ["judge", "faceidgan_n"]},
}


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setattr(speed, "timings", lambda: TABLE)


def test_plan_scales_measured_costs_by_this_machines_probe(table):
    plan = speed.course_plan("cpu", rate=25.0)  # a machine half as fast as the one measured
    first, second = plan.notebooks
    assert first.to_train == [("judge", 600.0)] and first.other_s == 120.0
    assert second.to_train == [("faceidgan_n", 1500.0)] and second.trained == ["judge"]  # counted once
    assert plan.seconds == 600 + 120 + 1500 + 120
    alone = speed.course_plan("cpu", ["07"], rate=25.0).notebooks[0]  # standalone, 07 trains both
    assert [t for t, _ in alone.to_train] == ["judge", "faceidgan_n"]


def test_a_profile_may_list_what_its_notebooks_train(monkeypatch):
    own = {"07_umap_identity_clusters": ["judge"]}  # e.g. cpu trains a shorter ablation than ci
    table = {**TABLE, "profiles": {"cpu": {**TABLE["profiles"]["cpu"], "notebook_trainings": own}}}
    monkeypatch.setattr(speed, "timings", lambda: table)
    plan = speed.course_plan("cpu", rate=50.0)
    assert [n.notebook for n in plan.notebooks] == ["07_umap_identity_clusters"]
    assert [t for t, _ in plan.notebooks[0].to_train] == ["judge"]


def test_a_first_run_past_90_minutes_says_so_and_offers_ci_or_a_kit(table):
    slow = speed.format_plan(speed.course_plan("cpu", rate=5.0))  # 10x slower: 3.2 h
    assert "more than 90 minutes" in slow and "FACEID_LAB_PROFILE=ci" in slow and "kit import" in slow
    fast = speed.format_plan(speed.course_plan("cpu", rate=50.0))
    assert "more than 90 minutes" not in fast and "Expected here: ~20 min" in fast  # (300 + 60 + 750 + 60) s


def test_trained_checkpoints_are_not_planned_again(table):
    folder = runtime.home() / "checkpoints"
    folder.mkdir(parents=True)
    from faceid_lab.train.checkpoint import TrainCheckpoint

    ckpt = TrainCheckpoint(folder / "judge_cpu.pt", "judge", {"x": 1}, {"net": torch.nn.Linear(2, 2)})
    ckpt.resume()
    ckpt.finish(1)
    plan = speed.course_plan("cpu", rate=50.0)
    assert plan.notebooks[0].to_train == [] and plan.notebooks[0].trained == ["judge"]


def test_an_unmeasured_profile_lists_trainings_without_inventing_times(table):
    plan = speed.course_plan("gpu")
    assert not plan.measured and plan.rate != plan.rate  # NaN: the probe was not even run
    text = speed.format_plan(plan)
    assert "No timings measured for the gpu profile" in text and "min" not in text.split("\n", 1)[1].split("No")[0]


def test_the_probe_is_quick_and_leaves_the_random_stream_alone():
    speed._PROBE_CACHE.clear()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    began = time.perf_counter()
    rate = speed.probe(0.5)
    assert rate > 0 and time.perf_counter() - began < 30
    assert torch.equal(torch.rand(3), expected)


def test_the_shipped_timings_cover_every_notebook_and_training():
    from faceid_lab.notebooks import reference_notebooks

    t = speed.timings()
    names = {p.stem for p in reference_notebooks()}
    assert set(t["notebook_trainings"]) == names
    for profile in ("ci", "cpu"):
        costs = t["profiles"][profile]
        needed = {x for v in t["notebook_trainings"].values() for x in v}
        assert needed <= set(costs["trainings"]), f"{profile}: no cost for {needed - set(costs['trainings'])}"
        assert set(costs["notebooks"]) == names and costs["probe_img_s"] > 0 and costs["measured"]


def test_course_run_plan_prints_and_trains_nothing():
    out = run_cli("course", "run", "--plan", "--profile", "ci")
    assert "speed probe" in out.stdout and "Expected here" in out.stdout
    assert not (runtime.home() / "checkpoints").exists() or not any((runtime.home() / "checkpoints").iterdir())


# --- one training at a time ---------------------------------------------------------------------

HOLD = """
import sys, time
from faceid_lab.train.cores import CoreLock
lock = CoreLock("holder")
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[1]))
lock.release()
"""


def test_a_second_training_waits_for_the_first_and_says_why():
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "3"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert holder.stdout.readline().strip() == "held"
    said = []
    began = time.monotonic()
    lock = cores.CoreLock("second")
    waited = lock.acquire(said.append)
    assert holder.wait(10) == 0
    assert waited > 1.5 and time.monotonic() - began > 1.5
    assert "waiting for another training on this machine" in said[0] and "holder" in said[0]
    lock.release()
    assert not cores.lock_path().exists()


def test_a_dead_holder_or_parallel_opt_in_never_blocks(monkeypatch):
    cores.lock_path().write_text(json.dumps({"pid": 2**22 + 12345, "what": "killed run", "since": "00:00:00"}))
    lock = cores.CoreLock("next")
    assert lock.acquire(lambda m: pytest.fail(m)) < 1.0
    lock.release()
    cores.lock_path().write_text(json.dumps({"pid": os.getppid(), "what": "pytest's parent", "since": "now"}))
    monkeypatch.setenv("FACEID_LAB_PARALLEL_TRAINING", "1")  # a live holder, and the learner asked to start anyway
    assert cores.CoreLock("other").acquire(lambda m: pytest.fail(m)) == 0.0
    assert "pytest's parent" in cores.lock_path().read_text()  # never removed: it is someone else's


def test_a_holder_that_stopped_stepping_is_stale(monkeypatch):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "30"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        old = time.time() - cores.STALE_S - 5
        os.utime(cores.lock_path(), (old, old))  # an interrupted notebook cell: alive but not training
        lock = cores.CoreLock("next")
        assert lock.acquire(lambda m: pytest.fail(m)) < 1.0
        lock.release()
    finally:
        holder.kill()


# --- the set-up cell on Colab (a stand-in google.colab) -------------------------------------------

@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    calls = []
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    colab.drive = types.SimpleNamespace(mount=lambda where: calls.append(f"mount {where}"))
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", colab.output)
    monkeypatch.setitem(sys.modules, "google.colab.drive", colab.drive)
    monkeypatch.delenv("FACEID_LAB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    return calls


def test_colab_without_drive_asks_nothing_and_says_how_to_keep_the_models(fake_colab, capsys, monkeypatch):
    monkeypatch.setattr(speed, "timings", lambda: TABLE)
    env = course.setup(seed=0, use_drive=False, notebook="07_umap_identity_clusters")
    out = capsys.readouterr().out
    assert fake_colab == ["widgets"]  # no Drive pop-up
    assert "USE_DRIVE = True" in out and "lost when the runtime is recycled" in out
    assert "FACEID_LAB_HOME" not in os.environ and env.profile == "ci"
    assert not runtime.figure_widgets()  # Colab: plain plotly figures with frames and sliders


def test_colab_with_drive_mounts_only_when_asked(fake_colab, capsys, monkeypatch):
    monkeypatch.setattr(course, "home", lambda: course.Path("/tmp/not-used"))
    course.setup(seed=0, use_drive=True)
    assert fake_colab == ["widgets", "mount /content/drive"]
    assert os.environ.pop("FACEID_LAB_HOME") == course.COLAB_DRIVE_HOME
    assert "Google Drive" in capsys.readouterr().out


def test_off_colab_setup_prints_the_notebooks_plan(capsys, monkeypatch):
    monkeypatch.setattr(speed, "timings", lambda: TABLE)
    monkeypatch.setitem(speed._PROBE_CACHE, "rate", 25.0)
    monkeypatch.setenv("FACEID_LAB_PROFILE", "cpu")
    course.setup(seed=0, notebook="02_identity_features")
    out = capsys.readouterr().out
    assert "First run here: ~12 min (trains judge ~10 min; later runs load them)." in out
