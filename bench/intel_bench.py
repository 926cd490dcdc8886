"""Threat-intel bench: load a feed of N indicators (default 1M) and match records at line rate; prints one JSON object.

Usage: python bench/intel_bench.py [--indicators 1000000] [--records 200000]
The feed is generated (CSV: IPs, CIDRs, domains, URLs, hashes) in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from core.settings import SecuritySettings
from security.intel.matcher import IntelObserver
from security.intel.store import load_feed, open_matcher
from security.records import Connection, DnsQuery, HttpRequest


def _ip(rng: random.Random) -> str:
    return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def write_feed(path: Path, n: int, rng: random.Random) -> None:
    with open(path, "w") as fh:
        fh.write("indicator,type,confidence\n")
        for i in range(n):
            r = i % 20
            if r < 12:
                fh.write(f"{_ip(rng)},ip,{rng.randint(30, 100)}\n")
            elif r < 14:
                fh.write(f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24,cidr,60\n")
            elif r < 18:
                fh.write(f"h{i:x}-{rng.randint(0, 1 << 30):x}.example,domain,70\n")
            elif r < 19:
                fh.write(f"http://u{i:x}.example/p/{rng.randint(0, 1 << 30):x},url,70\n")
            else:
                fh.write(f"{rng.getrandbits(256):064x},hash,80\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--indicators", type=int, default=1_000_000)
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.csv"
        write_feed(feed, args.indicators, rng)
        t = time.perf_counter()
        meta = load_feed(Path(tmp) / "intel", feed, "bench", max_indicators=args.indicators + 1)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        matcher = open_matcher(Path(tmp) / "intel").matcher
        open_s = time.perf_counter() - t
    records = []
    for i in range(args.records):
        k = i % 3
        if k == 0:
            records.append(Connection(1.7e9 + i, f"10.0.{i % 250}.{i % 200 + 1}", _ip(rng), 40000, 443, "tcp"))
        elif k == 1:
            records.append(DnsQuery(1.7e9 + i, "10.0.0.5", "10.0.0.1", f"www.site{i}.example"))
        else:
            records.append(HttpRequest(1.7e9 + i, _ip(rng), "GET", f"/page/{i}", 200, host="portal.example"))
    obs = IntelObserver(matcher, SecuritySettings())
    t = time.perf_counter()
    for r in records:
        obs.observe(r)
    match_s = time.perf_counter() - t
    alerts = obs.finish()
    report = {
        "indicators": meta["stats"]["indicators"], "by_type": meta["stats"]["by_type"],
        "load_feed_s": round(load_s, 2), "open_matcher_s": round(open_s, 2),
        "records": len(records), "match_s": round(match_s, 3),
        "records_per_s": round(len(records) / match_s), "matches": obs.matches, "alerts": len(alerts),
    }
    print(json.dumps(report))  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
