"""The search-box syntax becomes the query the stores take."""

from __future__ import annotations

from index.querystring import parse_query


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
    assert must[1] == {"term": {"places": "Ninh Kiều"}}
    assert must[2]["multi_match"]["fields"] == ["title.exact", "text.exact"]
    assert must[3] == {"terms": {"source": ["vnexpress", "tuoitre"]}}


def test_querystring_alert_fields():
    q = parse_query("rule:port_scan ip:198.51.100.7 technique:T1046", kind="alerts")
    assert q["bool"]["must"] == [{"term": {"rule.name": "port_scan"}}, {"term": {"source.ip": "198.51.100.7"}},
                                 {"term": {"threat.technique.id": "T1046"}}]


def test_querystring_forgives_unbalanced_input_and_unknown_fields():
    assert _texts(parse_query('"ngập lụt')) == ["ngập lụt"]
    assert _texts(parse_query("(cần thơ")) == ["cần", "thơ", "cần thơ"]
    assert _texts(parse_query("giờ:mở cửa")) == ["giờ", "mở", "cửa", "mở cửa"]
    assert _texts(parse_query("covid-19 OR")) == ["covid-19"]


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
