"""The monitor: records in, explained and de-duplicated :class:`core.documents.Alert` objects out.

``Monitor.feed(record)`` accumulates flows, per-entity windows and the state the rules
need; ``Monitor.finish()`` closes open flows, runs the rules, scores every entity
window with the fitted detector (if any), merges both into one alert per rule, entity
and de-duplication window, drops allow-listed entities, and returns a
:class:`MonitorResult`. :func:`learn` fits the detector on baseline records.

Nothing here writes anywhere: the shell stores the alerts.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.documents import Alert, Explanation, Severity
from core.errors import SecurityMonitorError
from core.settings import SecuritySettings
from core.text import is_ip
from security.analytics.base import Finding
from security.analytics.engine import AnalyticsEngine
from security.detectors import Detector
from security.features import FEATURES, FlowTable, WindowAggregator, registered_domain
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, Packet, Record, SyslogLine
from security.rules import ANOMALY, Detection, rule_config, run_rules, web_attack_kinds

log = logging.getLogger(__name__)

ANOMALY_RULE = "anomalous_activity"
ANOMALY_MAX_RISK = 69.0  # statistical outliers without a matching rule stay at most medium


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Allowlist:
    """IPs, CIDR networks, user names and host names that never raise alerts."""

    def __init__(self, entries: Iterable[str]):
        self.names: set[str] = set()
        self.nets: list[ipaddress._BaseNetwork] = []
        for entry in entries:
            try:
                self.nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry.lower())

    def __contains__(self, value: str | None) -> bool:
        if not value:
            return False
        if value.lower() in self.names:
            return True
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return False
        return any(ip in net for net in self.nets)

    def suppresses(self, d: Detection | Alert) -> bool:
        return any(v in self for v in (getattr(d, "source_ip", None), getattr(d, "entity", None),
                                       getattr(d, "user_name", None), getattr(d, "destination_domain", None)))


@dataclass
class MonitorResult:
    alerts: list[Alert]
    windows: int
    records: Counter
    suppressed: int = 0
    detections: int = 0
    anomalies: int = 0

    def summary(self) -> dict[str, Any]:
        by_rule = Counter(a.rule_name for a in self.alerts)
        by_sev = Counter(a.severity.value for a in self.alerts)
        return {"alerts": len(self.alerts), "by_rule": dict(by_rule), "by_severity": dict(by_sev),
                "windows": self.windows, "records": dict(self.records), "suppressed": self.suppressed,
                "detections": self.detections, "anomalous_windows": self.anomalies}


class Monitor:
    """Accumulates records and turns them into alerts on :meth:`finish`.

    Args:
        config: the ``security`` settings section.
        analytics: a :class:`security.analytics.engine.AnalyticsEngine` carrying state from
            earlier runs (``None`` = a fresh one when ``analytics_enabled``).
        detector: a fitted :class:`Detector` (``None`` = rules only, no anomaly scoring).
        templates: a :class:`security.templates.TemplateMiner` for syslog lines (optional).
        baseline_templates: template ids seen in the baseline with their counts; lines
            whose template is missing or rare there count as ``rare_templates``.
    """

    def __init__(self, config: SecuritySettings, detector: Detector | None = None, templates=None,
                 baseline_templates: dict[int, int] | None = None, analytics: AnalyticsEngine | None = None,
                 observers: Iterable[Any] = ()):
        self.config = config
        # Sigma rules, intel matchers: observe(record) on every parsed record, finish() -> alerts
        self.observers = list(observers)
        self.rules = rule_config(config.rules)
        # behaviour analytics over hours (fresh state unless the shell hands over a saved engine)
        self.analytics = analytics if analytics is not None or not config.analytics_enabled \
            else AnalyticsEngine(config)
        self.learning = False  # learn(): records build the analytics baseline instead of being judged
        if self.analytics is not None and "beaconing" in self.analytics.names:
            self.rules["beaconing"]["enabled"] = False  # the analytic scores beacons over its horizon
        self.detector = detector
        self.templates = templates
        self.baseline_templates = baseline_templates
        self.max_evidence = config.max_evidence
        self.dedup = float(config.dedup_window_s)
        self.flows = FlowTable(config.flow_idle_timeout_s, config.flow_active_timeout_s)
        self.agg = WindowAggregator(config.window_s)
        self.allow = Allowlist(config.allowlist)
        self.records: Counter = Counter()
        self.samples: dict[tuple[str, str], list[str]] = {}
        self.port_hosts: dict[tuple[str, float], dict[int, set]] = {}
        self.auth: dict[tuple[str, float], dict[str, Any]] = {}
        self.user_auth: dict[tuple[str, float], dict[str, Any]] = {}  # (user, window) -> failures by source
        # keyed by de-duplication window too, so a long input gives one alert per window
        self.web_hits: dict[tuple[str, float], list[tuple[float, list[str], str]]] = {}
        self.dns_domains: dict[tuple[str, str, float], dict[str, Any]] = {}
        self.conn_starts: dict[tuple[str, str, int], list[float]] = {}
        self.template_counts: Counter = Counter()

    # -- accumulation -------------------------------------------------------------------
    @property
    def windows(self):
        return list(self.agg)

    def feed_many(self, records: Iterable[Record]) -> None:
        """:meth:`feed` every record, with the cyclic garbage collector paused meanwhile (see
        :func:`_gc_paused`)."""
        with _gc_paused():
            for rec in records:
                self.feed(rec)

    def feed(self, rec: Record) -> None:
        if isinstance(rec, Packet):
            self.records["packets"] += 1
            for conn in self.flows.add(rec):
                self._connection(conn)
            if rec.dns_query:
                self._dns(DnsQuery(rec.ts, rec.src, rec.dst, rec.dns_query))
            if rec.http:
                self._http(HttpRequest(rec.ts, rec.src, rec.http[0], rec.http[1],
                                       raw=f"{rec.src} -> {rec.dst}:{rec.dport} {rec.http[0]} {rec.http[1][:300]}"))
        elif isinstance(rec, Connection):
            self.records["connections"] += 1
            self._connection(rec)
        elif isinstance(rec, AuthEvent):
            self.records["auth_events"] += 1
            self._auth(rec)
        elif isinstance(rec, HttpRequest):
            self.records["http_requests"] += 1
            self._http(rec)
        elif isinstance(rec, DnsQuery):
            self.records["dns_queries"] += 1
            self._dns(rec)
        elif isinstance(rec, SyslogLine):
            self.records["log_lines"] += 1
            self._syslog(rec)

    def _sample(self, key: tuple[str, str], text: str) -> None:
        lst = self.samples.setdefault(key, [])
        if len(lst) < self.max_evidence:
            lst.append(text)

    def _observe(self, rec: Record) -> None:
        if not self.learning:
            for obs in self.observers:
                obs.observe(rec)

    def _analytic(self, rec: Record) -> None:
        if self.learning:
            self.analytics.learn(rec)
        else:
            self.analytics.observe(rec)

    def _connection(self, c: Connection) -> None:
        if self.observers:
            self._observe(c)
        if self.analytics is not None:
            self._analytic(c)
        self.agg.add_connection(c)
        start = math.floor(c.ts / self.agg.window_s) * self.agg.window_s
        self.port_hosts.setdefault((c.src, start), {}).setdefault(c.dport, set()).add(c.dst)
        self.conn_starts.setdefault((c.src, c.dst, c.dport), []).append(c.ts)
        self._sample(("flow", c.src), f"{_dt(c.ts):%H:%M:%S} {c.proto} {c.src}:{c.sport} -> {c.dst}:{c.dport} "
                                      f"{c.state or ''} {c.orig_pkts + c.resp_pkts} pkts")

    def _auth(self, e: AuthEvent) -> None:
        if self.observers:
            self._observe(e)
        if self.analytics is not None:
            self._analytic(e)
        self.agg.add_auth(e)
        if not e.src:
            return
        start = math.floor(e.ts / self.agg.window_s) * self.agg.window_s
        ts, outcome = e.ts, e.outcome
        a = self.auth.get((e.src, start))
        if a is None:
            a = self.auth[(e.src, start)] = {"failures": 0, "invalid": 0, "successes": 0, "users": Counter(),
                                             "first": ts, "last": ts, "samples": [], "host": None}
        if ts < a["first"]:
            a["first"] = ts
        if ts > a["last"]:
            a["last"] = ts
        if outcome == "failure":
            a["failures"] += 1
        elif outcome == "invalid_user":
            a["invalid"] += 1
        elif outcome == "success":
            a["successes"] += 1
        if e.user and (outcome == "failure" or outcome == "invalid_user"):
            a["users"][e.user] += 1
        if outcome != "success" and len(a["samples"]) < self.max_evidence:
            a["samples"].append(f"{_dt(e.ts):%Y-%m-%d %H:%M:%S} {e.host} {e.service}: {e.message[:300]}")
        if e.outcome == "failure" and e.user:  # the account's side: failures from many sources
            u = self.user_auth.get((e.user, start))
            if u is None:
                u = self.user_auth[(e.user, start)] = {"failures": 0, "sources": Counter(), "first": e.ts,
                                                       "last": e.ts, "samples": [], "host": e.host}
            u["failures"] += 1
            u["sources"][e.src] += 1
            u["first"] = min(u["first"], e.ts)
            u["last"] = max(u["last"], e.ts)
            if len(u["samples"]) < self.max_evidence:
                u["samples"].append(f"{_dt(e.ts):%Y-%m-%d %H:%M:%S} {e.host} {e.service}: {e.message[:300]}")

    def _http(self, r: HttpRequest) -> None:
        if self.observers:
            self._observe(r)
        if self.analytics is not None:
            self._analytic(r)
        self.agg.add_http(r)
        kinds = web_attack_kinds(r.target)
        if kinds:
            sample = (r.raw or f"{r.src} {r.method} {r.target}")[:500]
            self.web_hits.setdefault((r.src, self.window_start(r.ts)), []).append((r.ts, kinds, sample))

    def _dns(self, q: DnsQuery) -> None:
        if self.observers:
            self._observe(q)
        if self.analytics is not None:
            self._analytic(q)
        self.agg.add_dns(q)
        domain = registered_domain(q.query)
        key = (q.src, domain, self.window_start(q.ts))
        d = self.dns_domains.get(key)
        if d is None:
            d = self.dns_domains[key] = {"queries": 0, "labels": [], "first": q.ts, "last": q.ts,
                                                     "samples": [], "server": q.dst}
        d["queries"] += 1
        d["first"] = min(d["first"], q.ts)
        d["last"] = max(d["last"], q.ts)
        sub = q.query[: -len(domain)].rstrip(".") if q.query.endswith(domain) else q.query
        if sub:
            d["labels"].append(sub.replace(".", ""))
        if len(d["samples"]) < self.max_evidence:
            d["samples"].append(q.query)

    def _syslog(self, line: SyslogLine) -> None:
        if self.observers:
            self._observe(line)
        rare = False
        if self.templates is not None:
            tid, _template = self.templates.add(f"{line.service}: {line.message}")
            self.template_counts[tid] += 1
            if self.baseline_templates is not None:
                rare = self.baseline_templates.get(tid, 0) < 3
        self.agg.add_log(line, rare)

    # -- results ------------------------------------------------------------------------
    def finish(self) -> MonitorResult:
        """Rules, analytics, scores and the alerts they give (cyclic garbage collector paused meanwhile)."""
        with _gc_paused():
            return self._finish()

    def _finish(self) -> MonitorResult:
        for conn in self.flows.flush():
            self._connection(conn)
        detections = run_rules(self, self.rules)
        if self.analytics is not None and not self.learning:
            covered = {(d.entity, d.technique) for d in detections}
            detections += self.analytics.detect(covered)
        windows = self.windows
        scored: list[tuple[Any, float]] = []
        if self.detector is not None and windows:
            rows = [w.features() for w in windows]
            scores = self.detector.decision_function(rows)
            scored = list(zip(windows, (float(s) for s in scores), strict=True))
        alerts, suppressed, anomalies = self._alerts(detections, scored)
        if self.observers and not self.learning:  # Sigma and intel alerts, allow-list applied
            merged = {a.id: a for a in alerts}
            for a in (a for obs in self.observers for a in obs.finish()):
                if self.allow.suppresses(a):
                    suppressed += 1
                else:
                    self._merge(merged, a)
            alerts = sorted(merged.values(), key=lambda a: (-a.risk_score, a.first_seen))
        return MonitorResult(alerts, len(windows), self.records, suppressed, len(detections), anomalies)

    def window_start(self, ts: float) -> float:
        return math.floor(ts / self.dedup) * self.dedup

    def _explain(self, w, detection: Detection | None) -> list[Explanation]:
        """A rule's own figures against its thresholds first (``kind`` "rule"), then the window's
        features furthest from the entity's own baseline (``kind`` "anomaly")."""
        out: list[Explanation] = rule_explanation(detection) if detection is not None else []
        base = self.detector.baseline_ if self.detector is not None else {}
        for e in out:  # a rule figure the detector also measures: its typical value in the baseline
            if e.baseline is None and e.feature in FEATURES and e.feature in base:
                e.baseline = base[e.feature]["median"]
        if self.detector is not None and w is not None:
            have = {e.feature for e in out}
            for e in self.detector.explain(w.features(), top=5, entity=w.entity):
                if e["feature"] not in have:
                    out.append(Explanation(kind="anomaly", **e))
        return out

    def _alerts(self, detections: list[Detection], scored: list[tuple[Any, float]]):
        thr = self.detector.threshold_ if self.detector is not None else math.inf
        by_entity: dict[str, list[tuple[Any, float]]] = {}
        for w, s in scored:
            by_entity.setdefault(w.entity, []).append((w, s))
        merged: dict[str, Alert] = {}
        suppressed = 0
        used_windows: set[tuple[str, float]] = set()
        for d in detections:
            if self.allow.suppresses(d):
                suppressed += 1
                continue
            # the entity's windows overlapping the detection: the worst one explains it
            overlap = [(w, s) for w, s in by_entity.get(d.entity, [])
                       if w.start <= d.last_seen and w.end >= d.first_seen]
            best = max(overlap, key=lambda t: t[1], default=(None, None))
            for w, _ in overlap:
                used_windows.add((w.entity, w.start))
            if best[0] is None:
                best = next(((w, s) for w, s in by_entity.get(d.entity, [])), (None, None))
            risk = d.risk
            if best[1] is not None and best[1] > thr:
                risk += 10.0 * min(1.0, max(0.0, self.detector.margin(best[1])) / 3)
            alert = self._make(d.rule, d.technique, d.technique_name, d.entity, d.first_seen, d.last_seen,
                               d.count, min(100.0, risk), d.title, self._explain(best[0], d), d.evidence,
                               d.categories, source_ip=d.source_ip, destination_ip=d.destination_ip,
                               destination_port=d.destination_port, destination_domain=d.destination_domain,
                               user_name=d.user_name, host_name=d.host_name,
                               title_key=d.title_key, title_params=d.title_params,
                               rule_ruleset="analytics" if isinstance(d, Finding) else None)
            self._merge(merged, alert)
        anomalies = 0
        for w, s in scored:
            if s <= thr:
                continue
            anomalies += 1
            if (w.entity, w.start) in used_windows or w.entity in self.allow:
                continue
            margin = max(0.0, self.detector.margin(s))
            risk = min(ANOMALY_MAX_RISK, 30.0 + 39.0 * min(1.0, margin / 4))
            # a window folded into an earlier anomaly alert that is at least as risky only adds its
            # count, times and evidence (merge_alerts keeps the old explanation and title): not explained
            old = merged.get(self._alert_id(ANOMALY_RULE, w.entity, w.first_seen))
            explanation = self._explain(w, None) if old is None or round(risk, 1) > old.risk_score else []
            top = ", ".join(f"{e.feature}={e.observed:g} (baseline {e.baseline:g})" for e in explanation[:3])
            alert = self._make(ANOMALY_RULE, ANOMALY["technique"], ANOMALY["technique_name"], w.entity,
                               w.first_seen, w.last_seen, 1, risk, f"Unusual activity from {w.entity}: {top}",
                               explanation, self.samples.get(("flow", w.entity), [])[: self.max_evidence],
                               ["network"], source_ip=w.entity if is_ip(w.entity) else None,
                               host_name=None if is_ip(w.entity) else w.entity, title_key="anomaly",
                               title_params={"entity": w.entity, "features": [
                                   [e.feature, e.observed, e.baseline] for e in explanation[:3]]})
            self._merge(merged, alert)
        return sorted(merged.values(), key=lambda a: (-a.risk_score, a.first_seen)), suppressed, anomalies

    def _alert_id(self, rule: str, entity: str, first: float) -> str:
        """The id of the alert ``rule`` raises on ``entity`` from ``first`` (its de-duplication window)."""
        return Alert.make_id(rule, entity, _dt(self.window_start(first)).isoformat())

    def _make(self, rule, technique, technique_name, entity, first, last, count, risk, title, explanation,
              evidence, categories, **fields) -> Alert:
        return Alert(id=self._alert_id(rule, entity, first), timestamp=_dt(last),
                     rule_name=rule, threat_technique_id=technique, threat_technique_name=technique_name,
                     title=title, risk_score=round(risk, 1), severity=Severity.from_score(risk),
                     first_seen=_dt(first), last_seen=_dt(last), count=max(1, int(count)),
                     explanation=explanation, evidence=list(evidence), entity=entity,
                     event_category=list(categories), **fields)

    @staticmethod
    def _merge(merged: dict[str, Alert], alert: Alert) -> None:
        old = merged.get(alert.id)
        if old is None:
            merged[alert.id] = alert
            return
        merge_alerts(old, alert)


# Which observed figure each rule threshold is about (the first one the detection reports);
# "count" is the detection's own count (requests, queries, connections it saw).
THRESHOLD_FIGURES: dict[str, tuple[str, ...]] = {
    "min_ports": ("distinct_dst_ports", "failed_ports_on_one_host"),
    "min_hosts": ("hosts_on_one_port", "failed_hosts_on_one_port", "admin_hosts"),
    "min_failed_ratio": ("syn_no_ack_ratio",), "min_failure_ratio": ("refused_ratio",),
    "min_queries": ("dns_queries",), "min_label_len": ("dns_label_len",), "min_entropy": ("dns_label_entropy",),
    "min_unique_ratio": ("dns_unique_ratio",), "min_unique": ("unique_subdomains",),
    "min_encoded_share": ("encoded_share",), "min_connections": ("connections",), "max_cv": ("interval_cv",),
    "min_failures": ("failed_logins", "failed_before", "refused_logins"),
    "min_failures_per_user": ("failed_logins",), "dist_min_failures": ("failed_logins",),
    "min_users": ("distinct_users",), "spray_min_users": ("distinct_users",),
    "min_sources": ("distinct_sources",), "dist_min_sources": ("distinct_sources",),
    "min_same_user": ("failed_same_user",), "min_new_edges": ("new_admin_edges",),
    "min_score": ("beacon_score",), "min_beats": ("beats", "connections"), "min_bytes": ("bytes_out",),
    "min_hits": ("count",),
}


def rule_explanation(d: Detection) -> list[Explanation]:
    """The figures a rule or analytic tested, each with its threshold when it has one (``min_*``:
    at least, ``max_*``: at most) and the entity's own baseline when the analytic keeps one."""
    figures = {**{k: float(v) for k, v in d.observed.items() if isinstance(v, int | float)}, "count": float(d.count)}
    limits: dict[str, tuple[float, str]] = {}
    for name, value in (d.thresholds or {}).items():
        target = next((f for f in THRESHOLD_FIGURES.get(name, ()) if f in figures), None)
        if target is not None and target not in limits and isinstance(value, int | float):
            limits[target] = (float(value), "max" if name.startswith("max_") else "min")
    baselines = getattr(d, "baselines", {}) or {}
    out = []
    for name, value in figures.items():
        if name == "count" and name not in limits:
            continue
        threshold, direction = limits.get(name, (None, None))
        base = baselines.get(name)
        out.append(Explanation(kind="rule", feature=name, observed=value, threshold=threshold, direction=direction,
                               baseline=float(base) if isinstance(base, int | float) else None))
    return out


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused, then restored (also on an error or Ctrl-C): the windows,
    counters and alerts the monitor builds make no cycles, and the collector's passes over them
    cost about a tenth of the log path."""
    collect = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collect:
            gc.enable()


def merge_alerts(old: Alert, new: Alert) -> Alert:
    """Fold ``new`` into ``old`` (same id): widen the time range, add counts, keep the worse risk."""
    old.count += new.count
    old.first_seen = min(old.first_seen, new.first_seen)
    old.last_seen = max(old.last_seen, new.last_seen)
    old.timestamp = old.last_seen
    if new.risk_score > old.risk_score:
        old.risk_score, old.severity, old.title = new.risk_score, new.severity, new.title
        old.title_key, old.title_params = new.title_key, new.title_params  # the title and its values together
        old.explanation = new.explanation or old.explanation
    for e in new.evidence:
        if e not in old.evidence and len(old.evidence) < 10:
            old.evidence.append(e)
    return old



@dataclass
class Model:
    """What ``monitor learn`` produces: the network detector and the baseline's template counts."""

    detector: Detector | None
    baseline_templates: dict[int, int] = field(default_factory=dict)
    windows: int = 0
    analytics: AnalyticsEngine | None = None  # the analytics with their learnt baseline


def learn(records: Iterable[Record], config: SecuritySettings, templates=None) -> Model:
    """Fit the detector on baseline records (per-entity windows), count baseline templates, learn analytics."""
    m = Monitor(config, None, templates)
    m.learning = True
    m.feed_many(records)
    for conn in m.flows.flush():
        m._connection(conn)
    if m.analytics is not None:
        m.analytics.finish_learning()
    rows = [w.features() for w in m.windows]
    if len(rows) < 5:
        raise SecurityMonitorError(f"the baseline gave only {len(rows)} entity windows",
                                   hint="learn on more traffic or a longer period")
    det = Detector(config.detector, config.contamination).fit(rows, list(FEATURES),
                                                              entities=[w.entity for w in m.windows])
    return Model(det, dict(m.template_counts), len(rows), m.analytics)


def model_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "security"
