"""pyod models whose scores do not depend on the batch they are scored in.

pyod's ECOD and COPOD rebuild their empirical CDFs on training data *plus* the batch
being scored, so the same row scores differently from batch to batch and an attack
batch shifts its own threshold. These subclasses keep the training ECDF frozen at fit
time (and the ensemble combines members on baseline-normalised scores), so a row's
score and the threshold stay fixed until the next ``monitor learn``.
"""

from __future__ import annotations

import warnings

import numpy as np
from pyod.models.base import BaseDetector
from pyod.models.copod import COPOD
from pyod.models.ecod import ECOD
from scipy.stats import skew
from sklearn.utils import check_array


class FrozenEcdf:
    """Per-column empirical CDF of the training data (``sorted_``), with +1 smoothing."""

    # Beyond the training range the tail keeps falling exponentially, on this scale (a
    # share of the column's spread, floored for columns that were constant), so a value
    # far outside the baseline outranks one just past its edge. Capped per feature.
    tail_floor = 0.05
    tail_cap = 25.0

    def freeze(self, X: np.ndarray) -> None:
        self.sorted_ = np.sort(X, axis=0)
        self.n_train_ = X.shape[0]
        with warnings.catch_warnings():  # constant columns: skew is undefined, and 0 is right
            warnings.simplefilter("ignore", RuntimeWarning)
            self.skew_sign_ = np.sign(np.nan_to_num(skew(X, axis=0)))
        self.scale_ = np.maximum(np.std(X, axis=0), self.tail_floor)

    def tails(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(-log left tail, -log right tail) of every value against the training column."""
        n = self.n_train_
        left = np.empty(X.shape, dtype=float)
        right = np.empty(X.shape, dtype=float)
        for j in range(X.shape[1]):
            col = self.sorted_[:, j]
            left[:, j] = np.searchsorted(col, X[:, j], side="right")
            right[:, j] = n - np.searchsorted(col, X[:, j], side="left")
        U_l = -np.log((left + 1) / (n + 1))
        U_r = -np.log((right + 1) / (n + 1))
        scale = getattr(self, "scale_", None)
        if scale is not None:
            below = np.clip(self.sorted_[0] - X, 0, None) / scale
            above = np.clip(X - self.sorted_[-1], 0, None) / scale
            U_l = np.minimum(U_l + below, self.tail_cap)
            U_r = np.minimum(U_r + above, self.tail_cap)
        return U_l, U_r

    def skew_term(self, U_l: np.ndarray, U_r: np.ndarray) -> np.ndarray:
        """The tail that each column's skew points to."""
        s = self.skew_sign_
        return U_l * -1 * np.sign(s - 1) + U_r * np.sign(s + 1)

    # pyod's contract, shared by the frozen models (listed first in their bases)
    def fit(self, X, y=None):
        X = check_array(X)
        self._set_n_classes(y)
        self.freeze(X)
        self.decision_scores_ = self.decision_function(X)
        self._process_decision_scores()
        return self

    def decision_function(self, X):
        """Sum of the per-feature terms; higher is more abnormal."""
        return self.outlyingness(X).sum(axis=1)


class FrozenECOD(FrozenEcdf, ECOD):
    """ECOD scored against the training ECDF only."""

    def outlyingness(self, X) -> np.ndarray:
        """Per-feature ECOD terms (rows x features); their sum is the score."""
        U_l, U_r = self.tails(check_array(X))
        return np.maximum(np.maximum(U_l, U_r), self.skew_term(U_l, U_r))


class FrozenCOPOD(FrozenEcdf, COPOD):
    """COPOD scored against the training ECDF only."""

    def outlyingness(self, X) -> np.ndarray:
        U_l, U_r = self.tails(check_array(X))
        return np.maximum(self.skew_term(U_l, U_r), (U_l + U_r) / 2)


class Ensemble(BaseDetector):
    """Average of member scores, each standardised by its own baseline scores (median / IQR)."""

    def __init__(self, members: list[BaseDetector] | None = None, contamination: float = 0.01):
        super().__init__(contamination=contamination)
        self.members = members or []

    def fit(self, X, y=None):
        X = check_array(X)
        self._set_n_classes(y)
        self.scales_ = []
        for m in self.members:
            m.fit(X)
            base = np.asarray(m.decision_scores_, dtype=float)
            med = float(np.median(base))
            iqr = float(np.subtract(*np.percentile(base, [75, 25]))) or float(np.std(base)) or 1.0
            self.scales_.append((med, iqr))
        self.decision_scores_ = self.decision_function(X)
        self._process_decision_scores()
        return self

    def decision_function(self, X):
        X = check_array(X)
        parts = [(m.decision_function(X) - med) / iqr for m, (med, iqr) in zip(self.members, self.scales_,
                                                                              strict=True)]
        return np.mean(parts, axis=0)
