"""Save a picture of a FaceID-GAN variant's faces on validation people: source, G, truth (rows).

    python dev/look_generator.py n cpu /tmp/look/n.png
"""
import sys

import torch

from faceid_lab import profiles
from faceid_lab.evaluate import judge_generator, run_generator_test
from faceid_lab.judge import load_synth_judge
from faceid_lab.metrics import gaussian_blurred
from faceid_lab.viz import image_grid

classifier, profile, out = sys.argv[1], sys.argv[2], sys.argv[3]
torch.set_num_threads(2)
players, history = profiles.load("faceidgan", profile, classifier=classifier)
test = run_generator_test(players.G, players.identity_features, players.pose_net, identities=40, per_identity=1,
                          split="validation")
n = 12
image_grid(torch.cat([test.sources[:n], test.outputs[:n], test.targets[:n]]), n, scale=2,
           row_labels=["source", "G", "truth"]).save(out)
ks = history["k"]
print("k: first", ks[:3], "last", ks[-3:], "max", max(ks))
judge = load_synth_judge(profile, progress=False)
verdict = judge_generator(test, judge, players.pose_net)
# identity that lives only in texture is not identity: the judge again after a mild blur of G's faces
blurred = (judge.embed(test.sources) * judge.embed(gaussian_blurred(test.outputs, 1.0))).sum(1).mean().item()
print({k: v for k, v in verdict.items() if k in ("id_similarity", "genuine_pair_similarity", "impostor_similarity",
                                                 "ssim_to_truth", "pose_error_deg")}, {"id_similarity_blur": blurred})
