"""Maintainers: why FaceID-GAN's identity player costs yaw accuracy (issue #7's closing notes).

    python dev/faceidgan_pose_diagnostics.py sweep 2n 1000 '{"pose_gain": 8.0}'   # a short run, judged
    python dev/faceidgan_pose_diagnostics.py shrinkage                            # the cpu models, loaded

`sweep` trains one variant for a few steps on the cpu budget's people with config overrides (JSON) and prints
the judge's verdict. `shrinkage` regresses P's yaw on each cpu model's outputs against the target's true yaw
(slope < 1: extreme yaws under-turned) and correlates the error with the source's yaw offset (the identity
loss pulling G towards the source's pose).
"""

import json
import sys

import numpy as np
import torch


def sweep(classifier: str, steps: int, overrides: dict) -> None:
    from faceid_lab.evaluate import evaluate_faceid_gan
    from faceid_lab.judge import load_synth_judge
    from faceid_lab.profiles import faceidgan_config, faceidgan_data, load_identity_net, load_pose
    from faceid_lab.train.faceidgan import train_faceid_gan

    identity_net, _ = load_identity_net("cpu")
    pose_net = load_pose("cpu")
    data = faceidgan_data(identity_net, pose_net, "cpu")
    cfg = faceidgan_config(classifier.removesuffix("-nosym"), "cpu", not classifier.endswith("-nosym"),
                           steps=steps, **overrides)
    players, history = train_faceid_gan(data, identity_net, pose_net, cfg, log_every=100)
    verdict = evaluate_faceid_gan(players, load_synth_judge("cpu"))
    print(json.dumps({"config": overrides, "steps": steps, "train_seconds": round(history["seconds"]),
                      "id_similarity": verdict["id_similarity"], "pose_error_deg": verdict["pose_error_deg"],
                      "frechet_judge": verdict["frechet_judge"]}))


def shrinkage() -> None:
    from faceid_lab.data.datasets import HELDOUT_IMAGE_OFFSET, TEST_IDENTITY_OFFSET
    from faceid_lab.evaluate import run_generator_test
    from faceid_lab.profiles import load_faceid_gan
    from faceid_lab.train.gan import features, render_photos

    people, per = 100, 2
    labels = np.repeat(np.arange(people), per)
    _, source_truth = render_photos(0, TEST_IDENTITY_OFFSET + labels,
                                    HELDOUT_IMAGE_OFFSET + np.tile(np.arange(per), people), False, 64)
    for classifier in ("none", "n", "2n"):
        p, _ = load_faceid_gan(classifier, "cpu")
        test = run_generator_test(p.G, p.identity_features, p.pose_net, identities=people, per_identity=per)
        out, target, source = features(p.pose_net, test.outputs)[:, 0], test.true_pose[:, 0], source_truth[:, 0]
        err, offset = out - target, source - target
        slope = ((out - out.mean()) * (target - target.mean())).sum() / ((target - target.mean()) ** 2).sum()
        print(f"{classifier}: mean |yaw error| {err.abs().mean():.2f} deg, bias {err.mean():+.2f}, "
              f"slope of output yaw on target yaw {slope:.3f}, "
              f"corr(error, source - target yaw) {np.corrcoef(err, offset)[0, 1]:.2f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    if sys.argv[1] == "sweep":
        sweep(sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]) if len(sys.argv) > 4 else {})
    else:
        shrinkage()
