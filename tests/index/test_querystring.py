"""The search-box syntax becomes the query the stores take."""

from __future__ import annotations

import pytest

from core.errors import QuerySyntaxError
from index.querystring import DEFAULT_MAX_DEPTH, parse_query


def _texts(node):
    """Every text query string in a parsed query, in order."""
    if isinstance(node, dict):
        if "multi_match" in node:
            return [node["multi_match"]["query"]]
        return [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_querystring_empty_matches_everything():
    assert parse_query("") == {"match_all": {}}
    assert parse_query("   ") == {"match_all": {}}
    assert parse_query("!!! ,,,") == {"match_all": {}}


def test_querystring_implicit_and_and_phrases():
    q = parse_query('cần thơ "ngập lụt"')
    assert list(q) == ["bool"] and len(q["bool"]["must"]) == 3
    assert q["bool"]["must"][2]["multi_match"]["type"] == "phrase"


def test_querystring_or_not_and_grouping():
    q = parse_query("(kẹt OR tắc) -quảng NOT cáo")
    must, must_not = q["bool"]["must"], q["bool"]["must_not"]
    assert must[0]["bool"]["minimum_should_match"] == 1
    assert _texts(must_not) == ["quảng", "cáo"]


def test_querystring_fields_aliases_and_exact():
    q = parse_query('topic:traffic place:"Ninh Kiều" exact:Huế source:(vnexpress tuoitre)')
    must = q["bool"]["must"]
    assert must[0] == {"term": {"topics": "traffic"}}
    assert must[1] == {"multi_match": {"query": "Ninh Kiều", "fields": ["place_names"], "type": "phrase"}}
    assert must[2]["multi_match"]["fields"] == ["title.exact", "text.exact"]
    assert must[3] == {"terms": {"source": ["vnexpress", "tuoitre"]}}


def test_querystring_alert_fields():
    q = parse_query("rule:port_scan ip:198.51.100.7 technique:T1046", kind="alerts")
    assert q["bool"]["must"] == [{"term": {"rule.name": "port_scan"}}, {"term": {"source.ip": "198.51.100.7"}},
                                 {"term": {"threat.technique.id": "T1046"}}]


@pytest.mark.parametrize(("query", "code", "column"), [
    ("ngap AND (can tho", "unclosed_group", 10),
    ('"unclosed', "unclosed_quote", 1),
    ("ngập “lụt", "unclosed_quote", 6),
    ("AND", "nothing_before", 1),
    ("OR ngập", "nothing_before", 1),
    ("ngập OR", "nothing_after", 6),
    ("ngập NOT", "nothing_after", 6),
    ("ngập AND AND lụt", "nothing_after", 6),
    ("ngập AND OR lụt", "nothing_after", 6),
    ("(ngập OR) lụt", "nothing_after", 7),
    ("ngập -", None, None),  # a lone dash is punctuation, as in pasted titles
    ("ngập)", "unexpected_close", 5),
    ("() ngập", "empty_group", 1),
    ("title: ", "missing_value", 1),
    ("source:", "missing_value", 1),
    ("giờ:mở cửa", "unknown_field", 1),
    ("ngập foo:bar", "unknown_field", 6),
    ("likes:nhiều", "bad_value", 7),
    ("date:[now-7d TO", "bad_range", 6),
    ("sentiment_score:>nan", "bad_value", 17),
    ("ngap~", "unsupported_operator", 5),
    ('"ngập lụt"~2', "unsupported_operator", 11),
    ("ngập^2 lụt", "unsupported_operator", 5),
    ("exact:Huế*", "exact_prefix", 7),
])
def test_querystring_refuses_malformed_queries_naming_the_column(query, code, column):
    if code is None:
        assert parse_query(query)
        return
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.code == code
    assert info.value.position == column - 1
    assert str(info.value).startswith(f"column {column}: ")


def test_querystring_nesting_is_limited_not_recursed_into():
    deep = "(" * 300 + "ngập" + ")" * 300
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(deep)
    assert info.value.code == "too_deep" and info.value.position == DEFAULT_MAX_DEPTH
    assert parse_query("(" * 5 + "ngập" + ")" * 5, max_depth=5)["multi_match"]["query"] == "ngập"
    with pytest.raises(QuerySyntaxError):
        parse_query("(" * 6 + "ngập" + ")" * 6, max_depth=5)
    # repeated prefixes are read in a loop: no depth at all
    assert parse_query("NOT " * 5000 + "ngập") == parse_query("ngập")
    assert list(parse_query("NOT " * 5001 + "ngập")["bool"]) == ["must_not"]


def test_querystring_colon_before_a_space_stays_text():
    assert _texts(parse_query("Lưu ý: ngập")) == ["Lưu", "ý:", "ngập", "Lưu ý: ngập"]
    assert _texts(parse_query('"https://baocantho.com.vn/a"')) == ["https://baocantho.com.vn/a"]


def test_querystring_numbers_dates_and_ranges():
    assert parse_query("likes:>100") == {"range": {"engagement.likes": {"gt": 100}}}
    assert parse_query("likes:[10 TO 20}") == {"range": {"engagement.likes": {"gte": 10, "lt": 20}}}
    assert parse_query("date:[now-7d TO *]") == {"range": {"published_at": {"gte": "now-7d"}}}
    assert parse_query("risk:>=0.5", kind="alerts") == {"range": {"risk_score": {"gte": 0.5}}}
    assert parse_query("likes:7") == {"term": {"engagement.likes": 7}}


def test_querystring_groups_inside_fields():
    assert parse_query("source:(a AND b)") == {"bool": {"must": [{"term": {"source": "a"}}, {"term": {"source": "b"}}]}}
    q = parse_query("title:(cháy OR nổ)")
    assert [m["multi_match"]["fields"] for m in q["bool"]["should"]] == [["title"], ["title"]]
    assert parse_query('exact:title:"Huế"') == {"multi_match": {"query": "Huế", "fields": ["title.exact"],
                                                                "operator": "and"}}
    assert parse_query("NOT NOT ngập") == parse_query("ngập")
    assert parse_query(r"\(ngập\)")["multi_match"]["query"] == "(ngập)"


def test_querystring_adjacent_words_add_an_optional_phrase():
    q = parse_query("kẹt xe cần thơ")
    assert [m["multi_match"]["operator"] for m in q["bool"]["must"]] == ["and"] * 4
    assert q["bool"]["should"] == [{"multi_match": {"query": "kẹt xe cần thơ", "fields": ["title", "text"],
                                                    "type": "phrase"}}]
    assert "minimum_should_match" not in q["bool"]  # optional: it orders, it does not filter


def test_querystring_phrase_boost_follows_runs_of_bare_words_only():
    assert _texts(parse_query("kẹt xe AND cần thơ")["bool"]["should"]) == ["kẹt xe", "cần thơ"]
    assert _texts(parse_query("kẹt -xe cần thơ")["bool"]["should"]) == ["cần thơ"]
    assert _texts(parse_query('ngập "Ninh Kiều" mưa lớn')["bool"]["should"]) == ["mưa lớn"]
    assert "should" not in parse_query("source:vnexpress ngập")["bool"]
    assert "should" not in parse_query("ngập")
    exact = parse_query("Huế mưa", exact=True)["bool"]["should"][0]["multi_match"]
    assert exact["fields"] == ["title.exact", "text.exact"]


def test_querystring_prefixes_are_folded_like_the_index(store):
    from datetime import UTC, datetime

    from core.documents import Post

    assert parse_query("title:cháy*") == {"prefix": {"title": {"value": "chay"}}}
    assert parse_query("source:bao*") == {"prefix": {"source": {"value": "bao"}}}
    assert parse_query("covid-19*")["multi_match"]["query"] == "covid-19*"  # not one word: plain text
    store.upsert_many("posts", [
        Post.new(platform="news", source=src, native_id=str(i), title=title, text="",
                 published_at=datetime(2026, 11, 20, i, tzinfo=UTC))
        for i, (src, title) in enumerate([("baocantho", "Ngập nặng"), ("baomoi", "Ngáp ngủ"),
                                          ("vnexpress", "Cháy chợ"), ("baocantho", "Ngâm mình")])])

    def titles(query):
        return sorted(h.source["title"] for h in store.search("posts", parse_query(query), size=10).hits)

    assert titles("ngập*") == titles("ngap*") == ["Ngáp ngủ", "Ngập nặng"]  # folded, as every word
    assert titles("nga*") == ["Ngáp ngủ", "Ngâm mình", "Ngập nặng"]
    assert titles("source:bao*") == ["Ngáp ngủ", "Ngâm mình", "Ngập nặng"]
    assert titles("source:bao* -ngap*") == ["Ngâm mình"]
