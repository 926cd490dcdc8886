"""Brute force over hours: slow guessing and spraying per source, and distributed guessing per account.

Per source, failed logins (wrong password or unknown user) within the horizon: many
failures on few accounts is password guessing (T1110.001), a few tries on each of many
accounts is spraying (T1110.003). Per account, failures from many sources that each try
only a few times is a distributed brute force (T1110.001, entity ``user:<name>``).
Thresholds rise with the entity's own baseline (its failures over the learning period).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from security.analytics.base import Analytic, Finding, prune_list, register
from security.records import AuthEvent

FAILED = ("failure", "invalid_user")


def _sample(e: AuthEvent) -> str:
    return f"{datetime.fromtimestamp(e.ts, UTC):%Y-%m-%d %H:%M:%S} {e.host} {e.service}: {e.message[:200]}"


@register
class BruteForce(Analytic):
    name = "brute_force_slow"
    technique = "T1110.001"
    technique_name = "Brute Force: Password Guessing"
    records = (AuthEvent,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 74,  # high, as the per-window brute-force rules
        "horizon_s": 12 * 3600,  # failures accumulated over 12 h
        "min_failures": 25,  # per source, guessing few accounts
        "min_failures_per_user": 5,  # ... at least this many per account tried
        "spray_min_users": 8,  # per source, spraying: this many accounts ...
        "spray_min_failures": 10,  # ... and this many failures
        "spray_max_per_user": 4,  # ... with few tries on each
        "dist_min_sources": 8,  # per account: failures from this many sources ...
        "dist_min_failures": 10,  # ... adding up to this many
        "dist_max_per_source": 5,  # ... each source trying only a few times
        "baseline_factor": 3,  # thresholds are at least this times the entity's own baseline
        "web_services": ["portal", "web", "nginx", "apache", "httpd"],  # left to credential stuffing
        "max_events": 5000,  # failures remembered per entity
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.by_src: dict[str, list] = {}  # src -> [[ts, user], ...]
        self.by_user: dict[str, list] = {}  # user -> [[ts, src], ...]
        self.samples: dict[str, list[str]] = {}
        self.baseline: dict[str, int] = {}  # "src:<ip>" / "user:<name>" -> failures in the learning period
        self.web = set(self.cfg["web_services"])

    def learn(self, e: AuthEvent) -> None:
        if e.outcome in FAILED and e.service not in self.web:
            if e.src:
                self.baseline[f"src:{e.src}"] = self.baseline.get(f"src:{e.src}", 0) + 1
            if e.user:
                self.baseline[f"user:{e.user}"] = self.baseline.get(f"user:{e.user}", 0) + 1

    def observe(self, e: AuthEvent) -> None:
        if e.outcome not in FAILED or e.service in self.web:
            return
        cap = self.cfg["max_events"]
        for table, name, other, kind in ((self.by_src, e.src, e.user or "", "src"),
                                         (self.by_user, e.user, e.src, "user")):
            if not name or (kind == "user" and not other):
                continue
            lst = table.get(name)
            if lst is None:
                lst = table[name] = []
            lst.append([e.ts, other])
            if len(lst) > cap:
                del lst[0]
            key = f"{kind}:{name}"
            self.dirty.add(key)
            s = self.samples.get(key)
            if s is None:
                s = self.samples[key] = []
            if len(s) < self.max_evidence:
                s.append(_sample(e))

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for table in (self.by_src, self.by_user):
            for k in list(table):
                table[k] = prune_list(table[k], cutoff)
                if not table[k]:
                    del table[k]
                    self.samples.pop(("src:" if table is self.by_src else "user:") + k, None)
        out = []
        for key in self.dirty:
            kind, _, name = key.partition(":")
            out.extend(self._source(name) if kind == "src" else self._account(name))
        self.dirty.clear()
        return out

    def _source(self, src: str) -> list[Finding]:
        ev = self.by_src.get(src)
        if not ev:
            return []
        c = self.cfg
        base = self.baseline.get(f"src:{src}", 0)
        users = Counter(u for _, u in ev if u)
        failures = len(ev)
        per_user = failures / max(1, len(users))
        common = {"entity": src, "first": ev[0][0], "last": ev[-1][0], "count": failures, "source_ip": src,
                  "evidence": self.samples.get(f"src:{src}", []), "categories": ["authentication"],
                  "baselines": {"failed_logins": float(base)}}
        if failures >= max(c["min_failures"], c["baseline_factor"] * base) and per_user >= c["min_failures_per_user"]:
            top = users.most_common(1)[0][0] if users else None
            return [self.finding(
                key=f"guess:{src}", title=f"Slow brute force from {src}: {failures} failed logins on "
                f"{len(users)} account(s) over {(ev[-1][0] - ev[0][0]) / 3600:.1f} h (baseline {base})",
                observed={"failed_logins": failures, "distinct_users": len(users)},
                thresholds={"min_failures": c["min_failures"]}, user_name=top, **common)]
        if (len(users) >= c["spray_min_users"] and failures >= max(c["spray_min_failures"], c["baseline_factor"] * base)
                and per_user <= c["spray_max_per_user"]):
            return [self.finding(
                key=f"spray:{src}", technique="T1110.003", technique_name="Brute Force: Password Spraying",
                title=f"Password spraying from {src}: {len(users)} accounts, {failures} failed logins over "
                      f"{(ev[-1][0] - ev[0][0]) / 3600:.1f} h (baseline {base})",
                observed={"failed_logins": failures, "distinct_users": len(users)},
                thresholds={"spray_min_users": c["spray_min_users"]}, **common)]
        return []

    def _account(self, user: str) -> list[Finding]:
        ev = self.by_user.get(user)
        if not ev:
            return []
        c = self.cfg
        base = self.baseline.get(f"user:{user}", 0)
        sources = Counter(s for _, s in ev)
        small = {s: n for s, n in sources.items() if n <= c["dist_max_per_source"]}
        failures = sum(small.values())
        if len(small) < c["dist_min_sources"] or failures < max(c["dist_min_failures"], c["baseline_factor"] * base):
            return []
        return [self.finding(
            entity=f"user:{user}", key=f"user:{user}", first=ev[0][0], last=ev[-1][0], count=failures,
            title=f"Distributed brute force against account {user}: {failures} failures from {len(small)} sources "
                  f"over {(ev[-1][0] - ev[0][0]) / 3600:.1f} h (baseline {base} failures)",
            observed={"failed_logins": failures, "distinct_sources": len(small)},
            baselines={"failed_logins": float(base)},
            thresholds={"dist_min_sources": c["dist_min_sources"], "dist_min_failures": c["dist_min_failures"]},
            evidence=self.samples.get(f"user:{user}", [])[: self.max_evidence - 1]
            + [f"sources: {', '.join(sorted(small)[:20])}"],
            user_name=user, categories=["authentication"])]

    def state(self) -> dict[str, Any]:
        return {"by_src": self.by_src, "by_user": self.by_user, "samples": self.samples, "baseline": self.baseline}

    def load(self, state: dict[str, Any]) -> None:
        self.by_src = {k: [list(x) for x in v] for k, v in state.get("by_src", {}).items()}
        self.by_user = {k: [list(x) for x in v] for k, v in state.get("by_user", {}).items()}
        self.samples = {k: list(v) for k, v in state.get("samples", {}).items()}
        self.baseline = {k: int(v) for k, v in state.get("baseline", {}).items()}
