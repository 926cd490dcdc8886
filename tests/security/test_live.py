"""Following a log across rotation and truncation; live capture errors are clear."""

from __future__ import annotations

import os

import pytest

from core.errors import IocwatchError
from security.live import follow, follow_lines, sniff_packets
from security.records import AuthEvent

LINE = "2025-11-20T07:00:0{}+07:00 srv sshd[1]: Failed password for root from 1.2.3.{} port 22 ssh2\n"


def _take(gen, n):
    out = []
    while len(out) < n:
        item = next(gen)
        if item is not None:
            out.append(item)
    return out


def test_live_follow_survives_rotation_and_truncation(tmp_path):
    path = tmp_path / "auth.log"
    path.write_text(LINE.format(1, 1))
    gen = follow(path, "syslog", poll_s=0.01)
    assert _take(gen, 1)[0].src == "1.2.3.1"
    with open(path, "a") as fh:
        fh.write(LINE.format(2, 2))
    assert _take(gen, 1)[0].src == "1.2.3.2"
    os.rename(path, tmp_path / "auth.log.1")  # logrotate: move, then a new file
    path.write_text(LINE.format(3, 3))
    rec = _take(gen, 1)[0]
    assert isinstance(rec, AuthEvent) and rec.src == "1.2.3.3"
    with open(path, "w") as fh:  # truncated in place and rewritten with less than was read
        fh.write("2025-11-20T07:00:05+07:00 s sshd[1]: Failed password for x from 1.2.3.5 port 2 ssh2\n")
    assert _take(gen, 1)[0].src == "1.2.3.5"
    gen.close()


def test_live_follow_lines_waits_for_a_missing_file(tmp_path):
    path = tmp_path / "later.log"
    gen = follow_lines(path, poll_s=0.01)
    assert next(gen) is None
    path.write_text("xin chao\n")
    assert _take(gen, 1) == ["xin chao"]


def test_live_sniff_unknown_interface_is_a_clear_error():
    with pytest.raises(IocwatchError):
        list(sniff_packets("no-such-if0", timeout_s=0.2))


def test_live_sniff_loopback_with_bpf_filter():
    """Needs root and libpcap (Debian libpcap0.8); skipped otherwise. Traffic stays on 127.0.0.1."""
    import ctypes.util
    import socket
    import threading
    import time

    if os.geteuid() != 0 or ctypes.util.find_library("pcap") is None:
        pytest.skip("live capture needs root and libpcap0.8")

    def send():
        time.sleep(0.6)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(5):
                s.sendto(b"xin chao", ("127.0.0.1", 39999))
                time.sleep(0.05)

    threading.Thread(target=send, daemon=True).start()
    pkts = list(sniff_packets("lo", bpf="udp port 39999", timeout_s=2.0))
    assert len(pkts) >= 5 and all(p.dport == 39999 and p.src == "127.0.0.1" for p in pkts)
