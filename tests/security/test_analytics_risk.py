"""Entity risk per host and user over 24 h: combination of alerts, technique spread, period and triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.documents import Alert, Severity
from security.risk import entity_risk, score_alerts

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _alert(i, rule, risk, *, src=None, user=None, entity=None, technique=None, hours_ago=1.0, reason=None):
    t = NOW - timedelta(hours=hours_ago)
    return Alert(id=f"a{i}", rule_name=rule, risk_score=risk, severity=Severity.from_score(risk), first_seen=t,
                 last_seen=t, timestamp=t, source_ip=src, user_name=user, entity=entity or src or f"user:{user}",
                 threat_technique_id=technique, title=rule, close_reason=reason)


def test_analytics_risk_score_combines_and_decays():
    assert score_alerts([74], 1) == 74.0
    assert 50 < score_alerts([35] * 10, 0) < 60  # many low anomalies stay medium
    assert score_alerts([74, 76, 76], 3) >= 90  # a kill chain is critical
    assert score_alerts([], 0) == 0.0


def test_analytics_risk_ranks_hosts_and_users_over_the_last_day():
    alerts = [
        _alert(1, "beaconing", 74, src="10.1.1.5", technique="T1071"),
        _alert(2, "lateral_movement", 76, src="10.1.1.5", technique="T1021.002"),
        _alert(3, "exfiltration", 76, src="10.1.1.5", technique="T1048", hours_ago=2),
        _alert(4, "anomalous_activity", 35, src="10.1.1.9"),
        _alert(5, "login_after_failures", 89, src="45.1.1.1", user="deploy", technique="T1078"),
        _alert(6, "brute_force_slow", 74, entity="user:root", technique="T1110.001"),
        _alert(7, "beaconing", 74, src="10.1.1.9", technique="T1071", hours_ago=30),  # too old
        _alert(8, "slow_scan", 72, src="10.1.1.9", technique="T1046", reason="false_positive"),  # closed: benign
    ]
    ranked = entity_risk(alerts, now=NOW)
    top = ranked[0]
    assert (top.entity, top.kind, top.level) == ("10.1.1.5", "host", "critical")
    assert top.techniques == ["T1021.002", "T1048", "T1071"] and top.alert_ids[0] in ("a2", "a3")
    assert [t["rule"] for t in top.timeline] == ["exfiltration", "beaconing", "lateral_movement"]
    low = next(e for e in ranked if e.entity == "10.1.1.9")
    assert low.alerts == 1 and low.level == "low"
    users = entity_risk(alerts, now=NOW, kind="user")
    assert [(u.entity, u.level) for u in users] == [("deploy", "high"), ("root", "high")]
    docs = [a.to_doc() for a in alerts]
    assert [e.as_dict()["entity"] for e in entity_risk(docs, now=NOW, top=2)] == ["10.1.1.5", "45.1.1.1"]
