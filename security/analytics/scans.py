"""Slow scans and sweeps accumulated over hours: many ports on one host, or many hosts on one port.

Per source, every (destination, port) probed within the horizon is remembered with
whether it failed (no answer or rejected). One probe every half minute still adds up to
a scan. The source's own baseline (distinct failed probes it made over the learning
period) raises its threshold, so a host that routinely probes is judged against itself.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from security.analytics.base import FAILED_STATES, Analytic, Finding, register
from security.records import Connection


@register
class SlowScans(Analytic):
    name = "slow_scan"
    technique = "T1046"
    technique_name = "Network Service Discovery"
    records = (Connection,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 72,  # high, as the per-window port_scan rule
        "horizon_s": 6 * 3600,  # probes accumulated over 6 h
        "min_ports": 25,  # distinct ports on one host (vertical) ...
        "min_hosts": 20,  # ... or distinct hosts on one port (horizontal)
        "min_failed_ratio": 0.5,  # share of those probes unanswered or rejected
        "baseline_factor": 3,  # thresholds are at least this times the source's own baseline
        "max_keys": 20000,  # probes remembered per source
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.probes: dict[str, dict[str, list]] = {}  # src -> "dst|port" -> [ts, failed]
        self.baseline: dict[str, list[int]] = {}  # src -> [failed ports on one host, failed hosts on one port]
        self._learn: dict[str, dict[str, list]] = {}

    def _add(self, table: dict, c: Connection) -> None:
        if c.proto not in ("tcp", "udp"):
            return
        p = table.get(c.src)
        if p is None:
            p = table[c.src] = {}
        if len(p) >= self.cfg["max_keys"]:
            return
        key = f"{c.dst}|{c.dport}"
        failed = 1 if c.state in FAILED_STATES else 0
        old = p.get(key)
        p[key] = [c.ts, failed if old is None else min(old[1], failed)]

    def learn(self, c: Connection) -> None:
        self._add(self._learn, c)

    def finish_learning(self) -> None:
        for src, p in self._learn.items():
            ports, hosts = self._spread(p)
            if ports[0] or hosts[0]:
                self.baseline[src] = [ports[1], hosts[1]]
        self._learn = {}

    def observe(self, c: Connection) -> None:
        self._add(self.probes, c)
        self.dirty.add(c.src)

    @staticmethod
    def _spread(p: dict[str, list]) -> tuple[tuple, tuple]:
        """(most ports on one host, failed among them, host) and (most hosts on one port, failed, port)."""
        by_dst: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_port: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for key, (_, failed) in p.items():
            dst, port = key.rsplit("|", 1)
            by_dst[dst][0] += 1
            by_dst[dst][1] += failed
            by_port[port][0] += 1
            by_port[port][1] += failed
        d = max(by_dst.items(), key=lambda kv: kv[1][1], default=(None, [0, 0]))
        q = max(by_port.items(), key=lambda kv: kv[1][1], default=(None, [0, 0]))
        return (d[1][0], d[1][1], d[0]), (q[1][0], q[1][1], q[0])

    def detect(self, now: float) -> list[Finding]:
        out = []
        cutoff = now - self.cfg["horizon_s"]
        for src in list(self.probes):
            p = self.probes[src]
            stale = [k for k, v in p.items() if v[0] < cutoff]
            for k in stale:
                del p[k]
            if not p:
                del self.probes[src]
        f = self.cfg["baseline_factor"]
        for src in self.dirty:
            p = self.probes.get(src)
            if not p:
                continue
            base = self.baseline.get(src, [0, 0])
            min_ports = max(self.cfg["min_ports"], f * base[0])
            min_hosts = max(self.cfg["min_hosts"], f * base[1])
            (ports, pfailed, host), (hosts, hfailed, port) = self._spread(p)
            ratio = self.cfg["min_failed_ratio"]
            vertical = pfailed >= min_ports and pfailed >= ratio * ports
            horizontal = hfailed >= min_hosts and hfailed >= ratio * hosts
            if not (vertical or horizontal):
                continue
            times = sorted(v[0] for v in p.values())
            span_h = (times[-1] - times[0]) / 3600
            kind = "vertical" if vertical else "horizontal"
            what = f"{pfailed} failed ports on {host}" if vertical else f"{hfailed} failed hosts on port {port}"
            out.append(self.finding(
                entity=src, key=f"{src}:{kind}", first=times[0], last=times[-1], count=len(p),
                title=f"Slow {kind} scan from {src}: {what} over {span_h:.1f} h "
                      f"(baseline {base[0] if vertical else base[1]})",
                observed={"failed_ports_on_one_host": pfailed, "failed_hosts_on_one_port": hfailed,
                          "probes": len(p), "span_h": round(span_h, 2)},
                baselines={"failed_ports_on_one_host": float(base[0]), "failed_hosts_on_one_port": float(base[1])},
                thresholds={"min_ports": min_ports, "min_hosts": min_hosts},
                evidence=[f"{src} -> {k.replace('|', ':')} {'failed' if v[1] else 'answered'}"
                          for k, v in sorted(p.items(), key=lambda kv: kv[1][0])[: self.max_evidence]],
                source_ip=src, destination_ip=host if vertical else None,
                destination_port=int(port) if horizontal and not vertical else None, categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"probes": self.probes, "baseline": self.baseline}

    def load(self, state: dict[str, Any]) -> None:
        self.probes = {s: {k: list(v) for k, v in p.items()} for s, p in state.get("probes", {}).items()}
        self.baseline = {k: list(v) for k, v in state.get("baseline", {}).items()}
