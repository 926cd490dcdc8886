"""The query language never crashes: generated, mutated and arbitrary input either parses
into a query the embedded store runs, or is refused with QuerySyntaxError at a position
inside the query; well-formed queries are never refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.documents import Post
from core.errors import QuerySyntaxError
from index.querystring import MESSAGES, parse_query

WORDS = ["ngập", "can", "tho", "Cần", "Thơ", "Huế", "kẹt", "xe", "2026", "covid-19", "a", "x_1", "đường", "3/2"]
FIELDS = ["title", "text", "source", "topic", "place", "exact", "likes", "date", "sentiment_score", "foo",
          "giờ", "Title", "url", "watchlist"]
# pieces of query text, hostile ones included
PIECES = WORDS + ["AND", "OR", "NOT", "&&", "||", "&", "|", "(", ")", '"', "“", "”", "-", "+", ":", "\\", "*",
                  "[", "]", "{", "}", "TO", ">", ">=", "<", "!", "'", "/", "\x00", "\t", "\n", "()", "((", "))",
                  "now-7d", "1e309", "nan", "-1", "99999999999999999999", "🙂", "\u0301", "ﬀ"]
SEEDS = ['ngap AND (can tho OR "ninh kieu") NOT quang cao', 'title:"cháy nhà" -source:baocantho',
         'likes:[10 TO *] place:"Ninh Kiều"', 'exact:(Huế OR Hue) date:>now-30d', "(((kẹt xe)))",
         'source:(a b) topic:traffic || "ùn tắc"']


def _check(query: str) -> dict | None:
    """The property every input must have; returns the query when it parsed."""
    try:
        result = parse_query(query)
    except QuerySyntaxError as exc:
        assert exc.code in MESSAGES
        assert exc.position is not None and 0 <= exc.position <= len(query)
        assert str(exc).startswith(f"column {exc.position + 1}: ")
        return None
    assert isinstance(result, dict) and len(result) == 1
    return result


@st.composite
def _mutated(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "wrap", "repeat"]))
        pos = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:pos] + draw(st.sampled_from(PIECES)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 5)):]
        elif op == "replace" and text:
            text = text[:pos] + draw(st.sampled_from(PIECES)) + text[pos + 1:]
        elif op == "wrap":  # deep nesting, balanced or not
            n = draw(st.integers(1, 400))
            text = "(" * n + text + ")" * draw(st.sampled_from([n, n - 1, n + 1, 0]))
        else:
            text = " ".join([text] * draw(st.integers(2, 4)))
    return text


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES + FIELDS + [f + ":" for f in FIELDS]), max_size=25),
       st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=25, max_size=25))
def test_querystring_generated_pieces_parse_or_are_refused(pieces, gaps):
    _check("".join(p + g for p, g in zip(pieces, gaps, strict=False)))


@settings(max_examples=400, deadline=None)
@given(_mutated())
def test_querystring_mutated_queries_parse_or_are_refused(query):
    _check(query)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_querystring_arbitrary_text_parses_or_is_refused(query):
    _check(query)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5000), st.sampled_from(["(", "NOT ", "-(", "NOT (", "title:(", "\""]))
def test_querystring_deep_prefixes_never_recurse(n, prefix):
    _check(prefix * n + "ngập" + ")" * (n if "(" in prefix else 0))


def _valid(depth: int = 3) -> st.SearchStrategy[str]:
    """Well-formed queries only."""
    atom = st.one_of(
        st.sampled_from(["ngập", "can", "tho", "Huế", "2026", "kẹt"]),
        st.sampled_from(["ngập lụt", "cần thơ", "x"]).map(lambda w: f'"{w}"'),
        st.sampled_from(['source:baocantho', 'title:"cháy nhà"', "likes:>5", "date:[now-7d TO *]",
                         "exact:Huế", 'place:"Ninh Kiều"', "topic:(traffic health)"]),
    )

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from([" ", " AND ", " OR ", " && ", " || "]), inner).map("".join),
            st.tuples(st.sampled_from(["NOT ", "-", "+"]), inner).map(lambda t: t[0] + "(" + t[1] + ")"),
            inner.map(lambda q: f"({q})"),
        )

    return st.recursive(atom, extend, max_leaves=8)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from core.settings import load_settings
    from index import open_store

    store = open_store(load_settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data"))
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    store.upsert_many("posts", [Post.new(platform="news", source="baocantho", url=f"https://x.vn/{i}",
                                         title=title, text=text, published_at=start + timedelta(hours=i))
                                for i, (title, text) in enumerate([
                                    ("Ngập lụt ở Cần Thơ", "kẹt xe đường 3/2"),
                                    ("Huế mở cửa", "Đại Nội"), ("Cháy nhà", "covid-19 năm 2026")])])
    yield store
    store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_valid())
def test_querystring_well_formed_queries_parse_and_run(small_store, query):
    result = parse_query(query)  # never refused
    small_store.search("posts", result, size=5, highlight=["title", "text"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_mutated(), st.text(max_size=80)))
def test_querystring_every_parsed_query_runs_on_the_embedded_store(small_store, query):
    result = _check(query)
    if result is not None:
        small_store.search("posts", result, size=5, highlight=["title", "text"])
