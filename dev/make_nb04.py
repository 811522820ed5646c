"""Authoring script for notebooks/04_gdc_n_class.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("04_gdc_n_class.ipynb")
md, code = nb.md, nb.code
nb.opening("04 · G vs {D + C}: an N-class identity classifier joins the game", [
    "write BEGAN's balance update, the **k_t** that keeps D from winning too early (Exercise 1);",
    "add a third player, an identity classifier **C** with **N classes** (one per training person), the prior "
    "art of AC-GAN and DR-GAN: G's face of person i should be recognised as person i;",
    "give G an **identity loss** measured in C's feature space, with C also giving G its identity input "
    "(information symmetry);",
    "measure with the judge how much closer to the source person G's faces get, and look at what C thinks of them.",
])
md("""
**Config.** FaceID-GAN's budgets are fixed per profile in the package (`FACEIDGAN_BUDGETS`) so that notebooks
04 to 08 and `faceid-lab train faceidgan` share the same checkpoints: the training people (many people, few
photos each, as in notebook 03), G's and D's width, batch and steps. `cpu`: about 13 minutes per model.
""")
code("""
from faceid_lab.train.faceidgan import FACEIDGAN_BUDGETS

cfg = course.by_profile(**FACEIDGAN_BUDGETS)  # this profile's row
cfg
""")
md("""
## 1. D, and the balance k
D is notebook 03's BEGAN discriminator: an autoencoder that rebuilds real faces well and fakes badly. Its loss
is `R(real) - k R(fake)`. The balance k starts at 0 (D first learns to rebuild faces at all) and follows the
gap between the two errors:

    k <- clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1)

so D pushes fakes away only as hard as it can afford while still rebuilding real faces. gamma is the target
ratio R(fake) / R(real) (lower: sharper but less varied faces). The convergence measure
`M = R(real) + |gamma R(real) - R(fake)|` falls as the game settles, which a plain GAN loss never tells you.

### Exercise 1 · the k update
Return the new k and M for one step.
""")
code('''
import torch


def k_update(k, r_real, r_fake, gamma, lambda_k):
    """BEGAN's balance: (new k clipped to [0, 1], convergence measure M)."""
    # HINT: new_k = torch.clamp(k + lambda_k * (gamma * r_real - r_fake), 0, 1); M = r_real + |gamma r_real - r_fake|
    new_k = torch.clamp(k + lambda_k * (gamma * r_real - r_fake), 0.0, 1.0)
    return new_k, r_real + torch.abs(gamma * r_real - r_fake)
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_k_update(k_update)
""", tags=["check"])
md("""
## 2. The third player: C with N classes
C is an identity classifier over the N training people. It starts as a copy of notebook 02's identity network
(the same trunk and 256-d feature layer) with a fresh N-way head, and it keeps learning during the game:

- **C's loss** (the AC-GAN / DR-GAN recipe): cross-entropy on real photos with their person's label, and on G's
  faces **with the same label**, "G's face of person i is person i", weighted by a schedule;
- **G's identity loss**: `1 - cos(C(source), C(G(...)))`, the cosine distance between C's features of the input
  photo and of G's output;
- **information symmetry**: G's identity input `f_id` is C's feature of the source photo, so the same network
  reads G's input and scores its output.

G's full loss: `R(G(...))` (fool D) + pose (P) + L1 to the studio photo + identity (C). Per step: D, then C,
then G, then k. All the weights live in one config (`FaceIdGanConfig`):
""")
code("""
from dataclasses import asdict

from faceid_lab.deepfake import markdown_table
from faceid_lab.train.faceidgan import FaceIdGanConfig, faceidgan_config

meaning = {
    "gamma": "BEGAN: target ratio R(fake) / R(real)", "lambda_k": "BEGAN: how fast k follows",
    "pose_weight": "G: P's error on the output", "recon_weight": "G: L1 to the studio photo",
    "id_weight": "G: 1 - cos(C(source), C(output))", "synth_weight_start": "C: weight on synthesized faces, step 0",
    "synth_weight_end": "C: ... at the last step (cosine schedule)", "c_lr": "C's learning rate",
    "lr": "G's and D's learning rate",
}
gan_cfg = faceidgan_config("n")
markdown_table([{"setting": k, "value": f"{v:g}" if isinstance(v, float) else v, "meaning": meaning[k]}
                for k, v in asdict(gan_cfg).items() if k in meaning])
""")
code("""
from faceid_lab.train.classifier import load_identity_net
from faceid_lab.train.faceidgan import faceidgan_data, make_classifier
from faceid_lab.train.pose import load_pose

identity_net, _ = load_identity_net(device=env.device)
pose_net = load_pose(device=env.device)
data = faceidgan_data(identity_net, pose_net)
people = int(data.target_labels.max()) + 1
C = make_classifier(identity_net, people)
x = data.targets[:2].float() / 255
print(f"{people} training people: {len(data.sources)} wild sources, {len(data.targets)} studio targets")
feature = C.features(x)
print(f"C: face {tuple(x.shape)} -> feature {tuple(feature.shape)} -> logits {tuple(C.logits(feature).shape)}")
""")
md("""
## 3. Training
The picture updates while it trains: unseen people's wild photo (top), G's face in the studio target's pose
(middle), the true studio photo (bottom); below, BEGAN's M and k, G's identity loss and C's loss. Checkpoints
every two minutes; a rerun resumes or loads (on Colab with Drive, a disconnect loses at most that).
""")
code("""
from faceid_lab.train.faceidgan import FaceIdGanPreview, train_faceid_gan_or_load

preview = FaceIdGanPreview(pose_net, count=8)
model_n, history = train_faceid_gan_or_load(data, identity_net, pose_net, gan_cfg, device=env.device, on_log=preview,
                                            progress=True, log_every=max(10, gan_cfg.steps // 25))
preview(gan_cfg.steps, history, model_n)
print(f"{gan_cfg.steps} steps of batch {gan_cfg.batch}, trained in {history['seconds']:.0f} s on {env.device}")
""")
md("""
## 4. What the judge says, and what C says
The judge (never seen by any player) compares each output with its source photo, for unseen people; P reads the
output's pose against the target's true pose; the Frechet distance between the judge's features of G's faces and
of real studio photos measures image quality (lower is better).
""")
code("""
from faceid_lab.deepfake import report_table
from faceid_lab.judge import load_synth_judge
from faceid_lab.train.faceidgan import evaluate_faceid_gan

judge = load_synth_judge(device=env.device)
verdict_n = evaluate_faceid_gan(model_n, judge, identities=cfg["test_identities"])
report_table(verdict_n)
""")
code("""
share = ((verdict_n["id_similarity"] - verdict_n["impostor_similarity"])
         / (verdict_n["genuine_pair_similarity"] - verdict_n["impostor_similarity"]))
print(f"judge similarity, output vs source: {verdict_n['id_similarity']:.3f} "
      f"(a real second photo: {verdict_n['genuine_pair_similarity']:.3f}, a stranger: "
      f"{verdict_n['impostor_similarity']:.3f}): {share:.0%} of the way from a stranger to the person")
from faceid_lab.viz.curves import line_chart

line_chart(history["step"], {"C takes G's face for person i": history["c_fooled"]},
           title="the N-class C agrees with G", ylabel="share of G's faces in the batch")
""")
md("""
**Read the last curve.** C starts knowing the people (its head is *imprinted*: row i is the mean feature of
person i's photos) and is trained to call G's face of person i "person i". Over training it agrees with G more
and more: by the end it names the right person for a large share of G's faces. So C is G's **ally**, not its
opponent. G's identity loss still pulls its faces towards C's feature of the source, and the judge sees the
gain over notebook 03's two-player game. But nothing in C's training asks what separates G's face of person i
from a *real* photo of person i, so nothing tells G. Notebook 05 changes one thing, C's label space, and shows
what that buys.
""")
nb.write()
