"""Run status of every source and monitor input, shared by the service and the dashboard.

Stored as ``<data_dir>/status.json``::

    {"sources":  {"<name>": {"last_run": iso, "last_success": iso | null, "ok": bool,
                             "items": int, "errors": int, "last_error": str | null,
                             "schedule_s": int | null, "runs": int}},
     "monitors": {"<input>": {...same keys...}},
     "updated_at": iso}

Writes are atomic (:func:`core.state.atomic_write_json`) under an advisory lock, so the service and
a crawl started by hand can both record runs.
"""

from __future__ import annotations

import fcntl
import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from core.state import atomic_write_json

Section = Literal["sources", "monitors"]


def status_path(data_dir: Path) -> Path:
    return Path(data_dir) / "status.json"


def read_status(data_dir: Path) -> dict[str, Any]:
    """The current status; empty sections when nothing ran yet."""
    path = status_path(data_dir)
    if not path.exists():
        return {"sources": {}, "monitors": {}, "updated_at": None}
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    data.setdefault("sources", {})
    data.setdefault("monitors", {})
    return data


@contextmanager
def _locked(data_dir: Path):
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / ".status.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record_run(data_dir: Path, section: Section, name: str, *, items: int = 0, errors: int = 0,
               last_error: str | None = None, schedule_s: int | None = None,
               extra: dict[str, Any] | None = None, at: datetime | None = None,
               spooled: int = 0, spool: str | None = None) -> dict[str, Any]:
    """Record one run of a source or monitor input and return its new entry.

    A run is successful when it had no errors or still produced items, and nothing it
    produced is still waiting in the spool: ``spooled`` documents went to the spool named
    ``spool`` because the store was unavailable; the entry stays ``ok: false`` until
    :func:`mark_replayed` is called for that spool.
    """
    now = (at or datetime.now(UTC)).isoformat()
    with _locked(data_dir):
        data = read_status(data_dir)
        entry = data[section].get(name, {"runs": 0, "last_success": None})
        ok = (errors == 0 or items > 0) and spooled == 0
        entry.update(last_run=now, ok=ok, items=items, errors=errors, last_error=last_error,
                     runs=entry.get("runs", 0) + 1, spooled=spooled)
        if spooled:
            entry["spool"] = spool
            where = f" {spool!r}" if spool else ""
            entry["last_error"] = last_error or (f"{spooled} documents waiting in the spool{where}: "
                                                 "the store was unavailable")
        if schedule_s is not None:
            entry["schedule_s"] = schedule_s
        if ok:
            entry["last_success"] = now
        if extra:
            entry.update(extra)
        data[section][name] = entry
        data["updated_at"] = now
        atomic_write_json(status_path(data_dir), data)
    return entry


def mark_replayed(data_dir: Path, spool: str, *, at: datetime | None = None) -> list[str]:
    """The spool ``spool`` reached the store: runs that were waiting on it become successful.

    Returns the names of the entries changed.
    """
    now = (at or datetime.now(UTC)).isoformat()
    changed: list[str] = []
    if not status_path(data_dir).exists():
        return changed
    with _locked(data_dir):
        data = read_status(data_dir)
        for section in ("sources", "monitors"):
            for name, entry in data[section].items():
                if not entry.get("spooled") or entry.get("spool") != spool:
                    continue
                entry["items"] = int(entry.get("items") or 0) + int(entry["spooled"])
                entry.update(spooled=0, replayed_at=now, last_error=None)
                entry["ok"] = not entry.get("errors") or entry["items"] > 0
                if entry["ok"]:
                    entry["last_success"] = now
                changed.append(name)
        if changed:
            data["updated_at"] = now
            atomic_write_json(status_path(data_dir), data)
    return changed
