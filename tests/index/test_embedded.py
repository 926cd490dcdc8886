"""Embedded-store behaviour beyond the conformance suite: corruption, schema changes, rebuild."""

from __future__ import annotations

import json

import pytest

from core.documents import Post
from core.errors import CorruptIndexError, QuerySyntaxError
from index import open_store
from index.rebuild import rebuild


def _posts(n: int) -> list[Post]:
    return [Post.new(platform="news", source="baocantho", url=f"https://baocantho.com.vn/tin-{i}.html",
                     title=f"Tin số {i} về Cần Thơ", text="Nội dung.") for i in range(n)]


def test_embedded_corrupt_index_directory_says_how_to_rebuild(settings):
    folder = settings.path("index", "posts")
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text("{ this is not tantivy metadata")
    store = open_store(settings)
    with pytest.raises(CorruptIndexError) as err:
        store.count("posts")
    assert "index rebuild" in str(err.value) or "index load" in str(err.value)
    assert str(folder) in str(err.value)


def test_embedded_schema_from_another_version_asks_for_rebuild_and_rebuild_keeps_documents(settings):
    store = open_store(settings)
    store.upsert_many("posts", _posts(25))
    store.close()
    marker = settings.path("index", "posts", "iocwatch-schema.json")
    data = json.loads(marker.read_text())
    data["version"] = 0
    marker.write_text(json.dumps(data))
    with pytest.raises(CorruptIndexError, match="rebuild"):
        open_store(settings).count("posts")
    counts = rebuild(settings, kinds=["posts"])
    assert counts == {"posts": 25}
    assert open_store(settings).count("posts") == 25


def test_embedded_unknown_field_and_query_type_are_clear_errors(store):
    with pytest.raises(QuerySyntaxError, match="unknown field 'colour'"):
        store.search("posts", {"term": {"colour": "red"}})
    with pytest.raises(QuerySyntaxError, match="not supported"):
        store.search("posts", {"fuzzy": {"text": "cantho"}})


def test_embedded_writes_are_visible_to_a_second_store_on_the_same_folder(settings):
    writer = open_store(settings)
    reader = open_store(settings)
    assert reader.count("posts") == 0
    writer.upsert_many("posts", _posts(3))
    assert reader.count("posts") == 3


def test_embedded_date_math_and_missing_values(store):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    recent = Post.new(platform="news", source="a", url="https://a.vn/1", text="mới",
                      published_at=now - timedelta(hours=2))
    old = Post.new(platform="news", source="a", url="https://a.vn/2", text="cũ", published_at=now - timedelta(days=9))
    undated = Post.new(platform="news", source="a", url="https://a.vn/3", text="không ngày")
    store.upsert_many("posts", [recent, old, undated])
    assert store.count("posts", {"range": {"published_at": {"gte": "now-24h"}}}) == 1
    assert store.count("posts", {"range": {"published_at": {"gte": "now-7d/d"}}}) == 1
    assert store.count("posts", {"exists": {"field": "published_at"}}) == 2
    assert store.count("posts", {"bool": {"must_not": [{"exists": {"field": "published_at"}}]}}) == 1


def test_embedded_terms_on_split_multivalued_fields_match_plain_counting(store):
    from collections import Counter

    topic_sets = [["traffic"], ["traffic", "environment"], ["health", "traffic", "traffic"],
                  ["education"], ["environment", "health"]]
    posts = [Post.new(platform="news", source="s", url=f"https://s.vn/{i}", text="x", topics=t)
             for i, t in enumerate(topic_sets)]
    store.upsert_many("posts", posts)
    expected = Counter(t for ts in topic_sets for t in set(ts))

    def counts():
        out = store.aggregate("posts", None, {"t": {"terms": {"field": "topics", "size": 2}}})["t"]
        return {b["key"]: b["doc_count"] for b in out["buckets"]}, out["sum_other_doc_count"]

    top, other = counts()
    assert top == {"traffic": 3, "environment": 2} and other == sum(expected.values()) - 5
    # a post with more values than the split columns hold sends the count to the full column
    many = Post.new(platform="news", source="s", url="https://s.vn/many", text="x",
                    topics=["tourism", "economy", "health", "traffic"])
    store.upsert_many("posts", [many])
    top, _ = counts()
    assert top == {"traffic": 4, "health": 3}


def _spread_posts():
    """Posts from 20 August to 24 September and over November 2026 (none in October), and undated ones."""
    from datetime import UTC, datetime, timedelta

    topics = ["traffic", "environment", "health", "education", "tourism"]
    sentiments = ["negative", "neutral", "positive"]
    start = datetime(2026, 8, 20, 5, 30, tzinfo=UTC)
    posts = []
    for i in range(90):
        day = i % 36 if i % 3 else 73 + i % 30
        moment = start + timedelta(days=day, hours=i % 17)
        posts.append(Post.new(platform="news", source=f"s{i % 4}", url=f"https://tin.vn/{i}",
                              title=f"Tin {i} về Cần Thơ", text="Nội dung ngập nước." if i % 2 else "Giao thông.",
                              published_at=moment, topics=[topics[i % 5], topics[(i * 7) % 5]],
                              sentiment=None if i % 11 == 0 else sentiments[i % 3],
                              sentiment_score=(i % 10) / 10))
    for i in range(4):
        posts.append(Post.new(platform="forum", source="s9", url=f"https://dien-dan.vn/{i}", text="không ngày",
                              topics=["tourism"], sentiment="neutral"))
    return posts


def test_embedded_monthly_shards_answer_as_one_index(store, settings):
    from collections import Counter
    from datetime import datetime

    posts = _spread_posts()
    store.upsert_many("posts", posts)
    shards = sorted(p.name for p in settings.path("index", "posts").iterdir() if p.is_dir())
    assert shards == ["2026-08", "2026-09", "2026-11", "undated"]
    dated = [p for p in posts if p.published_at]

    def ts(text):
        return datetime.fromisoformat(text)

    # ranges that cover, cut or miss whole months give the same counts as plain filtering
    for lo, hi in [("2026-08-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
                   ("2026-09-01T00:00:00+00:00", "2026-10-15T00:00:00+07:00"),
                   ("2026-10-01T00:00:00+07:00", "2026-11-01T00:00:00+00:00"),
                   ("2026-11-03T12:00:00+07:00", "2026-11-06T00:00:00+00:00"),  # a few days of a month
                   ("2026-11-03T12:00:00+07:00", "2026-11-29T00:00:00+00:00"),  # most of one
                   ("2027-01-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00")]:
        expected = sum(ts(lo) <= p.published_at < ts(hi) for p in dated)
        query = {"bool": {"filter": [{"range": {"published_at": {"gte": lo, "lt": hi}}}]}}
        assert expected or lo.startswith(("2027", "2026-10"))  # nothing from October on
        assert store.count("posts", query) == expected, (lo, hi)
    assert store.count("posts", {"range": {"published_at": {"lte": "2026-12-01T00:00:00Z"}}}) == len(dated)
    assert store.count("posts") == len(posts)
    assert store.count("posts", {"bool": {"must_not": [{"range": {"published_at": {"lt": "2026-10-01"}}}]}}) == \
        sum(not p.published_at or p.published_at >= ts("2026-10-01T00:00:00+00:00") for p in posts)

    # sorted pages across shards
    newest = sorted(dated, key=lambda p: p.published_at, reverse=True)
    page = store.search("posts", None, size=7, from_=5, sort=["published_at:desc"])
    assert [h.id for h in page.hits] == [p.id for p in newest[5:12]] and page.total == len(posts)
    oldest = store.search("posts", {"match": {"text": "ngap"}}, size=3, sort=["published_at:asc"])
    wet = sorted((p for p in dated if "ngập" in p.text), key=lambda p: p.published_at)
    assert [h.id for h in oldest.hits] == [p.id for p in wet[:3]] and oldest.total == len(wet)
    assert store.search("posts", None, size=0).total == len(posts)

    # aggregations merged across shards, with the empty October days filled in
    window = {"range": {"published_at": {"gte": "2026-08-01T00:00:00+07:00"}}}
    out = store.aggregate("posts", window, {
        "per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                       "time_zone": "Asia/Ho_Chi_Minh"},
                    "aggs": {"sentiment": {"terms": {"field": "sentiment", "size": 3}},
                             "score": {"avg": {"field": "sentiment_score"}}}},
        "topics": {"terms": {"field": "topics", "size": 3}},
        "sources": {"cardinality": {"field": "source"}},
    })
    days = out["per_day"]["buckets"]
    assert sum(b["doc_count"] for b in days) == len(dated)
    assert all(b["key"] - a["key"] == 86_400_000 for a, b in zip(days, days[1:], strict=False))
    assert any(b["doc_count"] == 0 and b["key_as_string"].startswith("2026-10-1") for b in days)
    by_day = Counter(p.published_at.astimezone(_VN).date().isoformat() for p in dated)
    assert {b["key_as_string"][:10]: b["doc_count"] for b in days if b["doc_count"]} == dict(by_day)
    busiest = max(days, key=lambda b: b["doc_count"])
    members = [p for p in dated if p.published_at.astimezone(_VN).date().isoformat() == busiest["key_as_string"][:10]]
    assert {s["key"]: s["doc_count"] for s in busiest["sentiment"]["buckets"]} == dict(
        Counter(p.sentiment for p in members if p.sentiment))
    unlabelled = [b for b in days if any(not p.sentiment for p in dated if p.published_at.astimezone(_VN).date()
                                         .isoformat() == b["key_as_string"][:10])]
    assert unlabelled and all(sum(s["doc_count"] for s in b["sentiment"]["buckets"]) < b["doc_count"]
                              for b in unlabelled)
    assert busiest["score"]["value"] == pytest.approx(sum(p.sentiment_score for p in members) / len(members))
    topic_counts = Counter(t for p in dated for t in set(p.topics))
    assert [(b["key"], b["doc_count"]) for b in out["topics"]["buckets"]] == \
        sorted(topic_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert out["sources"]["value"] == 4


def test_embedded_update_that_moves_a_post_to_another_month_keeps_one_copy(store):
    from datetime import UTC, datetime

    post = Post.new(platform="news", source="a", url="https://a.vn/doi-ngay", text="bài cũ",
                    published_at=datetime(2026, 8, 3, tzinfo=UTC))
    store.upsert_many("posts", [post])
    moved = post.model_copy(update={"published_at": datetime(2026, 11, 3, tzinfo=UTC), "text": "bài đã sửa"})
    store.upsert_many("posts", [moved])
    assert store.count("posts") == 1
    assert store.get("posts", post.id)["text"] == "bài đã sửa"
    assert store.count("posts", {"range": {"published_at": {"lt": "2026-09-01"}}}) == 0


_VN = __import__("datetime").timezone(__import__("datetime").timedelta(hours=7))


def test_embedded_lookup_only_fields_filter_but_do_not_aggregate(store):
    posts = _posts(3)
    posts[0] = posts[0].model_copy(update={"duplicate_of": posts[1].id})
    store.upsert_many("posts", posts)
    assert store.count("posts", {"term": {"url": "https://baocantho.com.vn/tin-2.html"}}) == 1
    assert store.count("posts", {"exists": {"field": "duplicate_of"}}) == 1
    with pytest.raises(QuerySyntaxError, match="identifies single documents"):
        store.aggregate("posts", None, {"u": {"terms": {"field": "url"}}})


def test_embedded_unscored_word_search_matches_title_or_text_exactly(store):
    posts = [Post.new(platform="news", source="a", url=f"https://a.vn/{i}", title=title, text=text,
                      published_at=f"2026-11-{i + 1:02d}T08:00:00+07:00")
             for i, (title, text) in enumerate([("Ngập ở Cái Răng", "Nước rút chậm."),
                                                 ("Kẹt xe", "Đường Ngập nước sau mưa."),
                                                 ("Ngập", "ngập"), ("Cầu mới", "Thông xe.")])]
    store.upsert_many("posts", posts)
    from index.querystring import parse_query

    for text, expected in [("ngap", 3), ("ngập nuoc", 2), ("cai rang", 1), ("xe", 2), ("ngap OR cau", 4)]:
        query = parse_query(text)
        scored = store.search("posts", query, size=10)
        newest = store.search("posts", query, size=10, sort=["published_at:desc"])
        assert scored.total == newest.total == store.count("posts", query) == expected, text
        assert {h.id for h in scored.hits} == {h.id for h in newest.hits}


def test_embedded_phrase_boost_reorders_the_best_hits_and_pages_stay_consistent(store, monkeypatch):
    import index.embedded as embedded
    from index.querystring import parse_query

    monkeypatch.setattr(embedded, "RESCORE_WINDOW", 10)
    together = [Post.new(platform="news", source="a", url=f"https://a.vn/t{i}", title=f"Tin {i}",
                         text=f"Người dân Cần Thơ phản ánh lần {i}.",
                         published_at=f"2026-{9 + i % 3:02d}-0{1 + i % 9}T08:00:00Z")
                for i in range(6)]
    # both words, apart, and said more often (a higher score without the boost)
    apart = [Post.new(platform="news", source="a", url=f"https://a.vn/a{i}", title="Cần hỗ trợ" if i % 2 else "",
                      text=f"Cần làm rõ vì sao người già khó thở, cần hỗ trợ ngay {i}."
                      + " Nội dung dài." * (i % 2 * 8),
                      published_at=f"2026-10-0{1 + i % 9}T08:00:00Z")
             for i in range(14)]
    store.upsert_many("posts", together + apart)
    unboosted = store.search("posts", {"bool": {"must": parse_query("can tho")["bool"]["must"]}}, size=20)
    boosted = store.search("posts", parse_query("can tho"), size=10)
    assert boosted.total == unboosted.total == 20
    scores = [h.score for h in boosted.hits]
    assert scores == sorted(scores, reverse=True)
    # within the window, every post that says "Cần Thơ" together comes first
    window = {h.id for h in unboosted.hits[:10]}
    first = [h.id for h in boosted.hits[:10]]
    assert set(first) == window
    said = {p.id for p in together}
    assert 0 < len(window & said) < len(window)
    flags = [h.id in said for h in unboosted.hits[:10]]
    assert flags != sorted(flags, reverse=True)  # without the boost they are not all first
    assert first[:len(window & said)] == [i for i in first if i in said]
    # paging inside the window gives the same order as one long page
    pages = [h.id for start, size in ((0, 4), (4, 4), (8, 2))
             for h in store.search("posts", parse_query("can tho"), size=size, from_=start).hits]
    assert pages == first


def test_embedded_bulk_load_commits_at_the_end_and_an_error_discards_the_rest(store, monkeypatch):
    import index.embedded as embedded

    posts = [Post.new(platform="news", source="baocantho", url=f"https://baocantho.com.vn/bulk-{n}.html",
                      title=f"Kẹt xe cầu Cần Thơ lần {n}", published_at="2026-11-20T08:00:00+07:00")
             for n in range(5)]
    with store.bulk("posts") as load:
        load.add(posts[:2])
        assert store.count("posts") == 0  # nothing committed inside the session yet
    assert store.count("posts") == 2

    monkeypatch.setattr(embedded, "COMMIT_EVERY", 2)  # commit after every second post
    with pytest.raises(RuntimeError), store.bulk("posts") as load:
        load.add(posts[2:5])  # commits 2 and 3, leaves 4 pending
        raise RuntimeError("the reader of the export failed")
    assert store.count("posts") == 4
    assert {h.id for h in store.search("posts", None, size=10).hits} == {p.id for p in posts[:4]}


def test_embedded_exact_matches_are_checked_again_after_a_commit(store):
    from index.querystring import parse_query

    def post(n: int, text: str) -> Post:
        return Post.new(platform="news", source="baocantho", url=f"https://baocantho.com.vn/hue-{n}.html",
                        title="Tin ngắn", text=text, published_at="2026-11-20T08:00:00+07:00")

    store.upsert_many("posts", [post(1, "Mưa lớn ở Huế."), post(2, "Hoa huệ nở sớm.")])
    query = parse_query("Huế", exact=True)
    assert store.search("posts", query).total == 1
    assert store.search("posts", query).total == 1  # from the cache of checked matches
    store.upsert_many("posts", [post(3, "Huế đón khách.")])
    assert store.search("posts", query).total == 2
    store.upsert_many("posts", [post(1, "Mưa lớn ở Huê.")])  # corrected: no longer Huế
    assert {h.source["text"] for h in store.search("posts", query).hits} == {"Huế đón khách."}
