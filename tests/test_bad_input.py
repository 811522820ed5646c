"""Hostile and mistaken input: every bad argument, setting or checkpoint gets one `faceid-lab:` line
(exit 2) that names it and the fix; no traceback, no silent default, no untrained model saved."""

import errno
import re
import signal

import pytest
import torch

from conftest import run_cli
from faceid_lab import course
from faceid_lab.cli import main
from faceid_lab.errors import ConfigError
from faceid_lab.train import checkpoint as checkpoint_module
from faceid_lab.train.autoencoder import AutoencoderConfig
from faceid_lab.train.checkpoint import CheckpointError, TrainCheckpoint, atomic_save, load_checkpoint, safe_load
from faceid_lab.train.classifier import ClassifierConfig
from faceid_lab.train.faceidgan import FaceIdGanConfig

CLASSIFIER = ["train", "classifier", "--identities", "3", "--images-per-identity", "2", "--resolution", "32",
              "--width", "4", "--steps", "1", "--batch", "4"]

# (arguments, words the one line must contain); {tmp} is the test's folder
BAD_ARGUMENTS = [
    (["train", "faceidgan", "--steps", "-5"], ["argument --steps", "at least 1", "-5"]),
    (["train", "faceidgan", "--steps", "0"], ["argument --steps", "at least 1", "budget"]),
    (["train", "autoencoder", "--steps", "-3"], ["argument --steps", "at least 1"]),
    (["train", "autoencoder", "--batch", "0"], ["argument --batch", "at least 1"]),
    (["train", "autoencoder", "--width", "-1"], ["argument --width", "positive"]),
    (["train", "classifier", "--out", "{tmp}/m.pt", "--batch", "0"], ["argument --batch", "at least 1"]),
    (["train", "classifier", "--out", "{tmp}/m.pt", "--batch", "-4"], ["argument --batch", "at least 1"]),
    (["train", "classifier", "--out", "{tmp}/m.pt", "--steps", "ten"], ["argument --steps", "whole number", "ten"]),
    (["train", "pose", "--save-every-s", "0"], ["argument --save-every-s", "positive"]),
    (["train", "judge", "--profile", "laptop"], ["argument --profile", "invalid choice", "laptop"]),
    (["synth", "grid", "--out", "{tmp}/g.png", "--identities", "-2"], ["argument --identities", "at least 1"]),
    (["prepare", "folder", "--root", "{tmp}", "--out", "{tmp}/s", "--margin", "-0.1"], ["argument --margin"]),
    (["train", "faceidgan", "--device", "banana"], ["--device 'banana' is not a device", "cpu, cuda"]),
    (["train", "faceidgan", "--device", "cuda:0"] if not torch.cuda.is_available() else
     ["train", "faceidgan", "--device", "cuda:99"], ["--device cuda", "--device c"]),
    (["train", "pose", "--device", "meta"], ["--device meta", "cpu, cuda or mps"]),
    ([*CLASSIFIER, "--out", "{tmp}"], ["--out", "is a folder", "path of a file"]),
    ([*CLASSIFIER, "--out", "{tmp}/afile/m.pt"], ["--out", "afile is a file"]),
    (["synth", "shard", "--out", "{tmp}/afile"], ["--out", "afile is a file", "folder path"]),
    (["synth", "grid", "--out", "{tmp}/afile/g.png"], ["--out", "afile is a file"]),
    (["course", "run", "--out", "{tmp}/afile", "--only", "00"], ["--out", "afile is a file"]),
    (["prepare", "video", "{tmp}/a.mp4", "{tmp}/b.mp4", "--names", "ann", "--out", "{tmp}/v"],
     ["--names gives 1 names for 2 videos"]),
    (["prepare", "video", "{tmp}/a.mp4", "{tmp}/a.mp4", "--out", "{tmp}/v"], ["a.mp4 is given twice"]),
    (["prepare", "video", "{tmp}/a.mp4", "--names", "ann", "--out", "{tmp}/v"], ["a.mp4 does not exist"]),
]


def _one_line(capsys, argv, tmp_path) -> tuple[int, str]:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors end here
        code = e.code
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("argv, words", BAD_ARGUMENTS, ids=[" ".join(a[:4]) for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_one_line_naming_it(capsys, tmp_path, argv, words):
    (tmp_path / "afile").write_text("not a folder")
    code, err = _one_line(capsys, argv, tmp_path)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("faceid-lab: "), err
    for w in words:
        assert w in lines[0], lines[0]
    assert not list(tmp_path.glob("home/checkpoints/*.pt"))  # nothing was trained or saved


def test_negative_steps_never_save_an_untrained_model_marked_finished(tmp_path):
    for game in ("faceidgan", "autoencoder"):
        proc = run_cli("train", game, "--profile", "ci", "--steps", "-5", check=False)
        assert proc.returncode == 2 and proc.stderr.startswith("faceid-lab: argument --steps")
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "checkpoints").exists() or not any((tmp_path / "home" / "checkpoints").iterdir())


def test_configs_refuse_what_the_cli_refuses():
    with pytest.raises(ConfigError, match=r"AutoencoderConfig.steps must be a whole number, 0 or more, not -3"):
        AutoencoderConfig(steps=-3)
    with pytest.raises(ConfigError, match=r"ClassifierConfig.batch must be a whole number, at least 1, not 0"):
        ClassifierConfig(num_classes=3, batch=0)
    with pytest.raises(ConfigError, match=r"FaceIdGanConfig.lr must be a positive number"):
        FaceIdGanConfig(lr=-1e-3)
    AutoencoderConfig(steps=0)  # 0 steps: the untrained start, which the tests compare against


def test_a_bad_profile_variable_is_one_line(tmp_path):
    proc = run_cli("train", "judge", env={"FACEID_LAB_PROFILE": "laptop"}, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("faceid-lab: FACEID_LAB_PROFILE='laptop' is not a profile: set it to one of "
                                   "ci, cpu, gpu, or unset it (then: gpu with CUDA, else cpu)")


def test_a_bad_device_variable_is_refused(monkeypatch):
    monkeypatch.setenv("FACEID_LAB_DEVICE", "banana")
    with pytest.raises(ConfigError, match="FACEID_LAB_DEVICE 'banana' is not a device"):
        course.device()


def test_an_output_folder_that_cannot_be_written(capsys, tmp_path, monkeypatch):
    # root ignores permission bits, so the refusal of the file system is simulated where it is felt
    def refuse(*_, **__):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("tempfile.TemporaryFile", refuse)
    code, err = _one_line(capsys, ["synth", "grid", "--out", "{tmp}/ro/g.png"], tmp_path)
    assert code == 2 and err.startswith("faceid-lab: --out ") and "cannot write in" in err
    assert "Read-only file system" in err and len(err.strip().splitlines()) == 1


# --- checkpoints: what is wrong with the file, never advice to load unsafely --------------------

class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("echo planted > /dev/null",))


def test_a_checkpoint_with_forbidden_objects_is_named_and_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "faceid-lab-checkpoint", "payload": _Boom()}, path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    text = str(e.value)
    assert "holds Python objects that are not weights" in text and "system" in text
    assert "weights_only" not in text and "truncated" not in text
    proc = run_cli(*CLASSIFIER, "--out", str(path), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not weights" in proc.stderr


def test_a_truncated_checkpoint_is_named(tmp_path):
    good = tmp_path / "good.pt"
    run_cli(*CLASSIFIER, "--out", str(good))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(good.read_bytes()[:3000])
    truncated = r"bad.pt is not a readable checkpoint: it is truncated or corrupt \(RuntimeError: [^;]*\); delete it"
    with pytest.raises(CheckpointError, match=truncated):
        safe_load(bad)
    proc = run_cli(*CLASSIFIER, "--out", str(bad), check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("faceid-lab: ") and "Traceback" not in proc.stderr


def test_a_checkpoint_missing_a_tensor_is_one_line(tmp_path):
    path = tmp_path / "m.pt"
    run_cli(*CLASSIFIER, "--steps", "2", "--save-every-steps", "1", "--out", str(path))
    ckpt = load_checkpoint(path)
    name = next(iter(ckpt["modules"]["net"]))
    del ckpt["modules"]["net"][name]
    torch.save(ckpt, path)
    proc = run_cli(*CLASSIFIER, "--steps", "2", "--out", str(path), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"the 'net' weights do not fit this model (missing {name})" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_broken_snapshot_is_a_checkpoint_error(tmp_path):
    from conftest import make_tiny_gan_world
    from faceid_lab.train.faceidgan import load_snapshot, snapshot_path, train_faceid_gan

    identity_net, pose_net, data = make_tiny_gan_world()
    cfg = FaceIdGanConfig(width=4, resolution=32, z_dim=8, steps=4, batch=4)
    players, _ = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=tmp_path / "g.pt")
    snap = snapshot_path(players.checkpoint, 2)
    snap.write_bytes(snap.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_snapshot(players, 2)
    torch.save({"step": 2, "G": _Boom(), "C": {}}, snap)
    with pytest.raises(CheckpointError, match="not weights"):
        load_snapshot(players, 2)
    torch.save({"step": 2, "G": {"nonsense": torch.zeros(1)}, "C": {}}, snap)
    with pytest.raises(CheckpointError, match=r"the 'G' weights do not fit this model"):
        load_snapshot(players, 2)


# --- a full disk: one line, the last good checkpoint kept, no temporary files left --------------

def test_a_full_disk_during_a_save_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    atomic_save({"w": torch.ones(3)}, path)
    (tmp_path / f".{path.name}.999999999.tmp").write_bytes(b"half a save of a dead process")

    def full(obj, f, *a, **k):
        f.write(b"x" * 100)
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 2048 vs 1903")

    monkeypatch.setattr(checkpoint_module.torch, "save", full)
    with pytest.raises(CheckpointError, match=r"saving the checkpoint .*m.pt: no space left on the device .* free"):
        atomic_save({"w": torch.zeros(3)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # no temporaries, the old file whole
    assert torch.equal(safe_load(path)["w"], torch.ones(3))


def test_a_full_disk_stops_training_with_one_line(tmp_path, monkeypatch, capsys):
    def full(*_, **__):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", full)
    code, err = _one_line(capsys, [*CLASSIFIER, "--out", "{tmp}/m.pt"], tmp_path)
    assert code == 2 and "no space left on the device" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.glob(".*.tmp")) == []


def test_a_full_disk_while_preparing_a_shard_is_one_line(tmp_path, monkeypatch):
    from faceid_lab.data import shards

    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shards.os, "posix_fallocate", full)
    with pytest.raises(shards.ShardError, match=r"no space left on the device for this shard \(it needs \d+ MB"):
        shards.ShardWriter(tmp_path / "s", 10_000, 64, "folder", {})


# --- crash and resume: a SIGKILL at a random step of every train command ------------------------

def _crash_and_resume(tmp_path, args: list[str], kind: str, kill_at: int, share: tuple[str, ...] = ()):
    """(clean run's checkpoint, crashed-then-resumed run's checkpoint, resumed run's stdout)."""
    import shutil

    clean_home, crash_home = tmp_path / "clean", tmp_path / "crash"
    clean = run_cli(*args, env={"FACEID_LAB_HOME": str(clean_home)})
    for name in share:  # models the command only loads (trained once by the clean run)
        (crash_home / "checkpoints").mkdir(parents=True, exist_ok=True)
        shutil.copy(clean_home / "checkpoints" / name, crash_home / "checkpoints" / name)
    env = {"FACEID_LAB_HOME": str(crash_home), "FACEID_LAB_KILL_AT_STEP": f"{kind}:{kill_at}"}
    killed = run_cli(*args, "--save-every-s", "0.02", env=env, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = run_cli(*args, "--save-every-s", "0.02", env={"FACEID_LAB_HOME": str(crash_home)})
    return clean, resumed, clean_home / "checkpoints", crash_home / "checkpoints"


def _assert_same_model(a_dir, b_dir, pattern):
    (a,), (b,) = ([p for p in sorted(d.glob(pattern)) if "_step" not in p.name] for d in (a_dir, b_dir))
    want, got = load_checkpoint(a), load_checkpoint(b)
    assert got["finished"] and got["step"] == want["step"]
    for module, state in want["modules"].items():
        for name, w in state.items():
            assert torch.equal(got["modules"][module][name], w), f"{module}.{name}"
    hw, hg = want["extra"]["history"], got["extra"]["history"]
    for key, values in hw.items():
        if key != "seconds":
            assert hg[key] == values, key  # the same curves, the same final losses
    return want, got


@pytest.mark.parametrize("command, kind, pattern, kill_at, share", [
    (["train", "judge", "--profile", "ci"], "identity-classifier", "judge_ci.pt", 23, ()),
    (["train", "pose", "--profile", "ci"], "pose-regressor", "pose_ci.pt", 31, ()),
    (["train", "autoencoder", "--profile", "ci"], "faceswap-autoencoder", "deepfake_synth*.pt", 17, ()),
    (["train", "faceidgan", "--profile", "ci", "--classifier", "2n"], "faceid-gan", "faceidgan_2n_ci_*.pt", 13,
     ("identity_ci.pt", "pose_ci.pt")),
], ids=["judge", "pose", "autoencoder", "faceidgan"])
def test_every_train_command_resumes_after_sigkill_to_the_same_weights(tmp_path, command, kind, pattern, kill_at,
                                                                        share):
    clean, resumed, clean_dir, crash_dir = _crash_and_resume(tmp_path, command, kind, kill_at, share)
    want, got = _assert_same_model(clean_dir, crash_dir, pattern)
    assert got["extra"]["history"]["seconds"] > 0
    seconds = [float(s) for s in re.findall(r'"train_seconds": ([\d.]+)', resumed.stdout)]
    assert seconds and seconds[-1] > 0  # the whole run's time, both sessions, not only the resumed one


def test_the_crash_drill_can_aim_at_one_loop(monkeypatch, tmp_path):
    monkeypatch.setenv("FACEID_LAB_KILL_AT_STEP", "faceid-gan:7")
    net = torch.nn.Linear(2, 2)
    assert TrainCheckpoint(tmp_path / "a.pt", "pose-regressor", {}, {"net": net})._kill_at == 0
    assert TrainCheckpoint(tmp_path / "b.pt", "faceid-gan", {}, {"net": net})._kill_at == 7
    monkeypatch.setenv("FACEID_LAB_KILL_AT_STEP", "5")
    assert TrainCheckpoint(tmp_path / "c.pt", "pose-regressor", {}, {"net": net})._kill_at == 5

