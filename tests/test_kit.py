"""The classroom kit: export every finished checkpoint of a profile with a manifest, import it
elsewhere, and refuse a foreign, missing, changed or unsafe file with its name."""

import json
import shutil
import zipfile

import pytest
import torch

from conftest import run_cli
from faceid_lab import kit, runtime
from faceid_lab.train.checkpoint import TrainCheckpoint, checkpoint_finished


def _checkpoint(path, kind="toy", finished=True, steps=3):
    net = torch.nn.Linear(4, 2)
    ckpt = TrainCheckpoint(path, kind, {"steps": steps, "width": 4}, {"net": net})
    ckpt.resume()
    if finished:
        ckpt.finish(steps)
    else:
        ckpt.save(1)
    return path


@pytest.fixture
def trained_home():
    folder = runtime.home() / "checkpoints"
    folder.mkdir(parents=True)
    _checkpoint(folder / "judge_ci.pt", "judge")
    _checkpoint(folder / "faceidgan_2n_ci_0123456789.pt", "faceidgan")
    _checkpoint(folder / "judge_cpu.pt", "judge")  # another profile: not in a ci kit
    net = torch.nn.Linear(2, 2)  # a FaceID-GAN snapshot (G and C during training; notebook 07 reads it)
    torch.save({"step": 5, "G": net.state_dict(), "C": {}}, folder / "faceidgan_2n_ci_0123456789_step5.pt")
    return folder


def test_profile_checkpoints_and_training_names(trained_home):
    names = [p.name for p in kit.profile_checkpoints("ci")]
    assert names == ["faceidgan_2n_ci_0123456789.pt", "faceidgan_2n_ci_0123456789_step5.pt", "judge_ci.pt"]
    assert kit.training_of("faceidgan_2n-nosym_cpu_ff0a7227ec.pt", "cpu") == "faceidgan_2n-nosym"
    assert kit.training_of("identity_cpu_margin0.35.pt", "cpu") == "identity_margin0.35"
    assert kit.training_of("judge_cpu.pt", "ci") is None
    pair_key, pretrain_key = kit._deepfake_fingerprints("ci")
    assert kit.training_of(f"deepfake_synth0-2-4-96-64-64_{pair_key}.pt", "ci") == "autoencoder"
    assert kit.training_of(f"deepfake_pretrain0-2x24-64-64_{pretrain_key}.pt", "ci") == \
        "autoencoder_pretrain"
    assert not any(kit.belongs_to(f"deepfake_synth0-2-4-800-128-64_{key}.pt", "ci")
                   for key in kit._deepfake_fingerprints("cpu"))


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_export_import_round_trip(trained_home, tmp_path, as_zip):
    target = tmp_path / ("kit.zip" if as_zip else "kit")
    manifest = kit.export_kit(target, "ci")
    assert [e["file"] for e in manifest["files"]] == ["faceidgan_2n_ci_0123456789.pt",
                                                       "faceidgan_2n_ci_0123456789_step5.pt", "judge_ci.pt"]
    assert manifest["files"][1]["kind"] == "snapshot"
    entry = manifest["files"][2]
    assert entry["kind"] == "judge" and len(entry["sha256"]) == 64 and entry["config"] == {"steps": 3, "width": 4}
    assert set(manifest["versions"]) == {"faceid-lab", "torch", "python"}
    elsewhere = tmp_path / "class" / "checkpoints"
    written = kit.import_kit(target, elsewhere)
    assert sorted(written) == ["faceidgan_2n_ci_0123456789.pt", "faceidgan_2n_ci_0123456789_step5.pt",
                               "judge_ci.pt"]
    assert checkpoint_finished(elsewhere / "judge_ci.pt")
    assert (elsewhere / "judge_ci.pt").read_bytes() == (trained_home / "judge_ci.pt").read_bytes()
    assert kit.import_kit(target, elsewhere) == []  # the same files again: nothing to write


def test_unfinished_runs_are_not_exported(trained_home, tmp_path):
    _checkpoint(trained_home / "pose_ci.pt", "pose", finished=False)
    with pytest.raises(kit.KitError, match="pose_ci.pt: still training"):
        kit.export_kit(tmp_path / "kit", "ci")


def _tamper(folder, how):
    if how == "changed byte":
        path = folder / "judge_ci.pt"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        return "judge_ci.pt does not match its sha256"
    if how == "foreign file":
        shutil.copy(folder / "judge_ci.pt", folder / "evil.pt")
        return "evil.pt is not in the kit's manifest"
    if how == "missing file":
        (folder / "judge_ci.pt").unlink()
        return "judge_ci.pt is listed in the manifest but missing"
    if how == "unsafe pickle":  # a pickle that runs code, with its sha256 and size put in the manifest
        class Evil:
            def __reduce__(self):
                return (print, ("owned",))

        path = folder / "judge_ci.pt"
        torch.save({"kind": "judge", "payload": Evil()}, path)
        manifest = json.loads((folder / "manifest.json").read_text())
        for e in manifest["files"]:
            if e["file"] == "judge_ci.pt":
                e["sha256"], e["bytes"] = kit.sha256(path), path.stat().st_size
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return "judge_ci.pt is not a checkpoint that loads safely"
    if how == "bad manifest":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][0] = {"file": "judge_ci.pt"}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return "'files' must list entries"
    if how == "no manifest":
        (folder / "manifest.json").unlink()
        return "has no manifest.json"
    raise ValueError(how)


@pytest.mark.parametrize("how", ["changed byte", "foreign file", "missing file", "unsafe pickle", "bad manifest",
                                 "no manifest"])
def test_a_tampered_kit_is_refused_by_name_and_nothing_is_imported(trained_home, tmp_path, how):
    folder = tmp_path / "kit"
    kit.export_kit(folder, "ci")
    message = _tamper(folder, how)
    elsewhere = tmp_path / "class"
    with pytest.raises(kit.KitError, match=message):
        kit.import_kit(folder, elsewhere)
    assert not elsewhere.exists() or not any(elsewhere.iterdir())


def test_file_manager_junk_is_ignored_and_a_used_folder_is_not_exported_into(trained_home, tmp_path):
    folder = tmp_path / "kit"
    kit.export_kit(folder, "ci")
    (folder / ".DS_Store").write_bytes(b"finder")
    assert len(kit.import_kit(folder, tmp_path / "class")) == 3
    with pytest.raises(kit.KitError, match="is not empty"):
        kit.export_kit(folder, "ci")


def test_a_zip_with_a_path_in_it_is_refused(trained_home, tmp_path):
    target = tmp_path / "kit.zip"
    kit.export_kit(target, "ci")
    with zipfile.ZipFile(target, "a") as z:
        z.writestr("../escape.pt", b"x")
    with pytest.raises(kit.KitError, match="not a plain file name"):
        kit.import_kit(target, tmp_path / "class")


def test_import_never_overwrites_a_learners_own_run_without_replace(trained_home, tmp_path):
    kit.export_kit(tmp_path / "kit", "ci")
    elsewhere = tmp_path / "class"
    elsewhere.mkdir()
    _checkpoint(elsewhere / "judge_ci.pt", "judge", steps=5)  # their own, other weights
    with pytest.raises(kit.KitError, match="already exists with other weights"):
        kit.import_kit(tmp_path / "kit", elsewhere)
    assert "judge_ci.pt" in kit.import_kit(tmp_path / "kit", elsewhere, replace=True)


def test_cli_kit_round_trip_and_one_line_refusal(trained_home, tmp_path):
    out = run_cli("kit", "export", str(tmp_path / "kit.zip"), "--profile", "ci")
    assert "wrote 3 ci-profile checkpoints" in out.stdout
    shutil.rmtree(trained_home)
    out = run_cli("kit", "import", str(tmp_path / "kit.zip"))
    assert "wrote 3 checkpoints" in out.stdout and checkpoint_finished(trained_home / "judge_ci.pt")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    bad = run_cli("kit", "import", str(tmp_path / "junk.zip"), check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("faceid-lab: ") and len(bad.stderr.splitlines()) == 1
