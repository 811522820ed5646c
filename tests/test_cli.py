import json
import re

from PIL import Image

from conftest import run_cli


def test_synth_grid_writes_a_picture(tmp_path):
    out = tmp_path / "grid.png"
    run_cli("synth", "grid", "--out", str(out), "--identities", "3", "--resolution", "32")
    im = Image.open(out)
    assert im.width > 8 * 64 and im.height > 3 * 64


def test_bench_render_prints_throughput():
    out = run_cli("bench", "render", "--resolution", "32", "--batch", "16", "--repeats", "2").stdout
    assert re.search(r"^render: \d+ img/s", out, re.M), out


def test_synth_shard_command(tmp_path):
    out = run_cli("synth", "shard", "--out", str(tmp_path / "s"), "--identities", "2",
                  "--images-per-identity", "3", "--resolution", "32").stdout
    assert "6 images at 32 px" in out


def test_evaluate_synthfaces_reports_json():
    out = run_cli("evaluate", "synthfaces", "--identities", "4", "--images-per-identity", "6",
                  "--test-identities", "3", "--resolution", "32", "--steps", "4").stdout
    result = json.loads(out)
    for key in ("pixel_1nn_accuracy", "cnn_closed_set_accuracy", "unseen_verification_auc"):
        assert 0 <= result[key] <= 1


def test_course_run_unknown_notebook_is_a_clear_error():
    proc = run_cli("course", "run", "--only", "nonexistent", check=False)
    assert proc.returncode != 0 and "no notebook" in proc.stderr


def test_bench_train_prints_the_settings_the_loops_use():
    # on the CPU the loops never use channels_last (loop.ONEDNN_NHWC_BUG): eager alone, or eager and compile
    out = run_cli("bench", "train", "identity", "--resolution", "32", "--batch", "8", "--steps", "2",
                  "--warmup", "1").stdout
    lines = re.findall(r"^identity (fp32 eager|optimised \(.*\)): ([\d.]+) img/s", out, re.M)
    assert [name for name, _ in lines] == ["fp32 eager"], out
    assert all(float(v) > 0 for _, v in lines)
    out = run_cli("bench", "train", "autoencoder", "--resolution", "32", "--batch", "4", "--steps", "1",
                  "--warmup", "1", "--flops").stdout
    assert out.count("img/s") == 1 and out.startswith("autoencoder fp32 eager: ")
    assert float(re.search(r"^autoencoder: ([\d.]+) GFLOP per image", out, re.M).group(1)) > 0
    out = run_cli("bench", "train", "faceidgan", "--resolution", "32", "--batch", "2", "--steps", "1",
                  "--warmup", "1", "--breakdown").stdout
    assert out.count("img/s") == 1 and out.startswith("faceidgan fp32 eager: ")
    shares = re.search(r"^where the time goes: f_id \+ G forward (\d+)%, D update (\d+)%, C update (\d+)%, "
                       r"G update \(through D, C, P\) (\d+)%$", out, re.M)
    assert shares, out
    assert all(int(v) > 0 for v in shares.groups()) and 97 <= sum(map(int, shares.groups())) <= 103
