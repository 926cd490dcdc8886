"""Threat intel on crawled URLs in the listen flow: stored posts whose URL a loaded feed lists raise
alerts naming the feed and the indicator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from crawlers.demo_site import DEMO_ENV, build_site, demo_sources, generate_content
from crawlers.demo_site.generator import article_url
from crawlers.demo_site.server import SiteServer
from iocwatch.flows.listen import listen
from iocwatch.flows.monitor import intel_dir
from security.intel.store import load_feed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OVERRIDES = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 15, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}


@pytest.fixture
def site_with_feed(tmp_path, settings):
    content = generate_content(11, now=NOW, n_articles=40)
    with SiteServer(build_site(content)) as server:
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump(demo_sources(server.base_url), allow_unicode=True), encoding="utf-8")
        listed = server.base_url + article_url(content.of("article", "baocantho")[0])
        feed = tmp_path / "blocklist.txt"  # a plain list as a CERT would publish it, one listed article
        feed.write_text(f"# test feed\n{listed}\nhxxp://not-crawled[.]example/x.zip\n192.0.2.77\n", encoding="utf-8")
        load_feed(intel_dir(settings), feed, "cert-crawl", confidence=80)
        yield path, listed


def test_listen_intel_crawled_url_listed_by_a_feed_raises_an_alert(settings, store, site_with_feed):
    sources, listed = site_with_feed
    result = listen(settings, ["demo-baocantho"], sources_file=sources, store=store, analyse=None,
                    in_process=False, env=DEMO_ENV, overrides=OVERRIDES)
    assert result["stored"] > 10 and result["intel_alerts"] == 1
    [hit] = store.search("alerts", {"term": {"rule.ruleset": "intel"}}, size=10).hits
    alert = hit.source
    post = store.search("posts", {"term": {"url": listed}}, size=1).hits[0]
    assert alert["threat.feed.name"] == "cert-crawl" and alert["threat.indicator.type"] == "url"
    assert alert["threat.indicator.name"] == listed and alert["entity"] == f"post:{post.id}"
    assert alert["threat.indicator.confidence"] == 80 and "cert-crawl" in alert["title"]
    assert listed in alert["evidence"][0]

    # the same crawl again: nothing new stored, nothing new matched, the alert kept once
    again = listen(settings, ["demo-baocantho"], sources_file=sources, store=store, analyse=None,
                   in_process=False, env=DEMO_ENV, overrides=OVERRIDES)
    assert again["stored"] == 0 and again["intel_alerts"] == 0 and store.count("alerts") == 1


def test_listen_intel_off_raises_nothing(settings, store, site_with_feed):
    sources, _ = site_with_feed
    off = settings.model_copy(update={"security": settings.security.model_copy(update={"intel_on_crawl": False})})
    result = listen(off, ["demo-baocantho"], sources_file=sources, store=store, analyse=None,
                    in_process=False, env=DEMO_ENV, overrides=OVERRIDES)
    assert result["stored"] > 10 and result["intel_alerts"] == 0 and store.count("alerts") == 0
