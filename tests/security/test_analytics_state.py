"""Analytics state across runs: saved atomically, carried on, set aside with a reason when unusable."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from core.settings import SecuritySettings
from security.analytics.engine import AnalyticsEngine, analytics_config
from security.analytics.state import STATE_VERSION
from security.monitor import Monitor
from tests.security._analytics_helpers import T0, conn, run


def _beacon(start, n):
    return [conn(T0 + (start + i) * 120, "10.1.1.5", "185.7.7.7", 8443, out_b=400, sport=40000 + start + i)
            for i in range(n)]


def test_analytics_state_carries_a_slow_beacon_across_runs(tmp_path):
    path = tmp_path / "analytics.json"
    cfg = SecuritySettings()
    first = AnalyticsEngine.open(path, cfg)
    assert run(first, _beacon(0, 6)) == []  # too few beats in one run
    first.save(path)
    assert json.loads(path.read_text())["version"] == STATE_VERSION
    assert not list(tmp_path.glob("*.tmp*"))  # no temporary file left behind
    second = AnalyticsEngine.open(path, cfg)
    found = run(second, _beacon(6, 6))
    assert [(f.rule, f.entity) for f in found] == [("beaconing", "10.1.1.5")]
    second.save(path)
    third = AnalyticsEngine.open(path, cfg)  # one alert per re-alert period, across runs too: it grows
    later = [f for f in run(third, _beacon(12, 3)) if f.rule == "beaconing"]
    assert [(f.first_seen, f.count) for f in later] == [(found[0].first_seen, 15)]


def test_analytics_state_other_version_or_corrupt_starts_afresh(tmp_path):
    path = tmp_path / "analytics.json"
    path.write_text(json.dumps({"version": 0, "analytics": {}}))
    eng = AnalyticsEngine.open(path, SecuritySettings())
    assert eng.problems and "version 0" in eng.problems[0] and not eng.learnt
    path.write_text('{"version": 1, "analytics": ')
    eng = AnalyticsEngine.open(path, SecuritySettings())
    assert eng.problems and "not valid JSON" in eng.problems[0]


def test_analytics_state_malformed_part_resets_only_that_analytic(tmp_path):
    path = tmp_path / "analytics.json"
    eng = AnalyticsEngine(SecuritySettings())
    run(eng, _beacon(0, 6))
    state = eng.state()
    state["analytics"]["slow_scan"] = {"probes": {"1.2.3.4": 7}}
    eng.save(path)
    raw = json.loads(path.read_text())
    raw["analytics"]["slow_scan"] = {"probes": {"1.2.3.4": 7}}
    path.write_text(json.dumps(raw))
    again = AnalyticsEngine.open(path, SecuritySettings())
    assert [p for p in again.problems if p.startswith("slow_scan")]
    beacons = next(a for a in again.analytics if a.name == "beaconing")
    assert len(beacons.pairs["10.1.1.5>185.7.7.7"]) == 6


def test_analytics_config_overrides_and_errors():
    cfg = analytics_config({"beaconing": {"min_score": 0.9}})
    assert cfg["beaconing"]["min_score"] == 0.9 and cfg["slow_scan"]["min_ports"] == 25
    with pytest.raises(ConfigError, match="unknown analytic"):
        analytics_config({"nope": {}})
    with pytest.raises(ConfigError, match="unknown key"):
        analytics_config({"beaconing": {"min_scor": 1}})


def test_analytics_monitor_hands_beacons_back_to_the_rule_when_disabled():
    on = Monitor(SecuritySettings())
    off = Monitor(SecuritySettings(analytics={"beaconing": {"enabled": False}}))
    none = Monitor(SecuritySettings(analytics_enabled=False))
    assert on.rules["beaconing"]["enabled"] is False and "beaconing" in on.analytics.names
    assert off.rules["beaconing"].get("enabled", True) and "beaconing" not in off.analytics.names
    assert none.analytics is None


def test_analytics_state_replay_returns_the_same_findings_without_double_counting(tmp_path):
    path = tmp_path / "analytics.json"
    first = AnalyticsEngine.open(path, SecuritySettings())
    found = run(first, _beacon(0, 12))
    first.save(path)
    again = AnalyticsEngine.open(path, SecuritySettings())
    replayed = run(again, _beacon(0, 12))
    assert [(f.rule, f.entity, f.first_seen, f.count) for f in replayed] == \
        [(f.rule, f.entity, f.first_seen, f.count) for f in found]
    beacons = next(a for a in again.analytics if a.name == "beaconing")
    assert len(beacons.pairs["10.1.1.5>185.7.7.7"]) == 12
