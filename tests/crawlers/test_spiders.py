"""Every spider against the fixture site on 127.0.0.1, including the broken cases.

One child-process crawl collects every source; each test checks what one source kept
and what it reported.
"""

from __future__ import annotations

import unicodedata

import pytest

from core.ids import canonical_url, post_id
from tests.crawlers.conftest import FB_TOKEN, YT_KEY, run_subprocess_crawl


@pytest.fixture(scope="module")
def crawl(fixture_server, tmp_path_factory):
    base = fixture_server.base_url
    sources = [
        {"name": "feed", "type": "rss", "url": f"{base}/feed.rss", "tags": ["bao-chi"]},
        {"name": "atom", "type": "rss", "url": f"{base}/atom.xml"},
        {"name": "empty", "type": "rss", "url": f"{base}/empty.rss"},
        {"name": "notafeed", "type": "rss", "url": f"{base}/notafeed.rss"},
        {"name": "sitemap", "type": "sitemap", "url": f"{base}/sitemap.xml"},
        {"name": "listing", "type": "listing", "url": f"{base}/listing.html",
         "listing": {"links": "a.news-link", "next_page": "a.next", "max_pages": 3}},
        {"name": "yt-channel", "type": "youtube", "id": "UCtestCanThoTV00000000", "api_base": f"{base}/yt/v3",
         "credentials": {"api_key": "TEST_YT_KEY"}},
        {"name": "yt-search", "type": "youtube", "api_base": f"{base}/yt/v3", "comments": False,
         "credentials": {"api_key": "TEST_YT_KEY"}},
        {"name": "yt-badkey", "type": "youtube", "id": "UCtestCanThoTV00000000", "api_base": f"{base}/yt/v3",
         "credentials": {"api_key": "TEST_YT_BAD_KEY"}},
        {"name": "yt-nokey", "type": "youtube", "id": "UCx", "api_base": f"{base}/yt/v3",
         "credentials": {"api_key": "TEST_YT_KEY_NOT_SET"}},
        {"name": "fb", "type": "facebook", "id": "104857600000001", "api_base": f"{base}/graph/v19.0",
         "credentials": {"access_token": "TEST_FB_TOKEN"}},
        {"name": "fb-expired", "type": "facebook", "id": "104857600000001", "api_base": f"{base}/graph/v19.0",
         "credentials": {"access_token": "TEST_FB_EXPIRED"}},
        {"name": "tg", "type": "telegram", "id": "tinnongcantho_test", "url": f"{base}/tg"},
        {"name": "forum", "type": "forum", "url": f"{base}/forum/forums/goc-phan-anh.3/"},
    ]
    env = {"TEST_YT_KEY": YT_KEY, "TEST_YT_BAD_KEY": "bad-key", "TEST_FB_TOKEN": FB_TOKEN,
           "TEST_FB_EXPIRED": "expired-token"}
    reports, posts = run_subprocess_crawl(tmp_path_factory.mktemp("spiders"), sources, env=env)
    return reports, posts, fixture_server


def _by_source(posts, name):
    return [p for p in posts if p.source == name]


def _by_path(posts, path):
    return next(p for p in posts if p.url and p.url.split("?")[0].endswith(path))


def test_spiders_rss_keeps_articles_with_title_body_date_and_no_comments(crawl):
    reports, posts, _ = crawl
    feed = _by_source(posts, "feed")
    art = _by_path(feed, "/tin/ngap-mau-than.html")
    assert art.title == "Nước ngập sâu trên đường Mậu Thân sau cơn mưa chiều"
    assert art.text.startswith("(Ninh Kiều) Chiều 17-11, mưa lớn")
    assert "khơi thông các miệng cống" in art.text
    assert "BÌNH LUẬN" not in art.text and "hẻm 51" not in art.text  # reader comments stay out
    assert "Tin liên quan" not in art.text
    assert art.published_at.isoformat() == "2025-11-17T16:45:00+07:00"
    assert art.author is not None and art.author.name == "Thanh Trúc"
    assert art.platform == "news" and art.tags == ["bao-chi"]
    # tracking parameters never change the id
    assert art.id == post_id("news", url=canonical_url(art.url.split("?")[0]))
    assert set(art.watchlists) == {"ngap", "can-tho-khong-quang-cao"}
    assert unicodedata.is_normalized("NFC", art.text)


def test_spiders_windows_1258_declared_and_undeclared_decode_to_nfc(crawl):
    _, posts, _ = crawl
    feed = _by_source(posts, "feed")
    declared = _by_path(feed, "/tin/cp1258-declared.html")
    undeclared = _by_path(feed, "/tin/cp1258-undeclared.html")
    assert declared.title.startswith("Thông báo về việc tạm ngưng cấp nước")
    assert "phường Hưng Phú và phường Cái Răng" in declared.text
    assert "Lịch tạm ngưng cung cấp điện" in undeclared.title
    assert "Công ty Điện lực Cần Thơ" in undeclared.text
    for p in (declared, undeclared):
        assert unicodedata.is_normalized("NFC", p.title + p.text)
    assert "charset_missing" in undeclared.flags
    assert "charset_missing" not in declared.flags


def test_spiders_wrong_charset_declaration_is_overridden(crawl):
    reports, posts, _ = crawl
    art = _by_path(_by_source(posts, "feed"), "/tin/wrong-charset.html")
    assert art.title == "Nạo vét cống thoát nước ở phường Cái Khế"
    assert "Trần Văn Khéo" in art.text and "Ã" not in art.text  # no mojibake
    assert "charset_mismatch" in art.flags
    assert reports["feed"]["counters"]["charset_fallback"] >= 2


def test_spiders_malformed_html_is_still_extracted(crawl):
    _, posts, _ = crawl
    art = _by_path(_by_source(posts, "feed"), "/tin/malformed.html")
    assert "cây cầu mới bắc qua rạch Cái Răng" in art.text
    assert "bốn làn xe" in art.text
    assert "BÌNH LUẬN" not in art.text
    assert art.published_at.isoformat() == "2025-11-18T02:15:00+00:00"  # the feed's precise time


def test_spiders_broken_cases_are_reported_and_the_rest_kept(crawl):
    reports, posts, _ = crawl
    rep = reports["feed"]
    assert len(_by_source(posts, "feed")) == 5  # utf-8, two cp1258, wrong charset, malformed
    assert rep["items"] == 5
    errors = rep["error_counts"]
    assert errors["http_500"] == 1
    assert errors["timeout"] == 1
    assert errors["redirect_loop"] == 1
    assert errors["too_large"] == 1
    assert errors["robots_disallowed"] == 1
    assert errors["http_404"] == 1
    assert errors["not_html"] == 1
    assert errors["entry_without_link"] == 1
    assert rep["errors"] == sum(errors.values())
    urls = {e["url"] for e in rep["error_samples"]}
    assert any(u and u.endswith("/tin/huge.html") for u in urls)


def test_spiders_robots_disallow_is_obeyed_and_500_retried(crawl):
    _, _, server = crawl
    hits = server.site.hits
    assert not any(path.startswith("/private/") for path in hits)
    assert hits["/tin/server-error.html"] == 2  # first try + RETRY_TIMES=1
    assert hits["/robots.txt"] >= 1


def test_spiders_empty_feed_and_not_a_feed_are_reported(crawl):
    reports, posts, _ = crawl
    assert reports["empty"]["error_counts"] == {"empty_feed": 1}
    assert reports["notafeed"]["error_counts"] == {"not_a_feed": 1}
    assert not _by_source(posts, "empty") and not _by_source(posts, "notafeed")


def test_spiders_atom_sitemap_and_listing_sources(crawl):
    reports, posts, _ = crawl
    atom = _by_source(posts, "atom")
    assert [p.title for p in atom] == ["Nước ngập sâu trên đường Mậu Thân sau cơn mưa chiều"]
    sitemap = {p.url.rsplit("/", 1)[1] for p in _by_source(posts, "sitemap")}
    assert sitemap == {"ngap-mau-than.html", "malformed.html"}
    listing = {p.url.rsplit("/", 1)[1] for p in _by_source(posts, "listing")}
    assert listing == {"ngap-mau-than.html", "malformed.html", "wrong-charset.html"}  # page 2 followed
    # the same article under other URLs and sources is kept once per URL, linked to an original
    same = [p for p in posts if p.url and p.url.split("?")[0].endswith("/ngap-mau-than.html")]
    assert len(same) == 4
    assert len({p.id for p in same}) == 4
    assert sum(1 for p in same if p.duplicate_of is None) == 1
    assert {p.duplicate_of for p in same if p.duplicate_of} <= {p.id for p in same}


def test_spiders_youtube_channel_videos_and_comments(crawl):
    reports, posts, _ = crawl
    yt = _by_source(posts, "yt-channel")
    videos = {p.id: p for p in yt if "video" in p.tags}
    comments = [p for p in yt if "comment" in p.tags]
    assert {p.url.rsplit("=", 1)[1] for p in videos.values()} == {
        "vidA0000001", "vidB0000002", "vidC0000003", "vidD0000004"}  # second playlist page followed
    vid_a = videos[post_id("youtube", native_id="vidA0000001")]
    assert vid_a.engagement.views == 15230 and vid_a.engagement.likes == 412
    assert vid_a.platform == "youtube" and vid_a.published_at.isoformat() == "2025-11-17T10:00:00+00:00"
    assert vid_a.author.name == "Cần Thơ TV thử nghiệm" and vid_a.author.id.startswith("u_")
    assert len(comments) == 3  # two on vidA (one empty one reported), one on vidB
    assert all(c.parent_id in videos for c in comments)
    assert "@tuananh-ct" in {c.author.name for c in comments}
    errors = reports["yt-channel"]["error_counts"]
    assert errors == {"api_commentsDisabled": 1, "api_bad_item": 1}


def test_spiders_youtube_search_uses_watchlist_keywords(crawl):
    reports, posts, server = crawl
    yt = _by_source(posts, "yt-search")
    assert [p.title for p in yt] == ["Triều cường dâng cao ở Cần Thơ"]  # the channel result is skipped
    queries = [path for path in server.site.hits if path.startswith("/yt/v3/search")]
    assert len(queries) == 3  # one per watchlist
    assert any("tri%E1%BB%81u+c%C6%B0%E1%BB%9Dng" in q for q in queries)  # "triều cường", diacritics kept


def test_spiders_missing_credentials_disable_the_source(crawl):
    reports, posts, _ = crawl
    assert reports["yt-nokey"]["disabled"] == "set TEST_YT_KEY_NOT_SET to enable source yt-nokey"
    assert not _by_source(posts, "yt-nokey")


def test_spiders_api_errors_are_reported_with_the_api_reason(crawl):
    reports, posts, _ = crawl
    assert reports["yt-badkey"]["error_counts"] == {"api_badRequest": 1}
    assert reports["fb-expired"]["error_counts"] == {"api_OAuthException": 1}
    sample = reports["fb-expired"]["error_samples"][0]
    assert "expired-token" not in sample["url"] and "access_token=***" in sample["url"]
    assert not _by_source(posts, "yt-badkey") and not _by_source(posts, "fb-expired")


def test_spiders_facebook_posts_comments_and_paging(crawl):
    reports, posts, _ = crawl
    fb = _by_source(posts, "fb")
    page_posts = [p for p in fb if "page_post" in p.tags]
    comments = [p for p in fb if "comment" in p.tags]
    assert len(page_posts) == 3  # 4 posts over two pages, one without text
    assert reports["fb"]["counters"]["no_text"] == 1
    first = next(p for p in page_posts if "Hưng Phú" in p.text)
    assert first.engagement.likes == 120 and first.engagement.shares == 14 and first.engagement.comments == 2
    assert first.published_at.isoformat() == "2025-11-17T08:30:00+00:00"
    assert {c.text for c in comments} == {"Cúp nước hoài vậy, tuần trước cũng cúp rồi",
                                          "Cảm ơn phường đã thông báo sớm"}
    assert all(c.parent_id == first.id for c in comments)
    assert all(c.author.id and c.author.id.startswith("u_") and "555" not in c.author.id for c in comments)


def test_spiders_telegram_preview_pages(crawl):
    reports, posts, _ = crawl
    tg = sorted(_by_source(posts, "tg"), key=lambda p: p.published_at)
    assert [p.url for p in tg] == ["https://t.me/tinnongcantho_test/200", "https://t.me/tinnongcantho_test/201",
                                   "https://t.me/tinnongcantho_test/203"]
    assert tg[1].text == ("🔴 Ngập sâu trên đường Mậu Thân đoạn gần chợ Xuân Khánh.\n"
                          "Mọi người né tuyến này nha, nước lên tới đầu gối.")
    assert tg[1].engagement.views == 2400 and tg[0].engagement.views == 3100
    assert tg[1].platform == "telegram"
    assert reports["tg"]["counters"]["no_text"] == 1  # the sticker
    assert tg[2].watchlists == ["lua-dao"]


def test_spiders_xenforo_threads_and_posts(crawl):
    reports, posts, _ = crawl
    forum = _by_source(posts, "forum")
    assert len(forum) == 7  # 3 + 1 (page 2) + 2 + 1
    opener = next(p for p in forum if "thread_start" in p.tags and "Mậu Thân" in p.title)
    assert opener.title == "Hạ tầng Đường Mậu Thân lại ngập"
    assert opener.text.startswith("Chiều nay mưa có một tiếng")
    assert "\n" in opener.text  # <br> kept as a line break
    replies = [p for p in forum if p.parent_id == opener.id]
    assert len(replies) == 3  # including the reply on page 2
    quoted = next(p for p in replies if p.author.name == "Út Mười")
    assert quoted.text == "Đúng rồi, nhà tôi ở hẻm 51 nước vô tận nhà luôn."  # the quote is not repeated
    assert quoted.url.endswith("/forum/posts/9002/")
    assert quoted.published_at.isoformat() == "2025-11-17T17:20:00+07:00"


def test_spiders_unreachable_host_is_reported(tmp_path):
    # Nothing listens on this port of 127.0.0.1 (the server is closed right away).
    from crawlers.demo_site.server import Site, SiteServer

    server = SiteServer(Site())
    dead = server.base_url
    server.httpd.server_close()
    reports, posts = run_subprocess_crawl(tmp_path, [{"name": "down", "type": "rss", "url": f"{dead}/feed.rss"}],
                                          overrides={"ROBOTSTXT_OBEY": False, "RETRY_TIMES": 0})
    assert posts == [] and reports["down"]["error_counts"] == {"unreachable": 1}
