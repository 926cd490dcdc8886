"""The generated demo site: deterministic, Vietnamese, every platform's format, extra posts."""

from __future__ import annotations

import json
import unicodedata
import urllib.request
from collections import Counter
from datetime import UTC, datetime

from crawlers.demo_site import build_site, demo_sources, generate_content
from crawlers.demo_site import content as C
from crawlers.demo_site.generator import DEMO_ENV, FACEBOOK_TOKEN, YOUTUBE_KEY, article_url
from crawlers.demo_site.server import SiteServer
from crawlers.extraction import decode_body
from crawlers.sources import parse_sources

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_demo_site_content_is_deterministic_and_mixed():
    a = generate_content(7, now=NOW)
    b = generate_content(7, now=NOW)
    assert [(i.native_id, i.text) for i in a.items] == [(i.native_id, i.text) for i in b.items]
    assert [i.text for i in generate_content(8, now=NOW).items] != [i.text for i in a.items]
    kinds = Counter(i.kind for i in a.items)
    assert kinds["article"] >= 270 and kinds["telegram"] == 72 and kinds["forum"] == 16
    polarity = Counter(i.polarity for i in a.items)
    assert min(polarity.values()) > 60  # both polarities and neutral, in numbers
    assert len({i.topic for i in a.items}) == 9
    assert all(unicodedata.is_normalized("NFC", i.text) for i in a.items)
    assert all(i.at <= NOW for i in a.items)
    articles = a.of("article")
    assert all(len(set(i.paragraphs)) == len(i.paragraphs) for i in articles)  # no repeated paragraph
    rude = {t for pool in C.RUDE_COMMENTS.values() for t in pool}
    social = [c.text for i in a.items if i.kind != "article" for c in i.comments]
    assert 10 <= sum(t in rude for t in social) <= len(social) // 6  # a few, for the toxicity chart
    assert not any(c.text in rude for i in articles for c in i.comments)


def test_demo_site_serves_every_format_and_the_extra_posts():
    extra = [{"platform": p, "text": f"Phản ánh khẩn cấp số {k}: ngập sâu và mất điện ở Cái Khế",
              "title": f"Phản ánh khẩn cấp số {k}"}
             for k, p in enumerate(["telegram", "forum", "facebook", "youtube", "news"])]
    content = generate_content(7, now=NOW, extra_posts=extra)
    with SiteServer(build_site(content)) as server:
        base = server.base_url

        def get(path):
            with urllib.request.urlopen(base + path, timeout=10) as resp:
                return resp.read(), resp.headers.get("Content-Type")

        rss, _ = get("/baocantho/rss/home.rss")
        assert b"Ph\xe1\xba\xa3n \xc3\xa1nh kh\xe1\xba\xa9n c\xe1\xba\xa5p s\xe1\xbb\x91 4" in rss
        assert b"@@BASE@@" not in rss and base.encode() in rss
        portal = next(i for i in content.of("article", "congthongtin"))
        body, ctype = get(article_url(portal))
        assert "windows-1258" in ctype and portal.title in decode_body(body, ctype).text
        tg, _ = get("/tg/s/tinnongcantho")
        assert "Phản ánh khẩn cấp số 0".encode() in tg
        fb = json.loads(get(f"/graph/v19.0/100000000000777/posts?access_token={FACEBOOK_TOKEN}&limit=10")[0])
        assert any("khẩn cấp số 2" in p["message"] for p in fb["data"])  # newest first
        yt = json.loads(get(f"/youtube/v3/search?part=snippet&q=kh%E1%BA%A9n+c%E1%BA%A5p&key={YOUTUBE_KEY}")[0])
        assert [i["id"]["videoId"] for i in yt["items"]] == ["xTrAvId0003"]
        forum_list, _ = get("/forum/forums/goc-phan-anh.3/")
        assert "Phản ánh khẩn cấp số 1".encode() in forum_list
        bad = urllib.request.Request(base + "/youtube/v3/videos?id=x&key=wrong")
        try:
            urllib.request.urlopen(bad, timeout=10)
            raise AssertionError("a wrong key must be refused")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and json.loads(err.read())["error"]["errors"][0]["reason"] == "badRequest"
        robots, _ = get("/robots.txt")
        assert b"Disallow: /private/" in robots
    sources = parse_sources(demo_sources(base))
    assert {s.type for s in sources} == {"rss", "sitemap", "listing", "telegram", "forum", "youtube", "facebook"}
    assert all(not s.missing_credentials(DEMO_ENV) for s in sources)
