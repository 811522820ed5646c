"""Authoring script for notebooks/00_setup_and_data.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft('00_setup_and_data.ipynb')
md, code = nb.md, nb.code
nb.opening('00 · Set-up and the SynthFaces lab', [
    'check that your machine (laptop CPU or Colab GPU) runs the course, and know which *profile* you are in;',
    "meet **SynthFaces**, the course's built-in dataset: 3D faces rendered from known parameters;",
    'separate what makes a person (**identity**) from what changes from photo to photo (**pose, expression, light, background**);',
    'see why known ground truth matters: the *true* swap and the *true* frontal face, which no real dataset can give.',
])
md("""
**Config.** Every notebook has one config cell with a budget per profile:
`ci` proves each cell runs (seconds), `cpu` shows the real effect on a laptop (minutes),
`gpu` is the full course. Set `FACEID_LAB_PROFILE` before starting Jupyter to choose;
unset, it is `gpu` when CUDA is available and `cpu` otherwise.
""")
code("""
cfg = course.by_profile(
    ci=dict(identities=4, resolution=32, bench_images=64),
    cpu=dict(identities=8, resolution=64, bench_images=2000),
    gpu=dict(identities=8, resolution=128, bench_images=20000),
)
cfg
""")
md("""
## 1. Your environment
Every line should show a version or a path. A `MISSING` line tells you what to install.
""")
code("""
for key, value in course.environment_report().items():
    print(f"{key:24s} {value}")
""")
md("""
## 2. SynthFaces: people you can render from any angle
Each head is a union of smooth 3D parts (cranium, jaw, cheeks, nose, eyes with iris and pupil,
eyelids, brows, lips, ears, hair), ray-cast analytically and shaded with a light. A person is a
handful of numbers fixed by a seed; a photo adds numbers that change from shot to shot.

Rows below are people; columns are poses and expressions. Can you recognise each person across the row?
""")
code("""
from faceid_lab.viz.synthfaces import tour_grid

tour_grid(seed=0, identities=cfg["identities"], resolution=cfg["resolution"], scale=2)
""")
md("""
| factor | what it is | per |
|---|---|---|
| 16 shape factors | head width/height, jaw, chin, cheekbones, eye size/spacing/height, nose length/width/projection, mouth width, lips, brow thickness/angle, ears | **identity** |
| skin, iris, hair style and colour | 6 hair styles, natural colour palettes | **identity** |
| yaw, pitch, roll | degrees; yaw > 0 turns the nose to the image's right | photo |
| smile, mouth open, brow raise, eye closure | each in [0, 1] | photo |
| light | direction, intensity, colour temperature, ambient | photo |
| background, framing | flat / gradient / stripes; scale and shift jitter | photo |

Face recognition must respond to the first two rows and ignore the rest. A face swap must keep
the *photo* factors of one person and the *identity* factors of another. FaceID-GAN generates a
face from identity features plus pose and expression features: these two groups, exactly.
""")
md("""
### Explore
Move the sliders (in JupyterLab or Colab). Run headless, the cell shows a static strip instead.
""")
code("""
from faceid_lab.viz.synthfaces import explorer

explorer(seed=0)
""")
md("""
## 3. Ground truth comes with every image
A render returns the image, a foreground **mask**, the **part** under each pixel, five **landmarks**
(eyes, nose tip, mouth corners: the points face alignment uses) and whether each is **visible**.
Green dots are visible landmarks; red crosses are hidden by the face itself.
""")
code("""
import numpy as np
import torch

from faceid_lab.data import synthetic as S
from faceid_lab.viz import show_images
from faceid_lab.viz.grids import with_landmarks

ids = S.sample_identities(0, np.arange(6))
photos = S.sample_nuisance(0, np.arange(6), np.zeros(6, dtype=int))
r = S.render(ids, photos, cfg["resolution"])
marked = with_landmarks(r.image, r.landmarks, r.visible, scale=128 // cfg["resolution"] * 2)
show_images(np.stack([np.asarray(m) for m in marked]), ncol=6)
""")
code("""
reference = S.render(ids, S.Nuisance.reference(6), cfg["resolution"])
show_images(torch.cat([r.image, r.mask.expand(-1, 3, -1, -1), reference.image]), ncol=6, scale=2)
""")
md("""
Top: photos. Middle: their masks (used later to blend a swapped face into the frame). Bottom:
each person's **reference view**, frontal, neutral, in standard light: the ground truth for
frontalization in notebook 08.

How fast is the renderer on your machine? (The `bench` command measures the same:
`faceid-lab bench render --resolution 64`.)
""")
code("""
import time

n = cfg["bench_images"]
ids_n = S.sample_identities(0, np.arange(n) % 100)
photos_n = S.sample_nuisance(0, np.arange(n) % 100, np.arange(n))
start = time.perf_counter()
S.render(ids_n, photos_n, cfg["resolution"], device=env.device)
print(f"render: {n / (time.perf_counter() - start):.0f} img/s at {cfg['resolution']} px on {env.device}")
""")
md("""
## Exercise 1 · the ground-truth swap
A face swap of *A → B* should show person **B** with **A**'s pose, expression, light and
background. In SynthFaces that image can simply be rendered. Write `ground_truth_swap` so that
it returns B's identity rendered with the nuisance of photo `image_a` of person A, as a
`(3, R, R)` tensor. Use `S.sample_identities(seed, [index])`, `S.sample_nuisance(seed,
[identity], [image])` and `S.render(...)`.
""")
code("""
from faceid_lab.data import synthetic as S


def ground_truth_swap(seed, identity_b, identity_a, image_a, resolution=64):
    \"\"\"Person B with the pose, expression, light and background of photo `image_a` of A.\"\"\"
    # HINT: the identity comes from B; the nuisance from (identity_a, image_a); take .image[0].
    identity = S.sample_identities(seed, [identity_b])
    nuisance = S.sample_nuisance(seed, [identity_a], [image_a])
    return S.render(identity, nuisance, resolution).image[0]
""", tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_ground_truth_swap(ground_truth_swap)
""", tags=["check"])
code("""
res = cfg["resolution"]
photo_a = S.render(S.sample_identities(0, [1]), S.sample_nuisance(0, [1], [4]), res).image[0]
truth = ground_truth_swap(0, identity_b=2, identity_a=1, image_a=4, resolution=res)
reference_b = S.render(S.sample_identities(0, [2]), S.Nuisance.reference(1), res).image[0]
show_images(torch.stack([photo_a, reference_b, truth]), ncol=3, scale=3,
            labels=["photo of A", "B (reference)", "true swap A->B"])
""")
md("""
## Exercise 2 · what a turned head hides
Write `hidden_landmarks(yaw)` that renders identity 0 (seed 0) in the reference view turned by
`yaw` degrees at 64 px and returns the names of the landmarks that are **not** visible.
""")
code("""
from faceid_lab.data import synthetic as S


def hidden_landmarks(yaw):
    \"\"\"Names of the landmarks hidden when identity 0 turns by `yaw` degrees.\"\"\"
    # HINT: S.Nuisance.reference(1, yaw=yaw); render(...).visible[0]; zip with S.LANDMARK_NAMES.
    r = S.render(S.sample_identities(0, [0]), S.Nuisance.reference(1, yaw=yaw), 64)
    return [name for name, seen in zip(S.LANDMARK_NAMES, r.visible[0].tolist(), strict=True) if not seen]
""", tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_landmark_visibility(hidden_landmarks)
""", tags=["check"])
md("""
## 4. Real faces are opt-in
Everything in this course runs on SynthFaces: no download, and no real person's face. Real
photos and your own videos are an option: `faceid-lab prepare celeba|lfw|folder|video` detects
and aligns faces (dlib's 5-point landmarks, with the `real` extra) into the same kind of shard
SynthFaces uses, and prints the dataset's licence first (CelebA and LFW: non-commercial research
and education). Faces of real people deserve care: use only photos of people who agreed, and
label what you synthesise. Notebook 09 returns to this.

Which real-data tools does this machine have?
""")
code("""
from faceid_lab.data.align import dlib_available

print("dlib 5-point alignment and real-face judge:", "yes" if dlib_available() else
      "no (pip install 'faceid-lab[real]'; an OpenCV face box is the fallback)")
""")
md("""
**Next:** notebook 01 trains the classic deepfake on two SynthFaces people and compares its
swaps with the ground truth you just rendered.
""")

nb.write()
