"""Explanations that explain: a rule alert shows the rule's own figures against its thresholds and
the decoded payload; an anomaly ranks its features by distance from the entity's own baseline, with
Vietnamese names, never an equal split; evidence times in the dashboard's timezone."""

from __future__ import annotations

import json
import random

import pytest

from security.detectors import ENTITY_MIN_WINDOWS, Detector
from security.monitor import rule_explanation
from security.rules import Detection
from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import ANOMALOUS, ATTACKER


def _windows(n: int = 300) -> tuple[list[dict], list[str]]:
    rng = random.Random(7)
    rows, entities = [], []
    for i in range(n):
        busy = i % 10 == 0  # the DNS server: hundreds of queries is its normal
        rows.append({"dns_queries": rng.randint(400, 600) if busy else rng.randint(1, 9),
                     "dns_entropy": rng.uniform(2.5, 3.2), "flows": rng.randint(5, 30),
                     "distinct_dst_ports": rng.randint(1, 4), "bytes_out": rng.randint(1000, 9000)})
        entities.append("10.0.0.53" if busy else f"10.0.1.{i % 9}")
    return rows, entities


def test_truth_anomaly_is_measured_against_the_entitys_own_baseline():
    rows, entities = _windows()
    det = Detector("ecod").fit(rows, entities=entities)
    assert len(det.entity_ecdf_["10.0.0.53"]) >= ENTITY_MIN_WINDOWS
    usual_for_it = {"dns_queries": 610, "dns_entropy": 2.8, "flows": 12, "distinct_dst_ports": 2, "bytes_out": 4000}
    own = det.explain(usual_for_it, entity="10.0.0.53")
    everyone = det.explain(usual_for_it, entity=None)
    assert everyone[0]["feature"] == "dns_queries" and everyone[0]["baseline_of"] == "all"
    assert all(e["feature"] != "dns_queries" or e["tail_p"] >= 1 / 40 for e in own)
    assert all(e["baseline_of"] == "entity" for e in own)


def test_truth_anomaly_features_ranked_by_distance_never_an_equal_split():
    rows, entities = _windows()
    det = Detector("ecod").fit(rows, entities=entities)
    # five features beyond every baseline window (equal tail probability), not equally far
    far = {"dns_queries": 5000, "dns_entropy": 4.5, "flows": 400, "distinct_dst_ports": 9, "bytes_out": 10_000}
    top = det.explain(far, entity="10.0.1.3")
    assert len({e["tail_p"] for e in top}) == 1  # all equally rare ...
    distances = [e["distance"] for e in top]
    assert distances == sorted(distances, reverse=True) and top[0]["feature"] == "dns_queries"
    shares = [e["contribution"] for e in top]
    assert len(set(shares)) == len(shares) and shares == sorted(shares, reverse=True)  # ... not an equal split
    assert sum(shares) == pytest.approx(1.0, abs=1e-3)


def test_truth_rule_explanation_is_the_rules_own_evidence():
    d = Detection(rule="web_attack", technique="T1190", technique_name="x", entity=ATTACKER, first_seen=0,
                  last_seen=60, count=17, risk=80, title="t",
                  observed={"sql_injection_requests": 14, "xss_requests": 3}, thresholds={"min_hits": 10})
    rows = {e.feature: e for e in rule_explanation(d)}
    assert set(rows) == {"sql_injection_requests", "xss_requests", "count"}
    assert rows["sql_injection_requests"].observed == 14 and rows["sql_injection_requests"].kind == "rule"
    assert (rows["count"].observed, rows["count"].threshold, rows["count"].direction) == (17, 10, "min")
    scan = Detection(rule="beaconing", technique=None, technique_name=None, entity="10.0.0.5", first_seen=0,
                     last_seen=1, count=40, risk=50, title="t", observed={"connections": 40, "interval_cv": 0.02},
                     thresholds={"min_connections": 20, "max_cv": 0.1})
    limits = {e.feature: (e.threshold, e.direction) for e in rule_explanation(scan)}
    assert limits == {"connections": (20, "min"), "interval_cv": (0.1, "max")}


def test_truth_evidence_times_and_payloads():
    from dashboard.data import decode_payload, local_times

    assert local_times("2026-01-01T17:30:00Z GET /", "Asia/Ho_Chi_Minh") == "02/01/2026 00:30:00 GET /"
    assert local_times("2026-01-01 00:00:00 sshd", "Asia/Ho_Chi_Minh") == "01/01/2026 07:00:00 sshd"
    assert decode_payload("GET /a?id=1%27%20OR%20%271%27=%271") == "GET /a?id=1' OR '1'='1"
    assert decode_payload("no encoding here") is None


def _pick(at, rule: str, entity: str):
    from dashboard import data

    alert_id = next(r["id"] for r in data.alert_queue("30d", statuses=data.OPEN_STATUSES)["rows"]
                    if r["rule"] == rule and r["entity"] == entity)
    at.selectbox(key="sec_pick").set_value(alert_id).run()
    assert not at.exception, at.exception
    return alert_id


def test_truth_security_page_explains_rule_and_anomaly_alerts(fresh_truth):
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    _pick(at, "web_attack", ATTACKER)
    rule = next(df.value for df in at.dataframe if "Ngưỡng" in df.value.columns)
    assert list(rule["Đặc trưng"]) == ["Yêu cầu chèn SQL", "Yêu cầu XSS", "Tổng số sự kiện"]
    assert list(rule["Quan sát"]) == [14, 3, 17] and list(rule["Ngưỡng"])[-1] == "≥ 10"
    assert list(rule["Vượt ngưỡng"])[-1] == "Có"
    codes = [c.value for c in at.code]
    assert any("01/01/2026 07:00:00 GET /login.php?id=1%27" in c for c in codes)  # local time, as recorded
    assert any("id=1' OR '1'='1" in c for c in codes)  # the decoded payload
    assert not any("Mức đóng góp" in json.dumps(json.loads(c.proto.spec), ensure_ascii=False)
                   for c in at.get("vega_lite_chart"))  # no share-of-score bars for a rule alert
    _pick(at, "anomaly_ecod", ANOMALOUS)
    spec = next(s for s in (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
                if "Độ hiếm" in json.dumps(s, ensure_ascii=False))
    assert spec["encoding"]["y"]["sort"] == ["Số truy vấn DNS", "Độ ngẫu nhiên tên miền truy vấn",
                                             "Dữ liệu gửi đi (byte)"]
    table = next(df.value for df in at.dataframe if "Xác suất gặp giá trị này trở lên ở mức nền" in df.value.columns)
    assert list(table["Xác suất gặp giá trị này trở lên ở mức nền"]) == [1.56, 1.56, 5.0]
