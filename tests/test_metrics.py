import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from faceid_lab import metrics


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 400).astype(float)
    genuine = rng.random(400) < 0.3
    assert metrics.roc_auc(scores, genuine) == pytest.approx(roc_auc_score(genuine, scores))


def test_tar_at_far():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    genuine = np.array([1, 1, 0, 1, 0, 0, 0, 0], dtype=bool)
    # the highest impostor is 0.7: at FAR 0 only scores above it are accepted
    assert metrics.tar_at_far(scores, genuine, 0.0) == pytest.approx(2 / 3)
    assert metrics.tar_at_far(scores, genuine, 0.2) == pytest.approx(1.0)


def test_verification_and_retrieval_on_separable_features():
    labels = torch.arange(4).repeat_interleave(5)
    features = torch.nn.functional.one_hot(labels, 4).float() + 0.01 * torch.randn(20, 4)
    report = metrics.verification_report(features, labels)
    assert report["auc"] == 1.0 and report["pairs"] == 190
    assert metrics.leave_one_out_retrieval(features, labels) == 1.0
    assert metrics.nearest_neighbour_accuracy(features, labels, features, labels) == 1.0
