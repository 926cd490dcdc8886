"""Sources YAML: the bundled list loads; errors name the source and the key."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from crawlers.sources import load_sources, parse_schedule, parse_sources, select_sources


def test_sources_default_file_lists_the_vietnamese_outlets():
    sources = {s.name: s for s in load_sources()}
    for name in ("baocantho", "cantho-portal", "vnexpress", "tuoitre", "thanhnien", "dantri", "vietnamnet"):
        assert name in sources
    assert sources["baocantho"].type == "rss" and sources["baocantho"].url.startswith("https://baocantho.com.vn/")
    assert sources["baocantho"].schedule_s == 900
    assert sources["baocantho-sitemap"].type == "sitemap" and not sources["baocantho-sitemap"].enabled
    assert "baocantho-sitemap" not in {s.name for s in select_sources(list(sources.values()), [])}


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "a", "type": "rss"}, "source 'a', key '<source>': a rss source needs 'url'"),
    ({"name": "b", "type": "rss", "url": "http://x", "colour": "red"}, "source 'b', key 'colour': unknown key"),
    ({"name": "c", "type": "gopher", "url": "http://x"}, "source 'c', key 'type'"),
    ({"name": "d", "type": "rss", "url": "http://x", "schedule": "every day"}, "source 'd', key 'schedule'"),
    ({"name": "e", "type": "youtube", "credentials": {"api_key": "AIzaSyREALKEYINLINE"}},
     "source 'e', key 'credentials'"),
    ({"name": "f", "type": "facebook", "id": "1"}, "credentials.access_token"),
    ({"name": "g", "type": "listing", "url": "http://x"}, "needs 'listing"),
    ({"type": "rss", "url": "http://x"}, "source '#1', key 'name'"),
])
def test_sources_errors_name_the_source_and_the_key(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_sources({"sources": [raw]}, where="sources.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("sources.yaml: ")


def test_sources_duplicate_names_and_bad_top_level_are_rejected(tmp_path):
    dup = [{"name": "a", "type": "rss", "url": "http://x"}, {"name": "a", "type": "rss", "url": "http://y"}]
    with pytest.raises(ConfigError, match="used twice"):
        parse_sources({"sources": dup})
    with pytest.raises(ConfigError, match="'sources' list"):
        parse_sources(["a"])
    bad = tmp_path / "s.yaml"
    bad.write_text("sources:\n  - name: a\n   type: rss\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml:\d+: YAML syntax error"):
        load_sources(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_sources(tmp_path / "missing.yaml")


def test_sources_missing_credentials_name_the_variable(monkeypatch):
    (src,) = parse_sources({"sources": [{"name": "yt", "type": "youtube", "id": "UC1",
                                         "credentials": {"api_key": "IOCWATCH_TEST_YT_KEY"}}]})
    monkeypatch.delenv("IOCWATCH_TEST_YT_KEY", raising=False)
    assert src.missing_credentials() == ["IOCWATCH_TEST_YT_KEY"]
    monkeypatch.setenv("IOCWATCH_TEST_YT_KEY", "k")
    assert src.missing_credentials() == [] and src.credential("api_key") == "k"


def test_sources_select_unknown_name_lists_known_ones():
    sources = load_sources()
    with pytest.raises(ConfigError, match="unknown source.*nope.*known sources: baocantho"):
        select_sources(sources, ["nope"])


@pytest.mark.parametrize(("value", "seconds"), [("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400),
                                                (120, 120), ("45", 45), (None, None)])
def test_sources_schedule_units(value, seconds):
    assert parse_schedule(value) == seconds
