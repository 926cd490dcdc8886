"""Log parsers: syslog/auth.log (sshd logins), nginx/Apache combined, Zeek conn/dns (TSV, JSON), CSV.

Each format is a small parser object with ``parse(line) -> record | None``; formats
with a header (Zeek TSV, CSV) keep it between lines. :func:`read` streams a file,
detecting the format from its first lines unless one is given, and counts every line
it cannot use (``binary``, ``too_long``, ``malformed``, ``blank``) instead of failing.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import SecurityMonitorError
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, ParseStats, Record, SyslogLine

log = logging.getLogger(__name__)

MAX_LINE = 65_536  # longer lines are counted as too_long and skipped
DETECT_LINES = 200  # lines read (past over-long lines and long headers) before a format is given up on
FORMATS = ("syslog", "access", "zeek", "csv")

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

_SYSLOG = re.compile(
    r"^(?:<\d{1,3}>)?"
    r"(?:(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d)"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))"
    r" (?P<host>\S+) (?P<svc>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$")

_SSH_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Failed (?:password|publickey|keyboard-interactive/pam|none) for (?:invalid user )?"
                r"(?P<user>.*?) from (?P<src>[0-9a-fA-F:.]+)(?: port (?P<port>\d+))?"), "failure"),
    (re.compile(r"^Accepted \S+ for (?P<user>\S+) from (?P<src>[0-9a-fA-F:.]+)(?: port (?P<port>\d+))?"),
     "success"),
    (re.compile(r"^Invalid user (?P<user>.*?) from (?P<src>[0-9a-fA-F:.]+)(?: port (?P<port>\d+))?"),
     "invalid_user"),
    (re.compile(r"authentication failure;.*?rhost=(?P<src>[0-9a-fA-F:.]+)?(?:\s+user=(?P<user>\S+))?"),
     "failure_pam"),
]
_REPEATED = re.compile(r"^message repeated (\d+) times: \[ ?(.*?) ?\]$")

_COMBINED = re.compile(
    r'^(?P<src>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{3}|-) '
    r'(?P<size>\d+|-)(?: "(?P<ref>[^"]*)" "(?P<ua>[^"]*)")?')


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def _binary(line: str) -> bool:
    """A NUL byte, or more than a tenth of control / undecodable characters in the first 512."""
    if "\x00" in line:
        return True
    sample = line[:512]
    return len(_CONTROL.findall(sample)) > max(4, len(sample) // 10)


def syslog_time(mon: str, day: str, clock: str, year: int) -> float:
    h, m, s = (int(x) for x in clock.split(":"))
    return datetime(year, _MONTHS[mon], int(day), h, m, s, tzinfo=UTC).timestamp()


def iso_time(text: str) -> float:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class SyslogParser:
    """RFC 3164 / ISO-timestamp syslog lines; sshd login lines become :class:`AuthEvent`.

    ``year`` fills the year RFC 3164 timestamps omit (default: the current year).
    """

    name = "syslog"

    def __init__(self, year: int | None = None):
        self.year = year or datetime.now(UTC).year

    def parse(self, line: str) -> AuthEvent | SyslogLine | None:
        m = _SYSLOG.match(line)
        if m is None:
            return None
        try:
            ts = (iso_time(m["iso"]) if m["iso"]
                  else syslog_time(m["mon"], m["day"], m["time"], self.year))
        except (ValueError, KeyError):
            return None
        svc, msg = m["svc"], m["msg"]
        pid = int(m["pid"]) if m["pid"] else None
        if svc.startswith("sshd") or "pam_unix" in msg:
            event = self.auth_event(ts, m["host"], svc, msg)
            if event is not None:
                return event
        return SyslogLine(ts, m["host"], svc, pid, msg)

    @staticmethod
    def auth_event(ts: float, host: str, svc: str, msg: str) -> AuthEvent | None:
        rep = _REPEATED.match(msg)
        if rep:
            msg = rep.group(2)
        for pattern, outcome in _SSH_PATTERNS:
            m = pattern.search(msg)
            if m:
                port = m.groupdict().get("port")
                user = m.groupdict().get("user")
                return AuthEvent(ts, host, svc, "failure" if outcome == "failure_pam" else outcome,
                                 user=user or None, src=m["src"], port=int(port) if port else None,
                                 message=msg)
        return None


class AccessLogParser:
    """nginx/Apache combined (and common) access log lines."""

    name = "access"

    def parse(self, line: str) -> HttpRequest | None:
        m = _COMBINED.match(line)
        if m is None:
            return None
        try:
            ts = datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        except ValueError:
            return None
        parts = m["req"].split(" ")
        method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("-", m["req"])
        status = int(m["status"]) if m["status"] != "-" else None
        size = int(m["size"]) if m["size"] != "-" else 0
        return HttpRequest(ts, m["src"], method, target, status, size, m["ua"] or "", m["ref"] or "",
                           raw=line[:2048])


def _num(value: Any, kind: type = int, default: Any = 0) -> Any:
    if value in (None, "-", "", "(empty)"):
        return default
    try:
        number = kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError, OverflowError):  # "inf" cannot be a count
        return default
    return number if kind is not float or math.isfinite(number) else default


def _text(value: Any) -> str | None:
    return None if value in (None, "", "-", "(empty)") else str(value)


class ZeekParser:
    """Zeek ``conn.log`` and ``dns.log``, TSV (with ``#fields`` header) or JSON lines."""

    name = "zeek"

    def __init__(self) -> None:
        self.fields: list[str] | None = None
        self.path: str | None = None
        self.sep = "\t"

    def parse(self, line: str) -> Connection | DnsQuery | None | bool:
        if line.startswith("#"):
            key, _, rest = line.partition(self.sep if not line.startswith("#separator") else " ")
            if key == "#separator":
                try:
                    self.sep = rest.strip().encode().decode("unicode_escape") or "\t"
                except UnicodeDecodeError:  # a damaged header: Zeek's default separator
                    log.warning("unreadable Zeek #separator %r; using a tab", rest.strip()[:20])
                    self.sep = "\t"
            elif key == "#fields":
                self.fields = rest.split(self.sep)
            elif key == "#path":
                self.path = rest.strip()
            return True  # a header line, consumed
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                return None
            if not isinstance(row, dict):
                return None
        else:
            if self.fields is None:
                return None
            values = line.split(self.sep)
            if len(values) != len(self.fields):
                return None
            row = dict(zip(self.fields, values, strict=True))
        return self.record(row, self.path)

    @staticmethod
    def record(row: dict[str, Any], path: str | None = None) -> Connection | DnsQuery | None:
        try:
            ts_raw = row.get("ts")
            ts = iso_time(ts_raw) if isinstance(ts_raw, str) and "T" in ts_raw else float(ts_raw)
            src, dst = str(row["id.orig_h"]), str(row["id.resp_h"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        if not math.isfinite(ts):
            return None
        if path == "dns" or "query" in row:
            query = row.get("query")
            if query in (None, "-"):
                return None
            return DnsQuery(ts, src, dst, str(query).lower(), qtype=_text(row.get("qtype_name")),
                            rcode=_text(row.get("rcode_name")))
        return Connection(ts, src, dst, _num(row.get("id.orig_p")), _num(row.get("id.resp_p")),
                          str(row.get("proto", "tcp")), _num(row.get("duration"), float, 0.0),
                          _num(row.get("orig_bytes")), _num(row.get("resp_bytes")),
                          _num(row.get("orig_pkts")), _num(row.get("resp_pkts")),
                          state=_text(row.get("conn_state")), service=_text(row.get("service")))


_CSV_ALIASES = {
    "ts": ("ts", "timestamp", "time", "start", "stime", "date"),
    "src": ("src", "src_ip", "source", "source_ip", "saddr", "id.orig_h", "srcip"),
    "dst": ("dst", "dst_ip", "destination", "destination_ip", "daddr", "id.resp_h", "dstip"),
    "sport": ("sport", "src_port", "source_port", "id.orig_p"),
    "dport": ("dport", "dst_port", "destination_port", "id.resp_p", "dsport"),
    "proto": ("proto", "protocol", "protocol_type"),
    "duration": ("duration", "dur"),
    "orig_bytes": ("orig_bytes", "src_bytes", "sbytes", "bytes_out", "bytes"),
    "resp_bytes": ("resp_bytes", "dst_bytes", "dbytes", "bytes_in"),
    "orig_pkts": ("orig_pkts", "src_pkts", "spkts", "packets"),
    "resp_pkts": ("resp_pkts", "dst_pkts", "dpkts"),
    "state": ("state", "conn_state", "flag"),
}


class CsvConnParser:
    """A CSV of connection records with a header row (column names matched by common aliases)."""

    name = "csv"

    def __init__(self) -> None:
        self.columns: dict[str, int] | None = None

    def parse(self, line: str) -> Connection | None | bool:
        if self.columns is None and line.lstrip().startswith("#"):
            return True  # a comment before the header row (exports often start with a preamble)
        try:
            values = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            return None
        if self.columns is None:
            lower = [v.strip().lower() for v in values]
            cols: dict[str, int] = {}
            for key, names in _CSV_ALIASES.items():
                for name in names:
                    if name in lower:
                        cols[key] = lower.index(name)
                        break
            if "src" not in cols or "dst" not in cols:
                raise SecurityMonitorError("CSV header has no source/destination IP column",
                                           hint="name them src and dst (or src_ip/dst_ip)")
            self.columns = cols
            return True

        def get(key: str) -> str | None:
            idx = self.columns.get(key)  # type: ignore[union-attr]
            return values[idx] if idx is not None and idx < len(values) else None

        src, dst = get("src"), get("dst")
        if not src or not dst:
            return None
        ts_raw = get("ts")
        try:
            ts = iso_time(ts_raw) if ts_raw and not ts_raw.replace(".", "", 1).isdigit() else float(ts_raw or 0)
        except (ValueError, OverflowError):
            return None
        if not math.isfinite(ts):
            return None
        return Connection(ts, src, dst, _num(get("sport")), _num(get("dport")),
                          (get("proto") or "tcp").lower(), _num(get("duration"), float, 0.0),
                          _num(get("orig_bytes")), _num(get("resp_bytes")), _num(get("orig_pkts")),
                          _num(get("resp_pkts")), state=get("state") or None)


def make_parser(fmt: str, *, year: int | None = None):
    """A fresh parser for a format name (``syslog``/``auth``, ``access``, ``zeek``, ``csv``)."""
    if fmt in ("syslog", "auth"):
        return SyslogParser(year)
    if fmt in ("access", "nginx", "apache", "combined"):
        return AccessLogParser()
    if fmt == "zeek":
        return ZeekParser()
    if fmt == "csv":
        return CsvConnParser()
    raise SecurityMonitorError(f"unknown log format {fmt!r}",
                               hint=f"use one of {', '.join(FORMATS)}, or leave it out to detect")


def detect_format(lines: Iterable[str]) -> str | None:
    """Guess a format from the first lines of a file; ``None`` when nothing matches."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith(("#separator", "#fields", "#path")):
            return "zeek"
        if line.startswith("{") and '"id.orig_h"' in line:
            return "zeek"
        if _COMBINED.match(line):
            return "access"
        if _SYSLOG.match(line):
            return "syslog"
        if "," in line:
            lower = line.lower()
            if any(n in lower for n in ("src", "source")) and any(n in lower for n in ("dst", "dest")):
                return "csv"
    return None


def iter_lines(fh: io.BufferedIOBase, stats: ParseStats, max_line: int = MAX_LINE) -> Iterator[str]:
    """Decoded lines of a binary stream; over-long lines are skipped (counted) without loading them whole."""
    while True:
        raw = fh.readline(max_line + 1)
        if not raw:
            return
        if len(raw) > max_line and not raw.endswith(b"\n"):
            stats.skip("too_long")
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(1 << 20)
            continue
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def parse_line(parser, line: str, stats: ParseStats) -> Record | None:
    """Run one line through a parser, counting what is skipped."""
    if not line.strip():
        stats.skip("blank")
        return None
    if _binary(line):
        stats.skip("binary")
        return None
    out = parser.parse(line)
    if out is True:  # a header line
        return None
    if out is None:
        stats.skip("malformed")
        return None
    stats.records += 1
    return out


def sniff_format(path: str | Path) -> str | None:
    """The format of a log file, from its first :data:`DETECT_LINES` lines.

    Over-long lines (a 10 MB first line) are skipped without being loaded, and a long
    header or preamble does not hide the lines after it.
    """
    scratch = ParseStats(str(path))
    with open(path, "rb") as fh:
        head = []
        for line in iter_lines(fh, scratch):
            head.append(line)
            if len(head) >= DETECT_LINES:
                break
    return detect_format(head)


def read(path: str | Path, fmt: str | None = None, stats: ParseStats | None = None, *,
         year: int | None = None) -> Iterator[Record]:
    """Records of a log file; the format is detected from its first lines unless given."""
    stats = stats if stats is not None else ParseStats(str(path))
    fmt = fmt or sniff_format(path)
    if fmt is None:
        stats.errors.append(f"{path}: log format not recognised")
        log.warning("%s: log format not recognised (give --log-format)", path)
        return
    parser = make_parser(fmt, year=year)
    with open(path, "rb") as fh:
        for line in iter_lines(fh, stats):
            try:
                rec = parse_line(parser, line, stats)
            except SecurityMonitorError as exc:  # e.g. a CSV header without address columns
                stats.errors.append(f"{path}: {exc.message}")
                log.warning("%s: %s; the rest of the file is skipped", path, exc.message)
                return
            if rec is not None:
                yield rec

