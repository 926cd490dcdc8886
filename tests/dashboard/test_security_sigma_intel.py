"""An ninh mạng shows Sigma and intel alerts with what they carry, filters the queue by detection
source, and their fields are searchable in the index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.documents import Alert, Severity
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
        # the query language's short names for them (iocwatch search --kind alerts, the API)
        from index.querystring import parse_query

        assert ids(parse_query("feed:cert-test AND confidence:>=1", kind="alerts")) == {sec_env["intel"].id}
        assert ids(parse_query('tag:"attack.t1136.001" level:critical', kind="alerts")) == {sec_env["sigma"].id}
        assert ids(parse_query("ruleset:sigma OR ruleset:intel", kind="alerts")) == {sec_env["sigma"].id,
                                                                                  sec_env["intel"].id}
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


def _risk_fixture(now: datetime) -> list[Alert]:
    """Alerts over the owner cases of security.risk: source and entity the same or not, host names,
    user names and user: entities, a discounted close, an alert too old and a listening alert."""
    rows = [
        ("ssh_brute_force", 1, 74, "T1110.001", {"source_ip": "203.0.113.5", "entity": "203.0.113.5",
                                                  "user_name": "root"}),
        ("port_scan", 2, 60, "T1046", {"source_ip": "203.0.113.5", "entity": "203.0.113.5"}),
        ("threat_intel", 3, 80, "T1071", {"source_ip": "10.0.0.7", "entity": "198.51.100.9"}),
        ("useradd_uid0", 4, 90, "T1136.001", {"entity": "web01", "host_name": "web01"}),
        ("web_login", 5, 40, None, {"source_ip": "10.0.0.8", "entity": "web02"}),
        ("distributed_brute_force", 6, 70, "T1110.001", {"entity": "user:quantri", "user_name": "quantri"}),
        ("login_guess", 7, 45, None, {"entity": "user:khach"}),
        ("anomalous_activity", 8, 35, None, {"source_ip": "10.0.0.9", "entity": "10.0.0.9", "user_name": "an"}),
        ("port_scan", 9, 95, "T1046", {"source_ip": "203.0.113.5", "entity": "203.0.113.5",
                                       "status": "closed", "close_reason": "false_positive"}),
        ("port_scan", 30, 99, "T1046", {"source_ip": "203.0.113.5", "entity": "203.0.113.5"}),
        *[("anomalous_activity", 10 + i, 35, None, {"source_ip": "10.0.0.20", "entity": "10.0.0.20"})
          for i in range(4)],
        ("beaconing", 11, 76, "T1071", {"source_ip": "10.0.0.20", "entity": "10.0.0.20"}),
        *[("web_attack", 5, risk, "T1190", {"source_ip": "10.0.0.20", "entity": "10.0.0.20"})  # one minute
          for risk in (30, 31, 52)],
        ("threat_intel", 6, 70, None, {"entity": "post:abc123", "destination_domain": "bad.example"}),  # no host
    ]
    out = []
    for i, (rule, age_h, risk, tech, fields) in enumerate(rows):
        at = now - timedelta(hours=age_h)
        out.append(Alert(id=f"alert-risk-{i}", timestamp=at, first_seen=at - timedelta(minutes=10), last_seen=at,
                         rule_name=rule, risk_score=risk, severity=Severity.from_score(risk),
                         threat_technique_id=tech, title=f"{rule} {i}", **fields))
    out.append(Alert(id="alert-risk-listening", module="listening", timestamp=now, rule_name="listening.volume_spike",
                     risk_score=88, entity="topic:ngap"))
    return out


@pytest.mark.parametrize("slice_docs", [4_000, 2])  # 2: cut into minutes, and a minute by risk score
def test_security_riskiest_from_the_index_agrees_with_security_risk(tmp_path, monkeypatch, slice_docs):
    from core.settings import get_settings
    from dashboard import data
    from index import open_store
    from security.risk import entity_risk

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    use_data_dir(monkeypatch, data_dir)
    monkeypatch.setattr(data, "RISK_SLICE_DOCS", slice_docs)
    alerts = _risk_fixture(datetime.now(UTC))
    store = open_store(get_settings())
    try:
        assert store.upsert_many("alerts", alerts).ok
    finally:
        store.close()
    shown = data.riskiest_entities(top=50)
    want = entity_risk(alerts, now=datetime.now(UTC), hours=24)
    assert len(want) == 11

    def key(e):
        return (e["entity"], e["kind"], e["score"], e["level"], e["alerts"], e["techniques"], e["max_severity"])

    assert [key(e) for e in shown] == [key(w.as_dict()) for w in want]
    for got, w in zip(shown, want, strict=True):
        assert abs(datetime.fromisoformat(got["first_seen"]) - w.first_seen) < timedelta(seconds=1)
        assert abs(datetime.fromisoformat(got["last_seen"]) - w.last_seen) < timedelta(seconds=1)
        assert {r["id"] for r in got["timeline"]} == {r["id"] for r in w.timeline}
    by_name = {(e["kind"], e["entity"]): e for e in shown}
    assert by_name[("host", "203.0.113.5")]["alerts"] == 2  # the closed false positive and the old one left out
    assert ("host", "web02") not in by_name and by_name[("host", "web01")]["alerts"] == 1
    assert by_name[("user", "khach")]["alerts"] == 1 and by_name[("host", "198.51.100.9")]["alerts"] == 1
    assert not [e for e in shown if e["entity"].startswith("post:")]  # a crawled post is no host


def test_security_analytics_alerts_carry_their_detection_source_and_vietnamese_title():
    """A beacon found by the analytics over hours (not the per-window rule) is marked "analytics"."""
    from dashboard.data import detection_source
    from dashboard.i18n import alert_title
    from security.records import Connection as Conn

    t0 = 1_763_600_000.0
    m = Monitor(SecuritySettings())
    for i in range(15):
        m.feed(Conn(t0 + i * 300, "10.1.1.5", "185.7.7.7", 40000 + i, 8443, "tcp", state="SF", orig_bytes=400))
    alert = next(a for a in m.finish().alerts if a.rule_name == "beaconing")
    doc = alert.to_doc()
    assert doc["rule.ruleset"] == "analytics" and detection_source(doc) == "analytics"
    assert alert_title(doc, "vi").startswith("Kết nối định kỳ (beacon) từ 10.1.1.5 đến 185.7.7.7")
    assert alert_title(doc, "en") == alert.title


def test_security_intel_detail_of_alerts_stored_before_the_confidence_field():
    from dashboard.data import detection_detail

    old = {"rule.ruleset": "intel", "rule.id": "intel:cert", "threat.feed.name": "cert",
           "threat.indicator.name": "192.0.2.1", "threat.indicator.type": "ip",
           "explanation": [{"feature": "indicator_confidence", "observed": 65.0}]}
    assert detection_detail(old) == {"threat.feed.name": "cert", "threat.indicator.name": "192.0.2.1",
                                     "threat.indicator.type": "ip", "threat.indicator.confidence": 65}
