"""A refactoring's guard: a few steps of every game from fixed seeds, as hashes of the weights.

    python dev/fingerprint_games.py > before.json     # on the old code
    python dev/fingerprint_games.py > after.json      # on the new code, same machine, same torch
    diff before.json after.json                       # empty: every game computes what it did

Each game trains a few steps on a handful of rendered faces (CPU, float32, one thread), then
prints the SHA-256 of its final weights and of its logged history, and the checkpoint names that
the cpu profile's notebooks load. Hashes depend on this machine's kernels: compare two runs on
one machine, never against a stored value.
"""

from __future__ import annotations

import hashlib
import json
import tempfile

import numpy as np
import torch

from faceid_lab.models.identity import IdentityNet
from faceid_lab.models.pose import PoseNet
from faceid_lab.profiles import faceidgan_checkpoint_name
from faceid_lab.train.autoencoder import AutoencoderConfig, train_autoencoder
from faceid_lab.train.classifier import ClassifierConfig, train_classifier
from faceid_lab.train.faceidgan import FaceIdGanConfig, train_faceid_gan
from faceid_lab.train.gan import GanConfig, make_gan_data, render_photos, train_pose_gan
from faceid_lab.train.pose import PoseConfig, train_pose


def digest(*modules: torch.nn.Module | None, history: dict | None = None) -> dict:
    h = hashlib.sha256()
    for m in modules:
        if m is None:
            continue
        for name, t in sorted(m.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    out = {"weights": h.hexdigest()[:16]}
    if history is not None:
        curves = {k: v for k, v in history.items() if isinstance(v, list)}
        out["history"] = hashlib.sha256(json.dumps(curves, sort_keys=True).encode()).hexdigest()[:16]
    return out


def main() -> None:
    torch.set_num_threads(1)
    people = np.arange(6)
    images, truth = render_photos(0, np.repeat(people, 4), np.tile(np.arange(4), 6), False, 32)
    labels = torch.from_numpy(np.repeat(np.arange(6), 4))
    result = {}
    net, hist = train_classifier(images, labels, ClassifierConfig(num_classes=6, width=8, steps=6, batch=8, warmup=2))
    result["identity"] = digest(net, history=hist)
    pose, hist = train_pose(images, truth, PoseConfig(width=8, steps=6, batch=8, warmup=2))
    result["pose"] = digest(pose, history=hist)
    ae, hist = train_autoencoder(images[:12], images[12:], AutoencoderConfig(resolution=32, steps=4, batch=4,
                                                                           mask=False))
    result["autoencoder"] = digest(ae, history=hist)
    identity_net = IdentityNet(6, width=8).eval().requires_grad_(False)
    torch.manual_seed(1)
    pose_net = PoseNet(8).eval().requires_grad_(False)
    data = make_gan_data(identity_net, pose_net, 0, people, 2, 2, resolution=32)
    G, D, hist = train_pose_gan(data, pose_net, GanConfig(width=8, resolution=32, steps=4, batch=4))
    result["posegan"] = digest(G, D, history=hist)
    with tempfile.TemporaryDirectory() as tmp:
        for classifier, symmetric in (("none", True), ("frozen", True), ("real", True), ("n", True), ("2n", True),
                                      ("2n", False)):
            cfg = FaceIdGanConfig(classifier=classifier, symmetric=symmetric, width=8, resolution=32, steps=4,
                                  batch=4, feature_weight=2.0 if classifier == "2n" else 1.0)
            p, hist = train_faceid_gan(data, identity_net, pose_net, cfg, checkpoint=f"{tmp}/{classifier}{symmetric}.pt")
            saved = torch.load(f"{tmp}/{classifier}{symmetric}.pt", weights_only=True)
            result[f"faceidgan {classifier} symmetric={symmetric}"] = {
                **digest(p.G, p.D, p.C, p.balance, history=hist),
                "checkpoint keys": sorted(saved), "modules": sorted(saved["modules"])}
    budgets = {"none": 2000, "n": 2000, "2n": 2000}
    result["checkpoint names (cpu)"] = [
        faceidgan_checkpoint_name(FaceIdGanConfig(classifier=c, width=16, batch=16, steps=3000), people, people * 4, "cpu")
        for c, people in budgets.items()]
    print(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
