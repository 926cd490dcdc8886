"""Pure helpers of the data, chart and export modules."""

from __future__ import annotations

import io

from dashboard import charts, data, export, ui


def test_data_spikes_in_marks_only_outstanding_buckets():
    series = [(i * 3600_000, c) for i, c in enumerate([4, 5, 3, 6, 4, 5, 31, 4, 5, 3, 4, 5])]
    assert data.spikes_in(series) == [6 * 3600_000]
    assert data.spikes_in([(0, 2), (1, 2), (2, 2), (3, 2)]) == []  # flat: nothing stands out
    assert data.spikes_in([(0, 0), (1, 0), (2, 0), (3, 4)]) == []  # below the minimum count


def test_data_posts_query_combines_range_previous_period_and_filters():
    q = data.posts_query("24h", platforms=("facebook",), watchlists=("ngap-do-thi",))
    assert {"range": {"published_at": {"gte": "now-24h"}}} in q["bool"]["filter"]
    assert {"terms": {"platform": ["facebook"]}} in q["bool"]["filter"]
    prev = data.posts_query("7d", previous=True)
    assert prev["bool"]["filter"] == [{"range": {"published_at": {"gte": "now-14d", "lt": "now-7d"}}}]
    assert data.posts_query("all")["bool"]["filter"] == []


def test_data_alerts_query_matches_an_entity_in_any_ecs_field():
    q = data.alerts_query("7d", entity=" 10.0.0.5 ")
    assert q["bool"]["minimum_should_match"] == 1
    assert {"term": {"source.ip": "10.0.0.5"}} in q["bool"]["should"]
    assert {"term": {"module": "security"}} in q["bool"]["filter"]


def test_ui_local_shows_vietnam_time():
    assert ui.local("2026-11-21T17:30:00+00:00", "Asia/Ho_Chi_Minh") == "22/11/2026 00:30"
    assert ui.local(1_795_021_200_000, "Asia/Ho_Chi_Minh") == "19/11/2026 00:00"  # a day bucket key
    assert ui.local(None, "Asia/Ho_Chi_Minh") == ""
    assert charts.local_time(1_795_021_200_000, "Asia/Ho_Chi_Minh").hour == 0


def test_ui_delta_against_the_previous_period():
    assert ui.delta(12, 8) == "+50%"
    assert ui.delta(3, 6) == "-50%"
    assert ui.delta(5, 0) == "+5" and ui.delta(0, 0) is None


def test_export_keeps_text_inert_in_excel_and_vietnamese_in_csv():
    from openpyxl import load_workbook

    src = {"id": "p1", "title": "=HYPERLINK(\"http://127.0.0.1\")", "text": "Ngập ở Ninh Kiều",
           "published_at": "2026-11-21T17:30:00+00:00", "topics": ["traffic", "health"],
           "sentiment": "negative", "engagement": {"likes": 3}}
    row = export.flatten(src, "Asia/Ho_Chi_Minh", "vi")
    assert row[1] == "2026-11-22 00:30:00" and row[8] == "Tiêu cực"
    assert row[11] == "; ".join(data.topic_names().get(k, k) for k in ("traffic", "health"))
    assert export.to_csv([row], "vi").startswith("\ufeffMã bài,".encode())
    assert "Ngập ở Ninh Kiều" in export.to_csv([row], "vi").decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(export.to_xlsx([row], lang="vi")))["posts"]
    assert sheet["E2"].value == "'=HYPERLINK(\"http://127.0.0.1\")" and sheet["E2"].data_type == "s"
    assert sheet["A1"].value == "Mã bài" and sheet["I1"].value == "Cảm xúc"
    english = export.flatten(src, "Asia/Ho_Chi_Minh", "en")
    assert english[8] == "Negative" and english[11] == "Traffic; Health"
    assert export.to_csv([english], "en").startswith("\ufeffID,Published,Source".encode())


def test_data_schedule_seconds_reads_the_crawler_format():
    assert [data._seconds(v) for v in ("30m", "2h", "1d", 900, "90s", "sometimes", None)] == \
        [1800, 7200, 86400, 900, 90, None, None]


def test_i18n_every_key_used_exists_in_both_languages():
    import re
    from pathlib import Path

    from dashboard.i18n import TEXTS

    root = Path(data.__file__).parent
    used = set()
    for path in [*root.glob("*.py"), *root.glob("pages/*.py")]:
        used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_0-9.]+)"', path.read_text(encoding="utf-8")))
    assert len(used) > 80
    assert sorted(k for k in used if k not in TEXTS) == []
    assert [k for k, v in TEXTS.items() if set(v) != {"vi", "en"} or not all(v.values())] == []
