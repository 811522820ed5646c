"""Authoring script for notebooks/09_detection_and_responsible_use.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("09_detection_and_responsible_use.ipynb")
md, code = nb.md, nb.code
nb.opening("09 · Detecting the fakes, and using face synthesis responsibly", [
    "use FaceID-GAN's own 2N-class C as a **deepfake detector**: it was trained to tell real person i from "
    "synthesized person i;",
    "train a small dedicated detector, and compute a detector's **ROC AUC** by hand (Exercise 1);",
    "test both on a generator they never saw: notebook 01's autoencoder deepfakes (**cross-generator AUC**);",
    "think through consent, dataset licences and labelling synthetic media.",
])
md("""
**Config.** The detector's training budget and the test sizes. The models are notebook 06's FaceID-GAN (2N) and
notebook 01's autoencoder (train-or-load).
""")
code("""
from faceid_lab.detection import DETECTION_BUDGETS

cfg = course.by_profile(**DETECTION_BUDGETS)
cfg
""")
code("""
from faceid_lab.detection import deepfake_frames, detection_data
from faceid_lab.train.faceidgan import faceidgan_data, load_faceid_gan

model, _ = load_faceid_gan("2n", device=env.device, progress=True)
data = faceidgan_data(model.identity_net, model.pose_net)
frames = deepfake_frames(device=env.device, progress=True)
d = detection_data(model, data, test_identities=cfg["test_identities"], train_images=cfg["train_images"],
                   deepfake_frames=frames)
print(f"training: {len(d.train_real)} real + {len(d.train_fake)} synthesized; unseen people: {len(d.test_real)} + "
      f"{len(d.test_fake)}; notebook 01: {len(d.cross_real)} real frames + {len(d.cross_fake)} swaps")
""")
code("""
import torch

from faceid_lab.viz import show_images

show_images(torch.cat([d.test_real[:6], d.test_fake[:6], d.cross_real[:6], d.cross_fake[:6]]), ncol=6, scale=2,
            row_labels=["real", "FaceID-GAN", "video frame", "deepfake"])
""")
md("""
## 1. C already knows
FaceID-GAN's C has 2N classes: N real people and their N synthesized versions. Summing its probabilities over the
synthesized classes gives a detector for free: score = log P(any synthesized class) - log P(any real class). It has
never seen the unseen people, but "synthesized" is not a person, it is a look.

### Exercise 1 · ROC AUC of a detector
The probability that a random fake scores higher than a random real image (ties count half). 0.5 is a coin toss.
""")
code('''
def detector_auc(real_scores, fake_scores):
    """ROC AUC with fakes as positives, from two 1-D tensors of scores."""
    # HINT: diff = fake_scores[None, :] - real_scores[:, None]; ((diff > 0) + 0.5 * (diff == 0)).float().mean()
    diff = fake_scores[None, :] - real_scores[:, None]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_detector_auc(detector_auc)
""", tags=["check"])
code("""
from faceid_lab.detection import CScore, scores

c_score = CScore(model.C, model.num_identities)
print(f"C's split, unseen people: AUC {detector_auc(scores(c_score, d.test_real), scores(c_score, d.test_fake)):.3f}")
""")
md("""
## 2. A dedicated detector, and a generator it never saw
A small CNN (four strided convolutions, pooling, one logit) trained on real studio photos vs FaceID-GAN's faces of
the training people. Then both detectors face notebook 01's deepfakes: real video frames of person A vs A's frames
with B's face pasted in. Neither detector saw that generator, those scenes or that blending.
""")
code("""
from faceid_lab.deepfake import markdown_table
from faceid_lab.detection import detection_report, train_detector

detector = train_detector(d.train_real, d.train_fake, steps=cfg["detector_steps"], device=env.device)
report = detection_report(model, d, detector)
markdown_table(report)
""")
md("""
**Reading it.** In distribution, both detectors separate FaceID-GAN's faces from real photos of people they never
saw. Across generators the two part ways. The dedicated detector learned the *fingerprints of one generator* (its
textures and colours) and loses much of its power on the autoencoder's swaps, which have other fingerprints and are
blended into real frames whose pixels outside the face are genuine. C's split holds up here, most likely because
both generators share one fingerprint at this size, blur, that C's 2N training taught it to notice; a sharper
generator would not give it away so easily. This is the central lesson of deepfake detection research: detectors
must be tested on generators they were not trained on, and a high in-distribution AUC promises little. Provenance
(recording how an image was made, e.g. C2PA content credentials) and labelling are the complements to detection.

## 3. Responsible use
**Consent.** A face is personal data (biometric data under the GDPR and similar laws). Synthesizing someone's face,
or swapping it into a video, without their consent can harm them (non-consensual imagery, fraud, defamation) and
is illegal in a growing number of places. This course never needs a real person: SynthFaces people do not exist,
which is why it is the default everywhere.

**Dataset licences.** The real-face datasets the course can load have terms you accept by downloading them:
- **CelebA** is available for *non-commercial research purposes only*; the images remain the property of their
  owners, and you may not redistribute or modify them (see the CelebA agreement on its project page);
- **LFW** images were collected from the web; the dataset is offered for research, and its authors ask you to
  cite it; the people in it did not consent to face-recognition research;
- your own photos and videos: only of people who agreed, for the purpose they agreed to.
The course's preparation code records each dataset's licence in the shard it writes (`faceid_lab.data.real.LICENCES`;
the CelebA download prints it first), and the tests use a small shared subset that is never copied into the
repository.

**Labelling.** Anything you make with these tools and show to others should say that it is synthetic: in the
caption, and in the file (metadata or content credentials), so that it cannot be mistaken for a recording.

**What the course does and does not teach.** It teaches how identity-preserving synthesis works so that you can
measure it, recognise it and build detectors and safeguards; the models here are small, trained on cartoon faces,
and far from a production deepfake tool. Do not use what you learned to deceive or harm anyone.
""")
nb.write()
