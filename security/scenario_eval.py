"""Detection measured on attack families (:mod:`security.families`), not on fixed shapes.

:func:`evaluate` generates a scenario for a seed, learns on its benign period (the
detector, the log templates' baseline and the analytics' baselines, as ``monitor learn``
does), then monitors the test period in batches of ``batch_s`` seconds, each batch a new
:class:`~security.monitor.Monitor` that carries the analytics state of the previous
ones (as ``monitor --follow`` does). It returns, per kind of attack: how many were
injected, how many were alerted with the right attacker and ATT&CK technique, and the
time to detect (end of the batch that first raised it, minus the attack's start); the
alerts that match no attack ("false alerts") by severity, per internal benign host and
hour; and the day's riskiest entities (:func:`security.risk.entity_risk`), each marked
whether an attack involved it (attacker, victim or attacked account).

An alert matches an attack when its technique is one the attack's kind accepts, its
entity, source address or user names the attacker (or one of its sources), and its time
range overlaps the attack (or follows it within the analytics' horizon).
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from statistics import median
from typing import Any

from core.documents import Alert
from core.settings import SecuritySettings
from security.families import Injected, Scenario, generate, write_files
from security.monitor import Monitor, learn, merge_alerts
from security.risk import entity_risk

log = logging.getLogger(__name__)

SEVERITIES = ("low", "medium", "high", "critical")


def _names(a: Alert) -> set[str]:
    out = {a.entity or "", a.source_ip or ""}
    if a.user_name:
        out.add(f"user:{a.user_name}")
    return out - {""}


def matches(a: Alert, inj: Injected, slack_s: float = 86400.0) -> bool:
    """Whether ``a`` reports ``inj``: accepted technique, attacker named, time overlapping."""
    if a.threat_technique_id not in inj.accepted:
        return False
    who = {inj.attacker, *inj.sources}
    if not (_names(a) & who):
        return False
    return a.last_seen.timestamp() >= inj.start - 60 and a.first_seen.timestamp() <= inj.end + slack_s


def run_scenario(scenario: Scenario, config: SecuritySettings | None = None,
                 batch_s: float = 900.0) -> tuple[list[tuple[float, Alert]], dict[str, Any]]:
    """Learn on the scenario's benign period, monitor its test period in batches.

    Returns (batch end time, alert) for every alert of every batch, and run figures.
    """
    config = config or SecuritySettings()
    model = learn(scenario.learn_records, config)
    engine = model.analytics
    out: list[tuple[float, Alert]] = []
    recs = scenario.records
    i = 0
    t = scenario.start
    batches = 0
    while t < scenario.end:
        end = t + batch_s
        m = Monitor(config, model.detector, None, None, analytics=engine)
        while i < len(recs) and recs[i].ts < end:
            m.feed(recs[i])
            i += 1
        result = m.finish()
        out.extend((end, a) for a in result.alerts)
        engine = m.analytics
        batches += 1
        t = end
    return out, {"batches": batches, "records": len(recs), "learn_records": len(scenario.learn_records),
                 "learn_windows": model.windows}


def score(scenario: Scenario, alerts: list[tuple[float, Alert]]) -> dict[str, Any]:
    """Per-kind detection, time to detect, and false alerts by severity (see the module docstring)."""
    merged: dict[str, tuple[float, Alert]] = {}
    for at, a in alerts:
        if a.id in merged:
            merge_alerts(merged[a.id][1], a)
        else:
            merged[a.id] = (at, a.model_copy(deep=True))
    per_kind: dict[str, dict[str, Any]] = {}
    ttds: dict[str, list[float]] = defaultdict(list)
    related: set[str] = set()
    for inj in scenario.injected:
        k = per_kind.setdefault(inj.kind, {"injected": 0, "alerted": 0, "missed": []})
        k["injected"] += 1
        hits = [(at, a) for at, a in merged.values() if matches(a, inj)]
        for _, a in merged.values():  # anything naming an attacker or victim during the attack is not false
            if (_names(a) & {inj.attacker, *inj.sources, inj.victim}) and \
                    a.last_seen.timestamp() >= inj.start - 60 and a.first_seen.timestamp() <= inj.end + 86400:
                related.add(a.id)
        if hits:
            k["alerted"] += 1
            ttds[inj.kind].append(max(0.0, min(at for at, _ in hits) - inj.start))
        else:
            k["missed"].append(inj.variant)
    for kind, k in per_kind.items():
        k["rate"] = round(k["alerted"] / k["injected"], 3)
        if ttds[kind]:
            k["ttd_s"] = [round(t) for t in ttds[kind]]
            k["ttd_s_median"] = round(median(ttds[kind]))
            k["ttd_s_max"] = round(max(ttds[kind]))
    false = [a for _, a in merged.values() if a.id not in related]
    hours = (scenario.end - scenario.start) / 3600
    attackers = {s for inj in scenario.injected for s in (inj.attacker, *inj.sources)}
    benign_hosts = [h for h in scenario.internal_hosts if h not in attackers]
    host_hours = max(1.0, len(benign_hosts) * hours)
    by_sev = Counter(a.severity.value for a in false)
    injected = sum(k["injected"] for k in per_kind.values())
    alerted = sum(k["alerted"] for k in per_kind.values())
    # one picture per host: are the riskiest entities of the day the attackers (or accounts they attacked)?
    ranked = entity_risk([a for _, a in merged.values()], hours=hours)
    accounts = set()
    for i in scenario.injected:  # accounts attacked or taken over
        accounts.update(u for u in (i.variant.get("account"), i.variant.get("user")) if u)
        for key in ("users", "compromised"):
            if isinstance(i.variant.get(key), list):
                accounts.update(i.variant[key])
    involved = attackers | {i.victim for i in scenario.injected} | {f"user:{u}" for u in accounts}

    def is_involved(e) -> bool:
        return (f"user:{e.entity}" if e.kind == "user" else e.entity) in involved

    top = [{"entity": e.entity, "kind": e.kind, "score": e.score, "level": e.level, "involved": is_involved(e)}
           for e in ranked[:10]]
    return {
        "seed": scenario.seed, "hours": hours, "injected": injected, "alerted": alerted,
        "detection_rate": round(alerted / max(1, injected), 4), "kinds": per_kind,
        "false_alerts": {
            "benign_hosts": len(benign_hosts), "host_hours": host_hours,
            "by_severity": {s: by_sev.get(s, 0) for s in SEVERITIES},
            "per_host_hour": {s: round(by_sev.get(s, 0) / host_hours, 5) for s in SEVERITIES},
            "medium_per_host_day": round(by_sev.get("medium", 0) / host_hours * 24, 4),
            "by_rule": dict(Counter(f"{a.rule_name}/{a.severity.value}" for a in false)),
            "examples": [f"{a.severity.value} {a.rule_name} {a.entity}: {a.title[:160]}"
                         for a in sorted(false, key=lambda a: -a.risk_score)[:8]],
        },
        "riskiest": top,
        "riskiest_high_benign": sum(1 for e in ranked if e.level in ("high", "critical") and not is_involved(e)),
    }


def through_files(records: list, folder: Path) -> list:
    """The records written as Zeek, syslog and access-log files and read back by the product's parsers."""
    from security import logs
    from security.records import ParseStats

    write_files(records, folder)
    out = []
    for name in ("conn.log", "dns.log", "auth.log", "access.log"):
        stats = ParseStats(name)
        out.extend(logs.read(folder / name, None, stats))
        if stats.errors or stats.bad:
            log.warning("%s: %s", name, stats.as_dict())
    out.sort(key=lambda r: r.ts)
    return out


def evaluate(seed: int, *, hours: float = 24.0, learn_hours: float = 24.0, per_kind: int = 2,
             batch_s: float = 900.0, config: SecuritySettings | None = None, via_files: bool = False) -> dict[str, Any]:
    """Generate, run and score one scenario (one JSON-ready dict).

    ``via_files``: write both periods as Zeek ``conn.log``/``dns.log``, ``auth.log`` and
    ``access.log`` to a temporary folder and monitor what the parsers read back.
    """
    scenario = generate(seed, hours=hours, learn_hours=learn_hours, per_kind=per_kind)
    if via_files:
        with tempfile.TemporaryDirectory(prefix="iocwatch-scenario-") as tmp:
            scenario.learn_records = through_files(scenario.learn_records, Path(tmp, "learn"))
            scenario.records = through_files(scenario.records, Path(tmp, "test"))
    alerts, run = run_scenario(scenario, config, batch_s)
    out = score(scenario, alerts)
    out.update(run)
    return out


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several seeds' results added up: per-kind totals and false-alert rates over all host-hours."""
    kinds: dict[str, dict[str, Any]] = {}
    ttd: dict[str, list[float]] = defaultdict(list)
    sev: Counter = Counter()
    host_hours = 0.0
    for r in results:
        for kind, k in r["kinds"].items():
            t = kinds.setdefault(kind, {"injected": 0, "alerted": 0, "missed": []})
            t["injected"] += k["injected"]
            t["alerted"] += k["alerted"]
            t["missed"] += [{"seed": r["seed"], **v} for v in k["missed"]]
            ttd[kind] += k.get("ttd_s", [])
        sev.update(r["false_alerts"]["by_severity"])
        host_hours += r["false_alerts"]["host_hours"]
    for kind, t in kinds.items():
        t["rate"] = round(t["alerted"] / t["injected"], 3)
        if ttd[kind]:
            t["ttd_s_median"] = round(median(ttd[kind]))
            t["ttd_s_max"] = round(max(ttd[kind]))
    injected = sum(t["injected"] for t in kinds.values())
    alerted = sum(t["alerted"] for t in kinds.values())
    return {"seeds": [r["seed"] for r in results], "injected": injected, "alerted": alerted,
            "detection_rate": round(alerted / max(1, injected), 4), "kinds": kinds,
            "false_alerts": {"host_hours": host_hours, "by_severity": dict(sev),
                             "per_host_hour": {s: round(sev.get(s, 0) / host_hours, 5) for s in SEVERITIES},
                             "medium_per_host_day": round(sev.get("medium", 0) / host_hours * 24, 4)},
            "riskiest_top10_involved": round(sum(e["involved"] for r in results for e in r["riskiest"])
                                             / max(1, sum(len(r["riskiest"]) for r in results)), 3),
            "riskiest_high_benign": sum(r["riskiest_high_benign"] for r in results),
            "per_seed": [{"seed": r["seed"], "detection_rate": r["detection_rate"],
                          "false_by_severity": r["false_alerts"]["by_severity"]} for r in results]}
