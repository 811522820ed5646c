"""Authoring script for notebooks/07_umap_identity_clusters.ipynb (run once; the .ipynb is the source)."""
from nbauthor import NotebookDraft

nb = NotebookDraft("07_umap_identity_clusters.ipynb")
md, code = nb.md, nb.code
nb.opening("07 · Real and synthesized identity clusters: N-class vs 2N-class, in UMAP and in numbers", [
    "embed real photos of unseen people and G's faces made from them, with the judge and with each model's own C;",
    "draw them with **UMAP**, both models in one fit, and follow the synthesized faces over training;",
    "measure what the picture suggests in the original feature space: **centroid distance** and **neighbourhood "
    "mixing** (Exercise 1);",
    "learn what UMAP keeps (neighbourhoods) and what it does not (distances between clusters).",
])
md("""
**Config.** How many unseen people and photos each. The two models are notebook 06's N-class and 2N-class runs
(train-or-load; training kept G and C at a quarter, half and three quarters of the run, so we can look back).
""")
code("""
cfg = course.by_profile(ci=dict(identities=4, per_identity=4), cpu=dict(identities=12, per_identity=8),
                        gpu=dict(identities=16, per_identity=10))
MODELS = {"N-class C": "n", "2N-class C (FaceID-GAN)": "2n"}
cfg
""")
code("""
from faceid_lab.judge import load_synth_judge
from faceid_lab.train.faceidgan import load_faceid_gan

judge = load_synth_judge(device=env.device)
models = {name: load_faceid_gan(classifier, device=env.device, progress=True)[0] for name, classifier in MODELS.items()}
for name, m in models.items():
    print(f"{name}: {m.cfg.steps} steps, checkpoint {m.checkpoint.name}")
""")
md("""
## 1. Real photos and G's faces, in feature space
For each unseen person: `per_identity` wild photos, and for each photo the face G makes from it in a studio
target's pose, at each kept step of training. Everything is embedded twice: by the **judge** (one space for all
models, so they can share a picture) and by each model's **own C** at the same step (the space G was trained in).
""")
code("""
import torch

from faceid_lab.clusters import collect_clusters
from faceid_lab.viz import show_images

clusters = collect_clusters(models, judge, identities=cfg["identities"], per_identity=cfg["per_identity"])
first = [j * cfg["per_identity"] for j in range(min(8, cfg["identities"]))]
rows = [clusters.real[first]] + [clusters.synthesized[(m, clusters.steps[m][-1])][first] for m in models]
show_images(torch.cat(rows), ncol=len(first), scale=2, row_labels=["real", "N-class", "2N-class"])
""")
md("""
## 2. The picture: UMAP
UMAP builds a graph of each point's nearest neighbours in the 256-d feature space and lays it out in 2-D so that
neighbours stay neighbours. We fit it **once** on the union of the real photos and both models' faces at every
kept step, with a fixed `random_state`, so positions mean the same thing across the two panels and the slider.

Circles: real photos, coloured by person. Crosses: G's faces, same colour as their person; a grey line joins
each to the photo it was made from. Move the slider (or press play) to go through training.
""")
code("""
from faceid_lab.clusters import umap_layout
from faceid_lab.viz.clusters import cluster_figure

layout = umap_layout(clusters, n_neighbors=15, min_dist=0.1, random_state=0)
cluster_figure(clusters, layout)
""")
md("""
In Jupyter or Colab the explorer below shows the face under the mouse beside the plot (headless runs show the
static picture again).
""")
code("""
from faceid_lab.viz.clusters import cluster_explorer

cluster_explorer(clusters, layout)
""")
md("""
**What UMAP keeps and what it does not.** Neighbourhoods are kept: points that sit together in the picture sit
together in feature space, so "G's faces of person 3 land among the real photos of person 3" can be read off it.
Distances *between* clusters are not kept: UMAP spreads clusters apart to use the page, so "these two clusters are
far apart" or "this gap shrank by half" cannot be read literally. `n_neighbors` sets how much of the graph each
point sees (small: local detail, many small islands; large: more global structure); `min_dist` sets how tightly
points may pack (small: dense clumps; large: even spread). The same data, two settings:
""")
code("""
from faceid_lab.viz.clusters import umap_settings_picture

last = list(models)[-1]
umap_settings_picture(clusters, last, settings=((5, 0.0), (30, 0.8)))
""")
code("""
from faceid_lab.viz.clusters import umap_playground

umap_playground(clusters, last)
""")
md("""
## 3. The numbers
Pictures suggest; numbers decide, and they are computed in the **original feature space**.

### Exercise 1 · centroid distances
For each person p: the distance between the mean feature of p's synthesized faces and the mean feature of p's real
photos. Return one number per person.
""")
code('''
import torch


def centroid_distances(features, labels, synthesized):
    """features (M, D), labels (M,) person 0 .. P-1, synthesized (M,) bool -> (P,) distances."""
    # HINT: per person p: (mean of features[(labels == p) & synthesized]) - (mean of the real ones), then .norm()
    people = int(labels.max()) + 1
    return torch.stack([(features[(labels == p) & synthesized].mean(0)
                         - features[(labels == p) & ~synthesized].mean(0)).norm() for p in range(people)])
''', tags=["solution"])
code("""
# NBVAL_CHECK_OUTPUT
from faceid_lab import exercises

exercises.check_centroid_distances(centroid_distances)
""", tags=["check"])
md("""
The table below uses the package's version of your function and adds **neighbourhood mixing**: for each of G's
faces, the share of its 5 nearest neighbours (among all real photos and G's faces of that model) that are real
photos of the same person: 1 means G's face sits inside the person's real cluster, 0 that G's faces form a cluster of
their own. The **real cluster radius** (a real photo's mean distance to its person's real centroid) is the yardstick
for the centroid distance. Rows: each model, in the judge's space and in its own C's space, at the end of training.
""")
code("""
from faceid_lab.clusters import cluster_table
from faceid_lab.deepfake import markdown_table

markdown_table(cluster_table(clusters))
""")
code("""
from faceid_lab.clusters import distance_over_training
from faceid_lab.viz.curves import line_chart

line_chart(clusters.steps[last], distance_over_training(clusters, "judge"),
           title="judge space: synthesized-to-real centroid distance over training", ylabel="mean over people")
""")
md("""
**Reading it.** In the judge's space, a smaller centroid distance and a higher mixing score mean G's faces are
closer to the real person, as seen by a network no player ever trained against. Compare the two models' rows: the
2N-class model's synthesized faces should sit nearer their real clusters, as the toy in notebook 05 predicted. In
each model's own C space the numbers answer a different question (how the game's own referee sees G's faces), and
they are not comparable across models: each C has its own space.
""")
nb.write()
