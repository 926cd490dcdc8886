"""Loading posts exported by other tools (JSONL or CSV) into the store, with a report per row."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.documents import PLATFORMS, Post
from core.errors import StoreError, ValidationFailed
from core.ids import post_id
from index.base import Store

log = logging.getLogger(__name__)

LIST_FIELDS = ("topics", "keywords", "places", "watchlists", "tags", "flags")


@dataclass
class LoadReport:
    """How a file load went: counts, and the reason for every rejected row (with its line)."""

    read: int = 0
    stored: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "stored": self.stored, "rejected": len(self.rejected),
                "errors": self.rejected}


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row or parse-error text) for every row of a JSONL or CSV file."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield lineno, f"not valid JSON: {exc.msg} at column {exc.colno}"
                    continue
                yield lineno, row if isinstance(row, dict) else "a JSON line must be an object"
    elif suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            for lineno, row in enumerate(reader, 2):
                yield lineno, {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
    else:
        raise StoreError(f"cannot load {path.name}: unknown format", hint="give a .jsonl or .csv file")


def normalise_row(row: dict[str, Any], default_source: str) -> dict[str, Any]:
    """Map common export shapes onto a post: id from platform + native id or URL, lists from strings."""
    doc = dict(row)
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
    for key in ("likes", "comments", "shares", "views"):
        if key in doc:
            doc.setdefault("engagement", {})[key] = doc.pop(key)
    if "content" in doc and "text" not in doc:
        doc["text"] = doc.pop("content")
    return doc


def load_file(store: Store, path: Path, *, source: str | None = None, batch: int = 2000,
              progress: Any = None) -> LoadReport:
    """Validate every row as a post and upsert the valid ones; never stops on a bad row.

    The file is one bulk-load session: the embedded store commits every few hundred
    thousand posts instead of once per batch (a commit costs an fsync and new segments to
    merge later); everything added is durable when the session ends.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist", hint="give the path of a JSONL or CSV export")
    report = LoadReport()
    pending: list[tuple[int, Post]] = []
    with store.bulk("posts") as load:

        def flush() -> None:
            part = load.add([p for _, p in pending])
            lines = {p.id: n for n, p in pending}
            for doc_id, reason in part.rejected:
                report.rejected.append({"line": lines.get(doc_id or ""), "id": doc_id, "reason": reason})
            pending.clear()

        for lineno, row in _rows(path):
            report.read += 1
            if progress is not None:
                progress.update(1)
            if isinstance(row, str):
                report.rejected.append({"line": lineno, "id": None, "reason": row})
                continue
            doc = normalise_row(row, source or path.stem)
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
    log.info("loaded %s: %d stored, %d rejected", path, report.stored, len(report.rejected))
    return report
