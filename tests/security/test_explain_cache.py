"""Explanation statistics cached per entity (not saved with the detector, reset by a refit) and the
monitor's paused garbage collector restored after it folds records in."""

from __future__ import annotations

import gc
import random

import pytest

from core.settings import SecuritySettings
from security.detectors import Detector
from security.monitor import Monitor


def _rows(n: int, seed: int, scale: float = 1.0) -> tuple[list[dict], list[str]]:
    rng = random.Random(seed)
    rows, entities = [], []
    for i in range(n):
        entity = f"10.0.0.{i % 4}"
        rows.append({"flows": rng.gauss(20, 3) * scale * (1 + i % 4), "ports": rng.randint(0, 3) * scale})
        entities.append(entity)
    return rows, entities


def test_explain_same_after_save_load_and_cache_not_saved(tmp_path):
    rows, entities = _rows(200, 1)
    det = Detector("ecod").fit(rows, ["flows", "ports"], entities=entities)
    probe = {"flows": 75.0, "ports": 9}
    first = det.explain(probe, entity="10.0.0.0")
    assert first and first[0]["baseline_of"] == "entity"
    assert det.explain(probe, entity="10.0.0.0") == first  # second call from the cached statistics
    det.save(tmp_path / "d.joblib")
    back = Detector.load(tmp_path / "d.joblib")
    assert "_stats_cache" not in back.__dict__
    assert back.explain(probe, entity="10.0.0.0") == first
    assert back.explain(probe, entity=None) == det.explain(probe, entity=None)


def test_explain_statistics_follow_a_refit():
    rows, entities = _rows(200, 1)
    det = Detector("ecod").fit(rows, ["flows", "ports"], entities=entities)
    probe = {"flows": 900.0, "ports": 40}
    before = det.explain(probe, entity="10.0.0.1")
    bigger, _ = _rows(200, 2, scale=5.0)
    det.fit(bigger, ["flows", "ports"], entities=entities)
    fresh = Detector("ecod").fit(bigger, ["flows", "ports"], entities=entities)
    after = det.explain(probe, entity="10.0.0.1")
    assert after == fresh.explain(probe, entity="10.0.0.1")
    assert after[0]["baseline"] > before[0]["baseline"]


def test_feed_many_restores_the_garbage_collector_after_an_error():
    def broken():
        raise OSError("disk gone")
        yield  # pragma: no cover

    m = Monitor(SecuritySettings())
    assert gc.isenabled()
    with pytest.raises(OSError):
        m.feed_many(broken())
    assert gc.isenabled()
    gc.disable()
    try:
        m.feed_many([])
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
