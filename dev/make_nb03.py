"""Authoring script for notebooks/03_pose_guided_gan.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("03_pose_guided_gan.ipynb")
md, code = nb.md, nb.code
nb.opening("03 · P, the pose reader, and a pose-guided GAN that only vaguely resembles", [
    "meet **P**, the pose and expression regressor: the course's stand-in for FaceID-GAN's 3D face model "
    "(3DMM) network, trained on SynthFaces and then **frozen**;",
    "build a two-player GAN, **G(f_id, f_pose, z) vs D**, with a BEGAN discriminator and its balance k;",
    "see that it follows the pose but only **vaguely resembles** the source person, and measure the gap with the judge.",
])
md("""
**Config.** P's budget is fixed per profile in the package (`POSE_BUDGETS`); the GAN's is here: how many
training people, how many wild photos (identity sources) and studio photos (targets) each, and G's training
(`cpu`: about 10 minutes). Many people with few photos each beats few people with many: G must learn a
mapping from *any* identity feature to a face, and each person is one example of that mapping.
""")
code("""
cfg = course.by_profile(
    ci=dict(identities=8, sources=2, targets=4, width=8, batch=8, steps=20, test_identities=6),
    cpu=dict(identities=2000, sources=2, targets=4, width=16, batch=16, steps=3500, test_identities=50),
    gpu=dict(identities=5000, sources=4, targets=8, width=64, batch=128, steps=20000, test_identities=200),
)
cfg
""")
md("""
## 1. P reads pose and expression
FaceID-GAN describes a face's *non-identity* side with a 3D morphable model fitted by a network: pose and
expression coefficients. SynthFaces knows the true pose and expression of every render, so our P is a small
ResNet regressing **yaw, pitch, roll** (degrees) and **smile, mouth open, brow raise, eye closure** ([0, 1])
straight from pixels. Like the paper's, it is trained once and then frozen: no generator ever changes it.
""")
code("""
from faceid_lab.train.pose import POSE_BUDGETS, load_pose

print("P's budget:", POSE_BUDGETS[course.profile()])
pose_net = load_pose(device=env.device)
""")
md("""
### Exercise 1 · read a pose
Give P one face `(3, R, R)` and return its yaw, pitch and roll in degrees (P's `forward` returns all seven
outputs in natural units).
""")
code('''
import torch


def read_pose(pose_net, image):
    """{'yaw': deg, 'pitch': deg, 'roll': deg} for one face (3, R, R)."""
    # HINT: pose_net.eval(); with torch.no_grad(): out = pose_net(image[None])[0]; outputs 0, 1, 2 are the angles.
    pose_net.eval()
    with torch.no_grad():
        out = pose_net(image[None])[0]
    return {"yaw": out[0].item(), "pitch": out[1].item(), "roll": out[2].item()}
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_read_pose(read_pose)
""", tags=["check"])
md("""
How well does P read people it never saw? Yellow arrows: P's reading (nose direction from yaw and pitch,
the bar's tilt is roll); cyan: the truth. Captions: P's yaw / pitch / roll.
""")
code("""
import numpy as np

from faceid_lab.data.datasets import TEST_IDENTITY_OFFSET
from faceid_lab.evaluate import evaluate_pose
from faceid_lab.train.gan import features, render_photos
from faceid_lab.viz.grids import with_pose_arrows

faces, truth = render_photos(0, TEST_IDENTITY_OFFSET + np.arange(8), np.arange(8), studio=False)
with_pose_arrows(faces, features(pose_net, faces), truth, scale=2)
""")
code("""
errors = evaluate_pose(device=env.device, identities=cfg["test_identities"], images_per_identity=10)
{k: round(v, 2) for k, v in errors.items()}
""")
md("""
**Real faces.** P has only seen SynthFaces. On real photos (a shard from `faceid-lab prepare`; set
`FACEID_LAB_REAL_SHARD` to see it below) expect a domain gap. On 12 of the course's shared CelebA test
photos, P's yaw pointed the right way on every clearly turned face and roll stayed within ±8°. Pitch, though,
read +8° to +21° (looking up) on faces that look level: a bias P picked up from cartoon heads. For FaceID-GAN
on real faces you would train P on real 3DMM fits instead. (The committed outputs show no real faces.)
""")
code("""
import os

from faceid_lab.data.shards import Shard

real_shard = os.environ.get("FACEID_LAB_REAL_SHARD")
if real_shard:
    real_faces = torch.from_numpy(np.array(Shard(real_shard).images[:8])).permute(0, 3, 1, 2)
    display(with_pose_arrows(real_faces, features(pose_net, real_faces), scale=2))
else:
    print("no real shard set: SynthFaces only (set FACEID_LAB_REAL_SHARD to a prepared shard to see P on real faces)")
""")
md("""
## 2. A pose-guided generator
G paints a face from three inputs: **who** (f_id, the 256-d feature of a photo of the person from notebook 02's
identity network), **how** (f_pose, P's seven numbers for the target pose and expression) and **noise** z.

The training data is a multi-view studio, as in Multi-PIE, the dataset of DR-GAN and FaceID-GAN's
frontalization experiments: for each training person, *wild* photos (any light, background, pose) give f_id,
and *studio* photos (standard light and background, random pose and expression) are the faces G must produce.

D is **BEGAN**'s discriminator, an autoencoder: it learns to rebuild real faces well and fakes badly, and its
reconstruction error R(x) is the adversarial signal. A balance k, updated every step by
`k <- clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1)`, keeps D from winning too early; the convergence
measure `M = R(real) + |gamma R(real) - R(fake)|` falls as training improves.

G's loss: `R(G(...))` (fool D) + `|P(G(...)) - f_pose|` (show P the target pose) + `|G(...) - studio photo|`
(look like the target). No identity player: that is notebook 04's addition.
""")
code("""
from faceid_lab.data.datasets import TEST_IDENTITY_OFFSET
from faceid_lab.models.gan import BeganDiscriminator, Generator
from faceid_lab.train.classifier import load_identity_net
from faceid_lab.train.gan import GanConfig, make_gan_data
from faceid_lab.viz import show_images

identity_net, _ = load_identity_net(device=env.device)
data = make_gan_data(identity_net, pose_net, seed=0, identity_indices=np.arange(cfg["identities"]),
                     sources_per_identity=cfg["sources"], targets_per_identity=cfg["targets"])
print(f"{cfg['identities']} people: {len(data.sources)} wild sources, {len(data.targets)} studio targets")
show_images(torch.cat([data.sources[::cfg["sources"]][:6], data.targets[::cfg["targets"]][:6]]), ncol=6, scale=2,
            row_labels=["wild", "studio"])
""")
code("""
gan_cfg = GanConfig(width=cfg["width"], batch=cfg["batch"], steps=cfg["steps"])
G, D = Generator(gan_cfg.width), BeganDiscriminator(gan_cfg.width)
count = lambda m: sum(p.numel() for p in m.parameters())
fake = G(torch.zeros(2, 256), torch.zeros(2, 7), torch.zeros(2, gan_cfg.z_dim))
print(f"G: (f_id 256 | f_pose 7 | z {gan_cfg.z_dim}) -> {tuple(fake.shape)}, {count(G):,} parameters")
print(f"D: {tuple(fake.shape)} -> {tuple(D(fake).shape)} reconstruction, R(x) = mean |x - D(x)|, "
      f"{count(D):,} parameters")
""")
md("""
## 3. Training
The picture updates while it trains: unseen test people's wild photo (top), G's face in the studio target's
pose (middle), the true studio photo (bottom). Checkpoints every two minutes; a rerun resumes or loads.
""")
code("""
from faceid_lab.train.gan import GanPreview, train_pose_gan_or_load

preview = GanPreview(identity_net, pose_net, count=8)
G, D, history = train_pose_gan_or_load(data, pose_net, gan_cfg, name="posegan", device=env.device,
                                       on_log=preview, progress=True, log_every=max(10, gan_cfg.steps // 25))
preview(gan_cfg.steps, history, G)
print(f"{gan_cfg.steps} steps of batch {gan_cfg.batch}, trained in {history['seconds']:.0f} s on {env.device}")
""")
md("""
## 4. Right pose, weak identity
The judge compares each output with its **source** photo, and puts that next to what it gives a **real**
second photo of the same person (the genuine-pair similarity) and a stranger (impostor). P reads the output's
pose against the target's true pose.
""")
code("""
from faceid_lab.deepfake import markdown_table, report_table
from faceid_lab.judge import load_synth_judge
from faceid_lab.train.gan import judge_generator, run_generator_test

judge = load_synth_judge(device=env.device)
test = run_generator_test(G, lambda x: features(identity_net, x), pose_net, identities=cfg["test_identities"])
verdict = judge_generator(test, judge, pose_net)
report_table(verdict)
""")
code("""
show_images(torch.cat([test.sources[:16:2], test.outputs[:16:2], test.targets[:16:2]]), ncol=8, scale=2,
            row_labels=["source", "G", "truth"])
""")
code("""
gap = verdict["genuine_pair_similarity"] - verdict["id_similarity"]
print(f"judge similarity, output vs source: {verdict['id_similarity']:.3f}")
print(f"a real second photo of the same person:  {verdict['genuine_pair_similarity']:.3f}")
print(f"a stranger:                               {verdict['impostor_similarity']:.3f}")
share = ((verdict["id_similarity"] - verdict["impostor_similarity"])
         / (verdict["genuine_pair_similarity"] - verdict["impostor_similarity"]))
print(f"the gap: {gap:.3f}; the output sits {share:.0%} of the way from a stranger to the person")
""")
md("""
**Why only vaguely?** Nothing in G's loss asks for the *person*. The L1 term asks for the average face that
fits the target pixels given the features G receives, which blurs the details that make someone recognisable;
D asks for something that looks like *a* face; P asks for the pose. FaceID-GAN adds the missing player: an
identity classifier that competes with G (notebooks 04 to 06).
""")
nb.write()
