"""Exports of a whole search result set to CSV and Excel, built from the store page by page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from dashboard.ui import local

EXCEL_MAX_ROWS = 1_048_575  # one sheet's limit below the header row
COLUMNS = ("id", "published_at", "source", "platform", "title", "text", "url", "author", "sentiment",
           "sentiment_score", "toxicity", "topics", "places", "watchlists", "keywords", "likes",
           "comments", "shares", "views")


def flatten(src: dict[str, Any], tz: str) -> list[Any]:
    """One stored post as an export row (lists joined with "; ", times in local time)."""
    eng = src.get("engagement") or {}
    author = src.get("author") or {}
    return [
        src.get("id"), local(src.get("published_at"), tz, "%Y-%m-%d %H:%M:%S"), src.get("source"),
        src.get("platform"), src.get("title"), src.get("text"), src.get("url"), author.get("name"),
        src.get("sentiment"), src.get("sentiment_score"), src.get("toxicity"),
        "; ".join(src.get("topics") or []), "; ".join(src.get("places") or []),
        "; ".join(src.get("watchlists") or []), "; ".join(src.get("keywords") or []),
        eng.get("likes", 0), eng.get("comments", 0), eng.get("shares", 0), eng.get("views", 0),
    ]


def to_csv(rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs show Vietnamese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[list[Any]], *, sheet: str = "posts") -> bytes:
    """An .xlsx workbook (write-only mode, so large exports stay within memory)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(COLUMNS))
    for n, row in enumerate(rows):
        if n >= EXCEL_MAX_ROWS:
            break
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    # Excel treats text starting with = + - @ as a formula: keep user text inert.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
