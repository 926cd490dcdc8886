"""Log parsers on real fixture files, bad lines counted, and fuzzing of every parser."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from security import logs
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, ParseStats, SyslogLine

DATA = Path(__file__).parent.parent / "data" / "security"


def test_logs_detects_each_fixture_format():
    assert logs.sniff_format(DATA / "auth.log") == "syslog"
    assert logs.sniff_format(DATA / "access.log") == "access"
    assert logs.sniff_format(DATA / "conn.log") == "zeek"
    assert logs.sniff_format(DATA / "dns.log") == "zeek"
    assert logs.sniff_format(DATA / "conn.csv") == "csv"


def test_logs_auth_lines_become_login_events_and_bad_lines_are_counted():
    stats = ParseStats("auth")
    recs = list(logs.read(DATA / "auth.log", stats=stats, year=2025))
    events = [r for r in recs if isinstance(r, AuthEvent)]
    assert [(e.outcome, e.user, e.src) for e in events] == [
        ("success", "quantri", "10.0.2.5"), ("failure", "root", "203.0.113.9"),
        ("failure", "admin", "203.0.113.9"), ("invalid_user", "oracle", "203.0.113.9"),
        ("failure", "root", "203.0.113.9")]
    assert sum(isinstance(r, SyslogLine) for r in recs) == 2
    assert stats.skipped == {"malformed": 1, "binary": 1, "blank": 1}
    assert events[0].ts == 1763596801.12  # ISO timestamp with +07:00


def test_logs_access_log_fields():
    stats = ParseStats("access")
    recs = list(logs.read(DATA / "access.log", stats=stats))
    assert all(isinstance(r, HttpRequest) for r in recs) and len(recs) == 4
    assert recs[1].src == "192.0.2.45" and recs[1].status == 500 and "UNION" in recs[1].target
    assert recs[3].method == "POST" and recs[3].size == 0
    assert stats.skipped["malformed"] == 1


def test_logs_zeek_tsv_json_and_csv_records():
    conns = list(logs.read(DATA / "conn.log"))
    assert [(c.src, c.dport, c.state, c.service) for c in conns] == [
        ("10.0.0.5", 80, "SF", "http"), ("203.0.113.9", 22, "S0", None)]
    dns = list(logs.read(DATA / "dns.log"))
    assert all(isinstance(d, DnsQuery) for d in dns) and dns[1].query.endswith("exfil-sync.net")
    csv_rows = list(logs.read(DATA / "conn.csv"))
    assert all(isinstance(c, Connection) for c in csv_rows)
    assert (csv_rows[1].proto, csv_rows[1].dport, csv_rows[1].state) == ("tcp", 8080, "S0")


def test_logs_megabyte_lines_are_skipped_without_stopping(tmp_path):
    path = tmp_path / "big.log"
    good = "2025-11-20T07:00:02+07:00 srv sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2\n"
    path.write_text(good + "A" * 1_048_576 + "\n" + good, encoding="utf-8")
    stats = ParseStats("big")
    recs = list(logs.read(path, "syslog", stats))
    assert len(recs) == 2 and stats.skipped["too_long"] == 1


def test_logs_unknown_format_is_reported(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("hello\nworld\n")
    stats = ParseStats("x")
    assert list(logs.read(path, stats=stats)) == [] and stats.errors


PARSERS = [lambda: logs.SyslogParser(2025), logs.AccessLogParser, logs.ZeekParser, logs.CsvConnParser]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.integers(0, len(PARSERS) - 1))
def test_logs_every_parser_survives_random_text(text, which):
    parser = PARSERS[which]()
    if which == 3:
        parser.parse("src,dst,dport,ts")  # give the CSV parser its header first
    stats = ParseStats("fuzz")
    out = logs.parse_line(parser, text.replace("\n", " "), stats)
    assert out is None or hasattr(out, "ts")


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d [a-z]{1,8} sshd\[\d{1,5}\]: .{0,80}", fullmatch=True))
def test_logs_syslog_shaped_lines_never_raise(line):
    logs.parse_line(logs.SyslogParser(2025), line, ParseStats("fuzz"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abc\t01.-#", max_size=20), max_size=15))
def test_logs_zeek_tsv_with_random_headers_never_raises(lines):
    parser = logs.ZeekParser()
    stats = ParseStats("fuzz")
    parser.parse("#fields\tts\tid.orig_h\tid.resp_h")
    for line in lines:
        logs.parse_line(parser, line, stats)
