"""Exports keep collected text inert in spreadsheets (OWASP CSV injection) and speak the UI language."""

from __future__ import annotations

import csv
import io

import pytest

from dashboard import export

TRIGGERS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
            '=HYPERLINK("http://127.0.0.1/x","bấm")']


def _post(text: str) -> dict:
    return {"id": "p1", "title": text, "text": text, "source": text, "url": text, "author": {"name": text},
            "keywords": [text], "places": [text], "published_at": "2026-11-21T17:30:00+00:00",
            "sentiment_score": -0.75, "engagement": {"likes": 3}}


@pytest.mark.parametrize("text", TRIGGERS)
def test_security_export_csv_and_excel_neutralise_formula_triggers(text):
    from openpyxl import load_workbook

    row = export.flatten(_post(text), "Asia/Ho_Chi_Minh", "vi")
    parsed = list(csv.reader(io.StringIO(export.to_csv([row], "vi").decode("utf-8-sig"), newline="")))
    cells = parsed[1]
    for column in ("title", "text", "source", "url", "author"):
        assert cells[export.COLUMNS.index(column)] == "'" + text, column
    assert cells[export.COLUMNS.index("keywords")] == "'" + text  # a joined list starting with a trigger
    assert cells[export.COLUMNS.index("sentiment_score")] == "-0.75"  # a number stays a number
    sheet = load_workbook(io.BytesIO(export.to_xlsx([row], lang="vi")))["posts"]
    values = [c.value for c in sheet[2]]
    assert values[export.COLUMNS.index("title")] == "'" + text and sheet["E2"].data_type == "s"
    assert values[export.COLUMNS.index("sentiment_score")] == -0.75


def test_security_export_plain_text_is_untouched():
    assert export.inert("Ngập ở Ninh Kiều") == "Ngập ở Ninh Kiều"
    assert export.inert(" =1") == " =1" and export.inert("a=1") == "a=1"
    assert export.inert(-3) == -3 and export.inert(None) is None


def test_security_export_headers_and_labels_in_the_ui_language():
    src = {**_post("x"), "sentiment": "negative", "toxicity": "hate", "topics": ["traffic"]}
    vi, en = export.flatten(src, "UTC", "vi"), export.flatten(src, "UTC", "en")
    assert (vi[8], vi[10]) == ("Tiêu cực", "Thù ghét") and (en[8], en[10]) == ("Negative", "Hateful")
    assert en[11] == "Traffic"
    assert export.headers("vi")[:3] == ["Mã bài", "Thời gian đăng", "Nguồn"]
    assert export.headers("en")[:3] == ["ID", "Published", "Source"]
    assert len(set(export.headers("vi"))) == len(export.COLUMNS)
