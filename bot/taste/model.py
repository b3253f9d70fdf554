"""One person's taste, learned from what they saved and what they marked Not interested.

arxiv-sanity's recipe, which the bench measures as the baseline: a linear SVM over TF-IDF, the
saved papers against the rest of the library. Two changes beat it (bench/recommend_quality.py):

- the features also carry our analyzer's terms (`features`), so an acronym and its long form
  are one interest;
- a person's saves are first split into interests (average-linkage clusters of saves that share
  almost no words): one SVM per interest, a paper scored by the interest it fits best. One
  hyperplane between "diffusion solvers" and "LLM agents" fits neither.

Negatives are the papers marked Not interested (weighted up) and a fixed sample of the library
(at 100,000 papers, all of them would make each model take seconds; the sample changes nothing
measurable). Works from one save.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import AgglomerativeClustering
from sklearn.svm import LinearSVC

from bot.taste.features import TasteFeatures

SEPARATE_INTERESTS = 0.95  # cosine distance: saves further apart than this are two interests
MAX_INTERESTS = 4  # more would make each refit slow (one SVM each) and each interest thin
NEGATIVE_SAMPLE = 2_000  # library papers each model is trained against
HIDDEN_WEIGHT = 3.0  # a Not interested mark counts this many times a random paper


@dataclass
class Taste:
    """The fitted model: one (weights, bias) per interest, and the rows it learned from."""

    interests: list[tuple[np.ndarray, float]]
    saved_rows: list[int]
    hidden_rows: list[int]

    def scores(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Each row's fit to the interest it fits best, in standard deviations of that
        interest's scores over `matrix` (so interests of different sizes compare)."""
        if not self.interests or not matrix.shape[0]:
            return np.zeros(matrix.shape[0], dtype=np.float32)
        weights = np.column_stack([w for w, _ in self.interests]).astype(np.float32)
        raw = np.asarray(matrix @ weights) + np.array([b for _, b in self.interests])
        spread = raw.std(axis=0)
        spread[spread == 0] = 1.0
        return np.asarray(((raw - raw.mean(axis=0)) / spread).max(axis=1))


def interests(features: TasteFeatures, saved_rows: list[int]) -> list[list[int]]:
    """The saves grouped into interests."""
    if len(saved_rows) < 2:
        return [saved_rows]
    vectors = features.matrix[saved_rows]
    distance = 1.0 - (vectors @ vectors.T).toarray()
    np.clip(distance, 0.0, 2.0, out=distance)
    labels = _clusters(distance, None, SEPARATE_INTERESTS)
    if len(set(labels.tolist())) > MAX_INTERESTS:  # the closest merged until there are 4
        labels = _clusters(distance, MAX_INTERESTS, None)
    groups: dict[int, list[int]] = {}
    for row, label in zip(saved_rows, labels, strict=True):
        groups.setdefault(int(label), []).append(row)
    return list(groups.values())


def _clusters(distance: np.ndarray, count: int | None, threshold: float | None) -> np.ndarray:
    clustering = AgglomerativeClustering(
        n_clusters=count, metric="precomputed", linkage="average", distance_threshold=threshold
    )
    return np.asarray(clustering.fit(distance).labels_)


def fit(
    features: TasteFeatures, saved_rows: list[int], hidden_rows: list[int], seed: str
) -> Taste | None:
    """A person's taste; None with no saves (there is nothing to learn from)."""
    if not saved_rows:
        return None
    negatives = _negative_sample(features, set(saved_rows) | set(hidden_rows), seed)
    against = list(hidden_rows) + negatives.tolist()
    # liblinear wants float64 rows: the shared negatives are converted once, not per interest.
    contrast = features.matrix[against].astype(np.float64)
    fitted = [
        _interest(features, group, contrast, len(hidden_rows))
        for group in interests(features, saved_rows)
    ]
    return Taste(fitted, saved_rows, hidden_rows)


def _negative_sample(features: TasteFeatures, excluded: set[int], seed: str) -> np.ndarray:
    rows = len(features)
    generator = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))
    if rows <= NEGATIVE_SAMPLE + len(excluded):
        candidates = np.arange(rows)
    else:
        candidates = generator.choice(rows, NEGATIVE_SAMPLE + len(excluded), replace=False)
    return np.array([r for r in candidates if r not in excluded][:NEGATIVE_SAMPLE], dtype=int)


def _interest(
    features: TasteFeatures, group: list[int], contrast: sp.csr_matrix, hidden: int
) -> tuple[np.ndarray, float]:
    if not contrast.shape[0]:  # a library of only saved papers: nothing to contrast
        return np.asarray(features.matrix[group].mean(axis=0)).ravel(), 0.0
    rows = sp.vstack([features.matrix[group].astype(np.float64), contrast], format="csr")
    labels = np.array([1] * len(group) + [0] * contrast.shape[0])
    weights = np.ones(len(labels))
    weights[len(group) : len(group) + hidden] = HIDDEN_WEIGHT
    # arxiv-sanity-lite's SVM (its C and class weights); a looser tolerance than its 1e-6
    # fits four times faster and ranks the same (bench/recommend_quality.py).
    svm = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-3, C=0.01)
    svm.fit(rows, labels, sample_weight=weights)
    return svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0])


def nearest_saved(features: TasteFeatures, taste: Taste, row: int) -> tuple[int, float]:
    """The saved paper a row is most like (its row, and the cosine): the "why" of a pick."""
    similarity = (features.matrix[taste.saved_rows] @ features.matrix[row].T).toarray().ravel()
    best = int(np.argmax(similarity))
    return taste.saved_rows[best], float(similarity[best])
