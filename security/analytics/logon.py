"""A successful login after many failures from the same source: a guessed or stuffed password (T1078).

Raised higher than the brute force itself: the attacker may now be inside. Fires when,
since its previous successful login, the source failed on the same account many times
before succeeding, or failed on many accounts (mostly refused) before one worked. An
administrator who mistypes once before each login never builds such a streak.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from security.analytics.base import Analytic, Finding, prune_list, register
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
        self.fails: dict[str, list] = {}  # src -> [[ts, user], ...]
        self.wins: dict[str, list] = {}  # src -> [[ts, user], ...]
        self.pending: list[Finding] = []

    def observe(self, e: AuthEvent) -> None:
        if not e.src:
            return
        if e.outcome in ("failure", "invalid_user"):
            self.fails.setdefault(e.src, []).append([e.ts, e.user or ""])
            return
        if e.outcome != "success":
            return
        c = self.cfg
        wins = self.wins.setdefault(e.src, [])
        since = max(e.ts - c["horizon_s"], wins[-1][0] if wins else float("-inf"))  # the failures of this streak
        recent = sum(1 for w in wins if w[0] >= e.ts - c["horizon_s"])
        wins.append([e.ts, e.user or ""])
        before = [f for f in self.fails.get(e.src, []) if since < f[0] <= e.ts]
        if not before:
            return
        same = sum(1 for _, u in before if u == e.user)
        users = {u for _, u in before if u}
        ratio = len(before) / (len(before) + recent + 1)
        if not (same >= c["min_same_user"] or (len(before) >= c["min_failures"] and len(users) >= c["min_users"]
                                                and ratio >= c["min_failure_ratio"])):
            return
        risk = min(c["max_risk"], c["risk"] + c["risk_per_failure"] * len(before))
        when = datetime.fromtimestamp(e.ts, UTC)
        self.pending.append(self.finding(
            entity=e.src, key=f"{e.src}:{e.user}", first=before[0][0], last=e.ts, count=len(before) + 1, risk=risk,
            title=f"Login as {e.user} on {e.host} from {e.src} after {len(before)} failed logins "
                  f"({same} on {e.user}, {len(users)} account(s)) over {(e.ts - before[0][0]) / 3600:.1f} h",
            observed={"failed_before": len(before), "failed_same_user": same, "distinct_users": len(users)},
            baselines={"failed_before": None},
            thresholds={"min_same_user": c["min_same_user"], "min_failures": c["min_failures"]},
            evidence=[f"{when:%Y-%m-%d %H:%M:%S} {e.host} {e.service}: {e.message[:200]}"],
            source_ip=e.src, user_name=e.user, host_name=e.host, categories=["authentication"]))
        self.dirty.add(e.src)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for table in (self.fails, self.wins):
            for k in list(table):
                table[k] = prune_list(table[k], cutoff)
                if not table[k]:
                    del table[k]
        out, self.pending = self.pending, []
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"fails": self.fails, "wins": self.wins}

    def load(self, state: dict[str, Any]) -> None:
        self.fails = {k: [list(x) for x in v] for k, v in state.get("fails", {}).items()}
        self.wins = {k: [list(x) for x in v] for k, v in state.get("wins", {}).items()}
