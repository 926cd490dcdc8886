"""Format detection reads past over-long first lines and long headers before deciding."""

from __future__ import annotations

from pathlib import Path

from security import logs
from security.follow import LogFollower
from security.records import ParseStats

SYSLOG = "2026-11-20T07:00:{:02d}+07:00 srv sshd[1]: Failed password for root from 10.0.0.{} port 22 ssh2\n"


def _syslog(n: int) -> str:
    return "".join(SYSLOG.format(i % 60, i % 250 + 1) for i in range(n))


def test_logs_detection_reads_past_a_10_mb_first_line(tmp_path: Path):
    path = tmp_path / "auth.log"
    with path.open("w") as fh:
        fh.write("x" * (10 * 1024 * 1024) + "\n")
        fh.write(_syslog(5))
    assert logs.sniff_format(path) == "syslog"
    stats = ParseStats(str(path))
    assert len(list(logs.read(path, None, stats))) == 5
    assert stats.skipped["too_long"] == 1 and stats.records + stats.bad == 6


def test_logs_detection_reads_past_a_25_line_header(tmp_path: Path):
    path = tmp_path / "conn.csv"
    preamble = "".join(f"# export from the firewall, part {i}: do not edit\n" for i in range(25))
    path.write_text(preamble + "ts,src_ip,dst_ip,dst_port,proto\n"
                    + "".join(f"1700000000.{i},10.0.0.{i + 1},8.8.8.8,53,udp\n" for i in range(4)))
    assert logs.sniff_format(path) == "csv"
    stats = ParseStats(str(path))
    assert len(list(logs.read(path, None, stats))) == 4
    syslog = tmp_path / "auth.log"
    syslog.write_text(preamble + _syslog(3))
    assert logs.sniff_format(syslog) == "syslog"


def test_logs_detection_gives_up_after_its_line_budget(tmp_path: Path):
    path = tmp_path / "app.log"
    path.write_text("".join(f"step {i} ok\n" for i in range(logs.DETECT_LINES + 50)) + _syslog(2))
    assert logs.sniff_format(path) is None
    stats = ParseStats(str(path))
    assert list(logs.read(path, None, stats)) == [] and "not recognised" in stats.errors[0]


def test_follow_detection_reads_past_a_10_mb_first_line(tmp_path: Path):
    path = tmp_path / "auth.log"
    with path.open("w") as fh:
        fh.write("y" * (10 * 1024 * 1024) + "\n")
        fh.write(_syslog(30))
    follower = LogFollower(path)
    assert len(list(follower.poll())) == 30
    assert follower.failed is None and follower.stats.skipped["too_long"] == 1
    assert follower.position()["offset"] == path.stat().st_size
