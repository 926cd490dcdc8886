"""Lateral movement: an internal host opening admin ports on other internal hosts, beyond its learnt graph.

Admin ports (SMB, RDP, WinRM, SSH, RPC) answered by internal hosts are the edges of a
graph learnt in the baseline. Within the horizon, a host that opens several edges not in
that graph (more for hosts that already administer others), or reaches many internal
hosts on admin ports at all, is moving laterally (T1021, the sub-technique by port).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from security.analytics.base import FAILED_STATES, Analytic, Finding, register
from security.records import Connection

SUB = {445: ("T1021.002", "Remote Services: SMB/Windows Admin Shares"),
       3389: ("T1021.001", "Remote Services: Remote Desktop Protocol"),
       5985: ("T1021.006", "Remote Services: Windows Remote Management"),
       5986: ("T1021.006", "Remote Services: Windows Remote Management"),
       22: ("T1021.004", "Remote Services: SSH"), 135: ("T1021.003", "Remote Services: Distributed Component "
                                                             "Object Model")}


@register
class LateralMovement(Analytic):
    name = "lateral_movement"
    technique = "T1021"
    technique_name = "Remote Services"
    records = (Connection,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 76,  # high
        "horizon_s": 6 * 3600,  # edges accumulated over 6 h
        "ports": [22, 135, 445, 3389, 5985, 5986],  # admin ports
        "min_new_edges": 2,  # new admin edges from a host that administered at most one host in the baseline
        "admin_min_new_edges": 5,  # ... from a host that administered several
        "min_hosts": 10,  # internal hosts reached on admin ports, learnt or not
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.ports = set(self.cfg["ports"])
        self.graph: dict[str, list[str]] = {}  # src -> ["dst:port", ...] learnt
        self.edges: dict[str, dict[str, float]] = {}  # src -> {"dst:port": last ts} within the horizon
        self._graph: dict[str, set[str]] = {}

    def _edge(self, c: Connection) -> str | None:
        if (c.dport not in self.ports or c.state in FAILED_STATES or not self.ctx.internal(c.src)
                or not self.ctx.internal(c.dst) or c.src == c.dst):
            return None
        return f"{c.dst}:{c.dport}"

    def learn(self, c: Connection) -> None:
        e = self._edge(c)
        if e:
            self._graph.setdefault(c.src, set()).add(e)

    def finish_learning(self) -> None:
        self.graph = {k: sorted(v) for k, v in self._graph.items()}
        self._graph = {}

    def observe(self, c: Connection) -> None:
        e = self._edge(c)
        if e:
            self.edges.setdefault(c.src, {})[e] = c.ts
            self.dirty.add(c.src)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for src in list(self.edges):
            self.edges[src] = {k: t for k, t in self.edges[src].items() if t >= cutoff}
            if not self.edges[src]:
                del self.edges[src]
        out = []
        c = self.cfg
        for src in self.dirty:
            edges = self.edges.get(src)
            if not edges:
                continue
            learnt = set(self.graph.get(src, ()))
            learnt_hosts = {e.rsplit(":", 1)[0] for e in learnt}
            new = sorted((e for e in edges if e not in learnt), key=edges.get)
            hosts = {e.rsplit(":", 1)[0] for e in edges}
            need = c["min_new_edges"] if len(learnt_hosts) <= 1 else c["admin_min_new_edges"]
            if len(new) < need and len(hosts) < c["min_hosts"]:
                continue
            port = Counter(int(e.rsplit(":", 1)[1]) for e in (new or edges)).most_common(1)[0][0]
            tech, tname = SUB.get(port, (self.technique, self.technique_name))
            times = sorted(edges.values())
            out.append(self.finding(
                entity=src, key=src, first=times[0], last=times[-1], count=len(edges), technique=tech,
                technique_name=tname,
                title=f"Lateral movement from {src}: {len(new)} new admin connection(s) not in its learnt graph "
                      f"({len(hosts)} internal hosts on admin ports; it administered {len(learnt_hosts)} in the "
                      f"baseline)",
                observed={"new_admin_edges": len(new), "admin_hosts": len(hosts)},
                baselines={"new_admin_edges": 0.0, "admin_hosts": float(len(learnt_hosts))},
                thresholds={"min_new_edges": need, "min_hosts": c["min_hosts"]},
                evidence=[f"{src} -> {e} (new)" for e in new[: self.max_evidence]],
                source_ip=src, destination_port=port, categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"graph": self.graph, "edges": self.edges}

    def load(self, state: dict[str, Any]) -> None:
        self.graph = {k: list(v) for k, v in state.get("graph", {}).items()}
        self.edges = {k: dict(v) for k, v in state.get("edges", {}).items()}
