"""Checkpoints: atomic, resumable to the same result, and loud about bad files."""

import json
import signal

import pytest
import torch

from conftest import run_cli
from faceid_lab.train.checkpoint import CheckpointError, TrainCheckpoint, atomic_save, load_checkpoint

TINY = ["--identities", "5", "--images-per-identity", "8", "--resolution", "32", "--width", "8",
        "--steps", "30", "--batch", "16", "--save-every-steps", "10"]


def _weights(path):
    return load_checkpoint(path)["modules"]["net"]


def test_sigkill_mid_run_resumes_to_the_same_result(tmp_path):
    clean, crashed = tmp_path / "clean.pt", tmp_path / "crashed.pt"
    clean_report = json.loads(run_cli("train", "classifier", "--out", str(clean), *TINY).stdout)

    killed = run_cli("train", "classifier", "--out", str(crashed), *TINY,
                     env={"FACEID_LAB_KILL_AT_STEP": "23"}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = load_checkpoint(crashed)
    assert partial["step"] == 20 and not partial["finished"]  # the last save before the kill
    seconds_before_the_kill = partial["extra"]["history"]["seconds"]
    assert seconds_before_the_kill > 0  # the time trained so far is saved with the steps

    report = json.loads(run_cli("train", "classifier", "--out", str(crashed), *TINY).stdout)
    assert load_checkpoint(crashed)["finished"]
    a, b = _weights(clean), _weights(crashed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the same final loss (log every 25: the window of steps 21-25 spans the crash) and the whole run's time
    assert report["final_loss"] == clean_report["final_loss"]
    assert load_checkpoint(crashed)["extra"]["history"]["loss"] == load_checkpoint(clean)["extra"]["history"]["loss"]
    assert report["train_seconds"] >= round(seconds_before_the_kill, 1)
    # where the seconds were spent travels with them (a notebook prints it, never this machine's name)
    from faceid_lab.course import trained_on

    history = load_checkpoint(crashed)["extra"]["history"]
    assert history["device"].startswith("cpu (") and trained_on(history) == history["device"]
    assert trained_on({}) == "a device its checkpoint did not record"


def _module_and_ckpt(path, config=None, kind="toy-net"):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return net, opt, TrainCheckpoint(path, kind=kind, config=config or {"lr": 0.1},
                                     modules={"net": net}, optimizers={"opt": opt}, save_every_s=1e9)


def test_finished_checkpoint_is_loaded_not_retrained(tmp_path):
    path = tmp_path / "m.pt"
    net, _, ckpt = _module_and_ckpt(path)
    with torch.no_grad():
        net.weight.fill_(0.5)
    ckpt.finish(7, metrics={"acc": 1.0})
    net2, _, ckpt2 = _module_and_ckpt(path)
    assert ckpt2.resume() == 7 and ckpt2.finished and ckpt2.metrics == {"acc": 1.0}
    assert torch.all(net2.weight == 0.5)


def test_time_based_save(tmp_path):
    path = tmp_path / "m.pt"
    _, _, ckpt = _module_and_ckpt(path)
    ckpt.save_every_s = 0.0
    assert ckpt.step_done(1) and load_checkpoint(path)["step"] == 1


def test_atomic_save_leaves_no_temporary_files(tmp_path):
    atomic_save({"a": torch.ones(2)}, tmp_path / "x.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_corrupt_checkpoint_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "judge.pt"
    _, _, ckpt = _module_and_ckpt(path)
    ckpt.save(3)
    path.write_bytes(path.read_bytes()[:100])  # truncated, as after a crash mid-copy
    with pytest.raises(CheckpointError, match=r"judge\.pt is not a readable checkpoint.*delete it"):
        _module_and_ckpt(path)[2].resume()


def test_foreign_file_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match=r"other\.pt is not a faceid-lab checkpoint"):
        load_checkpoint(path)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    path = tmp_path / "m.pt"
    _module_and_ckpt(path, kind="autoencoder")[2].save(1)
    with pytest.raises(CheckpointError, match=r"m\.pt holds a 'autoencoder' model, not a 'toy-net'"):
        _module_and_ckpt(path)[2].resume()


def test_checkpoint_of_another_config_is_refused(tmp_path):
    path = tmp_path / "m.pt"
    _module_and_ckpt(path, config={"lr": 0.1})[2].save(1)
    with pytest.raises(CheckpointError, match="another config"):
        _module_and_ckpt(path, config={"lr": 0.2})[2].resume()


def test_missing_checkpoint_message(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


def test_loading_is_weights_only(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "faceid-lab-checkpoint", "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_a_headless_training_says_what_happened_and_calls_on_log_at_every_logged_step(monkeypatch, capsys):
    """Saved notebooks keep text, not a live bar: a line per quarter and a final line (stderr outside a
    kernel, so a CLI's JSON on stdout stays clean); previews (`on_log`) still run at every logged step."""
    from faceid_lab.train.loop import TrainLog

    monkeypatch.setenv("FACEID_LAB_HEADLESS", "1")
    seen = []
    net = torch.nn.Linear(2, 2)
    log = TrainLog({"step": [], "loss": [], "seconds": 0.0}, ("loss",), 8, 0, 2, desc="toy", progress=True,
                   on_log=lambda step, history, model: seen.append(step))
    for step in range(1, 9):
        log.step(step, torch.tensor([1.0 / step]), net)
    history = log.finish()
    out = capsys.readouterr()
    assert seen == [2, 4, 6, 8] and history["step"] == [2, 4, 6, 8]
    lines = out.err.strip().splitlines()
    assert lines[:3] == ["toy: step 2 of 8; loss 0.750", "toy: step 4 of 8; loss 0.292", "toy: step 6 of 8; loss 0.183"]
    assert lines[3].startswith("toy: trained step 8 of 8 in ") and out.out == "" and "0%" not in out.err
