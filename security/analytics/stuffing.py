"""Credential stuffing on a web login: one source, many user names, mostly refused (401/403).

Failed attempts come from the access log (a POST to a login path answered 401 or 403)
and, when the application logs them, from its login events (which name the user). The
same attempt seen in both counts once (the larger count is used).
"""

from __future__ import annotations

import re
from typing import Any

from security.analytics.base import Analytic, Finding, prune_list, register
from security.records import AuthEvent, HttpRequest


@register
class CredentialStuffing(Analytic):
    name = "credential_stuffing"
    technique = "T1110.004"
    technique_name = "Brute Force: Credential Stuffing"
    records = (HttpRequest, AuthEvent)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 76,  # high
        "horizon_s": 12 * 3600,  # attempts accumulated over 12 h
        "min_failures": 15,  # refused logins from one source ...
        "min_users": 10,  # ... on this many user names (when the application logs them) ...
        "min_failures_without_users": 30,  # ... or this many when no user names are known
        "min_failure_ratio": 0.8,  # refused / all login attempts (a shared NAT address mostly succeeds)
        "login_paths": r"(?i)(login|log-in|signin|sign-in|dang-nhap|auth|session|j_security_check|wp-login)",
        "web_services": ["portal", "web", "nginx", "apache", "httpd"],  # login events of web applications
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.paths = re.compile(self.cfg["login_paths"])
        self.web = set(self.cfg["web_services"])
        self.src: dict[str, dict[str, list]] = {}  # src -> {"hf": [[ts]], "hs": [[ts]], "af": [[ts, user]], "as": ...}
        self.samples: dict[str, list[str]] = {}

    def _slot(self, src: str) -> dict[str, list]:
        s = self.src.get(src)
        if s is None:
            s = self.src[src] = {"hf": [], "hs": [], "af": [], "as": []}
        return s

    def observe(self, r: HttpRequest | AuthEvent) -> None:
        if isinstance(r, HttpRequest):
            if r.method != "POST" or r.status is None or not self.paths.search(r.target.split("?", 1)[0]):
                return
            s = self._slot(r.src)
            if r.status in (401, 403):
                s["hf"].append([r.ts])
                sm = self.samples.setdefault(r.src, [])
                if len(sm) < self.max_evidence:
                    sm.append((r.raw or f"{r.src} {r.method} {r.target} {r.status}")[:300])
            elif r.status < 400:
                s["hs"].append([r.ts])
            self.dirty.add(r.src)
        elif r.service in self.web and r.src:
            s = self._slot(r.src)
            if r.outcome in ("failure", "invalid_user"):
                s["af"].append([r.ts, r.user or ""])
            elif r.outcome == "success":
                s["as"].append([r.ts, r.user or ""])
            self.dirty.add(r.src)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for src in list(self.src):
            s = self.src[src]
            for k in s:
                s[k] = prune_list(s[k], cutoff)
            if not any(s.values()):
                del self.src[src]
                self.samples.pop(src, None)
        out = []
        c = self.cfg
        for src in self.dirty:
            s = self.src.get(src)
            if not s:
                continue
            failures = max(len(s["hf"]), len(s["af"]))
            successes = max(len(s["hs"]), len(s["as"]))
            users = {u for _, u in s["af"] if u}
            ratio = failures / max(1, failures + successes)
            enough = len(users) >= c["min_users"] if users else failures >= c["min_failures_without_users"]
            if failures < c["min_failures"] or not enough or ratio < c["min_failure_ratio"]:
                continue
            times = sorted(x[0] for k in s for x in s[k])
            out.append(self.finding(
                entity=src, key=src, first=times[0], last=times[-1], count=failures,
                title=f"Credential stuffing from {src}: {failures} refused web logins on {len(users) or 'unknown'} "
                      f"user names ({ratio:.0%} refused) over {(times[-1] - times[0]) / 3600:.1f} h",
                observed={"refused_logins": failures, "distinct_users": len(users), "refused_ratio": round(ratio, 3),
                          "successful_logins": successes},
                baselines={"refused_ratio": None},
                thresholds={"min_failures": c["min_failures"], "min_failure_ratio": c["min_failure_ratio"]},
                evidence=self.samples.get(src, []), source_ip=src, categories=["authentication", "web"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"src": self.src, "samples": self.samples}

    def load(self, state: dict[str, Any]) -> None:
        self.src = {k: {kk: [list(x) for x in vv] for kk, vv in v.items()} for k, v in state.get("src", {}).items()}
        self.samples = {k: list(v) for k, v in state.get("samples", {}).items()}
