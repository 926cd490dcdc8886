"""Thin live adapters: follow a log file like ``tail -F`` (surviving rotation), and capture packets.

Both yield the same records the file parsers do, plus ``None`` when idle so the caller
can close a batch on time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import MissingDependencyError, SecurityMonitorError
from security import logs, pcap
from security.records import Packet, ParseStats, Record

log = logging.getLogger(__name__)


def follow_lines(path: str | Path, *, poll_s: float = 0.5, from_start: bool = True,
                 stop: Callable[[], bool] = lambda: False, stats: ParseStats | None = None,
                 max_line: int = logs.MAX_LINE) -> Iterator[str | None]:
    """Lines appended to ``path`` as they are written; ``None`` each time the file is idle.

    Rotation (the path now names a new file) and truncation (the file shrank) are
    detected on every idle poll: the rest of the old file is read, then the new one is
    read from its start. A missing file is waited for.
    """
    path = Path(path)
    stats = stats if stats is not None else ParseStats(str(path))
    fh = None
    inode = None
    partial = b""
    while not stop():
        if fh is None:
            try:
                fh = open(path, "rb")  # noqa: SIM115 - kept open across iterations
            except FileNotFoundError:
                yield None
                time.sleep(poll_s)
                continue
            inode = os.fstat(fh.fileno()).st_ino
            if not from_start:
                fh.seek(0, os.SEEK_END)
            from_start = True  # files appearing after rotation are read whole
        chunk = fh.readline(max_line + 1)
        if chunk:
            partial += chunk
            if partial.endswith(b"\n"):
                line, partial = partial, b""
                yield line.decode("utf-8", "replace").rstrip("\r\n")
            elif len(partial) > max_line:
                stats.skip("too_long")
                partial = b""
                while True:  # drop the rest of this line
                    rest = fh.readline(1 << 20)
                    if not rest or rest.endswith(b"\n"):
                        break
            continue
        # idle: check for rotation or truncation
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st is None or st.st_ino != inode or st.st_size < fh.tell():
            log.info("%s rotated or truncated; reopening", path)
            fh.close()
            fh = None
            partial = b""
            continue
        yield None
        time.sleep(poll_s)
    if fh is not None:
        fh.close()


def follow(path: str | Path, fmt: str | None = None, *, stats: ParseStats | None = None,
           poll_s: float = 0.5, from_start: bool = True, stop: Callable[[], bool] = lambda: False,
           max_line: int = logs.MAX_LINE) -> Iterator[Record | None]:
    """Records from a followed log file (format detected from its first lines unless given);
    ``None`` each time it is idle. A thin loop over :class:`security.follow.LogFollower`.

    Raises :class:`SecurityMonitorError` when the file cannot be read or its format is not
    recognised (the monitor's own loop reports such a file and goes on with the others).
    """
    from security.follow import LogFollower

    follower = LogFollower(path, fmt, stats=stats, from_start=from_start, max_line=max_line)
    try:
        while not stop():
            got = False
            for rec in follower.poll():
                got = True
                yield rec
            if follower.failed is not None:
                raise SecurityMonitorError(follower.failed, hint="give --log-format, or check the file")
            if not got:
                yield None
                time.sleep(poll_s)
    finally:
        follower.close()


def sniff_packets(iface: str, *, bpf: str | None = None, timeout_s: float | None = None,
                  count: int = 0, stats: ParseStats | None = None) -> Iterator[Packet]:
    """Capture from ``iface`` with scapy ``sniff`` (BPF ``bpf``), parsed by the fast header path.

    Raises :class:`SecurityMonitorError` when capture is not permitted and
    :class:`MissingDependencyError` when a BPF filter needs libpcap that is absent.
    """
    try:
        from scapy.all import conf, sniff  # the full set-up: layers and the libpcap socket switch
        from scapy.error import Scapy_Exception
    except ImportError as exc:
        raise MissingDependencyError(f"live capture needs scapy ({exc})", hint="install scapy") from None
    stats = stats if stats is not None else ParseStats(f"iface:{iface}")
    got: list[Packet] = []

    def on_packet(frame) -> None:
        raw = bytes(frame)
        lt = pcap.LINK_ETHERNET if frame.__class__.__name__ == "Ether" else (
            pcap.LINK_SLL if frame.__class__.__name__ == "CookedLinux" else pcap.LINK_RAW[0])
        pkt = pcap.parse(raw, float(frame.time), lt, stats)
        if pkt is not None:
            stats.records += 1
            got.append(pkt)

    if bpf:
        conf.use_pcap = True  # BPF compilation through libpcap
    try:
        sniff(iface=iface, filter=bpf, prn=on_packet, store=False, timeout=timeout_s, count=count)
    except ValueError as exc:  # scapy: "Interface 'x' not found !"
        raise SecurityMonitorError(f"no interface {iface!r} ({exc})", hint="list interfaces with `ip link`") from None
    except PermissionError:
        raise SecurityMonitorError(f"capture on {iface} is not permitted",
                                   hint="run as root or grant CAP_NET_RAW to the Python binary") from None
    except OSError as exc:
        if exc.errno == 19 or "No such device" in str(exc):
            raise SecurityMonitorError(f"no interface {iface!r}", hint="list interfaces with `ip link`") from None
        if exc.errno == 1:
            raise SecurityMonitorError(f"capture on {iface} is not permitted",
                                       hint="run as root or grant CAP_NET_RAW to the Python binary") from None
        raise SecurityMonitorError(f"capture on {iface} failed: {exc}") from None
    except (Scapy_Exception, ImportError) as exc:
        text = str(exc)
        if "pcap" in text.lower() or "filter" in text.lower() or "tcpdump" in text.lower():
            raise MissingDependencyError(
                f"BPF filter {bpf!r} could not be compiled: {text}",
                hint="install libpcap (Debian: apt-get install libpcap0.8), or capture without a filter") from None
        raise SecurityMonitorError(f"capture on {iface} failed: {text}") from None
    yield from got
