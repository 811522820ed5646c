import json

import numpy as np
import pytest
import torch

from faceid_lab.data.datasets import FaceShardDataset, SynthSplit, make_synth_shard, render_split
from faceid_lab.data.shards import Shard, ShardError, ShardWriter
from faceid_lab.images import to_uint8_hwc


def test_synth_shard_matches_in_memory_render(tmp_path):
    split = SynthSplit(0, 4, 3, "train")
    shard = make_synth_shard(tmp_path / "s", split, 32, block=5)
    r, labels, identity, nuisance = render_split(split, 32)
    assert len(shard) == 12 and shard.size == 32
    assert np.array_equal(shard.images, to_uint8_hwc(r.to_uint8()))
    assert np.array_equal(shard.labels, labels.numpy())
    assert np.allclose(shard.nuisance_params, nuisance.to_vector().numpy())
    assert shard.extra["num_identities"] == 4


def test_interrupted_shard_resumes(tmp_path):
    split = SynthSplit(0, 4, 3, "train")
    calls = []

    def stop_after_first_block(done, total):
        calls.append(done)
        if done < total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_synth_shard(tmp_path / "s", split, 32, block=5, progress=stop_after_first_block)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["done"] == 5 and not manifest["complete"]
    with pytest.raises(ShardError, match="unfinished.*run the same preparation command again"):
        Shard(tmp_path / "s")
    shard = make_synth_shard(tmp_path / "s", split, 32, block=5)
    reference = make_synth_shard(tmp_path / "t", split, 32, block=100)
    assert np.array_equal(shard.images, reference.images)


def test_shard_with_other_spec_is_refused(tmp_path):
    make_synth_shard(tmp_path / "s", SynthSplit(0, 2, 2), 32)
    with pytest.raises(ShardError, match="already holds a different shard.*delete that folder"):
        make_synth_shard(tmp_path / "s", SynthSplit(1, 2, 2), 32)


def test_missing_and_corrupt_shards_name_the_path(tmp_path):
    with pytest.raises(ShardError, match=r"nowhere is not a shard \(no manifest.json\)"):
        Shard(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    with pytest.raises(ShardError, match="corrupt"):
        Shard(tmp_path / "bad")


def test_dataset_items(tmp_path):
    shard = make_synth_shard(tmp_path / "s", SynthSplit(0, 3, 2), 32)
    ds = FaceShardDataset(shard, extras=("landmarks", "nuisance_params"))
    item = ds[4]
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert item["label"].item() == 2 and item["landmarks"].shape == (5, 2)
    images, labels = ds.tensors()
    assert torch.allclose(images[4], item["image"]) and labels.tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(KeyError, match="has no array 'depth'"):
        FaceShardDataset(shard, extras=("depth",))


def test_writer_rejects_overflow(tmp_path):
    w = ShardWriter(tmp_path / "w", 2, 8, "test", {"x": 1})
    with pytest.raises(ShardError, match="exceed capacity"):
        w.write(images=np.zeros((3, 8, 8, 3), np.uint8), labels=np.zeros(3, np.int64))
