"""Exports of a whole search result set to CSV and Excel, built from the store page by page.

Headers and label values (sentiment, toxicity, topics) are in the UI language. Every text cell
that starts with a formula trigger (``=``, ``+``, ``-``, ``@``, tab, carriage return) is
prefixed with an apostrophe in both formats (OWASP, CSV injection), so a collected
``=HYPERLINK(...)`` stays text in any spreadsheet program.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from dashboard.i18n import current_language, translate
from dashboard.ui import local

EXCEL_MAX_ROWS = 1_048_575  # one sheet's limit below the header row
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ("id", "published_at", "source", "platform", "title", "text", "url", "author", "sentiment",
           "sentiment_score", "toxicity", "topics", "places", "watchlists", "keywords", "likes",
           "comments", "shares", "views")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def headers(lang: str | None = None) -> list[str]:
    """The column names in ``lang`` (default: the session's language)."""
    lang = lang or current_language()
    return [translate(f"export.col.{c}", lang) for c in COLUMNS]


def _topic_name(lang: str) -> Callable[[str], str]:
    from dashboard.i18n import TOPICS_EN

    if lang == "en":
        return lambda key: TOPICS_EN.get(key, key.replace("_", " "))
    from dashboard import data

    names = data.topic_names()
    return lambda key: names.get(key, key.replace("_", " "))


def flatten(src: dict[str, Any], tz: str, lang: str | None = None) -> list[Any]:
    """One stored post as an export row (lists joined with "; ", times in local time, labels
    in ``lang``, default the session's language)."""
    lang = lang or current_language()
    topic = _topic_name(lang)
    eng = src.get("engagement") or {}
    author = src.get("author") or {}
    sentiment, toxicity = src.get("sentiment"), src.get("toxicity")
    return [
        src.get("id"), local(src.get("published_at"), tz, "%Y-%m-%d %H:%M:%S"), src.get("source"),
        src.get("platform"), src.get("title"), src.get("text"), src.get("url"), author.get("name"),
        translate(f"sentiment.{sentiment}", lang) if sentiment else None, src.get("sentiment_score"),
        translate(f"toxicity.{toxicity}", lang) if toxicity else None,
        "; ".join(topic(k) for k in src.get("topics") or []), "; ".join(src.get("places") or []),
        "; ".join(src.get("watchlists") or []), "; ".join(src.get("keywords") or []),
        eng.get("likes", 0), eng.get("comments", 0), eng.get("shares", 0), eng.get("views", 0),
    ]


def inert(value: Any) -> Any:
    """A cell value that no spreadsheet evaluates: text starting with a formula trigger gets a
    leading apostrophe; numbers and other text are kept as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def to_csv(rows: Iterable[list[Any]], lang: str | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs show Vietnamese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers(lang))
    writer.writerows([inert(v) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[list[Any]], *, sheet: str = "posts", lang: str | None = None) -> bytes:
    """An .xlsx workbook (write-only mode, so large exports stay within memory)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(headers(lang))
    for n, row in enumerate(rows):
        if n >= EXCEL_MAX_ROWS:
            break
        ws.append([inert(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
