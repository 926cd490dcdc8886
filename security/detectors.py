"""Anomaly detectors: pyod models chosen by name, behind a feature schema locked at fit time.

Contract (pyod's own): ``fit(rows)``; ``decision_function(rows)``, higher = more
abnormal; ``threshold_`` (calibrated on the baseline's scores at the configured
contamination); learned state ends in ``_``. A fitted :class:`Detector` is saved with
its schema, baseline statistics and library versions, and is never refitted on the
traffic it scores: only ``iocwatch monitor learn`` fits.

Detectors by name: ``ecod`` (default), ``iforest``, ``copod``, ``hbos``, ``ensemble``.
"""

from __future__ import annotations

import logging
import math
import platform
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import MissingDependencyError, SecurityMonitorError

log = logging.getLogger(__name__)

_REGISTRY: dict[str, Callable[[float], Any]] = {}
MODEL_FORMAT = 1
# An entity's own baseline for explanations: the windows of each entity kept at fit time (a
# sorted sample per feature), used once it has ENTITY_MIN_WINDOWS of them; below that its
# features are compared with every entity's windows. Bounded: ENTITY_SAMPLE windows for each
# of the ENTITY_MAX entities with the most windows (float32: about 10 MB at the caps).
ENTITY_MIN_WINDOWS = 8
ENTITY_SAMPLE = 64
ENTITY_MAX = 2000


def register(name: str):
    """Register a pyod model factory ``f(contamination) -> model`` under ``name``."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


@register("ecod")
def _ecod(contamination: float):
    from security._pyod_models import FrozenECOD

    return FrozenECOD(contamination=contamination)


@register("copod")
def _copod(contamination: float):
    from security._pyod_models import FrozenCOPOD

    return FrozenCOPOD(contamination=contamination)


@register("iforest")
def _iforest(contamination: float):
    from pyod.models.iforest import IForest

    return IForest(contamination=contamination, n_estimators=200, random_state=0)


@register("hbos")
def _hbos(contamination: float):
    from pyod.models.hbos import HBOS

    return HBOS(contamination=contamination, n_bins="auto")


@register("ensemble")
def _ensemble(contamination: float):
    from security._pyod_models import Ensemble

    return Ensemble([_ecod(contamination), _iforest(contamination), _hbos(contamination)],
                    contamination=contamination)


def available() -> list[str]:
    return sorted(_REGISTRY)


def make_model(name: str, contamination: float):
    if name not in _REGISTRY:
        raise SecurityMonitorError(f"unknown detector {name!r}",
                                   hint=f"set security.detector to one of {available()}")
    try:
        return _REGISTRY[name](contamination)
    except ImportError as exc:
        raise MissingDependencyError(f"detector {name} needs pyod ({exc})",
                                     hint="install pyod, or pick another detector") from None


def versions() -> dict[str, str]:
    import pyod
    import sklearn

    return {"pyod": pyod.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "model_format": str(MODEL_FORMAT)}


class FeatureSchema:
    """Columns locked at fit time: numeric columns (log1p-scaled if never negative) and one-hot categories."""

    def __init__(self) -> None:
        self.numeric_: list[str] = []
        self.categorical_: dict[str, list[str]] = {}
        self.log_: list[bool] = []

    def fit(self, rows: list[Mapping[str, Any]], columns: list[str] | None = None) -> FeatureSchema:
        if not rows:
            raise SecurityMonitorError("no baseline rows to fit on",
                                       hint="give a baseline capture or log with some traffic")
        names = columns or list(rows[0].keys())
        for name in names:
            sample = next((r.get(name) for r in rows if r.get(name) is not None), 0)
            if isinstance(sample, str):
                self.categorical_[name] = sorted({str(r.get(name)) for r in rows})
            else:
                self.numeric_.append(name)
        matrix = self._numeric(rows)
        self.log_ = [bool(np.nanmin(matrix[:, j]) >= 0) if len(matrix) else True
                     for j in range(matrix.shape[1])]
        return self

    @property
    def columns(self) -> list[str]:
        return self.numeric_ + [f"{c}={v}" for c, vals in self.categorical_.items() for v in vals]

    def _numeric(self, rows: list[Mapping[str, Any]]) -> np.ndarray:
        out = np.zeros((len(rows), len(self.numeric_)), dtype=float)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.numeric_):
                value = row.get(name, 0)
                try:
                    out[i, j] = float(value) if value is not None else 0.0
                except (TypeError, ValueError):
                    out[i, j] = 0.0
        return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)

    def raw(self, rows: list[Mapping[str, Any]]) -> np.ndarray:
        """Numeric columns as observed (before scaling), for explanations."""
        return self._numeric(rows)

    def transform(self, rows: list[Mapping[str, Any]]) -> np.ndarray:
        num = self._numeric(rows)
        for j, use_log in enumerate(self.log_):
            if use_log:
                num[:, j] = np.log1p(np.clip(num[:, j], 0, None))
        blocks = [num]
        for col, values in self.categorical_.items():
            index = {v: k for k, v in enumerate(values)}
            onehot = np.zeros((len(rows), len(values)), dtype=float)
            for i, row in enumerate(rows):
                k = index.get(str(row.get(col)))
                if k is not None:
                    onehot[i, k] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks) if len(blocks) > 1 else num


class Detector:
    """A pyod model plus its locked feature schema, baseline statistics and calibrated threshold.

    Args:
        name: detector name (see :func:`available`).
        contamination: expected share of outliers in the baseline; sets ``threshold_``.

    Learned attributes: ``schema_``, ``model_``, ``threshold_``, ``baseline_scores_``
    (quantiles of the baseline scores), ``baseline_`` (per-feature median of the non-zero
    baseline values, and p95), ``ecdf_`` (per-feature sorted baseline sample, for explanations),
    ``versions_``, ``fitted_at_``, ``n_train_``.
    """

    def __init__(self, name: str = "ecod", contamination: float = 0.01):
        self.name = name
        self.contamination = contamination

    def fit(self, rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None,
            entities: list[str] | None = None) -> Detector:
        """Fit on baseline windows; ``entities`` (one per row) also keeps each entity's own
        baseline (``entity_ecdf_``) so :meth:`explain` compares a window with its entity's past."""
        rows = list(rows)
        self.schema_ = FeatureSchema().fit(rows, columns)
        X = self.schema_.transform(rows)
        if len(X) < 5:
            raise SecurityMonitorError(f"only {len(X)} baseline rows: too few to calibrate a threshold",
                                       hint="learn on a longer baseline (at least a few dozen windows)")
        self.model_ = make_model(self.name, self.contamination)
        self.model_.fit(X)
        scores = np.asarray(self.model_.decision_scores_, dtype=float)
        self.threshold_ = float(np.quantile(scores, 1 - self.contamination))
        self.baseline_scores_ = np.quantile(scores, np.linspace(0, 1, 201))
        raw = self.schema_.raw(rows)
        self.baseline_ = {}
        for j, name in enumerate(self.schema_.numeric_):
            col = raw[:, j]
            active = col[col != 0]  # the typical value among windows where the feature occurs at all
            self.baseline_[name] = {"median": float(np.median(active)) if len(active) else 0.0,
                                    "p95": float(np.quantile(col, 0.95))}
        step = max(1, len(raw) // 2000)
        self.ecdf_ = np.sort(raw[::step], axis=0)
        self.entity_ecdf_ = {}
        self.__dict__.pop("_stats_cache", None)  # a refit invalidates explain()'s cached statistics
        if entities is not None and len(entities) == len(raw):
            by_entity: dict[str, list[int]] = {}
            for i, entity in enumerate(entities):
                by_entity.setdefault(str(entity), []).append(i)
            kept = sorted(by_entity, key=lambda e: -len(by_entity[e]))[:ENTITY_MAX]
            for entity in kept:
                idx = by_entity[entity]
                if len(idx) >= ENTITY_MIN_WINDOWS:
                    idx = idx[:: max(1, len(idx) // ENTITY_SAMPLE)][:ENTITY_SAMPLE]
                    self.entity_ecdf_[entity] = np.sort(raw[idx], axis=0).astype(np.float32)
        self.versions_ = versions()
        self.fitted_at_ = datetime.now(UTC).isoformat()
        self.n_train_ = len(rows)
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise SecurityMonitorError("detector is not fitted", hint="run `iocwatch monitor learn` first")

    def decision_function(self, rows: list[Mapping[str, Any]]) -> np.ndarray:
        """Anomaly scores, higher = more abnormal, on the baseline's scale (not rescaled per batch)."""
        self._check()
        if not rows:
            return np.zeros(0)
        return np.asarray(self.model_.decision_function(self.schema_.transform(rows)), dtype=float)

    def predict(self, rows: list[Mapping[str, Any]]) -> np.ndarray:
        return (self.decision_function(rows) > self.threshold_).astype(int)

    def margin(self, score: float) -> float:
        """How far above the threshold a score is, in units of (threshold - baseline median)."""
        median = float(self.baseline_scores_[100])
        scale = (self.threshold_ - median) or 1.0
        return (score - self.threshold_) / abs(scale)

    def percentile(self, score: float) -> float:
        """Share of baseline windows scoring below ``score`` (0..1)."""
        return float(np.searchsorted(self.baseline_scores_, score, side="right") / len(self.baseline_scores_))

    def explain(self, row: Mapping[str, Any], top: int = 5,
                entity: str | None = None) -> list[dict[str, float | str | None]]:
        """The features that make ``row`` unusual, furthest from the baseline first.

        The baseline is the entity's own windows when :meth:`fit` kept at least
        :data:`ENTITY_MIN_WINDOWS` of them (``baseline_of`` = "entity"), else every entity's
        (``"all"``). For each feature, ``tail_p`` is the share of baseline windows with a value at
        least as high (ECOD's right tail, (k + 1) / (n + 1)): alerts are about more of something
        than usual; only features with ``tail_p`` <= 1/3 and above the baseline median count.
        They are ranked by rarity (-log10 ``tail_p``), ties (several features beyond every
        baseline window) by ``distance``: how many baseline spreads (p95 - median, at least a
        tenth of the median, at least 1e-9) the value stands above the median. ``contribution`` is
        each feature's share of rarity + log10(1 + distance) among those returned, so features
        equally rare but not equally far never get an equal split.
        """
        self._check()
        raw = self.schema_.raw([row])[0]
        own = getattr(self, "entity_ecdf_", {}).get(str(entity)) if entity is not None else None
        sample, baseline_of = (own, "entity") if own is not None else (self.ecdf_, "all")
        medians, p95s = self._sample_stats(str(entity) if own is not None else None, sample)
        n = len(sample)
        below = (sample < raw).sum(axis=0)  # per feature, searchsorted(col, x, "left") on the sorted column
        found = []
        for j, name in enumerate(self.schema_.numeric_):
            x = float(raw[j])
            tail = (n - int(below[j]) + 1) / (n + 1)
            median = medians[j]
            if tail <= 1 / 3 and x > median:
                spread = max(p95s[j] - median, 0.1 * abs(median), 1e-9)
                distance = max(0.0, (x - median) / spread)
                found.append({"feature": name, "observed": x, "baseline": median, "tail_p": round(tail, 6),
                              "rarity": round(-math.log10(tail), 4), "distance": round(distance, 3),
                              "baseline_of": baseline_of})
        found.sort(key=lambda e: (-e["rarity"], -e["distance"], e["feature"]))
        found = found[:top]
        weights = [e["rarity"] + math.log10(1 + e["distance"]) for e in found]
        total = sum(weights) or 1.0
        for e, w in zip(found, weights, strict=True):
            e["contribution"] = round(w / total, 4)
        return found

    def _sample_stats(self, entity: str | None, sample: np.ndarray) -> tuple[list[float], list[float]]:
        """Per-feature baseline median and p95 of an explanation sample (``entity`` None: every
        entity's, with the fit-time medians), computed once per entity and cached on the detector
        (not saved with it): :meth:`explain` runs for every alert."""
        cache = self.__dict__.setdefault("_stats_cache", {})
        stats = cache.get(entity)
        if stats is None:
            p95s = [float(v) for v in np.quantile(sample, 0.95, axis=0)]
            if entity is None:
                medians = [self.baseline_[name]["median"] for name in self.schema_.numeric_]
            else:
                medians = []
                for j in range(sample.shape[1]):
                    active = sample[:, j][sample[:, j] != 0]
                    medians.append(float(np.median(active)) if len(active) else 0.0)
            stats = cache[entity] = (medians, p95s)
        return stats

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_stats_cache", None)  # derived from the samples; rebuilt on first use after load
        return state

    def save(self, path: str | Path) -> Path:
        import joblib

        from core.state import atomic_write

        self._check()
        path = Path(path)
        # a temporary file renamed over the old model: a full disk or a kill keeps the old one
        atomic_write(path, lambda fh: joblib.dump(self, fh))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Detector:
        import joblib

        path = Path(path)
        if not path.exists():
            raise SecurityMonitorError(f"no fitted detector at {path}",
                                       hint="run `iocwatch monitor learn` on a baseline first")
        try:
            det = joblib.load(path)
        except (OSError, EOFError, ValueError, AttributeError, ModuleNotFoundError) as exc:
            raise SecurityMonitorError(f"cannot load detector {path}: {exc}",
                                       hint="run `iocwatch monitor learn` again") from None
        if not isinstance(det, Detector):
            raise SecurityMonitorError(f"{path} does not hold a detector", hint="run `iocwatch monitor learn`")
        now = versions()
        for lib in ("pyod", "scikit-learn"):
            if det.versions_.get(lib, "").split(".")[:2] != now[lib].split(".")[:2]:
                log.warning("detector %s was fitted with %s %s, running %s %s: re-run `monitor learn`",
                            path, lib, det.versions_.get(lib), lib, now[lib])
        return det
