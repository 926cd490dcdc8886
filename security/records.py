"""The records every source yields, and the per-input counters of what was skipped and why.

Parsers are pure: ``parse(bytes | line) -> record | None`` and ``read(path) -> Iterator``.
Anything a parser cannot use is counted in a :class:`ParseStats` under a reason such as
``truncated``, ``non_ip``, ``malformed`` or ``binary``; the rest of the input goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TCP = 6
UDP = 17
ICMP = 1
ICMP6 = 58

# TCP flag bits
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(slots=True)
class Packet:
    """One IP packet's headers (and, for DNS and HTTP, the parsed application field)."""

    ts: float
    src: str
    dst: str
    proto: int
    sport: int = 0
    dport: int = 0
    length: int = 0  # bytes on the wire
    flags: int = 0  # TCP flags
    payload_len: int = 0
    dns_query: str | None = None  # first question name of a DNS query
    http: tuple[str, str] | None = None  # (method, target) of an HTTP request line
    fragment: bool = False


@dataclass(slots=True)
class AuthEvent:
    """A login attempt or session event from sshd (auth.log) or another syslog service."""

    ts: float
    host: str
    service: str
    outcome: str  # "failure" | "success" | "invalid_user" | "other"
    user: str | None = None
    src: str | None = None
    port: int | None = None
    message: str = ""


@dataclass(slots=True)
class SyslogLine:
    """A generic syslog line: header fields and the free-text message (templated by drain3)."""

    ts: float
    host: str
    service: str
    pid: int | None
    message: str


@dataclass(slots=True)
class HttpRequest:
    """One request from a combined access log (nginx/Apache) or an HTTP request seen in a capture."""

    ts: float
    src: str
    method: str
    target: str
    status: int | None = None
    size: int = 0
    user_agent: str = ""
    referrer: str = ""
    host: str | None = None
    raw: str = ""


@dataclass(slots=True)
class DnsQuery:
    """A DNS question (Zeek dns.log or a capture)."""

    ts: float
    src: str
    dst: str
    query: str
    qtype: str | None = None
    rcode: str | None = None


@dataclass(slots=True)
class Connection:
    """A connection summary (Zeek conn.log, a CSV of connection records, or a finished flow)."""

    ts: float
    src: str
    dst: str
    sport: int
    dport: int
    proto: str
    duration: float = 0.0
    orig_bytes: int = 0
    resp_bytes: int = 0
    orig_pkts: int = 0
    resp_pkts: int = 0
    state: str | None = None  # Zeek conn_state, e.g. S0 (SYN, no reply), SF (normal)
    service: str | None = None


Record = Packet | AuthEvent | SyslogLine | HttpRequest | DnsQuery | Connection


@dataclass
class ParseStats:
    """What an input gave: records, and lines or packets skipped by reason."""

    source: str
    records: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # fatal errors, e.g. unreadable file

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    @property
    def bad(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "records": self.records, "skipped": dict(self.skipped),
                "errors": list(self.errors)}
