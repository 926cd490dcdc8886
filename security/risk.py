"""Entity risk: one score per host and per user over the last 24 h, so an officer starts from the host.

:func:`entity_risk` takes alerts (:class:`core.documents.Alert` objects or the documents
the store returns) and returns one :class:`EntityRisk` per host and per user, riskiest
first. The score (0-100) combines the entity's alerts as independent pieces of evidence,
each weighed less than the one before it (riskiest first, weight ``1 / rank ** 1.5``):
``100 * (1 - prod(1 - risk_i / 100 * w_i))``, plus ``technique_bonus`` points for each
ATT&CK technique beyond the first (a host that beacons, moves laterally and uploads is
further along than one that only beacons), capped at 100. One high alert (risk 74)
alone scores 74; ten low anomaly alerts (risk 35) score about 55. Alerts closed as
``false_positive`` or ``benign`` do not count. Levels use the alert severity bands
(90 critical, 70 high, 40 medium).

Hosts are the alert's source address or host name (its ``entity`` when that is an
address or host, never a crawled post's ``post:<id>``); users are its user name (or an
``user:<name>`` entity). The score is :func:`core.risk.score_alerts`; the dashboard
computes the same list from aggregations over the stored alerts
(``dashboard.data.entity_risk_scores``), the CLI and the scenario evaluation call this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.documents import Alert, Severity
from core.risk import DISCOUNTED, NOT_HOSTS, score_alerts
from core.text import is_ip

__all__ = ["DISCOUNTED", "NOT_HOSTS", "EntityRisk", "entity_risk", "score_alerts"]


@dataclass
class EntityRisk:
    """One host's or user's risk over the period, with the alerts behind it."""

    entity: str
    kind: str  # "host" | "user"
    score: float
    level: str
    alerts: int
    techniques: list[str]
    max_severity: str
    first_seen: datetime
    last_seen: datetime
    alert_ids: list[str] = field(default_factory=list)  # riskiest first
    timeline: list[dict[str, Any]] = field(default_factory=list)  # oldest first: time, rule, severity, risk, title

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["first_seen"], d["last_seen"] = self.first_seen.isoformat(), self.last_seen.isoformat()
        return d



def _owners(a: Alert) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if a.source_ip:
        out.add(("host", a.source_ip))
    if a.host_name and not a.source_ip and a.entity == a.host_name:
        out.add(("host", a.host_name))
    if a.entity and not a.entity.startswith(NOT_HOSTS) and (is_ip(a.entity) or not a.source_ip):
        out.add(("host", a.entity))
    if a.user_name:
        out.add(("user", a.user_name))
    elif a.entity and a.entity.startswith("user:"):
        out.add(("user", a.entity[5:]))
    return out


def entity_risk(alerts: Iterable[Alert | dict[str, Any]], *, now: datetime | None = None, hours: float = 24.0,
                kind: str | None = None, top: int | None = None, technique_bonus: float = 5.0,
                timeline: int = 50) -> list[EntityRisk]:
    """Hosts and users ranked by risk over the ``hours`` before ``now`` (default: the newest alert's time).

    Args:
        alerts: alerts or stored alert documents (ECS names); others' modules are ignored.
        kind: ``"host"`` or ``"user"`` to keep one kind only.
        top: keep the riskiest ``top`` entities.
        timeline: alerts listed per entity in :attr:`EntityRisk.timeline` (newest kept).
    """
    items = [a if isinstance(a, Alert) else Alert.from_doc(a) for a in alerts]
    items = [a for a in items if a.module == "security" and a.close_reason not in DISCOUNTED]
    if not items:
        return []
    now = now or max(a.last_seen for a in items)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    since = now - timedelta(hours=hours)
    groups: dict[tuple[str, str], list[Alert]] = {}
    for a in items:
        if a.last_seen < since or a.first_seen > now:
            continue
        for owner in _owners(a):
            if kind is None or owner[0] == kind:
                groups.setdefault(owner, []).append(a)
    out = []
    for (k, name), group in groups.items():
        techniques = sorted({a.threat_technique_id for a in group if a.threat_technique_id})
        score = score_alerts([a.risk_score for a in group], len(techniques), technique_bonus)
        ranked = sorted(group, key=lambda a: -a.risk_score)
        by_time = sorted(group, key=lambda a: a.last_seen)[-timeline:]
        out.append(EntityRisk(
            entity=name, kind=k, score=score, level=Severity.from_score(score).value, alerts=len(group),
            techniques=techniques, max_severity=max((a.severity for a in group), key=lambda s: s.rank).value,
            first_seen=min(a.first_seen for a in group), last_seen=max(a.last_seen for a in group),
            alert_ids=[a.id for a in ranked],
            timeline=[{"time": a.last_seen.isoformat(), "rule": a.rule_name, "technique": a.threat_technique_id,
                       "severity": a.severity.value, "risk": a.risk_score, "title": a.title, "id": a.id}
                      for a in by_time]))
    out.sort(key=lambda e: (-e.score, -e.alerts, e.entity))
    return out[:top] if top else out
