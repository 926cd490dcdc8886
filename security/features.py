"""Features: bidirectional flows with timeouts, and per-entity windows built from every record type.

:class:`FlowTable` turns packets into :class:`~security.records.Connection` summaries
(5-tuple in both directions, idle and active timeouts, FIN/RST close).
:class:`WindowAggregator` folds connections, DNS questions, HTTP requests, logins and
log templates into one :class:`EntityWindow` per source entity and time window; its
:meth:`EntityWindow.features` is the fixed, named vector the detectors score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from statistics import fmean, pstdev
from urllib.parse import unquote_plus

from security.records import (
    ACK,
    FIN,
    RST,
    SYN,
    TCP,
    UDP,
    AuthEvent,
    Connection,
    DnsQuery,
    HttpRequest,
    Packet,
    SyslogLine,
)

# The detector's feature columns, in order (locked into the model at fit time).
FEATURES: tuple[str, ...] = (
    "flows", "packets", "bytes_out", "bytes_in", "distinct_dst_ips", "distinct_dst_ports",
    "syn_no_ack_ratio", "rejected_ratio", "mean_flow_duration",
    "dns_queries", "dns_query_len", "dns_entropy", "dns_distinct_names",
    "http_requests", "http_4xx_ratio", "http_5xx_ratio", "url_len", "url_entropy",
    "failed_logins", "distinct_users", "successful_logins",
    "periodicity", "log_lines", "rare_templates",
)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def registered_domain(name: str) -> str:
    """The last two labels (three under common second-level suffixes such as ``com.vn``)."""
    labels = name.rstrip(".").split(".")
    if len(labels) >= 3 and labels[-2] in ("com", "gov", "edu", "net", "org", "co", "ac"):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def cv(values: list[float]) -> float | None:
    """Coefficient of variation of intervals (None when fewer than 3)."""
    if len(values) < 3:
        return None
    mean = fmean(values)
    return pstdev(values) / mean if mean > 0 else None


class FlowTable:
    """Bidirectional flows keyed by the 5-tuple; finished flows come out of :meth:`add` and :meth:`flush`.

    Args:
        idle_timeout: a flow with no packet for this long is finished.
        active_timeout: a flow older than this is cut (long-lived connections report periodically).
    """

    __slots__ = ("idle", "active", "flows", "_next_sweep")

    def __init__(self, idle_timeout: float = 60.0, active_timeout: float = 1800.0):
        self.idle = idle_timeout
        self.active = active_timeout
        # key -> [first, last, src, dst, sport, dport, proto, fpk, bpk, fby, bby, syn, synack, rst, fin]
        self.flows: dict[tuple, list] = {}
        self._next_sweep = 0.0

    def add(self, p: Packet) -> list[Connection]:
        """Account one packet; returns the flows that finished meanwhile (usually none)."""
        out: list[Connection] = []
        ts = p.ts
        if ts >= self._next_sweep:
            out = self.expire(ts)
            self._next_sweep = ts + self.idle / 4
        fwd_key = (p.src, p.dst, p.sport, p.dport, p.proto)
        f = self.flows.get(fwd_key)
        forward = True
        if f is None:
            f = self.flows.get((p.dst, p.src, p.dport, p.sport, p.proto))
            if f is not None:
                forward = False
            else:
                f = [ts, ts, p.src, p.dst, p.sport, p.dport, p.proto, 0, 0, 0, 0, 0, 0, 0, 0]
                self.flows[fwd_key] = f
        f[1] = ts
        flags = p.flags
        if forward:
            f[7] += 1
            f[9] += p.length
            if flags & SYN and not flags & ACK:
                f[11] = 1
        else:
            f[8] += 1
            f[10] += p.length
            if flags & SYN and flags & ACK:
                f[12] = 1
        if flags & RST:
            f[13] = 1 if forward else 2
        if flags & FIN:
            f[14] += 1
        if p.proto == TCP and (flags & RST or f[14] >= 2) or ts - f[0] > self.active:
            key = fwd_key if forward else (p.dst, p.src, p.dport, p.sport, p.proto)
            out.append(self._finish(self.flows.pop(key)))
        return out

    def expire(self, now: float) -> list[Connection]:
        dead = [k for k, f in self.flows.items() if now - f[1] > self.idle]
        return [self._finish(self.flows.pop(k)) for k in dead]

    def flush(self) -> list[Connection]:
        out = [self._finish(f) for f in self.flows.values()]
        self.flows.clear()
        return out

    @staticmethod
    def _finish(f: list) -> Connection:
        proto = f[6]
        if proto == TCP:
            if f[11] and not f[12]:
                state = "REJ" if f[13] == 2 else "S0"
            elif f[13]:
                state = "RSTO" if f[13] == 1 else "RSTR"
            else:
                state = "SF"
        else:
            state = "SF" if f[8] else "S0"
        name = "tcp" if proto == TCP else "udp" if proto == UDP else "icmp" if proto in (1, 58) else str(proto)
        return Connection(f[0], f[2], f[3], f[4], f[5], name, f[1] - f[0], f[9], f[10], f[7], f[8],
                          state=state)


@dataclass
class EntityWindow:
    """Everything one entity (a source IP) did in one time window."""

    entity: str
    start: float
    end: float = 0.0
    flows: int = 0
    packets: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    dst_ips: set = field(default_factory=set)
    dst_ports: set = field(default_factory=set)
    tcp_flows: int = 0
    syn_no_ack: int = 0
    rejected: int = 0
    duration_sum: float = 0.0
    dns_queries: int = 0
    dns_len_sum: int = 0
    dns_entropy_sum: float = 0.0
    dns_names: set = field(default_factory=set)
    http_requests: int = 0
    http_4xx: int = 0
    http_5xx: int = 0
    url_len_sum: int = 0
    url_entropy_sum: float = 0.0
    failed_logins: int = 0
    users: set = field(default_factory=set)
    successful_logins: int = 0
    conn_times: dict = field(default_factory=dict)  # (dst, dport) -> [start times]
    log_lines: int = 0
    rare_templates: int = 0
    first_seen: float = math.inf
    last_seen: float = -math.inf

    def touch(self, ts: float) -> None:
        if ts < self.first_seen:
            self.first_seen = ts
        if ts > self.last_seen:
            self.last_seen = ts

    def periodicity(self) -> float:
        """1 - the lowest interval CV over destinations contacted 4+ times (1 = perfectly regular)."""
        best = 0.0
        for times in self.conn_times.values():
            if len(times) >= 4:
                times = sorted(times)
                c = cv([b - a for a, b in zip(times, times[1:], strict=False)])
                if c is not None:
                    best = max(best, max(0.0, 1.0 - c))
        return best

    def features(self) -> dict[str, float]:
        tcp = max(1, self.tcp_flows)
        dns = max(1, self.dns_queries)
        http = max(1, self.http_requests)
        return {
            "flows": self.flows, "packets": self.packets, "bytes_out": self.bytes_out,
            "bytes_in": self.bytes_in, "distinct_dst_ips": len(self.dst_ips),
            "distinct_dst_ports": len(self.dst_ports),
            "syn_no_ack_ratio": self.syn_no_ack / tcp, "rejected_ratio": self.rejected / tcp,
            "mean_flow_duration": self.duration_sum / max(1, self.flows),
            "dns_queries": self.dns_queries, "dns_query_len": self.dns_len_sum / dns,
            "dns_entropy": self.dns_entropy_sum / dns, "dns_distinct_names": len(self.dns_names),
            "http_requests": self.http_requests, "http_4xx_ratio": self.http_4xx / http,
            "http_5xx_ratio": self.http_5xx / http, "url_len": self.url_len_sum / http,
            "url_entropy": self.url_entropy_sum / http,
            "failed_logins": self.failed_logins, "distinct_users": len(self.users),
            "successful_logins": self.successful_logins, "periodicity": self.periodicity(),
            "log_lines": self.log_lines, "rare_templates": self.rare_templates,
        }


class WindowAggregator:
    """Folds records into per-entity windows of ``window_s`` seconds (entity = source IP, or host for syslog)."""

    def __init__(self, window_s: float = 300.0):
        self.window_s = window_s
        self.windows: dict[tuple[str, float], EntityWindow] = {}

    def window(self, entity: str, ts: float) -> EntityWindow:
        start = math.floor(ts / self.window_s) * self.window_s
        key = (entity, start)
        w = self.windows.get(key)
        if w is None:
            w = self.windows[key] = EntityWindow(entity, start, start + self.window_s)
        w.touch(ts)
        return w

    def add_connection(self, c: Connection) -> None:
        w = self.window(c.src, c.ts)
        w.flows += 1
        w.packets += c.orig_pkts + c.resp_pkts
        w.bytes_out += c.orig_bytes
        w.bytes_in += c.resp_bytes
        w.dst_ips.add(c.dst)
        w.dst_ports.add(c.dport)
        w.duration_sum += c.duration
        if c.proto == "tcp":
            w.tcp_flows += 1
            if c.state in ("S0", "REJ", "RSTOS0", "SH", "OTH"):
                w.syn_no_ack += 1
            if c.state in ("REJ", "RSTR", "RSTO"):
                w.rejected += 1
        w.conn_times.setdefault((c.dst, c.dport), []).append(c.ts)

    def add_dns(self, q: DnsQuery) -> None:
        w = self.window(q.src, q.ts)
        label = q.query.split(".", 1)[0]
        w.dns_queries += 1
        w.dns_len_sum += len(q.query)
        w.dns_entropy_sum += entropy(label)
        w.dns_names.add(q.query)

    def add_http(self, r: HttpRequest) -> None:
        w = self.window(r.src, r.ts)
        w.http_requests += 1
        if r.status is not None:
            if 400 <= r.status < 500:
                w.http_4xx += 1
            elif r.status >= 500:
                w.http_5xx += 1
        url = unquote_plus(r.target)
        w.url_len_sum += len(url)
        w.url_entropy_sum += entropy(url)

    def add_auth(self, e: AuthEvent) -> None:
        if not e.src:
            return
        w = self.window(e.src, e.ts)
        if e.outcome in ("failure", "invalid_user"):
            if e.outcome == "failure":
                w.failed_logins += 1
            if e.user:
                w.users.add(e.user)
        elif e.outcome == "success":
            w.successful_logins += 1

    def add_log(self, line: SyslogLine, rare: bool) -> None:
        w = self.window(line.host, line.ts)
        w.log_lines += 1
        if rare:
            w.rare_templates += 1

    def __iter__(self) -> Iterator[EntityWindow]:
        return iter(sorted(self.windows.values(), key=lambda w: (w.start, w.entity)))
