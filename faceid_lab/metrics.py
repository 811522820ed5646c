"""Identity metrics: cosine similarity, verification ROC, retrieval, nearest neighbours."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def cosine_similarity_matrix(a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) cosine similarities (features need not be normalised)."""
    a = F.normalize(a.float(), dim=1)
    b = a if b is None else F.normalize(b.float(), dim=1)
    return a @ b.t()


def roc_curve(scores: np.ndarray, genuine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true accept rates at every threshold (scores high = same person)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    g = np.asarray(genuine, dtype=bool)[order]
    tp, fp = np.cumsum(g), np.cumsum(~g)
    tpr = np.concatenate([[0.0], tp / max(g.sum(), 1)])
    fpr = np.concatenate([[0.0], fp / max((~g).sum(), 1)])
    return fpr, tpr


def roc_auc(scores: np.ndarray, genuine: np.ndarray) -> float:
    """Area under the ROC curve = P(a genuine pair scores above an impostor pair), ties half."""
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(genuine, dtype=bool)
    n_pos, n_neg = g.sum(), (~g).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc needs both genuine and impostor pairs")
    ranks = _average_ranks(s)
    return float((ranks[g].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def tar_at_far(scores: np.ndarray, genuine: np.ndarray, far: float) -> float:
    """True accept rate at the threshold where the false accept rate is at most `far`."""
    s, g = np.asarray(scores), np.asarray(genuine, dtype=bool)
    impostor = np.sort(s[~g])[::-1]
    k = int(np.floor(far * len(impostor)))
    threshold = impostor[k] if k < len(impostor) else -np.inf
    return float((s[g] > threshold).mean())


def verification_pairs(features: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """All unordered pairs (i < j): cosine scores and whether they are the same person."""
    sim = cosine_similarity_matrix(features)
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    return sim[i, j].numpy(), (labels[i] == labels[j]).numpy()


def verification_report(features: torch.Tensor, labels: torch.Tensor) -> dict:
    scores, genuine = verification_pairs(features, labels)
    return {"auc": roc_auc(scores, genuine), "tar_at_far_1e-2": tar_at_far(scores, genuine, 1e-2),
            "tar_at_far_1e-3": tar_at_far(scores, genuine, 1e-3),
            "genuine_mean": float(scores[genuine].mean()), "impostor_mean": float(scores[~genuine].mean()),
            "pairs": int(len(scores))}


def nearest_neighbour_accuracy(query: torch.Tensor, query_labels: torch.Tensor,
                               gallery: torch.Tensor, gallery_labels: torch.Tensor,
                               metric: str = "euclidean", block: int = 512) -> float:
    """Top-1 accuracy of labelling each query by its nearest gallery item."""
    q, g = query.flatten(1).float(), gallery.flatten(1).float()
    hits = 0
    for a in range(0, len(q), block):
        if metric == "cosine":
            d = -cosine_similarity_matrix(q[a:a + block], g)
        else:
            d = torch.cdist(q[a:a + block], g)
        hits += (gallery_labels[d.argmin(1)] == query_labels[a:a + block]).sum().item()
    return hits / len(q)


def leave_one_out_retrieval(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 identity retrieval where each item queries all the others."""
    sim = cosine_similarity_matrix(features)
    sim.fill_diagonal_(-float("inf"))
    return (labels[sim.argmax(1)] == labels).float().mean().item()


def _gaussian_window(size: int = 11, sigma: float = 1.5, channels: int = 3, device=None, dtype=None) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - size // 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).to(dtype or torch.float32).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11, reduce: bool = True) -> torch.Tensor:
    """Structural similarity of images in [0, 1] (B, C, H, W): Gaussian window 11, sigma 1.5
    (Wang et al. 2004). Mean over everything, or per image with reduce=False. Differentiable."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ch = a.shape[1]
    w = _gaussian_window(window, 1.5, ch, a.device, a.dtype)
    mu_a = F.conv2d(a, w, groups=ch)
    mu_b = F.conv2d(b, w, groups=ch)
    var_a = F.conv2d(a * a, w, groups=ch) - mu_a ** 2
    var_b = F.conv2d(b * b, w, groups=ch) - mu_b ** 2
    cov = F.conv2d(a * b, w, groups=ch) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.mean() if reduce else s.flatten(1).mean(1)


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D), (M, D), as FID does
    with Inception features (the course uses the judge's):
        |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
    Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), a symmetric matrix,
    so no general matrix square root is needed. float64; small negative eigenvalues clip to 0."""
    a, b = a.double().cpu(), b.double().cpu()
    if len(a) < 2 or len(b) < 2:
        raise ValueError("frechet_distance needs at least 2 samples in each set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return ((mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross).item()


def kernel_inception_distance(a: torch.Tensor, b: torch.Tensor, subset_size: int = 100, subsets: int = 50,
                              seed: int = 0) -> dict:
    """KID (Binkowski et al. 2018): the unbiased squared MMD between feature sets a (N, D) and b (M, D)
    with the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3, averaged over `subsets` random
    subsets of `subset_size` from each (smaller if a set is smaller). Unbiased: two samples of one
    distribution score about 0 (it can be slightly negative), unlike the Frechet distance's
    positive bias at a few hundred images. Returns {"kid", "std"} (std over subsets)."""
    a, b = a.double().cpu(), b.double().cpu()
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("kernel_inception_distance needs at least 2 samples in each set")
    d = a.shape[1]
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = a[torch.randperm(len(a), generator=gen)[:m]]
        y = b[torch.randperm(len(b), generator=gen)[:m]]
        k_xx, k_yy, k_xy = ((u @ v.T / d + 1) ** 3 for u, v in ((x, x), (y, y), (x, y)))
        off = 1 - torch.eye(m, dtype=torch.float64)
        values.append(((k_xx * off).sum() + (k_yy * off).sum()) / (m * (m - 1)) - 2 * k_xy.mean())
    v = torch.stack(values)
    return {"kid": v.mean().item(), "std": v.std().item() if len(v) > 1 else 0.0}


def gaussian_blurred(images: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Images (N, 3, H, W) in [0, 1] after a Gaussian blur of `sigma` pixels (kernel +-3 sigma)."""
    size = 2 * math.ceil(3 * sigma) + 1
    from torchvision.transforms.functional import gaussian_blur  # why: torchvision is 1.5 s to import

    return gaussian_blur(images.float(), [size, size], [sigma, sigma])


def jpeg_compressed(images: torch.Tensor, quality: int = 75) -> torch.Tensor:
    """Images (N, 3, H, W) in [0, 1] after a JPEG round trip at `quality` (libjpeg, via torchvision)."""
    u8 = (images.detach().cpu().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    from torchvision.io import decode_jpeg, encode_jpeg  # why: torchvision is 1.5 s to import

    return torch.stack([decode_jpeg(encode_jpeg(x, quality=quality)) for x in u8]).float() / 255
