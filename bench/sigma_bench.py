"""Sigma bench: the bundled rules evaluated on a mixed stream of normalised events; prints one JSON object.

Usage: python bench/sigma_bench.py [--records 200000]
"""

from __future__ import annotations

import argparse
import json
import random
import time

from core.settings import SecuritySettings
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, SyslogLine
from security.sigma.engine import SigmaEngine
from security.sigma.loader import load

PAGES = ["/", "/tin-tuc", "/thong-bao/lich-cat-dien", "/dich-vu/nop-ho-so?id=12", "/static/app.js"]


def records(n: int, rng: random.Random) -> list:
    out = []
    for i in range(n):
        ts = 1.7e9 + i * 0.05
        k = i % 5
        if k == 0:
            out.append(HttpRequest(ts, f"203.0.113.{i % 250}", "GET", rng.choice(PAGES), 200, 512, "Mozilla/5.0", "",
                                   raw=f"203.0.113.{i % 250} - - GET / 200"))
        elif k == 1:
            out.append(DnsQuery(ts, f"10.0.0.{i % 200}", "10.0.0.1", f"www.site{i % 500}.example", qtype="A"))
        elif k == 2:
            out.append(Connection(ts, f"10.0.0.{i % 200}", f"198.51.100.{i % 250}", 40000 + i % 20000,
                                  rng.choice([443, 80, 53, 22]), "tcp", state="SF"))
        elif k == 3:
            out.append(AuthEvent(ts, "srv", "sshd", rng.choice(["success", "failure"]), user="admin",
                                 src=f"192.0.2.{i % 250}", message="Failed password for admin from 192.0.2.1"))
        else:
            out.append(SyslogLine(ts, "srv", "CRON", 100, "(root) CMD (run-parts /etc/cron.hourly)"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    t = time.perf_counter()
    rs = load([])
    load_s = time.perf_counter() - t
    recs = records(args.records, random.Random(3))
    eng = SigmaEngine(rs, SecuritySettings())
    t = time.perf_counter()
    for r in recs:
        eng.observe(r)
    observe_s = time.perf_counter() - t
    t = time.perf_counter()
    alerts = eng.finish()
    finish_s = time.perf_counter() - t
    report = {"rules": len(rs.rules), "correlations": len(rs.correlations), "load_s": round(load_s, 3),
              "records": len(recs), "observe_s": round(observe_s, 3),
              "records_per_s": round(len(recs) / observe_s), "finish_s": round(finish_s, 3),
              "matches": sum(eng.matches.values()), "alerts": len(alerts)}
    print(json.dumps(report))  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
