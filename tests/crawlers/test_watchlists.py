"""Watchlists: boolean queries, phrases, diacritic-insensitive matching, errors."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from crawlers.watchlists import Watchlist, WatchlistMatcher, load_watchlists, parse_query, parse_watchlists


@pytest.mark.parametrize(("query", "text", "expected"), [
    ("ngập", "Đường Mậu Thân NGẬP sâu", True),
    ("ngập", "ngập nước", True),
    ("ngap", "Đường ngập sâu", True),  # no diacritics in the query
    ("ngập", "Đường ngập-sâu", True),
    ("ngập", "bọn ngậpngừng", False),  # word boundary
    ('"cần thơ"', "Thành phố Cần Thơ sáng nay", True),
    ('"cần thơ"', "cần một chỗ thơ mộng", False),  # a phrase needs adjacent words
    ('"da nang"', "Đà Nẵng mưa lớn", True),  # đ folds to d
    ("ngập AND \"cần thơ\"", "ngập ở Cần Thơ", True),
    ("ngập AND \"cần thơ\"", "ngập ở Đà Nẵng", False),
    ("ngập \"cần thơ\"", "ngập ở Cần Thơ", True),  # adjacent terms mean AND
    ("ngập OR \"kẹt xe\"", "kẹt xe kéo dài", True),
    ("ngập NOT \"quảng cáo\"", "ngập sâu", True),
    ("ngập NOT \"quảng cáo\"", "quảng cáo máy bơm chống ngập", False),
    ('ngập -"quảng cáo"', "quảng cáo máy bơm chống ngập", False),
    ("(ngập OR lụt) AND (\"ninh kiều\" OR \"cái răng\") NOT \"quảng cáo\"", "Lụt ở Cái Răng", True),
    ("(ngập OR lụt) AND (\"ninh kiều\" OR \"cái răng\")", "Lụt ở Bình Thủy", False),
    ("a OR b AND c", "a", True),  # AND binds tighter than OR
    ("a OR b AND c", "b", False),
    ("lừa*", "bị lừa đảo", True),
    ("lừa*", "lựa chọn", True),  # diacritic-insensitive: lừa and lựa fold alike
    ("lừa*", "con la", False),
    ("NOT ngập", "trời nắng", True),
])
def test_watchlists_query_semantics(query, text, expected):
    assert Watchlist("w", query).match(text) is expected


@pytest.mark.parametrize(("query", "reason"), [
    ("", "empty"), ("(ngập OR lụt", "not closed"), ("ngập OR", "ends too early"),
    ("ngập )", "unexpected"), ('"" ', "no letters"),
])
def test_watchlists_bad_queries_are_rejected(query, reason):
    with pytest.raises(ValueError, match=reason):
        parse_query(query)


def test_watchlists_file_errors_name_the_watchlist(tmp_path):
    with pytest.raises(ConfigError, match="watchlist 'x', key 'query': a '\\(' is not closed"):
        parse_watchlists({"watchlists": [{"name": "x", "query": "(ngập"}]})
    with pytest.raises(ConfigError, match="key 'colour': unknown key"):
        parse_watchlists({"watchlists": [{"name": "x", "query": "a", "colour": 1}]})
    with pytest.raises(ConfigError, match="needs 'name' and 'query'"):
        parse_watchlists({"watchlists": [{"name": "x"}]})


def test_watchlists_matcher_and_api_query_keep_diacritics():
    wls = load_watchlists()
    matcher = WatchlistMatcher(wls)
    found = matcher.match("Triều cường dâng cao, đường ở quận Ninh Kiều ngập sâu, kẹt xe kéo dài")
    assert {"ngap-lut", "giao-thong", "can-tho"} <= set(found)
    flood = next(w for w in wls if w.name == "ngap-lut")
    assert flood.api_query().startswith('ngập | "triều cường"')
    assert "quảng cáo" not in flood.api_query()  # NOT terms are left to the matcher
