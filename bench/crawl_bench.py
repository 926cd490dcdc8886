"""Crawl throughput with full extraction against ``scrapy bench`` on this machine.

Serves a generated site of at least 2,000 Vietnamese article pages on 127.0.0.1, crawls
it through the RSS spider (download, decoding, trafilatura extraction, watchlists,
fingerprints, simhash/MinHash, JSONL hand-over) in a child process, then runs
``scrapy bench`` (Scrapy's own link-following spider, no extraction) and prints::

    {"pages": .., "pages_per_min": .., "scrapy_bench_pages_per_min": .., "ratio": .., ...}

Usage: ``python bench/crawl_bench.py [--json] [--articles N]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml


def crawl_rate(articles: int, workdir: Path) -> dict:
    from core.settings import load_settings
    from crawlers.demo_site import build_site, generate_content
    from crawlers.demo_site.server import SiteServer
    from crawlers.runner import run_crawl_subprocess

    # The Báo Cần Thơ share of the generated site is 45 %: ask for enough articles.
    content = generate_content(2025, now=datetime(2026, 11, 20, tzinfo=UTC), n_articles=int(articles / 0.45) + 1)
    site = build_site(content)
    n_pages = len(content.of("article", "baocantho"))
    with SiteServer(site) as server:
        sources = {"sources": [{"name": "bench", "type": "rss", "url": f"{server.base_url}/baocantho/rss/home.rss",
                                "max_items": n_pages + 10}]}
        path = workdir / "sources.yaml"
        path.write_text(yaml.safe_dump(sources), encoding="utf-8")
        settings = load_settings(data_dir=workdir / "data")
        overrides = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
                     "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "IOCWATCH_SINK_BATCH": 500, "DOWNLOAD_TIMEOUT": 30}
        wall = time.perf_counter()
        (report,) = run_crawl_subprocess(settings, path, ["bench"], out_path=workdir / "posts.jsonl",
                                         overrides=overrides, timeout_s=1800)
        wall = time.perf_counter() - wall
    posts = sum(1 for _ in open(workdir / "posts.jsonl", encoding="utf-8"))
    return {"site_articles": n_pages, "pages": report["pages"], "posts": posts, "errors": report["errors"],
            "elapsed_s": report["elapsed_s"], "wall_s": round(wall, 2),
            "pages_per_min": round(report["pages"] / report["elapsed_s"] * 60, 1)}


def scrapy_bench_rate(workdir: Path) -> dict:
    # Outside the project directory, so `scrapy bench` runs with Scrapy's defaults.
    scrapy = Path(sys.executable).with_name("scrapy")
    cmd = [str(scrapy) if scrapy.exists() else "scrapy", "bench"]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SCRAPY_SETTINGS_MODULE": ""})
    log = proc.stderr + proc.stdout
    count = re.search(r"'response_received_count': (\d+)", log)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    if proc.returncode != 0 or not count or not elapsed:
        raise RuntimeError(f"scrapy bench failed: {log[-1500:]}")
    pages, secs = int(count.group(1)), float(elapsed.group(1))
    return {"scrapy_bench_pages_per_min": round(pages / secs * 60, 1)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--articles", type=int, default=2000, help="article pages to crawl (>= 2000)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="crawl-bench-") as tmp:
        work = Path(tmp)
        bench_dir = work / "scrapy-bench"
        bench_dir.mkdir()
        # `scrapy bench` runs before and after our crawl; their mean is the reference, so a
        # change of machine load during the run weighs on both sides alike.
        before = scrapy_bench_rate(bench_dir)
        ours = crawl_rate(args.articles, work)
        after = scrapy_bench_rate(bench_dir)
    reference = round((before["scrapy_bench_pages_per_min"] + after["scrapy_bench_pages_per_min"]) / 2, 1)
    result = {**ours, "scrapy_bench_pages_per_min": reference,
              "scrapy_bench_runs_pages_per_min": [before["scrapy_bench_pages_per_min"],
                                                  after["scrapy_bench_pages_per_min"]],
              "ratio": round(ours["pages_per_min"] / reference, 3), "load_avg_1m": round(os.getloadavg()[0], 2)}
    if not args.json:
        sys.stderr.write(f"crawl with extraction: {result['pages']} pages in {result['elapsed_s']} s "
                         f"= {result['pages_per_min']} pages/min; scrapy bench: "
                         f"{result['scrapy_bench_pages_per_min']} pages/min; ratio {result['ratio']}\n")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
