"""AppTest over the real app and a real embedded index: every page under every role."""

from __future__ import annotations

import csv
import io

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import ALLOWED, APP, PAGES, login, new_app

ROLES = list(ALLOWED)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def _check_page(at, page: str, expected: dict) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    if page == "overview":
        m = _metrics(at)
        assert m["Đề cập 24 giờ"] == str(expected["m24"])
        assert m["Đề cập 7 ngày"] == str(expected["m7d"])
        assert m["Tỷ lệ tiêu cực (7 ngày)"] == f"{expected['negative_share']:.0%}"
        assert m["Cảnh báo an ninh chưa đóng"] == str(expected["security_open_30d"])  # as An ninh mạng counts
        assert m["Cảnh báo lắng nghe chưa đóng"] == str(expected["open_alerts"] - expected["security_open_30d"])
        assert _charts(at) == 2
        health = at.dataframe[0].value
        assert len(health) == 3 and set(health["Nguồn / đầu vào"]) == {"tuoitre-cantho", "baocantho", "eth0"}
    elif page == "listening":
        assert _metrics(at)["Đề cập trong kỳ"] == str(expected["listening_7d"])
        assert _charts(at) >= 7  # sentiment, topics, watchlists, two shares of voice, places, toxicity
        topics = next(df.value for df in at.dataframe if "Chủ đề" in df.value.columns)
        assert "Môi trường, ngập lụt, thiên tai" in set(topics["Chủ đề"])  # taxonomy display names
        toxic = next(df.value for df in at.dataframe if "Xác suất độc hại" in df.value.columns)
        assert list(toxic["Mức độc hại"]) == ["Thù ghét", "Xúc phạm", "Xúc phạm"]  # most toxic first
        assert list(toxic["Xác suất độc hại"]) == [91, 84, 77]
        assert list(toxic["Nội dung"])[0].startswith("Bọn ở trọ tỉnh khác")  # what was said, not the title
        assert _metrics(at)["Tỷ lệ độc hại"] == f"{3 / expected['listening_7d']:.1%}"
        top_negative = next(df.value for df in at.dataframe if "Xác suất tiêu cực" in df.value.columns)
        assert len(top_negative) > 0 and set(top_negative["Cảm xúc"]) == {"Tiêu cực"}
        assert list(top_negative["Liên kết"])[0].startswith("http://127.0.0.1/")
    elif page == "search":
        assert any(f"**{expected['posts']} kết quả**" in md.value for md in at.markdown)
        assert _charts(at) == 1
        assert not at.dataframe  # one result list, not a table of the same rows
        assert len([b for b in at.button if (b.key or "").startswith("s_open_")]) == 20  # one page
    elif page == "security":
        assert _metrics(at)["Hàng đợi cảnh báo"] == str(expected["security_open_30d"])
        assert _charts(at) == 4  # timeline, top talkers, riskiest host's timeline, explanation of the first alert
        talkers = at.dataframe[1].value
        ip, count = expected["top_talker"]
        assert (talkers.iloc[0]["IP nguồn"], talkers.iloc[0]["Số cảnh báo"]) == (ip, count)
    elif page == "sources":
        ran = at.dataframe[0].value  # the sources that ran, then the monitor inputs apart
        assert list(ran["Tên"]) == ["baocantho", "tuoitre-cantho"] and list(ran["Chu kỳ (giây)"]) == [3600, 1800]
        assert list(at.dataframe[1].value["Tên"]) == ["eth0"]
        never = at.dataframe[2].value  # the file's other sources
        assert list(never["Tên"]) == ["fb-cantho-24h", "yt-thoisu-mekong", "dien-dan-cantho"]
        assert list(never["Chu kỳ (giây)"]) == [900, 1800, 7200]  # the default where the file names none
        assert _charts(at) == 3


def test_app_shows_only_the_login_form_before_login(dash_env):
    at = new_app().run()
    assert not at.exception
    assert at.text_input(key="login_name") is not None and at.text_input(key="login_password") is not None
    assert [t.value for t in at.title] == ["Đăng nhập hệ thống giám sát"]
    assert not at.metric and not at.dataframe and _charts(at) == 0


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_allowed_pages_for_each_role(dash_env, role):
    at = login(new_app(), role)
    assert at.session_state["auth_user"]["role"] == role
    _check_page(at, "overview", dash_env)
    for page in ALLOWED[role][1:]:
        at.switch_page(f"pages/{page}.py").run()
        _check_page(at, page, dash_env)
    titles = {"security": "An ninh mạng", "sources": "Nguồn thu thập", "listening": "Lắng nghe mạng xã hội",
              "users": "Quản lý người dùng"}
    for page in sorted(set(PAGES) - set(ALLOWED[role])):  # not routed: a request for it lands elsewhere
        try:
            at.switch_page(f"pages/{page}.py").run()
        except ValueError as exc:
            assert "Could not find a navigation page" in str(exc)
            continue
        assert not at.exception
        assert titles[page] not in [t.value for t in at.title]


@pytest.mark.parametrize("role,page", [(r, p) for r in ROLES for p in PAGES if p not in ALLOWED[r]])
def test_pages_refuse_forbidden_role_on_the_server(dash_env, role, page):
    at = AppTest.from_file(str(APP.parent / "pages" / f"{page}.py"), default_timeout=60)
    at.session_state["auth_user"] = {"name": role, "role": role, "display_name": role, "via": "password"}
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"Vai trò «{_role_vi(role)}» không được phép xem trang này."]
    assert not at.metric and not at.dataframe and _charts(at) == 0


def _role_vi(role: str) -> str:
    return {"comms": "truyền thông", "security": "an ninh mạng", "analyst": "phân tích"}[role]


@pytest.mark.parametrize("page", PAGES)
def test_pages_refuse_anonymous_session(dash_env, page):
    at = AppTest.from_file(str(APP.parent / "pages" / f"{page}.py"), default_timeout=60).run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Vui lòng đăng nhập."]
    assert not at.metric and not at.dataframe and _charts(at) == 0


def test_pages_english_switch_translates_titles_and_labels(dash_env):
    at = login(new_app(), "admin")
    at.sidebar.radio[0].set_value("en").run()
    assert [t.value for t in at.title] == ["Overview"]
    assert _metrics(at)["Mentions, 24 h"] == str(dash_env["m24"])


def test_pages_search_is_diacritic_insensitive_with_highlights(dash_env):
    at = login(new_app(), "analyst")
    at.switch_page("pages/search.py").run()
    at.text_input(key="s_text").input("can tho").run()
    assert not at.exception
    # the fixture has one template about "cầu Cần Thơ"; every fourth... post uses it
    hits = [md.value for md in at.markdown if "<mark>" in md.value]
    assert hits and all("<mark>Cần</mark> <mark>Thơ</mark>" in h for h in hits)
    total = int(next(md.value for md in at.markdown if "kết quả" in md.value).split("**")[1].split()[0])
    assert total == len(hits)


def test_pages_search_refuses_an_unbalanced_query(dash_env):
    at = login(new_app(), "analyst")
    at.switch_page("pages/search.py").run()
    at.text_input(key="s_text").input('(ngap OR "can tho').run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Truy vấn không hợp lệ ở cột 10: dấu nháy \\\" chưa được đóng."]


def test_pages_search_exports_every_result_to_csv_and_excel(dash_env, monkeypatch):
    from openpyxl import load_workbook

    from dashboard import data

    monkeypatch.setattr(data, "EXPORT_BATCH", 7)  # several store pages for 40 posts
    at = login(new_app(), "analyst")
    at.switch_page("pages/search.py").run()
    prepare = next(b for b in at.button if b.label == "Chuẩn bị tệp xuất")
    prepare.click().run()
    assert not at.exception
    export = at.session_state["s_export"]
    assert export["rows"] == dash_env["posts"]
    rows = list(csv.reader(io.StringIO(export["csv"].decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã bài", "Thời gian đăng", "Nguồn"] and len(rows) == dash_env["posts"] + 1
    assert len({r[0] for r in rows[1:]}) == dash_env["posts"]  # no post twice across pages
    sheet = list(load_workbook(io.BytesIO(export["xlsx"]), read_only=True)["posts"].iter_rows(values_only=True))
    assert len(sheet) == dash_env["posts"] + 1
    assert any("Cần Thơ" in (r[4] or "") for r in sheet[1:])
    assert [r[0] for r in sheet[1:]] == [r[0] for r in rows[1:]]


def test_pages_listening_filters_narrow_the_figures(dash_env):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    at.multiselect(key="l_platforms").set_value(["facebook"]).run()
    assert not at.exception
    from tests.dashboard.conftest import _rows

    expected = sum(1 for p in _rows("posts") if p["platform"] == "facebook" and p["age_h"] < 24 * 7)
    assert _metrics(at)["Đề cập trong kỳ"] == str(expected)


def test_pages_render_on_an_empty_installation(tmp_path, monkeypatch):
    from core.settings import load_settings
    from dashboard.auth import add_user
    from tests.dashboard.conftest import PASSWORDS, use_data_dir

    data_dir = tmp_path / "data"
    add_user(load_settings(data_dir=data_dir), "admin", "admin", PASSWORDS["admin"], rounds=4)
    use_data_dir(monkeypatch, data_dir)
    monkeypatch.setenv("IOCWATCH_CRAWL__SOURCES_FILE", str(tmp_path / "missing.yaml"))
    at = login(new_app(), "admin")
    assert not at.exception and _metrics(at)["Đề cập 24 giờ"] == "0"
    for page in PAGES[1:]:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
    assert any("missing.yaml" in i.value for i in at.info)  # the sources page names the missing file
