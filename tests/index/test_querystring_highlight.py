"""Highlighting respects phrases: a phrase's words are marked only where they stand together."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.documents import Post
from core.text import fold
from index.highlight import WORD, highlight, match_spans
from index.querystring import parse_query

TEXT = "Cần cẩu ở Thơ Sơn; sau đó Cần Thơ mưa, rồi cần thơ sạch."


def test_highlight_phrase_words_only_where_adjacent():
    frags = highlight(TEXT, set(), set(), folded_phrases={("can", "tho")})
    assert frags == ["Cần cẩu ở Thơ Sơn; sau đó <mark>Cần</mark> <mark>Thơ</mark> mưa, rồi "
                     "<mark>cần</mark> <mark>thơ</mark> sạch."]
    exact = highlight(TEXT, set(), set(), exact_phrases={("cần", "thơ")})
    assert exact == frags
    assert highlight("Cần Thơ", set(), set(), exact_phrases={("can", "tho")}) == []


def _reference(text, phrases):
    words = [(m.span(), fold(m.group())) for m in WORD.finditer(text)]
    out = set()
    for i in range(len(words)):
        for p in phrases:
            if tuple(w for _, w in words[i:i + len(p)]) == p:
                out.update(s for s, _ in words[i:i + len(p)])
    return sorted(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Cần", "Thơ", "can", "tho", "ngập", "Ngap", "x", "lụt"]), max_size=20),
       st.sets(st.tuples(st.sampled_from(["can", "ngap", "tho"]), st.sampled_from(["tho", "lut", "can"])),
               max_size=3))
def test_highlight_phrases_match_the_adjacency_rule(words, phrases):
    text = " ".join(words)
    assert match_spans(text, set(), set(), phrases) == _reference(text, phrases)


def test_highlight_through_the_store_marks_phrases_not_scattered_words(store):
    store.upsert_many("posts", [
        Post.new(platform="news", source="s", native_id="1", title="Cần cẩu gãy", text="cẩu ở Thơ Sơn, Cần Thơ ngập",
                 published_at=datetime(2026, 11, 20, tzinfo=UTC)),
        Post.new(platform="news", source="s", native_id="2", title="Thơ hay", text="Một bài thơ cần đọc",
                 published_at=datetime(2026, 11, 21, tzinfo=UTC))])
    res = store.search("posts", parse_query('"can tho" ngập'), highlight=["title", "text"])
    assert res.total == 1
    hit = res.hits[0]
    assert "title" not in hit.highlight  # "Cần cẩu": Cần alone is not the phrase
    assert hit.highlight["text"] == ["cẩu ở Thơ Sơn, <mark>Cần</mark> <mark>Thơ</mark> <mark>ngập</mark>"]
    # bare words stay highlighted wherever they are
    words = store.search("posts", parse_query("can tho ngap"), highlight=["title"]).hits[0]
    assert words.highlight["title"] == ["<mark>Cần</mark> cẩu gãy"]


def test_highlight_prefixes_mark_the_words_they_start(store):
    assert highlight("Ngập nặng, ngáp ngủ, Ngâm", set(), set(), folded_prefixes={"ngap"}) == [
        "<mark>Ngập</mark> nặng, <mark>ngáp</mark> ngủ, Ngâm"]
    store.upsert_many("posts", [Post.new(platform="news", source="s", native_id="1", title="Ngập nặng ở Cái Răng",
                                         text="", published_at=datetime(2026, 11, 20, tzinfo=UTC))])
    hit = store.search("posts", parse_query("ngap* -cai*"), highlight=["title"])
    assert hit.total == 0
    hit = store.search("posts", parse_query("ngap* -hue*"), highlight=["title"]).hits[0]
    assert hit.highlight["title"] == ["<mark>Ngập</mark> nặng ở Cái Răng"]
