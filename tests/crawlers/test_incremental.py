"""Incremental runs, stop-and-resume with JOBDIR, and reposts, on the generated demo site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
import yaml

from core.ids import post_id
from crawlers.demo_site import DEMO_ENV, build_site, demo_sources, generate_content
from crawlers.demo_site.generator import article_url
from crawlers.demo_site.server import SiteServer
from tests.crawlers.conftest import FAST, run_subprocess_crawl

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEMO = {"DOWNLOAD_TIMEOUT": 15}  # the demo site is healthy: no timeouts on a busy machine


@pytest.fixture
def demo_server():
    content = generate_content(3, now=NOW, n_articles=40)
    with SiteServer(build_site(content)) as server:
        yield server, content


def test_incremental_second_run_adds_nothing_and_new_posts_are_picked_up(demo_server, tmp_path):
    server, content = demo_server
    sources = demo_sources(server.base_url)["sources"]
    reports, first = run_subprocess_crawl(tmp_path, sources, env=DEMO_ENV, out_name="run1.jsonl",
                                          overrides=DEMO)
    assert len(first) > 200
    assert sum(r["errors"] for r in reports.values()) == 0
    counts = Counter(p.source for p in first)
    assert counts["demo-baocantho"] == len(content.of("article", "baocantho"))
    assert counts["demo-tg-tinnongcantho"] == 36 and counts["demo-facebook"] > 24

    reports, second = run_subprocess_crawl(tmp_path, sources, env=DEMO_ENV, out_name="run2.jsonl",
                                           overrides=DEMO)
    assert second == []
    assert reports["demo-baocantho"]["requests_skipped_seen"] == counts["demo-baocantho"]
    assert reports["demo-facebook"]["counters"]["skipped_seen"] == counts["demo-facebook"]

    extra = [{"platform": "telegram", "text": "Nước ngập tới yên xe ở đường Nguyễn Văn Cừ, kẹt xe cả cây số"},
             {"platform": "news", "title": "Sạt lở bờ sông ở Ô Môn", "text": "Sạt lở nghiêm trọng ở Ô Môn. " * 6},
             {"platform": "forum", "title": "Cúp điện cả ngày", "text": "Khu mình cúp điện từ sáng tới giờ."}]
    richer = build_site(generate_content(3, now=NOW, n_articles=40, extra_posts=extra))
    server.site.routes, server.site.dynamic = richer.routes, richer.dynamic  # same port, new posts
    reports, third = run_subprocess_crawl(tmp_path, sources, env=DEMO_ENV, out_name="run3.jsonl",
                                          overrides=DEMO)
    assert sorted(p.source for p in third) == ["demo-baocantho", "demo-forum-goc-phan-anh", "demo-tg-tinnongcantho"]
    assert {p.text.split(".")[0] for p in third} >= {"Sạt lở nghiêm trọng ở Ô Môn"}


def test_incremental_near_duplicate_repost_links_to_original(demo_server, tmp_path):
    server, content = demo_server
    sources = demo_sources(server.base_url)["sources"]
    _, originals = run_subprocess_crawl(tmp_path, sources, names=["demo-baocantho"], out_name="a.jsonl",
                                        overrides=DEMO)
    _, portal = run_subprocess_crawl(tmp_path, sources, names=["demo-congthongtin"], out_name="b.jsonl",
                                     overrides=DEMO)
    by_title: dict[str, set[str]] = {}
    for p in originals:  # generated titles repeat: a title may name several articles
        by_title.setdefault(p.title, set()).add(p.id)
    reposts = [p for p in portal if p.text.startswith("Theo Báo Cần Thơ")]
    assert len(reposts) == len([i for i in content.of("article", "congthongtin") if "-r" in i.native_id])
    assert reposts and all(p.duplicate_of in by_title[p.title] for p in reposts)
    others = [p for p in portal if not p.text.startswith("Theo Báo Cần Thơ")]
    assert not any(p.duplicate_of for p in others)  # different articles are not linked


def _lines(path):
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if path.exists() else []


def test_incremental_stopped_crawl_resumes_without_loss_or_duplicates(tmp_path):
    content = generate_content(5, now=NOW, n_articles=60)
    site = build_site(content)
    for path, route in site.routes.items():
        if "/baocantho/tin-tuc/" in path:
            route.delay_s = 0.12  # slow enough to stop it half way
    expected_items = content.of("article", "baocantho")
    with SiteServer(site) as server:
        sources = [s for s in demo_sources(server.base_url)["sources"] if s["name"] == "demo-baocantho"]
        expected = {post_id("news", url=server.base_url + article_url(i)) for i in expected_items}
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
        jobdir = tmp_path / "job"
        overrides = {**FAST, **DEMO, "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                     "IOCWATCH_SINK_BATCH": 1}

        def start(out):
            cmd = [sys.executable, "-m", "crawlers.run", "--sources", str(tmp_path / "sources.yaml"),
                   "--data-dir", str(tmp_path / "data"), "--out", str(out), "--report", str(out) + ".json",
                   "--jobdir", str(jobdir), "--scrapy-settings", json.dumps(overrides)]
            return subprocess.Popen(cmd, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        out1, out2 = tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"
        proc = start(out1)
        deadline = time.monotonic() + 60
        while len(_lines(out1)) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # Ctrl-C once: Scrapy stops gracefully and keeps the queue
        proc.communicate(timeout=60)
        first = _lines(out1)
        report1 = json.loads((tmp_path / "part1.jsonl.json").read_text())
        assert report1[0]["counters"].get("finish_shutdown") == 1
        assert 8 <= len(first) < len(expected)
        assert any((jobdir / "demo-baocantho").iterdir())

        proc = start(out2)
        proc.communicate(timeout=120)
        assert proc.returncode == 0
        second = _lines(out2)
    assert not set(first) & set(second)  # nothing collected twice
    assert len(first) + len(second) == len(set(first) | set(second))
    assert set(first) | set(second) == expected  # nothing lost
