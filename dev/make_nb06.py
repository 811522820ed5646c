"""Authoring script for notebooks/06_faceid_gan.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("06_faceid_gan.ipynb")
md, code = nb.md, nb.code
nb.opening("06 · FaceID-GAN: G against D and a 2N-class C, and the ablation that proves it", [
    "assemble the full **FaceID-GAN**: G(f_id, f_pose, z), BEGAN's D with its balance k, a **2N-class** C with "
    "**information symmetry**, and the frozen P;",
    "write G's **identity loss** with symmetric features (Exercise 1);",
    "train it with checkpoints by time and resume, live previews, and AMP on a GPU;",
    "run the **ablation**: no C, N-class C, 2N-class C at the same budget, data and seeds, scored by the judge on "
    "people no player has seen.",
])
md("""
**Config.** One cell holds every choice: the budget of the profile (shared with notebooks 04, 05, 07, 08 and
`faceid-lab train faceidgan`, so a checkpoint pre-trained by an instructor on a GPU is the one this notebook
loads), the variants of the ablation, and FaceID-GAN's loss weights with their meaning.

Training what is missing costs 8 to 13 minutes per variant on `cpu` (notebook 04 leaves the N-class model
behind; `faceid-lab train faceidgan --classifier all` and `--no-symmetry` train them ahead of time); on a GPU the
`gpu` profile's larger models take minutes each.
""")
code("""
from dataclasses import asdict

from faceid_lab.deepfake import markdown_table
from faceid_lab.train.faceidgan import FACEIDGAN_BUDGETS, faceidgan_config

cfg = course.by_profile(**FACEIDGAN_BUDGETS)  # this profile's row
VARIANTS = course.by_profile(ci=[("none", True), ("n", True), ("2n", True), ("2n", False)],
                             cpu=[("none", True), ("n", True), ("2n", True), ("2n", False)],
                             gpu=[("none", True), ("n", True), ("2n", True), ("2n", False)])
gan_cfg = faceidgan_config("2n")
meaning = {
    "classifier": "which C plays: none, n (N classes) or 2n (2N classes)",
    "symmetric": "G's f_id from C itself (information symmetry)",
    "pose_gain": "G's condition: f_pose x this, so 7 pose numbers are heard beside 256 identity numbers",
    "gamma": "BEGAN: target ratio R(fake) / R(real)", "lambda_k": "BEGAN: how fast k follows",
    "pose_weight": "G: P's error on the output", "recon_weight": "G: L1 to the studio photo",
    "id_weight": "G: 1 - cos(C(source), C(output))",
    "synth_weight_start": "C: weight of its loss on synthesized faces at step 0",
    "synth_weight_end": "C: ... at the last step (cosine schedule)",
    "imprint": "C's head starts at each person's mean feature",
    "lr": "G's and D's learning rate (Adam, betas 0.5, 0.999)", "c_lr": "C's learning rate",
}
print("budget:", cfg)
markdown_table([{"setting": k, "value": f"{v:g}" if isinstance(v, float) else v, "meaning": meaning[k]}
                for k, v in asdict(gan_cfg).items() if k in meaning])
""")
md("""
## 1. The four players
- **G(f_id, f_pose, z)**: notebook 03's generator. f_id is C's 256-d feature of the source photo, f_pose is P's
  reading of the target (a studio photo in another pose and expression; for frontalization, a frontal neutral
  pose), z is noise.
- **D**: BEGAN's autoencoder discriminator with the balance k and the convergence measure M (notebook 04).
- **C**: the identity network with a **2N-class** head: real person i is class i, synthesized person i is class
  N + i (notebook 05). Its loss on synthesized faces follows a schedule, large early and smaller later.
- **P**: frozen; reads G's output pose.

**Information symmetry.** The same C reads G's input (real) and G's output (synthesized): f_id = C(source),
and G's identity loss is `1 - cos(C(source), C(output))`. Because C is trained to put real i and synthesized i
in different classes, its feature space holds exactly the difference between G's faces and the real person,
and the identity loss asks G to remove it.

### Exercise 1 · G's identity loss
Compute the mean over the batch of `1 - cos(C(source), C(output))`. The source features are a fixed target
(no gradient); the gradient must flow through C into G's outputs.
""")
code('''
import torch
import torch.nn.functional as F


def identity_loss(C, sources, outputs):
    """Mean of 1 - cos(C.features(sources), C.features(outputs)); gradients only through the outputs."""
    # HINT: with torch.no_grad(): f_src = C.features(sources); then F.cosine_similarity(f_src, C.features(outputs))
    with torch.no_grad():
        f_src = C.features(sources)
    return (1 - F.cosine_similarity(f_src, C.features(outputs), dim=1)).mean()
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_identity_loss(identity_loss)
""", tags=["check"])
md("""
One training step, as `faceid_lab.train.faceidgan.faceid_gan_step` runs it (read the source: about forty lines):

1. `fake = G(C(source), f_pose, z)`
2. **D**: `R(real) - k R(fake)`
3. **C**: cross-entropy on real photos (class i) + `synth_weight(t)` x cross-entropy on `fake` (class N + i)
4. **G**: `R(fake)` + pose (P) + L1 to the studio photo + `1 - cos(C(source), C(fake))`
5. **k** `<- clip(k + lambda_k (gamma R(real) - R(fake)), 0, 1)`

On a GPU the forward passes run under `torch.autocast` (bf16 where the GPU has it, else fp16 with a gradient
scaler); the losses stay on the device and are logged every few steps, never synced inside a step.
""")
code("""
import inspect

from faceid_lab.train import faceidgan

print(inspect.getsource(faceidgan.faceid_gan_step))
""")
md("""
## 2. Training FaceID-GAN
Checkpoints every two minutes (on Colab, `course.setup` offers Google Drive so a disconnect loses at most that);
rerunning the cell resumes an unfinished run or loads a finished one.
""")
code("""
from faceid_lab.train.classifier import load_identity_net
from faceid_lab.train.faceidgan import FaceIdGanPreview, faceidgan_data, train_faceid_gan_or_load
from faceid_lab.train.pose import load_pose

identity_net, _ = load_identity_net(device=env.device)
pose_net = load_pose(device=env.device)
data = faceidgan_data(identity_net, pose_net)
preview = FaceIdGanPreview(pose_net, count=8)
model_2n, history = train_faceid_gan_or_load(data, identity_net, pose_net, gan_cfg, device=env.device,
                                             on_log=preview, progress=True, log_every=max(10, gan_cfg.steps // 25))
preview(gan_cfg.steps, history, model_2n)
print(f"{gan_cfg.steps} steps of batch {gan_cfg.batch}, trained in {history['seconds']:.0f} s on {env.device}")
""")
md("""
**Reading the curves.** M falls as the game settles. k stays at or near 0 on the small budgets: D rebuilds
G's faces *worse* than gamma times the real ones from the start, so BEGAN's balance never needs D to push fakes
further away (the same happened in notebook 03; `gamma` closer to 1 or a longer run changes that). C's loss
falls but stays well above zero: G keeps pulling its faces towards the real clusters, so telling real i from
synthesized i never becomes easy. The identity loss falls: G's faces move towards the source person in C's
feature space.

## 3. The ablation
The same data, seeds and number of steps for every variant; only the identity player changes. Everything is
scored on people no player has ever seen, by the judge (its own network, seed and images):

- **judge id similarity**: cosine(judge(source), judge(output)); a real second photo of the same person scores
  the genuine-pair value below, a stranger the impostor value;
- **top-1**: is the output's nearest source (in judge space) its own source person?
- **pose error**: P on the output against the target's true pose (P on real photos: its floor);
- **Frechet (judge)**: distance between Gaussians fitted to the judge's features of G's outputs and of real
  studio photos of the same people (lower is better);
- **L1 / SSIM** to the true studio photo, which only SynthFaces can give.
""")
code("""
from faceid_lab.judge import load_synth_judge
from faceid_lab.train.faceidgan import ablation_rows, evaluate_faceid_gan

judge = load_synth_judge(device=env.device)
verdicts, models = {}, {}
for classifier, symmetric in VARIANTS:
    name = {"none": "no C (as in notebook 03)", "n": "N-class C", "2n": "2N-class C (FaceID-GAN)"}[classifier]
    name += "" if symmetric or classifier == "none" else ", no symmetry"
    model, hist = train_faceid_gan_or_load(data, identity_net, pose_net,
                                           faceidgan_config(classifier, symmetric=symmetric), device=env.device,
                                           progress=True)
    models[name] = model
    verdicts[name] = evaluate_faceid_gan(model, judge, identities=cfg["test_identities"])
    verdicts[name]["train seconds"] = hist["seconds"]
rows = ablation_rows(verdicts)
for row, v in zip(rows, verdicts.values(), strict=True):
    row["train s"] = round(v["train seconds"])
markdown_table(rows)
""")
code("""
any_verdict = next(iter(verdicts.values()))
print(f"reference: a real second photo of the same person scores {any_verdict['genuine_pair_similarity']:.3f}, "
      f"a stranger {any_verdict['impostor_similarity']:.3f}; P's own error on real photos "
      + "/".join(f"{v:.1f}" for v in any_verdict["pose_error_real_deg"].values()) + " deg")
sims = {name: v["id_similarity"] for name, v in verdicts.items()}
ranked = sorted(sims, key=sims.get, reverse=True)
print("ranking by judge identity similarity:", " > ".join(ranked))
""")
md("""
Faces, for the same unseen people and target poses: the source photo, each variant's output, the truth. Be
honest about what you see: at the `cpu` budget no variant paints clean faces. Without C the output is a blurry
average head in the right pose (which is why its L1 and SSIM are the best: blur is what pixel losses reward); the
N-class model's faces are blurrier still; the 2N model's are noisy but carry the person's hair and skin colour and
face shape, which is what the judge reads. The `gpu` profile's wider models and longer runs are where faces get
sharp.
""")
code("""
from faceid_lab.train.gan import run_generator_test
from faceid_lab.viz import show_images

tests = {name: run_generator_test(m.G, m.identity_features, pose_net, identities=8, per_identity=1)
         for name, m in models.items()}
first = next(iter(tests.values()))
show_images(torch.cat([first.sources] + [t.outputs for t in tests.values()] + [first.targets]), ncol=8, scale=2,
            row_labels=["source"] + [n.split(" (")[0] + (", no sym." if "no symmetry" in n else "") for n in tests]
            + ["truth"])
""")
md("""
**What to take away.** Each step of the course's story is a measured gain: the two-player game follows the
pose but barely keeps the person; an identity player with N classes pulls G's faces towards the person; giving
synthesized faces their own classes (2N) makes C an opponent instead of an ally, and the judge, which no
player has seen, agrees. Notebook 07 looks at the same models through C's eyes (UMAP of real and synthesized
clusters), notebook 08 turns G to the front.

**On a GPU.** `faceid-lab train faceidgan --profile gpu --classifier 2n --device cuda` pre-trains the same
checkpoint this notebook loads; `faceid-lab evaluate faceidgan --profile gpu --device cuda` prints the ablation
as JSON; `faceid-lab bench train faceidgan --device cuda` measures the full step (D, C and G) in images per
second.
""")
nb.write()
