"""Authoring script for notebooks/01_deepfake_autoencoder.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft('01_deepfake_autoencoder.ipynb')
md, code = nb.md, nb.code
nb.opening('01 · The classic deepfake: one encoder, two decoders', [
    'build the "1.5 autoencoders" of the original deepfake: one **shared encoder**, one **decoder per person**;',
    'train them with the **random warp** so they learn faces instead of copying pixels;',
    "make the swap (A's face through B's decoder), **blend** it back into the frame, and watch a swap video;",
    '**measure** the swap against the ground truth that only SynthFaces can give, with an independent judge;',
    "name the method's weaknesses: one model per pair, hungry for data, and identity that leaks.",
])
md("""
**Config.** Frames per person, held-out frames of A, and the autoencoder's width, batch and
steps for your profile (`cpu`: about 8 minutes of training on a 2-core laptop). To swap two
real people instead, prepare a shard (`faceid-lab prepare folder --root PHOTOS --out SHARD`,
one sub-folder per person, or `faceid-lab prepare video A.mp4 B.mp4 --out SHARD`) and set
`REAL_SHARD` (or the environment variable `FACEID_LAB_DEEPFAKE_SHARD`).
""")
code("""
import os

from faceid_lab import deepfake

cfg = course.by_profile(**deepfake.DEEPFAKE_BUDGETS)
REAL_SHARD = os.environ.get("FACEID_LAB_DEEPFAKE_SHARD")  # None: SynthFaces people 2 and 4
PERSON_A = PERSON_B = None  # a real shard's person names (default: the two with the most photos)
cfg
""")
md("""
## 1. Two people, each on their own video
A deepfake is trained on footage: hundreds of frames of person A and of person B, each filmed in
their own room and light. Our SynthFaces people get exactly that: one scene each, the head turning
and the face talking. The held-out frames of A are what we will swap, and for each of them the
renderer also gives the **true swap**: B in A's exact pose, expression, light and background.
""")
code("""
import torch

from faceid_lab.viz import show_images

pair = deepfake.load_pair(REAL_SHARD, PERSON_A, PERSON_B, cfg["frames"], cfg["test_frames"])
print(pair)
if pair.kind == "real":
    print("licence:", pair.info["licence"] or "your own photos: only of people who agreed")
show_images(torch.cat([pair.faces_a[:8], pair.faces_b[:8]]), ncol=8, scale=2, row_labels=["A", "B"])
""")
md("""
## 2. The random warp
An autoencoder that sees a face and must output the same face can learn to copy. The original
deepfake bends every training face with a **random smooth warp** and asks for the straight face:
to undo a bend it has never seen, the network must know what faces look like.

### Exercise 1 · warp a batch
Jitter a 5 × 5 grid of control points, stretch the jitter into a smooth field over the image,
and sample the image through the displaced grid. Shapes: offsets `(B, 2, 5, 5)`, field
`(B, H, W, 2)`, output like the input.
""")
code('''
import torch
import torch.nn.functional as F


def warp_input(images, strength, generator):
    """images (B, C, H, W) bent by a smooth random field: the network's input."""
    # HINT: offsets = torch.randn(B, 2, 5, 5, generator=generator) * strength; F.interpolate(..., mode="bicubic",
    # HINT: align_corners=True) to (H, W); permute to (B, H, W, 2); add to F.affine_grid(identity); F.grid_sample.
    b, _, h, w = images.shape
    offsets = torch.randn(b, 2, 5, 5, generator=generator) * strength                # control points
    field = F.interpolate(offsets, size=(h, w), mode="bicubic", align_corners=True)  # (B, 2, H, W)
    identity = F.affine_grid(torch.eye(2, 3).expand(b, 2, 3), (b, 1, h, w), align_corners=False)
    grid = identity + field.permute(0, 2, 3, 1)                                      # (B, H, W, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_random_warp(warp_input)
""", tags=["check"])
md("""
The package's `random_warp` adds what the original also did: a random rotation, zoom, shift and
mirror shared by input **and** target (augmentation), then your grid warp on the input only.
Top: training faces; middle: what the network sees; bottom: what it must produce.
""")
code("""
from faceid_lab.data.augment import random_warp

sample = pair.faces_a[:8].float() / 255
warped, target = random_warp(sample, strength=0.06, generator=torch.Generator().manual_seed(0))
show_images(torch.cat([sample, warped, target]), ncol=8, scale=2, row_labels=["face", "input", "target"])
""")
md("""
## 3. One encoder, two decoders
The encoder squeezes a face through a dense bottleneck into a small code; each decoder paints its
person from that code with sub-pixel (pixel-shuffle) upscaling. Because **both** people train the
same encoder, the code must describe what they share (pose, expression, light, framing), while
each decoder learns *who* to paint. At `width=1.0` this is the original faceswap model at 64 px;
the profiles scale every layer's width.
""")
code("""
from faceid_lab.models.autoencoder import FaceSwapAutoencoder
from faceid_lab.train.autoencoder import AutoencoderConfig

ae_cfg = deepfake.autoencoder_config(cfg)
model = FaceSwapAutoencoder(ae_cfg.width, pair.resolution, mask=True)
x = torch.zeros(2, 3, pair.resolution, pair.resolution)
code_ = model.encoder(x)
face, mask = model.decoders["B"](code_)
count = lambda m: sum(p.numel() for p in m.parameters())
print(f"face {tuple(x.shape)} -> code {tuple(code_.shape)} -> face {tuple(face.shape)} + mask {tuple(mask.shape)}")
print(f"parameters: encoder {count(model.encoder):,}, each decoder {count(model.decoders['A']):,}")
""")
md("""
### Exercise 2 · the shared-encoder forward pass
Training rebuilds each person with **their own** decoder. Return both rebuilt batches (the
decoders return `(face, mask)`: keep the face).
""")
code('''
def shared_forward(model, faces_a, faces_b):
    """(A rebuilt by decoder A, B rebuilt by decoder B), both through the one encoder."""
    # HINT: model.encoder(faces) gives the code; model.decoders["A"](code) gives (face, mask).
    rebuilt_a, _ = model.decoders["A"](model.encoder(faces_a))
    rebuilt_b, _ = model.decoders["B"](model.encoder(faces_b))
    return rebuilt_a, rebuilt_b
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_shared_forward(shared_forward)
""", tags=["check"])
md("""
## 4. Training both people at once
Each step warps a batch of A and a batch of B, rebuilds each with its own decoder, and adds the
two losses: mean absolute error plus (1 − SSIM) on the face, and an L1 loss on the mask head
(SynthFaces gives true head masks; real faces get a face oval from the alignment points). One
backward pass updates the shared encoder with both people and each decoder with its own.

The picture below updates while it trains: rows A, A rebuilt, **A → B** (the swap), and the same
for B. Checkpoints are saved every two minutes: if the kernel dies, run the cell again and it
resumes; once finished, it loads in a second.
""")
code("""
preview = deepfake.LivePreview(pair)
model, history = deepfake.train_or_load(pair, ae_cfg, device=env.device, on_log=preview, progress=True,
                                        log_every=max(10, ae_cfg.steps // 25))
preview(ae_cfg.steps, history, model)  # the final state (also when the run was loaded)
print(f"{ae_cfg.steps} steps of batch {ae_cfg.batch} x 2 people, trained in {history['seconds']:.0f} s "
      f"on {env.device}; final loss A {history['loss_a'][-1]:.3f}, B {history['loss_b'][-1]:.3f}")
""")
md("""
## 5. The swap, and putting it back into the frame
The swap is one line: encode A's frame, decode with **B's** decoder. The decoder paints a whole
64 px picture, background included (B's room, not A's), so the face has to be blended back into
A's frame with a mask.

### Exercise 3 · swap and paste
Return A's frames with B's face pasted wherever either head is: the mask is the union
`m = max(decoder mask, frame mask)` and the frame becomes `m * face + (1 - m) * frame`.
""")
code('''
import torch


@torch.no_grad()
def swap_and_paste(model, frames, frame_masks):
    """A's frames (M, 3, R, R) with B's face pasted where either head is."""
    # HINT: face_b, mask_b = model.decoders["B"](model.encoder(frames)); m = torch.maximum(mask_b, frame_masks)
    face_b, mask_b = model.decoders["B"](model.encoder(frames))
    m = torch.maximum(mask_b, frame_masks)
    return m * face_b + (1 - m) * frames
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_swap(swap_and_paste)
""", tags=["check"])
md("""
The package's `swap_frames` does the same with a feathered (softened) edge, and optionally
colour matching (Lab mean and spread) or Poisson blending (`cv2.seamlessClone`). On SynthFaces
the last row is the **ground truth**: B rendered in exactly A's frame.
""")
code("""
shown = slice(0, 8)
result = deepfake.swap_frames(model, pair.test_a[shown], pair.test_masks_a[shown], method="alpha", colour=False)
rows = [pair.test_a[shown], result.swapped, result.blended]
labels = ["A (input)", "decoder B", "blended"]
if pair.truth_ab is not None:
    rows, labels = rows + [pair.truth_ab[shown]], labels + ["truth"]
show_images(torch.cat(rows), ncol=8, scale=2, row_labels=labels)
""")
md("""
## 6. Judging the swap
Looking is not measuring. For every held-out frame of A we ask:
- **pixels**: is the swap closer (L1) to the true swap than to the input frame? And its SSIM to the truth;
- **identity**: the course's independent **judge** (an identity network trained on a world of
  people none of whom appear here, never used to train anything) compares the swap with B's and
  A's identity centroids (mean features of their training faces). On real faces the judge is dlib's
  face descriptor;
- **pose**: P, the pose regressor of notebook 03, reads the swap's yaw, pitch and roll; the error is
  against A's true pose (next to P's own error on A's real frames, its floor).

The first time, the judge and P are trained for your profile (a few minutes on `cpu`) and cached.
""")
code("""
from faceid_lab.train.pose import load_pose

judge = deepfake.judge_for(pair)
pose_net = load_pose() if pair.kind == "synthfaces" else None
final = deepfake.swap_frames(model, pair.test_a, pair.test_masks_a, method="alpha", colour=False)
report = deepfake.evaluate_swap(final, pair, judge, pose_net)
deepfake.report_table(report)
""")
md("""
How you put the face back changes the verdict. The same swaps, four ways:
""")
code("""
deepfake.markdown_table(deepfake.compare_blends(model, pair, judge, pose_net))
""")
md("""
**Reading the table** (the committed `cpu` run; your numbers may differ a little):
- the **raw** decoder output has B's face *and* B's room, so it is far from the input frame in
  pixels even when the face is poor;
- **alpha blending with the head masks** keeps A's background and puts B's face in: closest to
  the truth by SSIM, and the judge sees B;
- **colour matching** (the usual fix for different lighting) moves the swap's colours to A's
  frame: it also pulls B's skin tone towards A's, and the judge notices. Colour is identity too;
- **Poisson blending** keeps the swap's gradients but takes its colours from the mask's boundary
  in A's frame: with a mask around the whole head, that boundary is A's hair, and A comes back.
  This is why faceswap tools clone only the inner face (a landmark hull).
""")
md("""
## 7. The weaknesses, measured
**One model per pair.** The decoder only knows B, and the encoder only ever saw A and B. Swap a
third person, C, whom the model never saw, and compare with C's own ground truth:
""")
code("""
if pair.kind == "synthfaces":
    other = deepfake.synthfaces_pair(pair.info["seed"], a=7, b=pair.info["b"], frames=32,
                                     test_frames=len(pair.test_a))
    other.faces_b = pair.faces_b  # B's identity centroid from the same faces
    unseen = deepfake.evaluate_swap(deepfake.swap_frames(model, other.test_a, other.test_masks_a, colour=False),
                                    other, judge)
    print(f"A -> B (trained pair):  closer to truth {report['blended']['closer_to_truth']:.2f}, "
          f"judge closer to B {report['judge']['closer_to_b']:.2f}, sim to B {report['judge']['similarity_to_b']:.2f}")
    print(f"C -> B (unseen person): closer to truth {unseen['blended']['closer_to_truth']:.2f}, "
          f"judge closer to B {unseen['judge']['closer_to_b']:.2f}, sim to B {unseen['judge']['similarity_to_b']:.2f}")
else:
    print("(needs SynthFaces: a third person with ground truth)")
""")
md("""
- **Retraining per pair.** Every new pair of people is a new model and a new training run (here
  minutes on SynthFaces; hours to days on real video at 256 px). Even a third person swapped
  *into* B's decoder is a different question from the one the model was trained on.
- **Data hunger.** Each decoder needs hundreds of frames of its person covering every pose and
  expression it will have to paint; the swap fails where A turns further than B ever did.
- **Identity leakage.** The swap keeps A's pose and expression, as intended, but also whatever the
  mask leaves of A: outline, jaw, hair, and (with colour matching) skin tone. On real faces the
  mask is a face oval, so A's face shape and jaw survive almost untouched.
- **It is a fake.** Notebook 09 turns the tables and detects swaps like these.

FaceID-GAN (notebooks 04–06) attacks the first two: one generator for **all** identities, driven
by identity features and pose features, so no per-pair training and no per-person decoder.
""")
md("""
## 8. A swap video
A's head turns, nods, smiles and talks; the middle panel is the swap blended into A's frames,
the right panel (SynthFaces) the ground truth.
""")
code("""
clip = deepfake.swap_clip(model, pair, frames=cfg["video_frames"])
video = deepfake.write_video(clip, course.path("videos", f"deepfake_{pair.key}.mp4"), fps=12, scale=3)
print(f"{video} ({video.stat().st_size / 1e3:.0f} kB, {len(clip)} frames)")
deepfake.show_video(video, width=3 * clip.shape[-1])
""")
md("""
**Next:** notebook 02 builds the face-recognition features behind the judge, and shows why
"it vaguely resembles him" is a number.
""")

nb.write()
