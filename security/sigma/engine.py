"""Sigma rules evaluated on the monitor's records: one alert per rule, entity and de-duplication window.

:class:`SigmaEngine` is a monitor observer: ``observe(record)`` turns the record into a
normalised event (:func:`security.sigma.events.to_event`) and runs the rules of its kind;
``finish()`` closes the correlation windows and returns :class:`core.documents.Alert`
objects carrying the rule's id (``rule.id``), title, level (``rule.level``, and the
severity and risk from ``security.sigma_level_risk``) and tags (ATT&CK technique in
``threat.technique.id``).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.documents import Alert, Severity
from core.settings import SecuritySettings
from security.records import Record
from security.sigma.events import to_event
from security.sigma.loader import CompiledCorrelation, CompiledRule, RuleSet

log = logging.getLogger(__name__)

_TECHNIQUE = re.compile(r"^t\d{4}(?:\.\d{3})?$")
ENTITY_FIELDS = ("source.ip", "user.name", "host.name")  # who an alert is about, first present wins


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def techniques(rule: Any) -> list[str]:
    """ATT&CK technique ids of a rule's ``attack.tNNNN[.NNN]`` tags, upper-cased."""
    return [t.name.upper() for t in rule.tags if t.namespace == "attack" and _TECHNIQUE.match(t.name)]


def rule_slug(rule: Any) -> str:
    name = rule.name or rule.title or str(rule.id)
    return "sigma:" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def level_of(rule: Any) -> str:
    return rule.level.name.lower() if rule.level is not None else "medium"


@dataclass
class _Hits:
    rule: Any
    entity: str
    first: float
    last: float
    count: int = 0
    evidence: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, float] = field(default_factory=dict)


def _entity(ev: dict[str, Any], prefer: list[str] | None = None) -> str:
    for f in (*(prefer or ()), *ENTITY_FIELDS):
        v = ev.get(f)
        if v not in (None, ""):
            return str(v)
    return "unknown"


def _alert_fields(ev: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name in (("source.ip", "source_ip"), ("destination.ip", "destination_ip"),
                      ("user.name", "user_name"), ("host.name", "host_name")):
        if ev.get(key) not in (None, ""):
            out[name] = str(ev[key])
    port = ev.get("destination.port")
    if isinstance(port, int) and port > 0:
        out["destination_port"] = port
    dom = ev.get("dns.question.name") or ev.get("url.domain")
    if dom:
        out["destination_domain"] = str(dom)
    return out


class SigmaEngine:
    """Runs a :class:`RuleSet` over records and raises alerts (see the module docstring)."""

    def __init__(self, ruleset: RuleSet, config: SecuritySettings):
        self.ruleset = ruleset
        self.by_kind = ruleset.by_kind()
        self.level_risk = dict(config.sigma_level_risk)
        self.dedup = float(config.dedup_window_s) or 3600.0
        self.max_evidence = config.max_evidence
        self.max_events = config.sigma_max_events
        self.hits: dict[tuple[str, str, float], _Hits] = {}
        # correlation id -> deque of (ts, group key, value, event summary)
        self.corr_events: dict[str, deque] = {c.id: deque(maxlen=self.max_events) for c in ruleset.correlations}
        self.events = 0
        self.matches: Counter = Counter()

    @property
    def empty(self) -> bool:
        return not self.ruleset.rules

    def observe(self, rec: Record) -> None:
        out = to_event(rec)
        if out is None:
            return
        kind, ev = out
        rules = self.by_kind.get(kind)
        if not rules:
            return
        self.events += 1
        for cr in rules:
            if cr.programs and ev.get("process.name") not in cr.programs:
                continue
            if not cr.match(ev):
                continue
            self.matches[cr.id] += 1
            if cr.output:
                self._hit(cr, ev)
            for corr in cr.correlations:
                key = tuple(str(ev.get(f, "")) for f in corr.group_by)
                value = ev.get(corr.value_field) if corr.value_field else None
                self.corr_events[corr.id].append((float(ev["@timestamp"]), key, value, ev))

    def _hit(self, cr: CompiledRule, ev: dict[str, Any]) -> None:
        ts = float(ev["@timestamp"])
        entity = _entity(ev)
        start = math.floor(ts / self.dedup) * self.dedup
        key = (cr.id, entity, start)
        h = self.hits.get(key)
        if h is None:
            h = self.hits[key] = _Hits(cr.rule, entity, ts, ts, fields=_alert_fields(ev))
        h.count += 1
        h.first, h.last = min(h.first, ts), max(h.last, ts)
        if len(h.evidence) < self.max_evidence:
            h.evidence.append(f"{_dt(ts):%Y-%m-%d %H:%M:%S} {str(ev.get('message', ''))[:400]}")

    def _correlate(self, corr: CompiledCorrelation) -> None:
        groups: dict[tuple, list[tuple[float, Any, dict]]] = {}
        for ts, key, value, ev in self.corr_events[corr.id]:
            groups.setdefault(key, []).append((ts, value, ev))
        for items in groups.values():
            items.sort(key=lambda t: t[0])
            values: Counter = Counter()
            lo = 0
            for hi, (ts, value, ev) in enumerate(items):
                if corr.value_field:
                    values[value] += 1
                while items[lo][0] < ts - corr.timespan_s:
                    if corr.value_field:
                        old = items[lo][1]
                        values[old] -= 1
                        if values[old] <= 0:
                            del values[old]
                    lo += 1
                n = len([v for v in values if v not in (None, "")]) if corr.value_field else hi - lo + 1
                if not corr.holds(n):
                    continue
                entity = _entity(ev, corr.group_by) if corr.group_by else _entity(ev)
                start = math.floor(items[lo][0] / self.dedup) * self.dedup
                hkey = (corr.id, entity, start)
                h = self.hits.get(hkey)
                if h is None:
                    h = self.hits[hkey] = _Hits(corr.rule, entity, items[lo][0], ts, fields=_alert_fields(ev))
                    h.evidence = [f"{_dt(t):%Y-%m-%d %H:%M:%S} {str(e.get('message', ''))[:400]}"
                                  for t, _v, e in items[lo: lo + self.max_evidence]]
                h.first, h.last = min(h.first, items[lo][0]), max(h.last, ts)
                h.count = max(h.count, n)
                label = "distinct " + corr.value_field if corr.value_field else "events"
                h.observed[label] = max(h.observed.get(label, 0.0), float(n))

    def finish(self) -> list[Alert]:
        """The alerts of everything observed so far (correlations evaluated now)."""
        for corr in self.ruleset.correlations:
            self._correlate(corr)
        alerts = [self._alert(h) for h in self.hits.values()]
        log.info("sigma: %d events, %d rule matches, %d alerts", self.events, sum(self.matches.values()),
                 len(alerts))
        return alerts

    def _alert(self, h: _Hits) -> Alert:
        from core.documents import Explanation

        rule = h.rule
        level = level_of(rule)
        risk = float(self.level_risk.get(level, 55.0))
        techs = techniques(rule)
        slug = rule_slug(rule)
        rid = str(rule.id) if rule.id else slug
        start = math.floor(h.first / self.dedup) * self.dedup
        return Alert(
            id=Alert.make_id(f"sigma:{rid}", h.entity, _dt(start).isoformat()), timestamp=_dt(h.last),
            rule_name=slug, rule_id=rid, rule_ruleset="sigma", rule_level=level,
            tags=[f"{t.namespace}.{t.name}" for t in rule.tags],
            threat_technique_id=techs[0] if techs else None, title=f"{rule.title}: {h.entity}",
            risk_score=risk, severity=Severity.from_score(risk), first_seen=_dt(h.first), last_seen=_dt(h.last),
            count=max(1, h.count), evidence=h.evidence, entity=h.entity,
            explanation=[Explanation(feature=k, observed=v) for k, v in h.observed.items()],
            event_category=["sigma"], **h.fields)
