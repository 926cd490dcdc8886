"""Long connections: sessions lasting hours to a rare external destination (reverse shells, tunnels)."""

from __future__ import annotations

from typing import Any

from security.analytics.base import Analytic, Finding, register
from security.records import Connection


@register
class LongConnections(Analytic):
    name = "long_connection"
    technique = "T1071"
    technique_name = "Application Layer Protocol"
    records = (Connection,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 70,  # high: hours of one session to a host almost nobody here talks to
        "min_duration_s": 7200,  # summed over the pieces a flow table or Zeek reports
        "max_gap_s": 300,  # pieces of one 5-tuple further apart than this are separate sessions
        "min_piece_s": 60,  # shorter connections cannot start a long one
        "max_prevalence": 3,  # destinations more internal hosts contact are common services
        "horizon_s": 86400,  # sessions ended longer ago are forgotten
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sessions: dict[str, list] = {}  # "src|dst|sport|dport" -> [first, end, duration, out, in]

    def observe(self, c: Connection) -> None:
        if not self.ctx.internal(c.src) or self.ctx.internal(c.dst):
            return
        key = f"{c.src}|{c.dst}|{c.sport}|{c.dport}"
        s = self.sessions.get(key)
        if s is None or c.ts - s[1] > self.cfg["max_gap_s"]:
            if c.duration < self.cfg["min_piece_s"]:
                return
            s = self.sessions[key] = [c.ts, c.ts, 0.0, 0, 0]
        s[1] = max(s[1], c.ts + c.duration)
        s[2] += c.duration
        s[3] += c.orig_bytes
        s[4] += c.resp_bytes
        self.dirty.add(key)

    def detect(self, now: float) -> list[Finding]:
        out = []
        cutoff = now - self.cfg["horizon_s"]
        for key in [k for k, s in self.sessions.items() if s[1] < cutoff]:
            del self.sessions[key]
        for key in self.dirty:
            s = self.sessions.get(key)
            if s is None or s[2] < self.cfg["min_duration_s"]:
                continue
            src, dst, sport, dport = key.split("|")
            prevalence = self.ctx.prevalence(dst)
            if prevalence > self.cfg["max_prevalence"] or self.ctx.known(src, dst):
                continue
            hours = s[2] / 3600
            out.append(self.finding(
                entity=src, key=key, first=s[0], last=s[1], count=1,
                title=f"Long connection from {src} to {dst}:{dport}: {hours:.1f} h, {s[3]:,} bytes out, "
                      f"{s[4]:,} in; {prevalence} internal host(s) ever contacted {dst}, none in the baseline",
                observed={"duration_h": round(hours, 2), "bytes_out": s[3], "bytes_in": s[4],
                          "destination_prevalence": prevalence},
                baselines={"duration_h": None, "destination_prevalence": 0.0},
                thresholds={"min_duration_s": self.cfg["min_duration_s"]},
                evidence=[f"{src}:{sport} -> {dst}:{dport} open for {hours:.1f} h"],
                source_ip=src, destination_ip=dst, destination_port=int(dport), categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"sessions": self.sessions}

    def load(self, state: dict[str, Any]) -> None:
        self.sessions = {k: list(v) for k, v in state.get("sessions", {}).items()}
