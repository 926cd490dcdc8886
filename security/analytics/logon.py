"""A successful login after many failures from the same source: a guessed or stuffed password (T1078).

Raised higher than the brute force itself: the attacker may now be inside. Fires when,
since its previous successful login, the source failed on the same account many times
before succeeding, or failed on many accounts (mostly refused) before one worked. An
administrator who mistypes once before each login never builds such a streak.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime
from typing import Any

from security.analytics.base import Analytic, Finding, register
from security.records import AuthEvent


@register
class LoginAfterFailures(Analytic):
    name = "login_after_failures"
    technique = "T1078"
    technique_name = "Valid Accounts"
    records = (AuthEvent,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 86,  # high, above brute force: the password worked
        "risk_per_failure": 0.25,  # plus this per failure before it (90+ is critical), up to
        "max_risk": 95,
        "horizon_s": 12 * 3600,  # failures before the success counted over 12 h
        "min_same_user": 5,  # failures on the account that then logged in ...
        "min_failures": 10,  # ... or failures on many accounts ...
        "min_users": 8,  # ... on this many accounts ...
        "min_failure_ratio": 0.8,  # ... mostly refused
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.streaks: dict[str, list] = {}  # src -> [first ts, last ts, failures, {user: failures}] since a success
        self.wins: dict[str, list[float]] = {}  # src -> success times within the horizon
        self.pending: list[Finding] = []

    def observe(self, e: AuthEvent) -> None:
        if not e.src:
            return
        c = self.cfg
        st = self.streaks.get(e.src)
        if e.outcome in ("failure", "invalid_user"):
            if st is None or e.ts - st[1] > c["horizon_s"]:
                st = self.streaks[e.src] = [e.ts, e.ts, 0, {}]
            st[1] = max(st[1], e.ts)
            st[2] += 1
            user = e.user or ""
            st[3][user] = st[3].get(user, 0) + 1
            return
        if e.outcome != "success":
            return
        wins = self.wins.setdefault(e.src, [])
        recent = len(wins) - bisect_left(wins, e.ts - c["horizon_s"])
        wins.append(e.ts)
        if st is None:
            return
        del self.streaks[e.src]  # a success ends the streak
        failures = st[2]
        if failures < min(c["min_same_user"], c["min_failures"]) or e.ts - st[1] > c["horizon_s"]:
            return
        same = st[3].get(e.user or "", 0)
        users = len([u for u in st[3] if u])
        ratio = failures / (failures + recent + 1)
        if not (same >= c["min_same_user"] or (failures >= c["min_failures"] and users >= c["min_users"]
                                                and ratio >= c["min_failure_ratio"])):
            return
        risk = min(c["max_risk"], c["risk"] + c["risk_per_failure"] * failures)
        when = datetime.fromtimestamp(e.ts, UTC)
        self.pending.append(self.finding(
            entity=e.src, key=f"{e.src}:{e.user}", first=st[0], last=e.ts, count=failures + 1, risk=risk,
            title=f"Login as {e.user} on {e.host} from {e.src} after {failures} failed logins "
                  f"({same} on {e.user}, {users} account(s)) over {(e.ts - st[0]) / 3600:.1f} h",
            observed={"failed_before": failures, "failed_same_user": same, "distinct_users": users},
            baselines={"failed_before": None},
            thresholds={"min_same_user": c["min_same_user"], "min_failures": c["min_failures"]},
            evidence=[f"{when:%Y-%m-%d %H:%M:%S} {e.host} {e.service}: {e.message[:200]}"],
            source_ip=e.src, user_name=e.user, host_name=e.host, categories=["authentication"]))
        self.dirty.add(e.src)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        self.streaks = {k: v for k, v in self.streaks.items() if v[1] >= cutoff}
        for k in list(self.wins):
            self.wins[k] = self.wins[k][bisect_left(self.wins[k], cutoff):]
            if not self.wins[k]:
                del self.wins[k]
        out, self.pending = self.pending, []
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"streaks": self.streaks, "wins": self.wins}

    def load(self, state: dict[str, Any]) -> None:
        self.streaks = {k: [float(v[0]), float(v[1]), int(v[2]), dict(v[3])]
                        for k, v in state.get("streaks", {}).items()}
        self.wins = {k: [float(t) for t in v] for k, v in state.get("wins", {}).items()}
