"""The listening flow: crawl -> analyse -> store, run status, the demo step and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from core.errors import ConfigError
from core.status import read_status
from crawlers.demo_site import DEMO_ENV, build_site, demo_sources, generate_content
from crawlers.demo_site.server import SiteServer
from iocwatch.flows.listen import demo_step, listen

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OVERRIDES = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 15, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}


@pytest.fixture
def small_site(tmp_path):
    content = generate_content(11, now=NOW, n_articles=40)
    with SiteServer(build_site(content)) as server:
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump(demo_sources(server.base_url), allow_unicode=True), encoding="utf-8")
        yield server, content, path


def _mark_language(posts):
    for p in posts:
        p.language = "vi"
        p.keywords = ["phan-tich-thu"]
        yield p


def test_listen_stores_analysed_posts_and_records_each_source(settings, store, small_site):
    server, content, sources = small_site
    result = listen(settings, sources_file=sources, store=store, analyse=_mark_language, in_process=False,
                    env=DEMO_ENV, overrides=OVERRIDES)
    assert result["errors"] == 0 and result["rejected"] == 0 and result["analysed"]
    assert result["stored"] == store.count("posts") > 150
    assert set(result["by_platform"]) == {"news", "telegram", "forum", "youtube", "facebook"}
    hits = store.search("posts", {"term": {"source": "demo-baocantho"}}, size=100).hits
    assert len(hits) == len(content.of("article", "baocantho"))
    doc = hits[0].source
    assert doc["title"] and doc["text"] and doc["published_at"] and doc["platform"] == "news"
    assert doc["language"] == "vi" and doc["keywords"] == ["phan-tich-thu"]  # the analyser ran
    status = read_status(settings.data_dir)["sources"]
    assert set(status) == {s["name"] for s in demo_sources(server.base_url)["sources"]}
    assert status["demo-baocantho"]["items"] == len(hits) and status["demo-baocantho"]["ok"]
    assert status["demo-baocantho"]["schedule_s"] == 900

    again = listen(settings, ["demo-baocantho", "demo-facebook"], sources_file=sources, store=store,
                   analyse=_mark_language, in_process=False, env=DEMO_ENV, overrides=OVERRIDES)
    assert again["stored"] == 0 and store.count("posts") == result["stored"]
    status = read_status(settings.data_dir)["sources"]
    assert status["demo-baocantho"]["runs"] == 2 and status["demo-baocantho"]["skipped_seen"] == len(hits)
    assert not list(settings.path("crawl", "runs").glob("*.jsonl"))  # hand-over files are cleaned up


def test_listen_disabled_source_is_recorded_with_the_variable_to_set(settings, store, small_site, monkeypatch):
    server, _, sources = small_site
    monkeypatch.delenv("IOCWATCH_DEMO_YOUTUBE_KEY", raising=False)
    result = listen(settings, ["demo-youtube"], sources_file=sources, store=store, analyse=None,
                    in_process=False, overrides=OVERRIDES)
    assert result["disabled"] == ["demo-youtube"] and result["stored"] == 0
    entry = read_status(settings.data_dir)["sources"]["demo-youtube"]
    assert not entry["ok"] and "IOCWATCH_DEMO_YOUTUBE_KEY" in entry["last_error"]


def test_listen_demo_step_collects_the_whole_demo_site(settings, store):
    report: dict = {}
    demo_step(settings, report, store=store, analyse=None, extra_posts=[])  # the base site only
    assert report["site_items"] > 390
    assert report["posts_stored"] == store.count("posts") > 550  # articles, posts and comments
    assert report["crawl_errors"] == 0 and report["rejected"] == 0
    assert report["by_platform"]["news"] > 270 and report["by_platform"]["telegram"] == 72
    assert all(n > 0 for n in report["per_source"].values())
    assert store.count("posts", {"exists": {"field": "duplicate_of"}}) >= 8  # the portal's reposts


def test_listen_cli_check_validates_sources_and_reports_bad_files(tmp_path):
    from iocwatch.cli import cli

    result = CliRunner().invoke(cli, ["crawl", "--check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "baocantho" in {s["name"] for s in data["sources"]} and "ngap-lut" in data["watchlists"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    type: rss\n    urll: http://a\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["crawl", "--check", "--sources", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert "source 'x', key 'urll': unknown key" in str(result.exception)


def test_listen_cli_crawl_in_process_then_incremental(small_site, tmp_path):
    server, content, sources = small_site
    env = {**os.environ, **DEMO_ENV, "IOCWATCH_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "iocwatch", "-q", "crawl", "--sources", str(sources), "--no-analyse", "--json",
           "demo-baocantho", "demo-tg-canhbaolua"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    out = json.loads(first.stdout)
    assert out["stored"] == len(content.of("article", "baocantho")) + 36
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert json.loads(second.stdout)["stored"] == 0


def test_listen_default_analysis_is_the_nlp_pipeline(settings, store, small_site):
    server, content, sources = small_site
    result = listen(settings, ["demo-tg-tinnongcantho"], sources_file=sources, store=store, in_process=False,
                    overrides=OVERRIDES)
    assert result["analysed"] and result["stored"] == 36
    docs = [h.source for h in store.search("posts", None, size=50).hits]
    assert all(d["sentiment"] in ("negative", "neutral", "positive") for d in docs)
    assert all(d["topics"] for d in docs)


def test_listen_plain_scrapy_crawl_writes_the_outbox(small_site, tmp_path):
    server, content, sources = small_site
    repo = Path(__file__).resolve().parents[2]
    scrapy = Path(sys.executable).with_name("scrapy")
    cmd = [str(scrapy), "crawl", "telegram", "-a", "source=demo-tg-canhbaolua", "-a", f"sources_file={sources}",
           "-s", f"IOCWATCH_DATA_DIR={tmp_path / 'data'}", "-s", "LOG_LEVEL=WARNING"]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (outbox,) = (tmp_path / "data" / "crawl" / "outbox").glob("posts-*.jsonl")
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 36 and {d["platform"] for d in lines} == {"telegram"}
    assert (tmp_path / "data" / "crawl" / "seen.sqlite").exists()
