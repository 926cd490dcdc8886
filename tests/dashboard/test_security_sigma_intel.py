"""An ninh mạng shows Sigma and intel alerts with what they carry, filters the queue by detection
source, and their fields are searchable in the index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.documents import Alert
from core.settings import SecuritySettings
from index.mappings import template
from security.intel.matcher import IntelObserver
from security.intel.store import load_feed, open_matcher
from security.monitor import Monitor
from security.records import Connection, SyslogLine
from security.sigma.engine import SigmaEngine
from security.sigma.loader import load
from tests.dashboard.conftest import fill_data_dir, login, new_app, use_data_dir

INTEL = Path(__file__).parents[1] / "data" / "intel"
T0 = 1_763_632_800.0


def _recent(alert: Alert, minutes: int) -> Alert:
    at = datetime.now(UTC) - timedelta(minutes=minutes)
    return alert.model_copy(update={"timestamp": at, "first_seen": at, "last_seen": at})


def _sigma_and_intel(tmp_path) -> tuple[Alert, Alert]:
    cfg = SecuritySettings(analytics_enabled=False)
    eng = SigmaEngine(load([]), cfg)
    eng.observe(SyslogLine(T0, "web01", "useradd", 812,
                           "new user: name=svc2, UID=0, GID=0, home=/root, shell=/bin/bash"))
    (sigma,) = eng.finish()
    load_feed(tmp_path / "intel", INTEL / "stix_bundle.json", "cert-test")
    m = Monitor(cfg, observers=[IntelObserver(open_matcher(tmp_path / "intel").matcher, cfg)])
    m.feed(Connection(T0, "10.0.0.7", "203.0.113.200", 50000, 443, "tcp", state="SF"))
    (intel,) = [a for a in m.finish().alerts if a.rule_ruleset == "intel"]
    return _recent(sigma, 3), _recent(intel, 4)


@pytest.fixture
def sec_env(tmp_path, monkeypatch):
    from core.settings import get_settings
    from index import open_store

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    sigma, intel = _sigma_and_intel(tmp_path)
    now = datetime.now(UTC)
    analytic = Alert(id="alert-analytic-1", timestamp=now, rule_name="slow_scan", rule_ruleset="analytics",
                     title="Slow vertical scan from 203.0.113.9", risk_score=60, severity="medium",
                     source_ip="203.0.113.9", entity="203.0.113.9", threat_technique_id="T1046")
    anomaly = Alert(id="alert-anomaly-1", timestamp=now, rule_name="anomalous_activity", title="Unusual activity",
                    risk_score=50, severity="medium", source_ip="10.0.0.31", entity="10.0.0.31")
    store = open_store(get_settings())
    try:
        assert store.upsert_many("alerts", [sigma, intel, analytic, anomaly]).ok
    finally:
        store.close()
    yield {"sigma": sigma, "intel": intel}
    get_settings.cache_clear()


def test_security_sigma_intel_queue_filters_by_detection_source(sec_env):
    from dashboard import data

    def rows(*sources):
        return data.alert_queue("30d", statuses=data.OPEN_STATUSES, sources=sources)

    everything = rows()
    by_source = {s: rows(s) for s in data.DETECTION_SOURCES}
    assert sum(r["total"] for r in by_source.values()) == everything["total"]  # each alert in exactly one
    [sigma] = by_source["sigma"]["rows"]
    assert sigma["id"] == sec_env["sigma"].id and sigma["source"] == "sigma"
    assert sigma["detail"]["rule.id"] == sec_env["sigma"].rule_id and sigma["detail"]["rule.level"] == "critical"
    assert "attack.t1136.001" in sigma["detail"]["tags"]
    [intel] = by_source["intel"]["rows"]
    assert intel["detail"] == {"threat.feed.name": "cert-test", "threat.indicator.name": "203.0.113.200",
                               "threat.indicator.type": "ip",
                               "threat.indicator.confidence": sec_env["intel"].threat_indicator_confidence}
    assert [r["rule"] for r in by_source["analytics"]["rows"]] == ["slow_scan"]
    assert [r["rule"] for r in by_source["anomaly"]["rows"]] == ["anomalous_activity"]
    assert by_source["rule"]["total"] >= 1
    assert all(r["source"] == "rule" for r in by_source["rule"]["rows"])
    assert rows("sigma", "intel")["total"] == 2


def test_security_sigma_intel_fields_are_searchable(sec_env):
    from core.settings import get_settings
    from index import open_store

    store = open_store(get_settings())
    try:
        def ids(query):
            return {h.id for h in store.search("alerts", query, size=50).hits}

        assert ids({"term": {"threat.feed.name": "cert-test"}}) == {sec_env["intel"].id}
        assert ids({"term": {"threat.indicator.name": "203.0.113.200"}}) == {sec_env["intel"].id}
        assert ids({"range": {"threat.indicator.confidence": {"gte": 1}}}) == {sec_env["intel"].id}
        assert ids({"term": {"tags": "attack.t1136.001"}}) == {sec_env["sigma"].id}
        assert ids({"term": {"rule.id": sec_env["sigma"].rule_id}}) == {sec_env["sigma"].id}
        assert sec_env["sigma"].id in ids({"term": {"rule.level": "critical"}})
    finally:
        store.close()
    props = template("iocwatch", "alerts", icu=False, shards=1, replicas=0)["template"]["mappings"]["properties"]
    assert props["threat"]["properties"]["indicator"]["properties"]["confidence"] == {"type": "long"}
    assert props["rule"]["properties"]["ruleset"]["type"] == "keyword" and props["tags"]["type"] == "keyword"


def test_security_sigma_intel_page_shows_source_rule_and_indicator(sec_env):
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    assert not at.exception
    queue = at.dataframe[0].value
    by_source = dict(zip(queue["Nguồn phát hiện"], queue["Luật Sigma / chỉ dấu"], strict=True))
    assert sec_env["sigma"].rule_id in by_source["Sigma"] and "attack.t1136.001" in by_source["Sigma"]
    assert "Mức của luật Nghiêm trọng" in by_source["Sigma"]
    intel = by_source["Tình báo mối đe doạ"]
    assert "Nguồn tin tình báo cert-test" in intel and "203.0.113.200 (ip)" in intel and "Độ tin cậy" in intel
    at.multiselect(key="sec_source").set_value(["intel"]).run()
    assert int(at.metric[0].value) == 1
    assert at.selectbox(key="sec_pick").value == sec_env["intel"].id
    fields = next(df.value for df in at.dataframe if "Trường" in df.value.columns)
    shown = dict(zip(fields["Trường"], fields["Giá trị"], strict=True))
    assert shown["Nguồn tin tình báo"] == "cert-test" and shown["Chỉ dấu"] == "203.0.113.200"
    assert shown["Loại chỉ dấu"] == "ip" and int(shown["Độ tin cậy"]) == sec_env["intel"].threat_indicator_confidence
