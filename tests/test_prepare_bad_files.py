"""`prepare` on a folder of bad files: every path is recorded with its reason, nothing stops the run,
phone photos and 16-bit scans are read right, and a re-run follows the files' content, not their
position in the list (on the shared CelebA photos)."""

import os
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from test_real import _photos

from conftest import CELEBA, run_cli
from faceid_lab.data import real
from faceid_lab.data.align import Aligner
from faceid_lab.data.shards import Shard

pytestmark = pytest.mark.skipif(not CELEBA.is_dir(), reason=f"{CELEBA} is not here (the shared test photos)")


def _bomb_png(path, side=20000):
    """A small PNG that declares side x side pixels (1.2 GB decoded): a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grayscale
    rows = zlib.compress(b"\0" * (side + 1) * 2400, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def _sideways_phone_photo(src, dst):
    """The photo stored lying on its side with EXIF Orientation 6, as phones write it."""
    im = Image.open(src).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    im.save(dst, exif=exif.tobytes())
    return im


def _sixteen_bit_png(src, dst):
    gray = np.asarray(Image.open(src).convert("L")).astype(np.uint16) * 257  # 0..65535
    Image.fromarray(gray).save(dst)  # uint16: Pillow writes a 16-bit PNG


@pytest.fixture
def bad_folder(tmp_path):
    root = tmp_path / "people"
    ann, bob = root / "ann", root / "bob"
    (ann / "holiday").mkdir(parents=True)
    bob.mkdir()
    photos = _photos("7201", 8)
    for f in photos[:3]:
        shutil.copy(f, ann / f.name)
    shutil.copy(photos[3], ann / "holiday" / "beach.jpg")                      # nested folder
    Image.open(photos[4]).convert("RGB").save(ann / "animated.gif")              # a GIF
    sideways = _sideways_phone_photo(photos[5], ann / "phone.jpg")               # EXIF orientation 6
    _sixteen_bit_png(photos[6], ann / "scan16.png")                              # 16-bit grayscale
    _bomb_png(ann / "bomb.png")                                                  # decompression bomb
    os.symlink("loop.jpg", ann / "loop.jpg")                                     # a link to itself
    os.symlink(tmp_path / "gone.jpg", ann / "dangling.jpg")                      # a link to nothing
    os.symlink(root, ann / "back")                                               # a folder link in a loop
    (ann / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")                              # a hidden system file
    (ann / "notes.txt").write_text("taken in 2019")                              # not an image
    shutil.copy(photos[7], root / "stray.jpg")                                    # no person's folder
    for f in _photos("7204", 2):
        shutil.copy(f, bob / f.name)
    return root, sideways


def _every_path(root):
    """What a person sees in the folder: every file, link and stray entry (folders walked once)."""
    seen = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            seen.append(name if rel == "." else f"{rel}/{name}")
    return sorted(seen)


def test_every_bad_file_is_recorded_with_its_reason(bad_folder, tmp_path):
    root, sideways = bad_folder
    # the two reading fixes matter: upright, the phone photo has a face; lying on its side it has none
    assert Aligner(64).align(np.asarray(sideways)).crop is None
    report = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", {"source": "folder"}, workers=1)
    records = {r["file"]: r for r in Shard(tmp_path / "s").extra["records"]}
    assert sorted(records) == _every_path(root)  # nothing left out of the manifest
    reason = {name: r.get("reason", "ok") for name, r in records.items()}
    assert reason["ann/bomb.png"].startswith("image too large (it declares 400 megapixels; at most 50")
    assert reason["ann/loop.jpg"].startswith("symlink loop")
    assert reason["ann/back"].startswith("symlink loop")
    assert reason["ann/dangling.jpg"].startswith("dangling link (it points to ")
    assert reason["ann/.DS_Store"].startswith("hidden file")
    assert reason["ann/notes.txt"].startswith("not an image")
    assert reason["stray.jpg"].startswith("not in a person's sub-folder")
    for ok in ("ann/holiday/beach.jpg", "ann/animated.gif", "ann/phone.jpg", "ann/scan16.png"):
        assert reason[ok] == "ok", (ok, reason[ok])
        assert records[ok]["identity"] == "ann"
    assert report.aligned == 3 + 4 + 2 and report.identities == 2
    assert report.skipped == {"image too large": 1, "symlink loop": 2, "dangling link": 1, "hidden file": 1,
                              "not an image": 1, "not in a person's sub-folder": 1}


def test_a_sixteen_bit_scan_keeps_its_tones(tmp_path):
    src = _photos("7201", 1)[0]
    _sixteen_bit_png(src, tmp_path / "scan.png")
    rgb, _ = real.read_rgb(tmp_path / "scan.png")
    want = np.asarray(Image.open(src).convert("L"))
    assert rgb.shape == (*want.shape, 3) and np.abs(rgb[..., 0].astype(int) - want).max() <= 1


def test_the_bomb_never_stops_the_run_and_removing_it_is_no_different_shard(bad_folder, tmp_path):
    root, _ = bad_folder
    first = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", {"source": "folder"}, workers=1)
    (root / "ann" / "bomb.png").unlink()
    again = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", {"source": "folder"}, workers=1)
    assert again.aligned == first.aligned and "image too large" not in again.skipped
    assert "ann/bomb.png" not in {r["file"] for r in Shard(tmp_path / "s").extra["records"]}


def test_a_rerun_follows_the_files_not_their_positions(tmp_path, capsys):
    root = tmp_path / "people"
    (root / "ann").mkdir(parents=True)
    (root / "bob").mkdir()
    ann, bob = _photos("7201", 4), _photos("7204", 3)
    for f in ann[:3]:
        shutil.copy(f, root / "ann" / f.name)
    for f in bob[:2]:
        shutil.copy(f, root / "bob" / f.name)
    spec = {"source": "folder"}
    first = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", spec, workers=1)
    assert first.aligned == 5
    # a photo deleted, one added, one edited (another photo under the same name)
    (root / "ann" / ann[0].name).unlink()
    shutil.copy(bob[2], root / "bob" / bob[2].name)
    shutil.copy(ann[3], root / "ann" / ann[1].name)
    capsys.readouterr()
    rerun = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", spec, workers=1)
    assert "the input files changed since the last run (2 new or changed, 1 gone)" in capsys.readouterr().out
    fresh = real.prepare(real.folder_sources(root), tmp_path / "fresh", "folder", spec, workers=1)
    a, b = Shard(tmp_path / "s"), Shard(tmp_path / "fresh")
    strip = [{k: v for k, v in r.items() if k != "stat"} for r in a.extra["records"]]
    assert strip == [{k: v for k, v in r.items() if k != "stat"} for r in b.extra["records"]]
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert ann[0].name not in str(a.extra["records"]) and rerun.aligned == fresh.aligned == 5
    # unchanged inputs: nothing is redone
    again = real.prepare(real.folder_sources(root), tmp_path / "s", "folder", spec, workers=1)
    assert "changed" not in capsys.readouterr().out and again.seconds >= rerun.seconds


def test_a_file_listed_twice_with_two_labels_is_recorded_not_guessed(tmp_path):
    root = tmp_path / "celeba"
    (root / "img_celeba").mkdir(parents=True)
    photos = _photos("7201", 3)
    for f in photos:
        shutil.copy(f, root / "img_celeba" / f.name)
    (root / "identity_CelebA.txt").write_text(
        f"{photos[0].name} 1\n{photos[1].name} 1\n{photos[2].name} 1\n{photos[0].name} 7\n{photos[1].name} 1\n")
    report = real.prepare(real.celeba_sources(root), tmp_path / "s", "celeba", {"source": "celeba"}, workers=1)
    records = {r["file"]: r for r in Shard(tmp_path / "s").extra["records"]}
    assert records[f"img_celeba/{photos[0].name}"]["reason"] == (
        "conflicting identity labels (identity_CelebA.txt line 1 says 1, line 4 says 7): correct the file")
    assert records[f"img_celeba/{photos[1].name}"]["status"] == "ok"  # the same label twice is no conflict
    assert report.skipped == {"conflicting identity labels": 1} and report.aligned == 2


def test_two_videos_with_the_same_file_name_are_two_people(tmp_path):
    from test_real import _write_video

    for person, identity in (("a", "7201"), ("b", "7204")):
        slides = []
        for f in _photos(identity, 3):
            im = Image.open(f).convert("RGB")
            im.thumbnail((320, 320))
            canvas = Image.new("RGB", (320, 320))
            canvas.paste(im, ((320 - im.width) // 2, (320 - im.height) // 2))
            slides += [np.asarray(canvas)] * 2
        (tmp_path / person).mkdir()
        _write_video(tmp_path / person / "clip.mp4", slides)
    assert real.video_names([tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"]) == ["a_clip", "b_clip"]
    run_cli("prepare", "video", str(tmp_path / "a" / "clip.mp4"), str(tmp_path / "b" / "clip.mp4"), "--every", "2",
            "--out", str(tmp_path / "shard"))
    shard = Shard(tmp_path / "shard")
    assert shard.extra["identities"] == ["a_clip", "b_clip"]
    assert not [r for r in shard.extra["records"] if r.get("reason", "").startswith("duplicate")]
    assert sorted(set(shard.labels.tolist())) == [0, 1]
