"""Authoring script for notebooks/05_two_n_classifier.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("05_two_n_classifier.ipynb")
md, code = nb.md, nb.code
nb.opening("05 · The 2N idea: real person i and synthesized person i are different classes", [
    "see, in a 2-D world you can watch, why an ordinary **N-class** classifier lets synthesized samples sit "
    "anywhere in their person's region, while a **2N-class** classifier pulls them to the centre of the real "
    "cluster (the paper's Figure 2, made live);",
    "measure that pull: the distance from each synthesized centroid to its real centroid, over training;",
    "write FaceID-GAN's **2N labels** and **C's loss** (Exercises 1 and 2);",
    "train a 2N-class C on real faces and notebook 04's synthesized faces, and see what the N-class C could not: "
    "G's faces are a cluster of their own.",
])
md("""
**Config.** The toy is cheap on every profile. On faces, the 2N classifier is trained on top of notebook 04's
N-class model (train-or-load: without its checkpoint, this notebook trains it first, about 13 minutes on
`cpu`).
""")
code("""
from faceid_lab.toy2d import ToyConfig
from faceid_lab.train.faceidgan import FACEIDGAN_BUDGETS

toy_cfg = ToyConfig(steps=course.by_profile(ci=400, cpu=800, gpu=800))
cfg = course.by_profile(ci=dict(c_steps=20, held_out=2), cpu=dict(c_steps=300, held_out=2),
                        gpu=dict(c_steps=1000, held_out=4))
print("FaceID-GAN budget:", FACEIDGAN_BUDGETS[course.profile()])
toy_cfg, cfg
""")
md("""
## 1. A 2-D world of identities
Four people, each a Gaussian cluster of **real** points (dots). A generator owns a cloud of **synthesized**
points per person (crosses); it can move each cloud and reshape its spread. Like a half-trained G, it starts
with every cloud inside the right person's region but off the real cluster.

A small MLP classifier C plays against it, exactly as C plays against G in FaceID-GAN: C is trained on real
and synthesized points, G is trained to make C say "real person i" for its points of person i. The only
difference between the two runs is **C's label space**:

- **N classes**: synthesized i is labelled i, like real i (AC-GAN, DR-GAN);
- **2N classes**: synthesized i is labelled N + i, its own class.
""")
code("""
from faceid_lab.toy2d import pull_table, toy_figure, train_toy

runs = {name: train_toy(name, toy_cfg) for name in ("n", "2n")}
toy_figure(runs)
""")
md("""
Move the slider (or press play; headless runs show the first, middle and last steps). Background: C's decision
regions, light for real classes, dark for synthesized classes (2N only). Black lines join each real centre to
its synthesized centroid.

- **N-class C**: G's points already get class i where they are, and C grows i's region to take them in. The
  cross-entropy only asks for "more i than anyone else", which is satisfied far from the real cluster, so the
  clouds stay where they are (and shrink).
- **2N-class C**: C carves out a "synthesized i" region around G's points. G can only win "real i" where C has
  seen real i and no fakes: on the real cluster. The clouds are pulled to the centre, and C's synthesized regions
  chase them until the two are hard to tell apart.
""")
code("""
from faceid_lab.deepfake import markdown_table
from faceid_lab.viz.curves import line_chart

display(markdown_table(pull_table(runs), digits=2))
line_chart(runs["n"].steps, {"N-class C": runs["n"].distance, "2N-class C": runs["2n"].distance},
           title="distance from synthesized centroid to real centroid", ylabel="distance")
""")
md("""
### Exercise 1 · the 2N labels
A batch mixes real and synthesized faces. Give every face its class in C's 2N label space: person i is class
`i` when real and class `N + i` when synthesized.
""")
code('''
import torch


def two_n_labels(labels, synthesized, num_identities):
    """labels (B,) person index; synthesized (B,) bool -> (B,) long class in 0 .. 2N - 1."""
    # HINT: labels + num_identities * synthesized.long()
    return labels + num_identities * synthesized.long()
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_two_n_labels(two_n_labels)
""", tags=["check"])
md("""
### Exercise 2 · C's loss
C sees a real batch and a synthesized batch. Its loss is the cross-entropy on the real faces plus, weighted by
`synth_weight`, the cross-entropy on the synthesized ones (with labels from Exercise 1 for the 2N classifier, or
plain `i` for the N-class one). FaceID-GAN makes the weight a **schedule**: large early, when C must learn what
G's faces look like, smaller later, when G's faces are close to real and C should not be pushed around by them.
""")
code('''
import torch.nn.functional as F


def classifier_loss(logits_real, labels_real, logits_fake, labels_fake, synth_weight):
    """Cross-entropy on real faces + synth_weight * cross-entropy on synthesized faces (a scalar tensor)."""
    # HINT: F.cross_entropy(logits_real, labels_real) + synth_weight * F.cross_entropy(logits_fake, labels_fake)
    return F.cross_entropy(logits_real, labels_real) + synth_weight * F.cross_entropy(logits_fake, labels_fake)
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_classifier_loss(classifier_loss)
""", tags=["check"])
code("""
from faceid_lab.train.faceidgan import FaceIdGanConfig, synth_weight_at

schedule = FaceIdGanConfig(steps=FACEIDGAN_BUDGETS[course.profile()]["steps"])
steps = list(range(0, schedule.steps, max(1, schedule.steps // 50)))
line_chart(steps, {"weight of C's loss on synthesized faces": [synth_weight_at(s, schedule) for s in steps]},
           title="the schedule (FaceIdGanConfig.synth_weight_start -> synth_weight_end)")
""")
md("""
## 2. The 2N classifier on faces
Does the same happen with faces? Take notebook 04's model (G trained against an **N-class** C). Its C was
taught that G's face of person i *is* person i. Now train a fresh **2N-class** C (the same start: the identity
network with a new head) on real photos and G's faces of the training people, using your two functions, and ask
it about photos and G's faces it has not trained on.
""")
code("""
from faceid_lab.train.faceidgan import load_faceid_gan

model_n, history_n = load_faceid_gan("n", device=env.device, progress=True)
print(f"notebook 04's model: {model_n.cfg.steps} steps, trained in {history_n['seconds']:.0f} s")
""")
code("""
from faceid_lab.train.faceidgan import faceidgan_data, two_n_probe

data = faceidgan_data(model_n.identity_net, model_n.pose_net)
probe = two_n_probe(model_n, data, two_n_labels, classifier_loss, steps=cfg["c_steps"], held_out=cfg["held_out"])
markdown_table(probe["table"])
""")
md("""
The game's N-class C names the right person for many of G's faces: it was trained to, and it has no way to say
"this is G's version of person i". The 2N-class C starts from the same imprinted head (it cannot tell real i from
synthesized i at first) and, after a short training on real photos and G's faces, sends many of G's new faces to the
**synthesized** classes while keeping nearly all real photos in the real ones: G's faces form a cluster of their own,
next to the real one. (Naming the exact synthesized person is harder: 2N classes, few steps.)

That separation is FaceID-GAN's lever. In notebook 06, C keeps learning this split *while* G trains, and G's
identity loss asks G's face to have the same C-feature as the real input: to leave the synthesized cluster and
land on the real one, as the crosses did in the toy.
""")
nb.write()
