"""Notebook 05's experiment: what does a 2N-class C see in a trained G's faces? (`two_n_probe`)"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .data.datasets import HELDOUT_IMAGE_OFFSET
from .images import to_float
from .models import run_batched
from .models.identity import ClassifierLogits, IdentityNet
from .models.pose import POSE_SCALE
from .train.classifier import batch_indices
from .train.faceidgan import Players, classifier_loss, imprint_head, make_classifier, two_n_labels
from .train.gan import GanData, features, generate, render_photos
from .train.loop import update


def two_n_probe(players: Players, data: GanData, two_n_labels_fn: Callable = two_n_labels,
                classifier_loss_fn: Callable = classifier_loss, steps: int = 300, batch: int = 16,
                held_out: int = 2, people: int = 500, seed: int = 0) -> dict:
    """Notebook 05's experiment: what does a 2N-class C see in a trained G's faces?

    Trains a fresh 2N-class C (the identity network with a new head) for `steps` on real studio
    photos and G's faces of the training people (G frozen), with the given label and loss
    functions, then asks it, and the game's own C, about `held_out` new photos per person of the
    first `people` people and G's faces made from them. Both Cs see faces as the game's C does
    (players.c_sees). Returns {"table": rows, "c_2n": C}."""
    device = next(players.G.parameters()).device
    n = players.num_identities
    C2 = make_classifier(players.identity_net, 2 * n, seed).to(device)
    imprint_head(C2, torch.cat([data.sources, data.targets]), torch.cat([data.source_labels, data.target_labels]), n,
                 players.cfg.soften)
    opt = torch.optim.Adam(C2.parameters(), lr=players.cfg.c_lr, betas=(0.5, 0.999))
    players.G.eval()
    for step in range(steps):
        idx = batch_indices(step, len(data.targets), batch, seed + 1)
        gen = torch.Generator().manual_seed(seed * 7919 + step)
        labels = data.target_labels[idx]
        sources = to_float(data.sources[labels * data.per_identity + torch.randint(data.per_identity, (len(idx),),
                                                                              generator=gen)], device)
        real = to_float(data.targets[idx], device)
        with torch.no_grad():
            fake = players.G(players.f_id(sources), data.f_pose[idx].to(device),
                             torch.randn(len(idx), players.cfg.z_dim, generator=gen).to(device))
        labels = labels.to(device)
        logits = C2.logits(C2.features(players.c_sees(torch.cat([real, fake]))))
        fake_labels = two_n_labels_fn(labels, torch.ones_like(labels, dtype=torch.bool), n)
        loss = classifier_loss_fn(logits[:len(idx)], labels, logits[len(idx):], fake_labels, 1.0)
        update(loss, opt, None)
    # held-out photos of training people, and G's faces from them
    people = min(people, n)
    person = np.repeat(np.arange(people), held_out)
    photos = HELDOUT_IMAGE_OFFSET + np.tile(np.arange(held_out), people)
    # faceidgan_data's people are SynthFaces identities 0 .. N-1, so person p is identity p
    wild, _ = render_photos(seed, person, photos, False, players.cfg.resolution)
    studio, _ = render_photos(seed, person, photos, True, players.cfg.resolution)
    fakes = generate(players.G, players.identity_features(wild), features(players.pose_net, studio) / POSE_SCALE,
                     seed=seed)
    truth = torch.from_numpy(person)

    def verdict(C: IdentityNet, images: torch.Tensor) -> torch.Tensor:
        return run_batched(ClassifierLogits(C, players.c_sees), images).argmax(1)

    rows = []
    for name, C in (("N-class C (the game's, notebook 04)", players.C), ("2N-class C (trained here)", C2)):
        if C is None:
            continue
        on_real, on_fake = verdict(C, studio), verdict(C, fakes)
        two_n = C.head.out_features == 2 * n
        nan = float("nan")
        rows.append({
            "classifier": name, "real photos called real i": (on_real == truth).float().mean().item(),
            "G's faces called real i": (on_fake == truth).float().mean().item(),
            "G's faces called synthesized i": (on_fake == truth + n).float().mean().item() if two_n else nan,
            "real photos called synthesized (anyone)": (on_real >= n).float().mean().item() if two_n else nan,
            "G's faces called synthesized (anyone)": (on_fake >= n).float().mean().item() if two_n else nan})
    return {"table": rows, "c_2n": C2.eval()}
