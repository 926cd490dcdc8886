"""Detectors: real pyod models, scores stable between batches, schema and versions saved."""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.errors import SecurityMonitorError
from security.detectors import Detector, available


def _rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [{"flows": rng.gauss(20, 4), "bytes": rng.gauss(5000, 800), "ports": rng.randint(1, 4)} for _ in range(n)]


def test_detectors_registry_names():
    assert {"ecod", "iforest", "copod", "hbos", "ensemble"} <= set(available())
    with pytest.raises(SecurityMonitorError):
        Detector("lof").fit(_rows(50))


@pytest.mark.parametrize("name", ["ecod", "copod", "iforest", "hbos", "ensemble"])
def test_detectors_score_does_not_depend_on_the_batch(name):
    det = Detector(name, 0.02).fit(_rows(400))
    probe = _rows(5, seed=9)
    attack = [{"flows": 900, "bytes": 90_000, "ports": 300}] * 50
    alone = det.decision_function(probe)
    mixed = det.decision_function(probe + attack)[:5]
    np.testing.assert_allclose(alone, mixed, rtol=1e-9)
    assert det.decision_function(attack)[0] > det.threshold_ > float(np.median(det.decision_function(_rows(50, 3))))


def test_detectors_save_load_keeps_schema_threshold_and_versions(tmp_path):
    det = Detector("ecod", 0.01).fit(_rows(200), ["flows", "bytes", "ports"])
    det.save(tmp_path / "d.joblib")
    back = Detector.load(tmp_path / "d.joblib")
    assert back.schema_.columns == ["flows", "bytes", "ports"]
    assert back.threshold_ == det.threshold_
    assert {"pyod", "scikit-learn", "numpy"} <= set(back.versions_)
    row = [{"ports": 2, "bytes": 5000, "flows": 19, "extra": 7}]  # column order and extras do not matter
    assert back.decision_function(row)[0] == det.decision_function(row)[0]


def test_detectors_explain_names_the_feature_that_moved():
    det = Detector("ecod").fit(_rows(300))
    top = det.explain({"flows": 20, "bytes": 5000, "ports": 250})
    assert top[0]["feature"] == "ports" and top[0]["observed"] == 250 and top[0]["baseline"] <= 4


def test_detectors_categorical_columns_are_one_hot_and_locked():
    rows = [{"proto": random.Random(i).choice(["tcp", "udp"]), "bytes": 100 + i % 7} for i in range(100)]
    det = Detector("ecod").fit(rows)
    assert det.schema_.columns == ["bytes", "proto=tcp", "proto=udp"]
    assert det.decision_function([{"proto": "icmp", "bytes": 103}]).shape == (1,)


def test_detectors_need_a_baseline():
    with pytest.raises(SecurityMonitorError):
        Detector().fit(_rows(3))
    with pytest.raises(SecurityMonitorError):
        Detector().decision_function(_rows(2))
