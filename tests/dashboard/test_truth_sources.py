"""Nguồn shows what actually ran (the run status), with last run, items and errors per source;
monitor inputs apart on a chart of their own; the sources file's other entries as never run."""

from __future__ import annotations

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import DEMO_SOURCE


def test_truth_sources_that_ran_come_from_the_run_status(fresh_truth):
    from dashboard import data

    ran = data.sources_that_ran()
    assert [r["name"] for r in ran["sources"]] == ["baocantho", DEMO_SOURCE, "tuoitre-cantho"]
    by_name = {r["name"]: r for r in ran["sources"]}
    assert (by_name[DEMO_SOURCE]["items"], by_name[DEMO_SOURCE]["errors"]) == (40, 0)
    assert (by_name["baocantho"]["errors"], by_name["baocantho"]["ok"]) == (3, False)
    assert by_name["baocantho"]["last_error"].startswith("HTTP 503")
    assert by_name["tuoitre-cantho"]["posts"] > 0 and by_name["tuoitre-cantho"]["type"]
    assert [r["name"] for r in ran["monitors"]] == ["eth0"]
    assert [c["name"] for c in ran["never_ran"]] == ["fb-cantho-24h", "yt-thoisu-mekong", "dien-dan-cantho"]


def test_truth_sources_page_shows_runs_and_monitors_apart(fresh_truth):
    at = login(new_app(), "admin")
    at.switch_page("pages/sources.py").run()
    assert not at.exception, at.exception
    ran = at.dataframe[0].value
    assert list(ran["Tên"]) == ["baocantho", DEMO_SOURCE, "tuoitre-cantho"]
    assert list(ran["Bản ghi"]) == [0, 40, 14] and list(ran["Lỗi"]) == [3, 0, 0]
    assert "Lần chạy gần nhất" in ran.columns and "Bài đã lưu" in ran.columns
    monitors = at.dataframe[1].value
    assert list(monitors["Tên"]) == ["eth0"] and list(monitors["Bản ghi"]) == [5120]
    assert "eth0" not in set(ran["Tên"])  # packets never share the sources' chart
    assert [h.value for h in at.subheader][:3] == ["Nguồn tin đã chạy", "Bản ghi và lỗi ở lần chạy gần nhất",
                                                    "Đầu vào giám sát mạng (gói tin, dòng nhật ký)"]
