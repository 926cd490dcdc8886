"""Exfiltration: bytes an internal host sends to rare external destinations, against its own baseline and its peers.

Per internal host, over the horizon, the bytes sent to destinations it never contacted
in the baseline and that few internal hosts contact. They are compared with the host's
own busiest hour of external uploads in the baseline and with its peers' (the median
host's); at night the absolute floor is lower. A destination the host also beacons to
makes it exfiltration over the C2 channel (T1041), otherwise over another protocol (T1048).
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any

from security.analytics.base import Analytic, Finding, prune_list, register
from security.records import Connection


@register
class Exfiltration(Analytic):
    name = "exfiltration"
    technique = "T1048"
    technique_name = "Exfiltration Over Alternative Protocol"
    records = (Connection,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 76,  # high
        "horizon_s": 6 * 3600,  # uploads summed over 6 h
        "min_bytes": 100_000_000,  # floor in office hours (100 MB) ...
        "night_factor": 0.5,  # ... times this at night
        "night_hours": [22, 6],  # local night, from .. to
        "tz_offset_h": 7,  # local time offset from UTC (Vietnam)
        "baseline_factor": 3,  # and at least this times the larger of the host's and its peers' busiest hour
        "max_prevalence": 3,  # destinations more internal hosts contact are common services
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.up: dict[str, list] = {}  # src -> [[ts, dst, dport, bytes], ...] to rare destinations
        self.baseline: dict[str, float] = {}  # src -> busiest hour of uploads to rare destinations in the baseline
        self._hours: dict[str, dict[tuple[int, str], int]] = defaultdict(lambda: defaultdict(int))

    def learn(self, c: Connection) -> None:
        if self.ctx.internal(c.src) and not self.ctx.internal(c.dst):
            self._hours[c.src][(int(c.ts // 3600), c.dst)] += c.orig_bytes

    def finish_learning(self) -> None:
        """Each host's busiest hour of uploads to destinations that were rare by the end of the baseline."""
        rare = self.cfg["max_prevalence"]
        for src, cells in self._hours.items():
            hours: dict[int, int] = defaultdict(int)
            for (hour, dst), n in cells.items():
                if self.ctx.prevalence(dst) <= rare:
                    hours[hour] += n
            self.baseline[src] = float(max(hours.values(), default=0))
        self._hours = defaultdict(lambda: defaultdict(int))

    def peers(self) -> float:
        return median(self.baseline.values()) if self.baseline else 0.0

    def observe(self, c: Connection) -> None:
        if c.orig_bytes < 10_000 or not self.ctx.internal(c.src) or self.ctx.internal(c.dst):
            return
        if self.ctx.known(c.src, c.dst) or self.ctx.prevalence(c.dst) > self.cfg["max_prevalence"]:
            return
        self.up.setdefault(c.src, []).append([c.ts, c.dst, c.dport, c.orig_bytes])
        self.dirty.add(c.src)

    def _night(self, ts: float) -> bool:
        h = (ts / 3600 + self.cfg["tz_offset_h"]) % 24
        a, b = self.cfg["night_hours"]
        return h >= a or h < b

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for src in list(self.up):
            self.up[src] = prune_list(self.up[src], cutoff)
            if not self.up[src]:
                del self.up[src]
        out = []
        c = self.cfg
        peers = self.peers()
        for src in self.dirty:
            ups = [u for u in self.up.get(src, []) if self.ctx.prevalence(u[1]) <= c["max_prevalence"]]
            if not ups:
                continue
            by_dst: dict[str, list] = defaultdict(list)
            for u in ups:
                by_dst[u[1]].append(u)
            dst, items = max(by_dst.items(), key=lambda kv: sum(u[3] for u in kv[1]))
            total = sum(u[3] for u in items)
            night_bytes = sum(u[3] for u in items if self._night(u[0]))
            night = night_bytes * 2 > total
            own = self.baseline.get(src, 0.0)
            floor = c["min_bytes"] * (c["night_factor"] if night else 1.0)
            need = max(floor, c["baseline_factor"] * max(own, peers))
            if total < need:
                continue
            over_c2 = f"{src}>{dst}" in self.ctx.c2
            port = items[0][2]
            out.append(self.finding(
                entity=src, key=f"{src}>{dst}", first=items[0][0], last=items[-1][0], count=len(items),
                technique="T1041" if over_c2 else None,
                technique_name="Exfiltration Over C2 Channel" if over_c2 else None,
                title=f"Exfiltration from {src}: {total / 1e6:,.0f} MB to {dst}:{port} in {len(items)} connection(s)"
                      f"{' at night' if night else ''}; its busiest hour in the baseline sent {own / 1e6:,.1f} MB "
                      f"to rare places, its peers' {peers / 1e6:,.1f} MB; {dst} is new for it",
                observed={"bytes_out": total, "connections": len(items), "night": float(night),
                          "destination_prevalence": self.ctx.prevalence(dst)},
                baselines={"bytes_out": own, "peers_bytes_out": peers, "destination_prevalence": 0.0},
                thresholds={"min_bytes": floor, "baseline_factor": c["baseline_factor"]},
                evidence=[f"{src} -> {u[1]}:{u[2]} {u[3]:,} bytes" for u in items[: self.max_evidence]],
                source_ip=src, destination_ip=dst, destination_port=port, categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"up": self.up, "baseline": self.baseline}

    def load(self, state: dict[str, Any]) -> None:
        self.up = {k: [list(x) for x in v] for k, v in state.get("up", {}).items()}
        self.baseline = {k: float(v) for k, v in state.get("baseline", {}).items()}
