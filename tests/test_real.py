"""Real faces: alignment, shards, bad input, video, the dlib judge (on the shared CelebA photos)."""

import shutil

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import CELEBA, run_cli
from faceid_lab import metrics
from faceid_lab.data import real
from faceid_lab.data import synthetic as S
from faceid_lab.data.align import Aligner, dlib_available, template
from faceid_lab.data.shards import Shard
from faceid_lab.evaluate import alignment_error
from faceid_lab.images import to_uint8_hwc
from faceid_lab.judge import DlibJudge

pytestmark = pytest.mark.skipif(not CELEBA.is_dir(), reason=f"{CELEBA} is not here (the shared test photos)")


def test_the_real_extra_is_installed():
    # `make test` installs faceid-lab[real]: these tests must run, not skip
    assert dlib_available(), "pip install -e '.[real]' (dlib-bin, face-recognition-models)"


def test_celeba_alignment_rate_and_records(celeba_shard):
    report, shard = celeba_shard
    assert report.total == 160 and report.aligned / report.total >= 0.9, str(report)
    records = shard.extra["records"]
    assert len(records) == 160
    assert all(r["status"] == "ok" or r["reason"] for r in records)
    assert all(len(r["sha256"]) == 64 for r in records if r["status"] == "ok")
    assert "dlib" in shard.extra["aligner"] and "non-commercial" in shard.extra["licence"]


def test_eye_centres_found_again_sit_on_the_template(celeba_shard):
    _, shard = celeba_shard
    err = alignment_error(np.array(shard.images), 64)
    assert err["eye_error_mean_px"] < 1.0 and err["eye_error_p95_px"] <= 2.0, err


def test_stored_points_match_the_template(celeba_shard):
    _, shard = celeba_shard
    dist = np.linalg.norm(np.array(shard.points) - template(64), axis=-1)
    assert np.median(dist) < 2.0


def test_dlib_judge_verifies_and_retrieves(celeba_shard):
    _, shard = celeba_shard
    features = DlibJudge().embed(np.array(shard.images))
    labels = torch.from_numpy(np.array(shard.labels))
    assert features.shape == (len(shard), 128)
    assert torch.allclose(features.norm(dim=1), torch.ones(len(shard)), atol=1e-4)
    assert metrics.verification_report(features, labels)["auc"] >= 0.95
    assert metrics.leave_one_out_retrieval(features, labels) >= 0.9


def test_rerun_skips_finished_work(celeba_shard, tmp_path):
    report, shard = celeba_shard
    again = real.prepare(real.celeba_sources(CELEBA, max_identities=8), shard.path, "celeba",
                         {"source": "celeba"}, size=64)
    assert again.aligned == report.aligned and again.seconds >= report.seconds  # nothing redone


def test_interrupted_preparation_resumes(tmp_path):
    sources = real.celeba_sources(CELEBA, max_identities=2)
    stop = {"after": 1}

    def interrupt(done, total):
        stop["after"] -= 1
        if stop["after"] < 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        real.prepare(sources, tmp_path / "s", "celeba", {"source": "celeba"}, block=8, workers=1,
                     progress=interrupt)
    resumed = real.prepare(sources, tmp_path / "s", "celeba", {"source": "celeba"}, block=8, workers=1)
    fresh = real.prepare(sources, tmp_path / "t", "celeba", {"source": "celeba"}, workers=1)
    assert resumed.aligned == fresh.aligned
    assert np.array_equal(Shard(tmp_path / "s").images, Shard(tmp_path / "t").images)


def test_opencv_fallback_says_so(tmp_path):
    report = real.prepare(real.celeba_sources(CELEBA, max_identities=1), tmp_path / "cv", "celeba",
                          {"source": "celeba"}, backend="opencv", workers=1)
    assert "OpenCV Haar" in report.aligner and "install the `real` extra" in report.aligner
    assert report.aligned >= 15


def _photos(identity: str, n: int):
    lines = (CELEBA / "identity_CelebA.txt").read_text().split("\n")
    return [CELEBA / "img_celeba" / ln.split()[0] for ln in lines if ln.endswith(f" {identity}")][:n]


def test_bad_inputs_are_counted_and_explained(tmp_path):
    person = tmp_path / "people" / "ann"
    person.mkdir(parents=True)
    good = _photos("7201", 3)
    for f in good:
        shutil.copy(f, person / f.name)
    (person / "corrupt.jpg").write_bytes(good[0].read_bytes()[:2000])           # truncated JPEG
    (person / "notes.jpg").write_text("this is text, not a photo")               # text named .jpg
    Image.new("RGB", (200, 200), (90, 140, 200)).save(person / "sky.png")        # no face
    shutil.copy(good[1], person / "copy.jpg")                                    # duplicate
    report = real.prepare(real.folder_sources(tmp_path / "people"), tmp_path / "s", "folder",
                          {"source": "folder"}, workers=1)
    assert report.aligned == 3
    assert report.skipped == {"corrupt image": 1, "not an image": 1, "no face": 1, "duplicate": 1}
    text = str(report)
    for words in ("aligned 3 of 7", "1 corrupt image", "1 not an image", "1 no face", "1 duplicate"):
        assert words in text
    reasons = {r["file"]: r.get("reason", "") for r in Shard(tmp_path / "s").extra["records"]}
    assert reasons["ann/copy.jpg"].startswith("duplicate (same bytes as ann/")


def test_run_level_errors_name_the_path_and_the_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(real.DataError, match=r"empty holds no images: expected one sub-folder per person"):
        real.folder_sources(tmp_path / "empty")
    with pytest.raises(real.DataError, match=r"nowhere does not exist"):
        real.folder_sources(tmp_path / "nowhere")
    (tmp_path / "celeba" / "img_celeba").mkdir(parents=True)
    with pytest.raises(real.DataError, match=r"identity_CelebA.txt not found.*Anno/identity_CelebA.txt"):
        real.celeba_sources(tmp_path / "celeba")
    proc = run_cli("prepare", "celeba", "--root", str(tmp_path / "missing"), "--out", str(tmp_path / "o"),
                   check=False)
    assert proc.returncode == 2 and "missing does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_celeba_identity_file_with_unknown_and_missing_files(tmp_path):
    root = tmp_path / "celeba"
    (root / "img_celeba").mkdir(parents=True)
    photos = _photos("7201", 2)
    for f in photos:
        shutil.copy(f, root / "img_celeba" / f.name)
    shutil.copy(photos[0], root / "img_celeba" / "unlabelled.jpg")
    (root / "identity_CelebA.txt").write_text(f"{photos[0].name} 1\n{photos[1].name} 1\nlost.jpg 1\n")
    report = real.prepare(real.celeba_sources(root), tmp_path / "s", "celeba", {"source": "celeba"}, workers=1)
    assert report.skipped == {"missing file": 1, "no identity label": 1}


def _write_video(path, frames, fps=10):
    h, w = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, macro_block_size=1, quality=9)
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f))
    writer.close()


def test_prepare_video_on_a_slideshow_of_real_photos(tmp_path):
    slides = []
    for f in _photos("7201", 6):
        im = Image.open(f).convert("RGB")
        im.thumbnail((480, 480))
        canvas = Image.new("RGB", (480, 480))
        canvas.paste(im, ((480 - im.width) // 2, (480 - im.height) // 2))
        slides += [np.asarray(canvas)] * 3
    _write_video(tmp_path / "ann.mp4", slides)
    run_cli("prepare", "video", str(tmp_path / "ann.mp4"), "--names", "ann", "--every", "3",
            "--out", str(tmp_path / "shard"))
    shard = Shard(tmp_path / "shard")
    assert len(shard.extra["records"]) == 6 and len(shard) >= 5
    assert shard.extra["identities"] == ["ann"]


def test_prepare_video_on_a_moving_synthfaces_head(tmp_path):
    n = 12
    ident = S.sample_identities(0, [3] * n)
    nu = S.Nuisance.reference(n).with_pose(torch.tensor([[y, 0.0, 0.0] for y in np.linspace(-40, 40, n)]))
    frames = to_uint8_hwc(S.render(ident, nu, 128).to_uint8())
    _write_video(tmp_path / "synth.mp4", frames)
    extracted = real.extract_frames(tmp_path / "synth.mp4", tmp_path / "frames")
    assert len(extracted) == n
    first = np.asarray(Image.open(extracted[0]).convert("RGB")).astype(float)
    assert np.abs(first - frames[0]).mean() < 6  # the frame that went in, up to the codec
    # dlib's detector is trained on photographs: it does not take the cartoon heads for faces,
    # and the summary says so instead of failing
    report = real.prepare(real.video_sources([tmp_path / "synth.mp4"], ["synth"], tmp_path / "w"),
                          tmp_path / "s", "video", {"source": "video"}, workers=1)
    assert report.total == n and report.skipped["no face"] + report.aligned == n


def test_video_errors(tmp_path):
    with pytest.raises(real.DataError, match="does not exist or is not a file"):
        real.extract_frames(tmp_path / "none.mp4", tmp_path / "f")
    (tmp_path / "bad.mp4").write_text("not a video")
    with pytest.raises(real.DataError, match="ffmpeg could not read"):
        real.extract_frames(tmp_path / "bad.mp4", tmp_path / "f")


def test_downloads_use_local_files_first(tmp_path):
    celeba = tmp_path / "celeba"
    (celeba / "img_align_celeba").mkdir(parents=True)
    (celeba / "identity_CelebA.txt").write_text("000001.jpg 1\n")
    assert real.download_celeba(tmp_path) == celeba
    lfw = tmp_path / "lfw_home" / "lfw_funneled"
    lfw.mkdir(parents=True)
    assert real.download_lfw(tmp_path) == lfw


def test_google_drive_quota_error_says_what_to_download_by_hand(tmp_path, monkeypatch):
    import torchvision.datasets

    class Refused:
        def __init__(self, *a, **k):
            raise RuntimeError("Too many users have viewed or downloaded this file recently.")

    monkeypatch.setattr(torchvision.datasets, "CelebA", Refused)
    with pytest.raises(real.DataError, match=r"img_align_celeba.zip and Anno/identity_CelebA.txt.*celeba/"):
        real.download_celeba(tmp_path)


def test_lfw_layouts(tmp_path):
    tree = tmp_path / "lfw-py" / "lfw_funneled" / "Ann_Example"
    tree.mkdir(parents=True)
    shutil.copy(_photos("7201", 1)[0], tree / "Ann_Example_0001.jpg")
    sources = real.lfw_sources(tmp_path)
    assert [s.identity for s in sources] == ["Ann_Example"]


def test_aligner_picks_the_largest_face():
    photo = np.asarray(Image.open(_photos("7201", 1)[0]).convert("RGB"))
    small = np.asarray(Image.fromarray(photo).resize((photo.shape[1] // 3, photo.shape[0] // 3)))
    canvas = np.zeros((photo.shape[0], photo.shape[1] + small.shape[1], 3), np.uint8)
    canvas[:, :photo.shape[1]] = photo
    canvas[:small.shape[0], photo.shape[1]:] = small
    aligner = Aligner(64)
    result = aligner.align(canvas)
    assert result.faces_found >= 2 and result.face.box[0] < photo.shape[1]
