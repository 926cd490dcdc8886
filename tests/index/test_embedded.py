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
    recent = Post.new(platform="news", source="a", url="https://a.vn/1", text="mới", published_at=now - timedelta(hours=2))
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
