"""The search page: refused queries with their place, paging that resets, sort, watchlist filter,
a post opened by clicking it as a card, one result list, the help panel."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.conftest import _rows, login, new_app

HOSTILE = ["ngập NOT", "(" * 300 + "ngập" + ")" * 300, '"unclosed', "AND", "ngap AND (can tho", "OR ngập",
           "a)", "()", "foo:bar", "likes:nhiều", "NOT " * 2000, "title:", "\\", "-", "“", "[", "date:[x TO"]


def _search(role: str = "analyst"):
    at = login(new_app(), role)
    at.switch_page("pages/search.py").run()
    assert not at.exception
    return at


def _total(at) -> int:
    return int(next(md.value for md in at.markdown if "kết quả" in md.value).split("**")[1].split()[0].replace(".", ""))


def _page_line(at) -> str:
    return next(md.value for md in at.markdown if "kết quả" in md.value).split(" · ")[-1]


def test_search_page_refuses_a_malformed_query_with_its_column(dash_env):
    at = _search()
    at.text_input(key="s_text").input("ngap AND (can tho").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Truy vấn không hợp lệ ở cột 10: dấu «(» chưa được đóng."]
    assert at.code[0].value == "ngap AND (can tho\n         ^"
    assert not any("kết quả" in md.value for md in at.markdown)  # no results for a refused query


@pytest.mark.parametrize("query", HOSTILE)
def test_search_page_survives_hostile_queries(dash_env, query):
    at = _search()
    at.text_input(key="s_text").input(query).run()
    assert not at.exception
    assert at.error or any("kết quả" in md.value for md in at.markdown)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_search_page_every_query_error_has_a_message_in_both_languages(lang):
    from core.errors import QuerySyntaxError
    from dashboard.i18n import translate
    from index.querystring import MESSAGES, parse_query

    seen = set()
    for query in [*HOSTILE, "(" * 31 + "x" + ")" * 31, "date:>*", "likes:[1 TO", "ngap~2", "exact:Huế*"]:
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            seen.add(exc.code)
            params = {k: v for k, v in exc.params.items() if k != "known"}
            if "ftype" in params:
                params["ftype"] = translate(f"search.ftype.{params['ftype']}", lang)
            text = translate(f"query.{exc.code}", lang, **params)
            assert text != f"query.{exc.code}" and not re.search(r"\{[a-z_]+\}", text)
    assert seen == set(MESSAGES)
    assert translate("search.bad_query_at", "en", column=6, problem="NOT has nothing after it") == \
        "Invalid query at column 6: NOT has nothing after it."


def test_search_page_paging_resets_when_the_query_or_filters_change(dash_env):
    at = _search()
    assert _total(at) == dash_env["posts"] and _page_line(at) == "Trang 1/2"
    at.number_input(key="s_page").set_value(2).run()
    assert _page_line(at) == "Trang 2/2"
    assert len([b for b in at.button if b.key and b.key.startswith("s_open_")]) == dash_env["posts"] - 20
    at.text_input(key="s_text").input("can tho").run()
    assert _page_line(at) == "Trang 1/1" and _total(at) > 0
    at.text_input(key="s_text").input("").run()
    at.number_input(key="s_page").set_value(2).run()
    at.multiselect(key="s_sentiments").select("negative").run()
    assert _page_line(at).startswith("Trang 1/")
    at.multiselect(key="s_sentiments").unselect("negative").run()
    at.number_input(key="s_page").set_value(2).run()
    at.radio(key="s_order").set_value("negative").run()
    assert _page_line(at) == "Trang 1/2"


def test_search_page_sorts_most_negative_first_and_newest(dash_env):
    at = _search()
    at.radio(key="s_order").set_value("negative").run()
    hits = at.session_state["s_sig"]
    assert "negative" in hits
    from dashboard import data

    res = data.search_posts("", "all", order="negative")
    scores = [h["sentiment_score"] for h in res["hits"] if h["sentiment_score"] is not None]
    assert scores == sorted(scores) and len(scores) == 20
    newest = data.search_posts("", "all", order="newest")["hits"]
    assert [h["published_at"] for h in newest] == sorted((h["published_at"] for h in newest), reverse=True)


def test_search_page_filters_on_watchlists(dash_env):
    at = _search()
    assert "ngap-do-thi" in at.multiselect(key="s_watchlists").options or \
        any("ngap-do-thi" in o for o in at.multiselect(key="s_watchlists").options)
    at.multiselect(key="s_watchlists").select("ngap-do-thi").run()
    assert _total(at) == sum("ngap-do-thi" in p["watchlists"] for p in _rows("posts"))


def test_search_page_opens_the_clicked_post_as_a_card_and_shows_one_list(dash_env):
    at = _search()
    assert not at.dataframe  # one result list, no table of the same rows
    buttons = [b for b in at.button if b.key and b.key.startswith("s_open_")]
    assert len(buttons) == 20
    # two posts with the same title open separately, by the one clicked
    first = buttons[0]
    first.click().run()
    opened = at.session_state["s_open"]
    assert opened == first.key.removeprefix("s_open_")
    card = next(md.value for md in at.markdown if md.value.startswith("**Nhãn:**"))
    assert ":red-badge[Tiêu cực]" in card and ":green-badge[Ninh Kiều]" in card
    assert ":blue-badge[ngap\\-do\\-thi]" in card  # a watchlist without a display name shows its name
    assert next(b for b in at.button if b.key == first.key).label == "Đóng"
    at.button(key=first.key).click().run()
    assert at.session_state["s_open"] is None


def test_search_page_help_lists_the_searchable_fields(dash_env):
    at = _search()
    help_text = "\n".join(md.value for md in at.expander[0].markdown)
    for field in ("`place:`", "`source:`", "`topic:`", "`watchlist:`", "`likes:`", "`date:`", "`exact:`"):
        assert field in help_text
    assert "trước và sau sáp nhập 2025" in help_text


def test_search_page_card_shows_confidence_places_and_display_names(tmp_path, monkeypatch):
    """Two posts with one title: each opens its own card, with the labels' confidence."""
    from datetime import UTC, datetime

    from core.documents import Post
    from core.settings import load_settings
    from index import open_store
    from tests.dashboard.conftest import fill_data_dir, use_data_dir

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    wl = tmp_path / "watchlists.yaml"
    wl.write_text("watchlists:\n  - name: ngap-do-thi\n    title: Ngập đô thị\n    query: ngập\n", encoding="utf-8")
    posts = [Post.new(platform="news", source="baocantho", native_id=f"twin-{i}", title="Tin trùng tên zzyzx",
                      text=text, published_at=datetime(2030, 1, 1, i, tzinfo=UTC), topics=["traffic"],
                      sentiment="negative", sentiment_score=-0.8, toxicity="clean", toxicity_score=0.02,
                      label_confidence={"topic": 0.87, "sentiment": 0.91, "toxicity": 0.98},
                      unsure=["toxicity"] if i else [], watchlists=["ngap-do-thi"], keywords=["ngập sâu"],
                      places=["Thành phố Cần Thơ"], place_areas=["Ninh Kiều (Cần Thơ)"])
             for i, text in enumerate(["Bài thứ nhất ở phường Xuân Khánh.", "Bài thứ hai ở phường Cái Khế."])]
    store = open_store(load_settings(data_dir=data_dir))
    store.upsert_many("posts", posts)
    store.close()
    use_data_dir(monkeypatch, data_dir)
    monkeypatch.setenv("IOCWATCH_CRAWL__WATCHLISTS_FILE", str(wl))
    at = login(new_app(), "analyst")
    at.switch_page("pages/search.py").run()
    at.text_input(key="s_text").input("zzyzx").run()
    assert _total(at) == 2
    assert at.multiselect(key="s_watchlists").format_func("ngap-do-thi") == "Ngập đô thị"
    from crawlers.watchlists import load_watchlists

    assert [w.label for w in load_watchlists(wl)] == ["Ngập đô thị"]  # the crawler reads the same file
    second = next(b for b in at.button if b.key == f"s_open_{posts[1].id}")
    second.click().run()
    card = next(md.value for md in at.markdown if md.value.startswith("**Nhãn:**"))
    values = [md.value for md in at.markdown]
    body = values[values.index(card) + 1]  # the card's text follows its chips
    assert body.startswith("Bài thứ hai")  # the clicked post, not the first with that title
    assert ":violet-badge[Giao thông · 87 \\%]" in card and ":red-badge[Tiêu cực · 91 \\%]" in card
    assert ":gray-badge[Bình thường · 98 \\% \\(chưa chắc\\)]" in card
    assert ":green-badge[Ninh Kiều (Cần Thơ)]" in card.replace("\\(", "(").replace("\\)", ")")
    assert ":blue-badge[Ngập đô thị]" in card and "ngập sâu" in card


def test_search_page_bundled_watchlists_have_display_names(dash_env):
    from crawlers.watchlists import load_watchlists
    from dashboard import data

    labels = data.watchlist_labels()
    assert labels == {w.name: w.label for w in load_watchlists()}
    assert labels["ngap-lut"] == "Ngập lụt, triều cường"
