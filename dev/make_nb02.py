"""Authoring script for notebooks/02_identity_features.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("02_identity_features.ipynb")
md, code = nb.md, nb.code
nb.opening("02 · Identity features, verification and the independent judge", [
    "turn a face into an **identity feature**: a 256-d unit vector from a network trained to tell people apart;",
    "compare faces with **cosine similarity**, and measure a face-recognition system with the "
    "**verification ROC**, TAR at a fixed FAR, and top-1 retrieval;",
    "meet the course's **judge**: an identity network that no training objective ever sees, so its numbers "
    "can be trusted;",
    "see why \"it vaguely resembles him\" is a number: the judge's similarity for a genuine pair vs a synthesized face.",
])
md("""
**Config.** The identity network's budget is fixed per profile in the package (`IDENTITY_BUDGETS`); here you
choose the test set and the margin of the classification head (0: plain softmax; try 0.2, an additive cosine
margin in the CosFace / ArcFace family, which pulls each person's features into a tighter cluster).
""")
code("""
from faceid_lab.train.classifier import IDENTITY_BUDGETS

cfg = course.by_profile(
    ci=dict(test_identities=8, images_per_identity=6, umap_identities=6),
    cpu=dict(test_identities=50, images_per_identity=10, umap_identities=12),
    gpu=dict(test_identities=200, images_per_identity=10, umap_identities=16),
)
MARGIN = 0.0
print("identity network budget:", IDENTITY_BUDGETS[course.profile()])
cfg
""")
md("""
## 1. From a face to a feature
The identity network is a compact ResNet: a strided stem, four residual stages, global average pooling, a
linear layer to 256 numbers, batch norm, and **L2 normalisation**, so every face becomes a point on a sphere.
It is trained as an **N-class classifier** over the training people; afterwards the classifier head is thrown
away and the feature is what we keep. People it never saw still land in their own small regions of the sphere.
""")
code("""
import torch

from faceid_lab.models.identity import IdentityNet

net = IdentityNet(num_classes=10, width=24)
x = torch.rand(2, 3, 64, 64)
h = net.stem((x - 0.5) / 0.25)
print("face", tuple(x.shape), "-> stem", tuple(h.shape), end="")
for stage in net.stages:
    h = stage(h)
    print(" ->", tuple(h.shape), end="")
print(" -> pool, linear, BN, L2 ->", tuple(net.features(x).shape))
print(f"parameters: {sum(p.numel() for p in net.parameters()):,}")
""")
md("""
### Exercise 1 · one training step
Features, then the classifier's logits (pass the labels: with a margin, the head subtracts it from the true
class's cosine), cross-entropy, and one optimizer step. Return the loss as a number.
""")
code('''
import torch.nn.functional as F


def identity_training_step(net, opt, images, labels):
    """One step of N-class training; returns the loss (float)."""
    # HINT: logits = net.logits(net.features(images), labels); F.cross_entropy; zero_grad, backward, step.
    logits = net.logits(net.features(images), labels)
    loss = F.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_identity_training_step(identity_training_step)
""", tags=["check"])
md("""
The package's loop (`faceid_lab.train.classifier`) is the same step plus what a real run needs: mirrored faces,
label smoothing, a warm-up then cosine learning rate, logging without a host sync every step, and a checkpoint
every two minutes. Trained once per profile, then loaded (`cpu`: about 4 minutes).
""")
code("""
from faceid_lab.train.classifier import load_identity_net
from faceid_lab.viz.curves import line_chart

identity_net, history = load_identity_net(margin=MARGIN, device=env.device)
print(f"trained in {history['seconds']:.0f} s; final training accuracy {history['accuracy'][-1]:.2f}")
line_chart(history["step"], {"loss": history["loss"], "accuracy": history["accuracy"]}, title="identity network")
""")
md("""
## 2. Cosine similarity and verification
Verification asks: *are these two photos the same person?* The network answers with the cosine similarity of
their features and a threshold. Every threshold trades false accepts (impostors let in) for false rejects.
The **ROC curve** shows all thresholds at once; its **AUC** is the chance that a genuine pair scores above an
impostor pair. We test on people the network never saw.

### Exercise 2 · cosine similarity and the AUC by hand
""")
code('''
import torch


def cosine_similarity(a, b):
    """(N, D), (M, D) -> (N, M) cosine similarities."""
    # HINT: normalise rows with torch.nn.functional.normalize(x, dim=1), then a matrix product.
    unit_a = torch.nn.functional.normalize(a, dim=1)
    unit_b = torch.nn.functional.normalize(b, dim=1)
    return unit_a @ unit_b.T


def verification_auc(features, labels):
    """ROC AUC over all pairs i < j: the share of (genuine, impostor) pairs ranked correctly, ties half."""
    # HINT: torch.triu_indices(n, n, offset=1) lists the pairs; compare every genuine score with every impostor one.
    sim = cosine_similarity(features, features)
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    scores, same = sim[i, j], labels[i] == labels[j]
    genuine, impostor = scores[same], scores[~same]
    wins = (genuine[:, None] > impostor[None, :]).float() + 0.5 * (genuine[:, None] == impostor[None, :]).float()
    return wins.mean().item()
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_verification_auc(cosine_similarity, verification_auc)
""", tags=["check"])
md("""
Now on unseen SynthFaces people (the course world's test identities: never trained on), with the package's
`faceid_lab.metrics`: ROC AUC, the true accept rate at a false accept rate of 1 in 100 and 1 in 1,000, and
leave-one-out top-1 retrieval (each photo finds its nearest other photo: same person?).
""")
code("""
from faceid_lab import metrics
from faceid_lab.data.datasets import SynthSplit, render_split
from faceid_lab.train.gan import features
from faceid_lab.viz import show_images

test_split = SynthSplit(0, cfg["test_identities"], cfg["images_per_identity"], "test")
test_render, test_labels, _, _ = render_split(test_split)
test_images = test_render.image
show_images(test_images[: 2 * cfg["images_per_identity"]], ncol=cfg["images_per_identity"], scale=2)
""")
code("""
def report(name, feats):
    r = metrics.verification_report(feats, test_labels)
    return {"network": name, "ROC AUC": r["auc"], "TAR@FAR=1e-2": r["tar_at_far_1e-2"],
            "TAR@FAR=1e-3": r["tar_at_far_1e-3"],
            "top-1 retrieval": metrics.leave_one_out_retrieval(feats, test_labels),
            "genuine mean cos": r["genuine_mean"], "impostor mean cos": r["impostor_mean"]}


net_features = features(identity_net, test_images)
rows = [report("identity network (this notebook)", net_features)]
rows[0]
""")
md("""
## 3. The judge
Later notebooks train generators *against* an identity network. A generator can fool the very network it
trains against (adversarial examples) without making the face look more like the person. So every
identity number in this course comes from a **judge**: an identity network with its own architecture width,
its own seed and its own world of training people (none of whom appear anywhere else), that is **never** used
as a training signal. On real faces the judge is dlib's 128-d face descriptor.
""")
code("""
from faceid_lab.judge import load_synth_judge

judge = load_synth_judge(device=env.device)
judge.provenance
""")
code("""
from faceid_lab.deepfake import markdown_table

judge_features = judge.embed(test_images)
rows.append(report(judge.name, judge_features))
markdown_table(rows)
""")
md("""
Genuine pairs (two photos of one person) against impostor pairs (two different people), as the judge sees them,
and the ROC curve:
""")
code("""
from faceid_lab.viz.curves import histogram_chart

scores, genuine = metrics.verification_pairs(judge_features, test_labels)
histogram_chart({"genuine pairs": scores[genuine], "impostor pairs": scores[~genuine]},
                title="judge: cosine similarity", xlabel="cosine similarity")
""")
code("""
far, tar = metrics.roc_curve(scores, genuine)
keep = slice(None, None, max(1, len(far) // 400))
line_chart(far[keep], {"judge": tar[keep]}, title=f"ROC (AUC {metrics.roc_auc(scores, genuine):.3f})",
           xlabel="false accept rate", ylabel="true accept rate")
""")
md("""
## 4. "It vaguely resembles him", as a number
The judge's **genuine-pair mean** is what "the same person in another photo" scores; the **impostor mean** is a
stranger. A synthesized face that is meant to be person X but scores halfway between the two is exactly what
people call *vaguely resembles*: notebook 03 builds a generator that does this, and FaceID-GAN (notebooks 04 to
06) closes the gap.
""")
code("""
judge_row = rows[-1]
print(f"judge, unseen people: genuine mean {judge_row['genuine mean cos']:.3f}, "
      f"impostor mean {judge_row['impostor mean cos']:.3f}")
print(f"'vaguely resembles' lives around {(judge_row['genuine mean cos'] + judge_row['impostor mean cos']) / 2:.2f}")
""")
md("""
## 5. What identity looks like: UMAP of the judge's features
UMAP squeezes the 256-d features onto a page while keeping each point's neighbours close. One colour per
person; each dot is a photo of an unseen person in any pose, expression and light. Tight, separate clusters
are what "identity" means to the judge. (UMAP keeps neighbourhoods, not distances: do not read the gaps
between clusters literally. Notebook 07 explores its knobs.)
""")
code("""
from faceid_lab.viz.scatter import scatter_2d, umap_2d

shown = test_labels < cfg["umap_identities"]
coords = umap_2d(judge_features[shown], n_neighbors=10, min_dist=0.2, random_state=0)
hover = [f"person {int(lab)}, photo {k % cfg['images_per_identity']}" for k, lab in enumerate(test_labels[shown])]
scatter_2d(coords, [f"person {int(lab)}" for lab in test_labels[shown]], hover=hover,
           title="judge features of unseen people (UMAP)")
""")
md("""
**Real faces.** With the `real` extra, `faceid-lab prepare celeba|lfw|folder ... --out SHARD` and
`faceid-lab evaluate real --shard SHARD` give the same verification numbers for dlib's descriptor on real
photos (on the course's CelebA test subset: ROC AUC about 0.996). Real faces are opt-in and licensed for
research and teaching only.

**Next:** notebook 03 builds P, the pose reader, and a generator that follows the pose but only vaguely
resembles its source.
""")
nb.write()
