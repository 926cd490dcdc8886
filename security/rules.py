"""Detection rules, each tagged with its MITRE ATT&CK technique; thresholds come from config.

Every rule reads the state a :class:`security.monitor.Monitor` accumulated and returns
:class:`Detection` objects (data, never side effects). Defaults are in :data:`DEFAULTS`;
``security.rules.<rule>.<key>`` in the settings overrides any of them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from statistics import fmean
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from security.features import cv, entropy

if TYPE_CHECKING:
    from security.monitor import Monitor

DEFAULTS: dict[str, dict[str, Any]] = {
    "port_scan": {  # per source and window
        "technique": "T1046", "technique_name": "Network Service Discovery", "risk": 72,
        "min_ports": 20,  # distinct destination ports (on any hosts) ...
        "min_hosts": 20,  # ... or distinct hosts probed on one port (horizontal scan)
        "min_failed_ratio": 0.5,  # share of those connections unanswered or rejected
    },
    "ssh_brute_force": {  # many failures against few accounts
        "technique": "T1110.001", "technique_name": "Brute Force: Password Guessing", "risk": 75,
        "min_failures": 10, "min_failures_per_user": 5,
    },
    "password_spraying": {  # few tries each against many accounts
        "technique": "T1110.003", "technique_name": "Brute Force: Password Spraying", "risk": 75,
        "min_users": 8, "min_failures": 8,
    },
    "distributed_brute_force": {  # one account, failures from many sources (per user and window)
        "technique": "T1110.001", "technique_name": "Brute Force: Password Guessing", "risk": 72,
        "min_sources": 5, "min_failures": 10,
    },
    "web_attack": {  # SQL injection, XSS, path traversal, command injection in request targets
        "technique": "T1190", "technique_name": "Exploit Public-Facing Application", "risk": 78,
        "min_hits": 1,
    },
    "dns_tunnel": {  # per source and registered domain, over the dedup window
        "technique": "T1071.004", "technique_name": "Application Layer Protocol: DNS", "risk": 80,
        "min_queries": 20, "min_label_len": 25, "min_entropy": 3.3, "min_unique_ratio": 0.8,
    },
    "beaconing": {  # regular connections from one source to one destination
        "technique": "T1071", "technique_name": "Application Layer Protocol", "risk": 70,
        "min_connections": 8, "max_cv": 0.15, "min_interval_s": 5.0,
        "ignore_ports": [53, 123, 5353],  # DNS and NTP are periodic by nature
    },
}

ANOMALY = {"technique": None, "technique_name": None}

WEB_PATTERNS: dict[str, re.Pattern[str]] = {
    "sql_injection": re.compile(
        r"(?i)(\bunion\b[\s/*]+(?:all[\s/*]+)?select\b|\bor\b\s+['\"]?\d+['\"]?\s*=\s*['\"]?\d+|'\s*(?:or|and)\s+'"
        r"|\bsleep\s*\(\s*\d+\s*\)|\bbenchmark\s*\(|information_schema|\bdrop\s+table\b|'\s*;?\s*--|;\s*--\s*$"
        r"|\bwaitfor\s+delay\b|\bextractvalue\s*\()"),
    "xss": re.compile(r"(?i)(<\s*script\b|javascript\s*:|\bon(?:error|load|mouseover|focus)\s*=|<\s*svg\b[^>]*\bon"
                      r"|<\s*iframe\b|document\.cookie|alert\s*\()"),
    "path_traversal": re.compile(r"(?i)(\.\./|\.\.\\|/etc/passwd|/etc/shadow|\bboot\.ini\b|win\.ini"
                                 r"|/proc/self/environ)"),
    "command_injection": re.compile(r"(?i)([;|`&]\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|bash|sh|ping)\b"
                                    r"|\$\((?:[^)]*)\)|\b(?:/bin/sh|/bin/bash|cmd\.exe|powershell)\b)"),
}


@dataclass
class Detection:
    """One rule firing for one entity: what, who, when, how much, and why."""

    rule: str
    technique: str | None
    technique_name: str | None
    entity: str
    first_seen: float
    last_seen: float
    count: int
    risk: float
    title: str
    observed: dict[str, float] = field(default_factory=dict)  # rule features behind it
    thresholds: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    source_ip: str | None = None
    destination_ip: str | None = None
    destination_port: int | None = None
    destination_domain: str | None = None
    user_name: str | None = None
    host_name: str | None = None
    categories: list[str] = field(default_factory=lambda: ["network"])
    # the title as a text key and its values (Alert.title_key): shown in the dashboard's language
    title_key: str | None = None
    title_params: dict[str, Any] = field(default_factory=dict)


def rule_config(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The defaults with the settings' per-rule overrides applied (unknown rules are an error)."""
    from core.errors import ConfigError

    cfg = copy.deepcopy(DEFAULTS)
    for rule, values in (overrides or {}).items():
        if rule not in cfg:
            raise ConfigError(f"unknown rule {rule!r} in security.rules", hint=f"rules are {sorted(cfg)}")
        if not isinstance(values, dict):
            raise ConfigError(f"security.rules.{rule} must be a table of thresholds, not {values!r}",
                              hint=f"e.g. [security.rules.{rule}] with keys {sorted(cfg[rule])}")
        for key, value in values.items():
            cfg[rule][key] = _checked_override(rule, key, value, cfg[rule])
    return cfg


def _checked_override(rule: str, key: str, value: Any, defaults: dict[str, Any]) -> Any:
    """One per-rule override, checked against the type and sign of its default."""
    from core.errors import ConfigError

    where = f"security.rules.{rule}.{key}"
    if key not in defaults:
        raise ConfigError(f"unknown key {where!r}", hint=f"{rule} takes {sorted(defaults)}")
    default = defaults[key]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, type(default[0]) if default else object)
                                             for v in value)
    else:
        ok = isinstance(value, type(default)) or default is None
    if not ok:
        raise ConfigError(f"{where} = {value!r} is not valid: expected a "
                          f"{'non-negative number' if isinstance(default, int | float) else type(default).__name__}"
                          f" like the default {default!r}", hint="correct it or remove it to use the default")
    return value


def web_attack_kinds(target: str) -> list[str]:
    """Which web attack patterns a request target matches (after URL-decoding twice)."""
    text = unquote_plus(unquote_plus(target))
    return [kind for kind, pattern in WEB_PATTERNS.items() if pattern.search(text)]


def _base(rule: str, cfg: dict[str, Any]) -> dict[str, Any]:
    return {"rule": rule, "technique": cfg["technique"], "technique_name": cfg["technique_name"],
            "risk": float(cfg["risk"])}


def port_scan(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for w in m.windows:
        tcp = max(1, w.tcp_flows)
        failed = w.syn_no_ack / tcp
        ports = len(w.dst_ports)
        hosts_per_port = max((len(v) for v in m.port_hosts.get((w.entity, w.start), {}).values()), default=0)
        if (ports >= cfg["min_ports"] or hosts_per_port >= cfg["min_hosts"]) and failed >= cfg["min_failed_ratio"]:
            kind = "vertical" if ports >= cfg["min_ports"] else "horizontal"
            sample = sorted(w.dst_ports)[:10]
            out.append(Detection(
                **_base("port_scan", cfg), entity=w.entity, first_seen=w.first_seen, last_seen=w.last_seen,
                count=w.flows, title=f"Port scan ({kind}) from {w.entity}: {ports} ports on {len(w.dst_ips)} hosts",
                title_key=f"port_scan.{kind}",
                title_params={"entity": w.entity, "ports": ports, "hosts": len(w.dst_ips)},
                observed={"distinct_dst_ports": ports, "distinct_dst_ips": len(w.dst_ips),
                          "syn_no_ack_ratio": round(failed, 3), "hosts_on_one_port": hosts_per_port},
                thresholds={"min_ports": cfg["min_ports"], "min_hosts": cfg["min_hosts"],
                            "min_failed_ratio": cfg["min_failed_ratio"]},
                evidence=[f"{w.entity} -> {', '.join(sorted(w.dst_ips)[:3])} ports {sample}"]
                + m.samples.get(("flow", w.entity), [])[: m.max_evidence - 1],
                source_ip=w.entity, destination_ip=next(iter(w.dst_ips)) if len(w.dst_ips) == 1 else None))
    return out


def _auth_windows(m: Monitor):
    for (src, start), a in m.auth.items():
        yield src, start, a


def ssh_brute_force(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for src, _start, a in _auth_windows(m):
        users = len(a["users"]) or 1
        if a["failures"] >= cfg["min_failures"] and a["failures"] / users >= cfg["min_failures_per_user"]:
            top = a["users"].most_common(1)[0][0] if a["users"] else None
            out.append(Detection(
                **_base("ssh_brute_force", cfg), entity=src, first_seen=a["first"], last_seen=a["last"],
                count=a["failures"], title=f"SSH brute force from {src}: {a['failures']} failed logins"
                f" against {users} account(s)",
                title_key="ssh_brute_force", title_params={"entity": src, "failures": a["failures"], "users": users},
                observed={"failed_logins": a["failures"], "distinct_users": len(a["users"]),
                          "successful_logins": a["successes"]},
                thresholds={"min_failures": cfg["min_failures"],
                            "min_failures_per_user": cfg["min_failures_per_user"]},
                evidence=a["samples"][: m.max_evidence], source_ip=src, user_name=top,
                destination_ip=a.get("host"), categories=["authentication"]))
    return out


def password_spraying(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for src, _start, a in _auth_windows(m):
        users = len(a["users"])
        if (users >= cfg["min_users"] and a["failures"] + a["invalid"] >= cfg["min_failures"]
                and a["failures"] / max(1, users) < DEFAULTS["ssh_brute_force"]["min_failures_per_user"]):
            out.append(Detection(
                **_base("password_spraying", cfg), entity=src, first_seen=a["first"], last_seen=a["last"],
                count=a["failures"] + a["invalid"],
                title=f"Password spraying from {src}: {users} accounts tried",
                title_key="password_spraying", title_params={"entity": src, "users": users},
                observed={"distinct_users": users, "failed_logins": a["failures"],
                          "invalid_users": a["invalid"]},
                thresholds={"min_users": cfg["min_users"], "min_failures": cfg["min_failures"]},
                evidence=a["samples"][: m.max_evidence], source_ip=src, destination_ip=a.get("host"),
                categories=["authentication"]))
    return out


def distributed_brute_force(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for (user, _start), u in m.user_auth.items():
        sources = len(u["sources"])
        if sources >= cfg["min_sources"] and u["failures"] >= cfg["min_failures"]:
            out.append(Detection(
                **_base("distributed_brute_force", cfg), entity=f"user:{user}", first_seen=u["first"],
                last_seen=u["last"], count=u["failures"],
                title=f"Distributed brute force against account {user}: {u['failures']} failures from "
                      f"{sources} sources",
                title_key="distributed_brute_force",
                title_params={"user": user, "failures": u["failures"], "sources": sources},
                observed={"failed_logins": u["failures"], "distinct_sources": sources},
                thresholds={"min_sources": cfg["min_sources"], "min_failures": cfg["min_failures"]},
                evidence=u["samples"][: m.max_evidence], user_name=user, host_name=u.get("host"),
                categories=["authentication"]))
    return out


def web_attack(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for (src, _window), hits in m.web_hits.items():
        if len(hits) < cfg["min_hits"]:
            continue
        kinds = sorted({k for _, kinds, _ in hits for k in kinds})
        out.append(Detection(
            **_base("web_attack", cfg), entity=src, first_seen=min(h[0] for h in hits),
            last_seen=max(h[0] for h in hits), count=len(hits),
            title=f"Web attack from {src}: {', '.join(kinds)} ({len(hits)} requests)",
            title_key="web_attack", title_params={"entity": src, "kinds": kinds, "requests": len(hits)},
            observed={f"{k}_requests": sum(1 for h in hits if k in h[1]) for k in kinds},
            thresholds={"min_hits": cfg["min_hits"]},
            evidence=[h[2] for h in hits[: m.max_evidence]], source_ip=src, categories=["web"]))
    return out


def dns_tunnel(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    for (src, domain, _window), d in m.dns_domains.items():
        n = d["queries"]
        if n < cfg["min_queries"]:
            continue
        labels = d["labels"]
        mean_len = fmean(len(x) for x in labels) if labels else 0.0
        mean_ent = fmean(entropy(x) for x in labels) if labels else 0.0
        unique = len(set(labels)) / max(1, len(labels))
        if mean_len >= cfg["min_label_len"] and mean_ent >= cfg["min_entropy"] and unique >= cfg["min_unique_ratio"]:
            out.append(Detection(
                **_base("dns_tunnel", cfg), entity=src, first_seen=d["first"], last_seen=d["last"], count=n,
                title=f"DNS tunnelling from {src} through {domain}: {n} long random sub-domains",
                title_key="dns_tunnel", title_params={"entity": src, "domain": domain, "queries": n},
                observed={"dns_queries": n, "dns_label_len": round(mean_len, 1),
                          "dns_label_entropy": round(mean_ent, 2), "dns_unique_ratio": round(unique, 2)},
                thresholds={"min_queries": cfg["min_queries"], "min_label_len": cfg["min_label_len"],
                            "min_entropy": cfg["min_entropy"]},
                evidence=[f"{src} -> {q}" for q in d["samples"][: m.max_evidence]], source_ip=src,
                destination_domain=domain, destination_ip=d.get("server"), categories=["network"]))
    return out


def beaconing(m: Monitor, cfg: dict[str, Any]) -> list[Detection]:
    out = []
    ignore = set(cfg["ignore_ports"])
    for (src, dst, dport), times in m.conn_starts.items():
        if dport in ignore or len(times) < cfg["min_connections"]:
            continue
        times = sorted(times)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        c = cv(gaps)
        mean_gap = fmean(gaps)
        if c is not None and c <= cfg["max_cv"] and mean_gap >= cfg["min_interval_s"]:
            out.append(Detection(
                **_base("beaconing", cfg), entity=src, first_seen=times[0], last_seen=times[-1], count=len(times),
                title=f"Beaconing from {src} to {dst}:{dport} every {mean_gap:.0f}s",
                title_key="beaconing", title_params={"entity": src, "dst": f"{dst}:{dport}",
                                                     "interval": round(mean_gap)},
                observed={"connections": len(times), "mean_interval_s": round(mean_gap, 2),
                          "interval_cv": round(c, 3)},
                thresholds={"min_connections": cfg["min_connections"], "max_cv": cfg["max_cv"]},
                evidence=[f"{src} -> {dst}:{dport} at +{t - times[0]:.1f}s" for t in times[: m.max_evidence]],
                source_ip=src, destination_ip=dst, destination_port=dport, categories=["network"]))
    return out


RULES = {
    "port_scan": port_scan,
    "ssh_brute_force": ssh_brute_force,
    "password_spraying": password_spraying,
    "distributed_brute_force": distributed_brute_force,
    "web_attack": web_attack,
    "dns_tunnel": dns_tunnel,
    "beaconing": beaconing,
}


def run_rules(m: Monitor, config: dict[str, dict[str, Any]]) -> list[Detection]:
    out: list[Detection] = []
    for name, rule in RULES.items():
        if config[name].get("enabled", True):
            out.extend(rule(m, config[name]))
    return out
