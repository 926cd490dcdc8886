"""Loading posts exported by other tools (JSONL or CSV) into the store, with a report per row."""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.documents import PLATFORMS, Post
from core.errors import StoreError, ValidationFailed
from core.ids import post_id
from index.base import Store
from index.corrections import keep_human_labels

log = logging.getLogger(__name__)

LIST_FIELDS = ("topics", "keywords", "places", "watchlists", "tags", "flags")


# Limits of one imported row (a row beyond them is rejected, with the reason; the rest loads).
MAX_FIELD_CHARS = 5_000_000  # one CSV or JSON text field; csv's own default stops at 131,072
MAX_DEPTH = 12  # nesting of objects and lists in a JSON row (a post needs 3)
MAX_LINE_BYTES = 20_000_000  # one JSON line
MIN_YEAR = 1970  # dates before this are typing errors, not old posts
FUTURE_SLACK = timedelta(days=2)  # dates later than now by more than this are rejected
COUNTS = ("likes", "comments", "shares", "views")


@dataclass
class LoadReport:
    """How a file load went: counts, and the reason for every rejected row (with its line).

    ``read`` rows = ``stored`` + ``rejected``; of the stored rows, ``updated`` replaced a
    post already in the index (or earlier in the same file) and the rest are new.
    """

    read: int = 0
    stored: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "stored": self.stored, "new": self.stored - self.updated,
                "updated": self.updated, "rejected": len(self.rejected), "errors": self.rejected}


def _show(value: Any) -> str:
    """A value as shown in a rejection reason (cut: a bad row may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class RowError(ValueError):
    """One row cannot become a post; the message is the reason shown to the operator."""


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping once past ``limit`` (no recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _json_row(line: str) -> dict[str, Any] | str:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return f"nested more than {MAX_DEPTH} levels deep"
    if not isinstance(row, dict):
        return "a JSON line must be an object"
    if _depth(row, MAX_DEPTH) > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    return row


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row or the reason it is unreadable) for every row of a JSONL or CSV file."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        with path.open("rb") as fh:
            lineno = 0
            while True:
                raw = fh.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                lineno += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # skip the rest without holding it
                        raw = fh.readline(1 << 20)
                    yield lineno, f"line longer than {MAX_LINE_BYTES} bytes"
                    continue
                line = raw.decode("utf-8", "replace")
                if line.strip():
                    yield lineno, _json_row(line)
    elif suffix in (".csv", ".tsv"):
        # csv's per-field limit (131,072 by default) is process-wide: raise it to our own
        # bound (never to sys.maxsize, which overflows a C long on some platforms).
        if csv.field_size_limit() < MAX_FIELD_CHARS + 1:
            csv.field_size_limit(MAX_FIELD_CHARS + 1)
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            end = 1
            while True:
                start = end + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if reader.reader.line_num == end:  # no progress: the rest is unreadable
                        yield start, f"unreadable CSV: {exc}"
                        return
                    end = reader.reader.line_num
                    yield start, f"unreadable CSV row: {exc}"
                    continue
                end = reader.reader.line_num
                if None in row:
                    yield start, f"more values than the {len(reader.fieldnames or [])} columns of the header"
                    continue
                yield start, {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
    else:
        raise StoreError(f"cannot load {path.name}: unknown format", hint="give a .jsonl or .csv file")


def _check_sizes(row: dict[str, Any]) -> None:
    for key, value in row.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise RowError(f"field {key!r} has {len(value):,} characters (at most {MAX_FIELD_CHARS:,})")


def _text(doc: dict[str, Any], key: str) -> None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"field {key!r} must be text, not {type(value).__name__}")
    if key == "url":
        raise RowError(f"field 'url' must be a web address, not the number {value}")
    doc[key] = str(value)


def _date(doc: dict[str, Any], key: str, now: datetime) -> None:
    value = doc.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(f"field {key!r} must be a date, not {type(value).__name__}")
    try:
        if isinstance(value, str):
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            when = datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RowError(f"field {key!r}: {_show(value)} is not a date ({exc})") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.year < MIN_YEAR or when > now + FUTURE_SLACK:
        raise RowError(f"field {key!r}: {_show(value)} is out of range ({MIN_YEAR} to today)")
    doc[key] = when.isoformat()


def _engagement(doc: dict[str, Any]) -> None:
    given = doc.get("engagement")
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise RowError(f"field 'engagement' must be an object with {', '.join(COUNTS)}, "
                       f"not {type(given).__name__}")
    merged = dict(given)
    for key in COUNTS:
        if key not in doc:
            continue
        value = doc.pop(key)
        if key in given and given[key] != value:
            raise RowError(f"{key!r} is given twice, {_show(value)} beside engagement.{key} = {_show(given[key])}")
        merged[key] = value
    for key in COUNTS:
        value = merged.get(key)
        if value in (None, ""):
            merged.pop(key, None)
            continue
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise RowError(f"engagement {key!r} must be a whole number, not {_show(value)}") from None
        if isinstance(number, bool) or not isinstance(number, int | float) \
                or (isinstance(number, float) and not math.isfinite(number)) \
                or not 0 <= number <= 10**15 or number != int(number):
            raise RowError(f"engagement {key!r} must be a whole number from 0, not {_show(value)}")
        merged[key] = int(number)
    if merged:
        doc["engagement"] = merged
    else:
        doc.pop("engagement", None)


def normalise_row(row: dict[str, Any], default_source: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Map common export shapes onto a post: id from platform + native id or URL, lists from strings.

    Raises:
        RowError: the row cannot become a post (a wrong type, a date out of range, a field
            too long, a count given twice); the message says which field and why.
    """
    now = now or datetime.now(UTC)
    _check_sizes(row)
    doc = dict(row)
    for key in ("url", "title", "text", "content", "source", "native_id", "post_id", "id"):
        _text(doc, key)
    doc.setdefault("source", default_source)
    platform = str(doc.get("platform") or "other").lower()
    doc["platform"] = platform if platform in PLATFORMS else "other"
    if not doc.get("id"):
        native = doc.pop("native_id", None) or doc.pop("post_id", None)
        url = doc.get("url")
        if native or url:
            doc["id"] = post_id(doc["platform"], native_id=str(native) if native else None, url=url)
    for key in LIST_FIELDS:
        if isinstance(doc.get(key), str):
            doc[key] = [v.strip() for v in doc[key].replace(";", ",").split(",") if v.strip()]
    if isinstance(doc.get("author"), str):
        doc["author"] = {"name": doc["author"]}
    _engagement(doc)
    for key in ("published_at", "collected_at"):
        _date(doc, key, now)
    if "content" in doc and "text" not in doc:
        doc["text"] = doc.pop("content")
    return doc


def _existing(store: Store, ids: list[str]) -> int:
    """How many of ``ids`` (distinct) the store holds already: one ids count per batch."""
    if not ids:
        return 0
    return store.count("posts", {"ids": {"values": ids}})


def load_file(store: Store, path: Path, *, source: str | None = None, batch: int = 2000,
              progress: Any = None) -> LoadReport:
    """Validate every row on its own as a post and upsert the valid ones; never stops on a bad row.

    A bad row (unreadable, wrong type, out of range, too long, too deeply nested) is counted
    in ``rejected`` with its line number and the reason; the good rows are stored. The file
    is one bulk-load session: the embedded store commits every few hundred thousand posts
    instead of once per batch; everything added is durable when the session ends.

    Raises:
        StoreError: the index cannot be written (full or read-only disk); the message says
            how many rows were committed before.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist", hint="give the path of a JSONL or CSV export")
    report = LoadReport()
    pending: list[tuple[int, Post]] = []
    seen: set[str] = set()
    now = datetime.now(UTC)
    with store.bulk("posts") as load:

        def flush() -> None:
            replaced = getattr(load, "replaced", None)  # the embedded store counts replacements
            fresh = {p.id for _, p in pending} - seen
            # otherwise ask the store which ids it holds, before the batch is added (a commit
            # inside add() would make the batch itself visible)
            known = _existing(store, sorted(fresh)) if replaced is None else 0
            # a post the operators corrected keeps their labels (stored copy or journal)
            part = load.add(keep_human_labels(store, [p for _, p in pending]))
            lines = {p.id: n for n, p in pending}
            for doc_id, reason in part.rejected:
                report.rejected.append({"line": lines.get(doc_id or ""), "id": doc_id, "reason": reason})
            rejected = {doc_id for doc_id, _ in part.rejected}
            written = [p.id for _, p in pending if p.id not in rejected]
            if replaced is not None:
                report.updated += load.replaced - replaced
            else:
                if rejected & fresh:  # rare: not written, so not among the updated rows
                    known -= _existing(store, sorted(rejected & fresh))
                # rows replacing a post: those the store held, and repeats of an id in this file
                report.updated += known + len(written) - len(fresh - rejected)
            seen.update(written)
            pending.clear()

        for lineno, row in _rows(path):
            report.read += 1
            if progress is not None:
                progress.update(1)
            if isinstance(row, str):
                report.rejected.append({"line": lineno, "id": None, "reason": row})
                continue
            try:
                doc = normalise_row(row, source or path.stem, now=now)
            except RowError as exc:
                report.rejected.append({"line": lineno, "id": _row_id(row), "reason": str(exc)})
                continue
            if not doc.get("id"):
                report.rejected.append({"line": lineno, "id": None,
                                        "reason": "no id: give an id, a url or a native_id"})
                continue
            try:
                pending.append((lineno, Post.from_doc(doc)))
            except ValidationFailed as exc:
                report.rejected.append({"line": lineno, "id": exc.doc_id,
                                        "reason": f"field {exc.field!r}: {exc.reason}"})
                continue
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    report.stored = len(load.result.stored)
    log.info("loaded %s: %d stored (%d updated), %d rejected", path, report.stored, report.updated,
             len(report.rejected))
    return report


def _row_id(row: dict[str, Any]) -> str | None:
    """The id a rejected row would have had, when it can be told (for the report)."""
    value = row.get("id")
    if isinstance(value, str) and value:
        return value
    url = row.get("url")
    if isinstance(url, str) and url.strip():
        platform = str(row.get("platform") or "other").lower()
        return post_id(platform if platform in PLATFORMS else "other", url=url)
    return None
