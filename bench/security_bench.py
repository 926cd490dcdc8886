"""Security monitor speed: pcap to flow features, scapy and dpkt on the same capture, log lines, memory.

    .venv/bin/python bench/security_bench.py [--json] [--packets 1000000] [--lines 100000]

Writes a synthetic capture (benign sessions, a scan and DNS, built with ``struct`` and
written with scapy's ``RawPcapWriter``) and logs to a temporary folder, then prints one
JSON object: ``pcap_packets_per_s`` (fast path: read + flows + per-entity windows),
``scapy_packets_per_s`` (full dissection, on a prefix of the same capture),
``dpkt_packets_per_s`` (Ethernet/IP/TCP/UDP parse of the same capture), ``log_lines_per_s``
(parse, template, score with a fitted detector; a mixed auth.log/syslog from 200
client addresses) and ``peak_rss_mb``. On a shared machine the ``*_per_cpu_s`` figures
(work per CPU-second of this process) are the comparable ones; ``load_average_1m`` says
how busy the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_capture(path: Path, packets: int, seed: int = 1) -> int:
    from scapy.utils import RawPcapWriter

    from security.demo import dns_message, frame, tcp, udp

    rng = random.Random(seed)
    templates = []  # a pool of distinct frames, reused with varying timestamps
    for i in range(2000):
        src = f"10.20.{i % 50}.{10 + i % 200}"
        dst = f"10.30.{i % 7}.{1 + i % 90}"
        sport = 20000 + i
        kind = i % 4
        if kind == 0:
            templates.append(frame(src, dst, 6, tcp(sport, 443, "S")))
        elif kind == 1:
            templates.append(frame(dst, src, 6, tcp(443, sport, "SA")))
        elif kind == 2:
            templates.append(frame(src, dst, 6, tcp(sport, 443, "PA", b"x" * rng.randint(10, 900))))
        else:
            templates.append(frame(src, "10.30.0.53", 17, udp(sport, 53, dns_message(i, f"h{i}.cantho.gov.vn"))))
    t = 1_763_600_000.0
    with RawPcapWriter(str(path), linktype=1, sync=False) as w:
        w.write_header(None)
        for n in range(packets):
            data = templates[n % len(templates)] if n % 97 else templates[rng.randrange(len(templates))]
            t += 0.0005
            sec = int(t)
            w.write_packet(data, sec=sec, usec=int((t - sec) * 1e6), caplen=len(data), wirelen=len(data))
    return packets


def bench_fast(path: Path) -> tuple[float, float, int, int]:
    from security import pcap
    from security.features import FlowTable, WindowAggregator
    from security.records import ParseStats

    flows = FlowTable()
    agg = WindowAggregator(300)
    stats = ParseStats(str(path))
    n = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for p in pcap.read(path, stats):
        n += 1
        for c in flows.add(p):
            agg.add_connection(c)
    for c in flows.flush():
        agg.add_connection(c)
    rows = [w.features() for w in agg]
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0), n, len(rows)


def bench_scapy(path: Path, limit: int) -> tuple[float, float]:
    from scapy.all import IP, TCP, UDP, PcapReader  # all layers, so frames are fully dissected

    n = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    with PcapReader(str(path)) as reader:
        for pkt in reader:
            if IP in pkt:
                ip = pkt[IP]
                l4 = pkt[TCP] if TCP in pkt else pkt[UDP] if UDP in pkt else None
                _ = (ip.src, ip.dst, getattr(l4, "sport", 0), getattr(l4, "dport", 0))
            n += 1
            if n >= limit:
                break
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def bench_dpkt(path: Path, limit: int) -> tuple[float, float]:
    import dpkt

    n = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    with open(path, "rb") as fh:
        for _ts, buf in dpkt.pcap.Reader(fh):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP):
                _ = (ip.src, ip.dst, getattr(ip.data, "sport", 0), getattr(ip.data, "dport", 0))
            n += 1
            if n >= limit:
                break
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def write_logs(folder: Path, lines: int) -> tuple[Path, Path]:
    from security.demo import write_demo

    info = write_demo(folder / "base", clients=6, visitors=40)
    rng = random.Random(3)
    path = folder / "mixed.log"
    users = ["quantri", "ngoc.tran", "root", "minh.le", "admin"]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(lines):
            t = f"2026-11-20T10:{(i // 60) % 60:02d}:{i % 60:02d}.000+00:00"
            ip = f"10.50.{rng.randint(0, 1)}.{rng.randint(1, 100)}"  # 200 client addresses
            r = i % 4
            if r == 0:
                fh.write(f"{t} srv-ssh sshd[{1000 + i % 5000}]: Failed password for {rng.choice(users)} from {ip}"
                         f" port {rng.randint(1024, 65000)} ssh2\n")
            elif r == 1:
                fh.write(f"{t} srv-ssh sshd[{1000 + i % 5000}]: Accepted publickey for {rng.choice(users)} from {ip}"
                         f" port {rng.randint(1024, 65000)} ssh2\n")
            elif r == 2:
                fh.write(f"{t} srv-app cron[{i % 900}]: job {rng.randint(1, 40)} finished in {rng.random():.3f}s\n")
            else:
                fh.write(f"{t} srv-app kernel: eth{rng.randint(0, 3)}: link up, {rng.choice([100, 1000])} Mbps\n")
    return path, Path(info["files"] and folder / "base" / "baseline-auth.log")


def bench_logs(folder: Path, lines: int) -> tuple[float, float]:
    from core.settings import SecuritySettings
    from security import logs
    from security.demo import demo_inputs
    from security.monitor import Monitor, learn
    from security.templates import TemplateMiner

    path, _ = write_logs(folder, lines)
    cfg = SecuritySettings()
    inputs = demo_inputs(folder / "base")
    from security import pcap as pcap_mod

    def baseline():
        yield from pcap_mod.read(inputs["baseline_pcaps"][0])
        for p in inputs["baseline_logs"]:
            yield from logs.read(p)

    model = learn(baseline(), cfg)
    t0 = time.perf_counter()
    c0 = time.process_time()
    m = Monitor(cfg, model.detector, TemplateMiner(None), {})
    m.feed_many(logs.read(path, "syslog"))
    m.finish()
    return lines / (time.perf_counter() - t0), lines / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--scapy-packets", type=int, default=5_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cap = folder / "bench.pcap"
        write_capture(cap, args.packets)
        fast, fast_cpu, n, windows = bench_fast(cap)
        rss_after_pcap = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log_rate, log_cpu = bench_logs(folder, args.lines)
        scapy_rate, scapy_cpu = bench_scapy(cap, args.scapy_packets)
        dpkt_rate, dpkt_cpu = bench_dpkt(cap, min(args.packets, 300_000))
        out = {
            "packets": n,
            "pcap_packets_per_s": round(fast),
            "pcap_packets_per_cpu_s": round(fast_cpu),
            "entity_windows": windows,
            "peak_rss_mb_pcap": round(rss_after_pcap, 1),
            "scapy_packets_per_s": round(scapy_rate),
            "scapy_packets_per_cpu_s": round(scapy_cpu),
            "dpkt_packets_per_s": round(dpkt_rate),
            "dpkt_packets_per_cpu_s": round(dpkt_cpu),
            "log_lines": args.lines,
            "log_lines_per_s": round(log_rate),
            "log_lines_per_cpu_s": round(log_cpu),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "targets": {"pcap_packets_per_s": 100_000, "log_lines_per_s": 20_000, "peak_rss_mb": 1024},
        }
    sys.stdout.write((json.dumps(out) if args.json else json.dumps(out, indent=1)) + "\n")


if __name__ == "__main__":
    main()
