"""Shared helpers of the crawler tests: the fixture web server and a subprocess crawl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawlers.demo_site.server import Route, Site, SiteServer

DATA = Path(__file__).resolve().parents[1] / "data" / "crawlers"
YT_KEY = "test-yt-key"
FB_TOKEN = "test-fb-token"
FAST = {  # Scrapy settings that keep broken-case tests short
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_TIMEOUT": 3.0,  # generous for a busy machine; the slow page takes 8 s
    "RETRY_TIMES": 1,
    "RETRY_BACKOFF_BASE_S": 0.1,
    "DOWNLOAD_MAXSIZE": 1_000_000,
    "DOWNLOAD_WARNSIZE": 500_000,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def fixture_site() -> Site:
    """The fixture site: real feeds and pages from tests/data/crawlers, with the broken cases."""
    site = Site()
    html = "text/html; charset=utf-8"
    site.add("/robots.txt", Route(_file("site/robots.txt"), content_type="text/plain"))
    site.add("/feed.rss", Route(_file("site/feed.rss"), content_type="application/rss+xml; charset=utf-8"))
    site.add("/atom.xml", Route(_file("site/atom.xml"), content_type="application/atom+xml"))
    site.add("/empty.rss", Route(_file("site/empty.rss"), content_type="application/rss+xml"))
    site.add("/notafeed.rss", Route(_file("site/notafeed.html"), content_type=html))
    site.add("/sitemap.xml", Route(_file("site/sitemap.xml"), content_type="application/xml"))
    site.add("/listing.html", Route(_file("site/listing.html"), content_type=html))
    site.add("/listing-2.html", Route(_file("site/listing-2.html"), content_type=html))
    site.add("/tin/ngap-mau-than.html", Route(_file("site/article_utf8.html"), content_type=html))
    site.add("/tin/cp1258-declared.html", Route(_file("site/legacy_portal.cp1258.html"),
                                                content_type="text/html; charset=windows-1258"))
    site.add("/tin/cp1258-undeclared.html", Route(_file("site/legacy_portal_nocharset.cp1258.html"),
                                                  content_type="text/html"))
    site.add("/tin/wrong-charset.html", Route(_file("site/article_wrong_charset.html"),
                                              content_type="text/html; charset=iso-8859-1"))
    site.add("/tin/malformed.html", Route(_file("site/article_malformed.html"), content_type=html))
    site.add("/tin/server-error.html", Route(b"<h1>500 Internal Server Error</h1>", status=500))
    site.add("/tin/slow.html", Route(_file("site/article_utf8.html"), delay_s=8.0))
    site.add("/tin/loop-a.html", Route(b"", status=302, redirect="@@BASE@@/tin/loop-b.html"))
    site.add("/tin/loop-b.html", Route(b"", status=302, redirect="@@BASE@@/tin/loop-a.html"))
    huge = b"<html><body><article><p>" + "Nội dung rất dài. ".encode() * 120_000 + b"</p></article></body></html>"
    site.add("/tin/huge.html", Route(huge, content_type=html))
    site.add("/private/noi-bo.html", Route(_file("site/article_utf8.html"), content_type=html))
    site.add("/tin/van-ban.pdf", Route(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", content_type="application/pdf"))
    for prefix in ("a", "s", "l"):  # the atom, sitemap and listing sources link to their own copies
        for name in ("ngap-mau-than", "malformed", "wrong-charset"):
            site.routes[f"/{prefix}/{name}.html"] = site.routes[f"/tin/{name}.html"]
    site.dynamic.append(_api_handler)
    return site


def _json_route(name: str) -> Route:
    body = _file(name)
    status = 200
    data = json.loads(body)
    if "error" in data:
        status = data["error"].get("code", 400) if isinstance(data["error"].get("code"), int) else 400
        if status == 190:  # Graph API token errors come with HTTP 400
            status = 400
    return Route(body, status=status, content_type="application/json; charset=UTF-8")


def _api_handler(path: str, q: dict[str, str]) -> Route | None:
    if path.startswith("/yt/v3/"):
        if q.get("key") != YT_KEY:
            return _json_route("api/youtube_error_key.json")
        endpoint = path.rsplit("/", 1)[1]
        if endpoint == "channels":
            return _json_route("api/youtube_channels.json")
        if endpoint == "playlistItems":
            return _json_route("api/youtube_playlistItems_page2.json" if q.get("pageToken")
                               else "api/youtube_playlistItems.json")
        if endpoint == "videos":
            data = json.loads(_file("api/youtube_videos.json"))
            wanted = q.get("id", "").split(",")
            data["items"] = [v for v in data["items"] if v["id"] in wanted]
            return Route(json.dumps(data, ensure_ascii=False).encode(), content_type="application/json")
        if endpoint == "commentThreads":
            name = f"api/youtube_commentThreads_{q.get('videoId')}.json"
            if (DATA / name).exists():
                return _json_route(name)
            return Route(b'{"kind": "youtube#commentThreadListResponse", "items": []}',
                         content_type="application/json")
        if endpoint == "search":
            return _json_route("api/youtube_search.json")
    if path.startswith("/graph/v19.0/"):
        if q.get("access_token") != FB_TOKEN:
            return _json_route("api/facebook_error_token.json")
        node, edge = path.split("/")[3:5]
        if edge == "posts":
            return _json_route("api/facebook_posts_page2.json" if q.get("after") else "api/facebook_posts.json")
        if edge == "comments":
            name = f"api/facebook_comments_{node}.json"
            if (DATA / name).exists():
                return _json_route(name)
            return Route(b'{"data": []}', content_type="application/json")
    if path == "/tg/s/tinnongcantho_test":
        return Route(_file("api/telegram_page_before201.html" if q.get("before") == "201"
                           else "api/telegram_page.html"))
    forum = {
        "/forum/forums/goc-phan-anh.3/": "forum_list.html",
        "/forum/forums/goc-phan-anh.3/page-2": "forum_list_page2.html",
        "/forum/threads/duong-mau-than-lai-ngap.501/": "forum_thread_501.html",
        "/forum/threads/duong-mau-than-lai-ngap.501/page-2": "forum_thread_501_page2.html",
        "/forum/threads/hoi-ve-thu-tuc-cap-can-cuoc.502/": "forum_thread_502.html",
        "/forum/threads/bai-rac-dau-hem.503/": "forum_thread_503.html",
    }
    if path in forum:
        return Route(_file("api/" + forum[path]))
    return None


@pytest.fixture(scope="module")
def fixture_server():
    with SiteServer(fixture_site()) as server:
        yield server


def run_subprocess_crawl(data_dir: Path, sources: list[dict[str, Any]], *, names: list[str] | None = None,
                         overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                         jobdir: Path | None = None, out_name: str = "posts.jsonl",
                         watchlists: Path | None = DATA / "watchlists.yaml"):
    """Crawl ``sources`` in a child process; returns ``(reports by source, posts)``."""
    from core.settings import load_settings
    from crawlers.runner import read_posts, run_crawl_subprocess

    data_dir.mkdir(parents=True, exist_ok=True)
    sources_path = data_dir / "sources.yaml"
    sources_path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    settings = load_settings(data_dir=data_dir)
    if watchlists is not None:
        settings.crawl.watchlists_file = str(watchlists)
    out = data_dir / out_name
    reports = run_crawl_subprocess(settings, sources_path, names or [], out_path=out, jobdir=jobdir,
                                   overrides={**FAST, **(overrides or {})}, env=env, timeout_s=120)
    posts = [p for batch in read_posts(out) for p in batch]
    return {r["source"]: r for r in reports}, posts
