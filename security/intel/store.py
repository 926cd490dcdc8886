"""Loaded feeds kept under the data directory: one JSON file per feed, written atomically.

``<intel_dir>/<name>.json`` holds the feed's metadata (source file, format, when loaded,
counts and what was skipped) and its rows ``[type, value, confidence, expires, label]``.
:func:`open_matcher` builds one :class:`security.intel.matcher.IntelMatcher` from every
stored feed, leaving out expired indicators and feeds that cannot be read, each with a
clear message; it is cached while no feed file changes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.state import atomic_write_text
from security.intel.feeds import FeedStats, IntelError, read
from security.intel.matcher import IntelMatcher

log = logging.getLogger(__name__)

STORE_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@contextlib.contextmanager
def bulk():
    """The cyclic garbage collector paused while millions of small rows are built (it would rescan them
    over and over; nothing here makes cycles), then restored."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def _collect(indicators, rows: dict, stats: FeedStats, now: float, default_exp: float | None,
             max_indicators: int) -> None:
    for ind in indicators:
        exp = ind.expires if ind.expires is not None else default_exp
        if exp is not None and exp <= now:
            stats.skipped["expired"] += 1
            stats.latest_expired = max(stats.latest_expired, exp)
            continue
        if len(rows) >= max_indicators:
            stats.skipped["over_limit"] += 1
            continue
        key = (ind.type, ind.value)
        old = rows.get(key)
        if old is None or ind.confidence > old[2]:
            rows[key] = [ind.type, ind.value, ind.confidence, exp, ind.label]


def load_feed(intel_dir: str | Path, path: str | Path, name: str, *, fmt: str | None = None,
              confidence: int = 70, ttl_days: float = 90.0, expires: float | None = None,
              max_indicators: int = 5_000_000, now: float | None = None) -> dict[str, Any]:
    """Read a feed file and store it as feed ``name`` (replacing a feed of that name); returns its summary.

    Indicators without their own expiry get ``expires`` if given, else ``now + ttl_days``
    (never, when ``ttl_days`` is 0). Indicators already expired are counted and left out.
    Raises :class:`IntelError` when nothing usable is in the file (corrupt, empty, all expired).
    """
    if not _NAME.match(name):
        raise IntelError(f"bad feed name {name!r}", hint="letters, digits, '.', '_' and '-', at most 64")
    now = time.time() if now is None else now
    default_exp = expires if expires is not None else (now + ttl_days * 86400 if ttl_days > 0 else None)
    stats = FeedStats(str(path))
    rows: dict[tuple[str, str], list[Any]] = {}
    with bulk():
        _collect(read(path, fmt, default_conf=confidence, stats=stats), rows, stats, now, default_exp,
                 max_indicators)
    latest_expired = stats.latest_expired
    if not rows:
        if stats.skipped.get("expired"):
            raise IntelError(f"{path}: all {stats.skipped['expired']} indicators have expired "
                             f"(the latest on {_iso(latest_expired)})", hint="load a fresher export of the feed")
        raise IntelError(f"{path}: no usable indicator in the file ({stats.format}; skipped: "
                         f"{dict(stats.skipped) or 'nothing'})", hint="check the format with --format")
    if stats.skipped.get("over_limit"):
        log.warning("%s: %d indicators over security.intel_max_indicators=%d were dropped", path,
                    stats.skipped["over_limit"], max_indicators)
    for r in rows.values():
        stats.by_type[r[0]] += 1
    stats.indicators = len(rows)
    meta = {"format": STORE_FORMAT, "name": name, "source": str(path), "feed_format": stats.format,
            "loaded_at": _iso(now), "stats": stats.as_dict(),
            "columns": ["type", "value", "confidence", "expires", "label"]}
    target = Path(intel_dir) / f"{name}.json"
    atomic_write_text(target, json.dumps({**meta, "rows": list(rows.values())}, ensure_ascii=False,
                                         separators=(",", ":")))
    log.info("intel feed %s: %d indicators from %s (%s)", name, len(rows), path, stats.format)
    return {**meta, "path": str(target)}


@dataclass
class FeedProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class OpenedFeeds:
    matcher: IntelMatcher
    feeds: list[dict[str, Any]] = field(default_factory=list)
    problems: list[FeedProblem] = field(default_factory=list)


def _read_store(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntelError(f"{path}: stored feed unreadable ({exc})", hint="load the feed again") from None
    if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT or not isinstance(doc.get("rows"), list):
        raise IntelError(f"{path}: stored feed of an unknown format version {doc.get('format')!r}"
                         if isinstance(doc, dict) else f"{path}: stored feed is not a JSON object",
                         hint="load the feed again with `iocwatch security intel load`")
    return doc


def list_feeds(intel_dir: str | Path, now: float | None = None) -> list[dict[str, Any]]:
    """Every stored feed: name, source, format, when loaded, indicators by type, how many expired since."""
    now = time.time() if now is None else now
    out = []
    for path in sorted(Path(intel_dir).glob("*.json")):
        try:
            doc = _read_store(path)
        except IntelError as exc:
            out.append({"name": path.stem, "error": exc.message})
            continue
        expired = sum(1 for r in doc["rows"] if r[3] is not None and r[3] <= now)
        out.append({"name": doc["name"], "source": doc["source"], "feed_format": doc["feed_format"],
                    "loaded_at": doc["loaded_at"], "indicators": len(doc["rows"]), "expired_now": expired,
                    "by_type": doc["stats"].get("by_type", {}), "skipped": doc["stats"].get("skipped", {})})
    return out


def open_matcher(intel_dir: str | Path, *, min_confidence: int = 0, now: float | None = None) -> OpenedFeeds:
    """A matcher over every stored feed's live indicators; unreadable or expired feeds are reported and skipped."""
    now = time.time() if now is None else now
    opened = OpenedFeeds(IntelMatcher())
    folder = Path(intel_dir)
    if not folder.is_dir():
        return opened
    for path in sorted(folder.glob("*.json")):
        try:
            with bulk():
                doc = _read_store(path)
        except IntelError as exc:
            opened.problems.append(FeedProblem(str(path), exc.message))
            continue
        name = str(doc.get("name") or path.stem)
        live = [r for r in doc["rows"] if (r[3] is None or r[3] > now) and r[2] >= min_confidence]
        if not live:
            opened.problems.append(FeedProblem(str(path), f"feed {name}: every indicator has expired or is under "
                                                          f"security.intel_min_confidence; load a fresher export"))
            continue
        with bulk():
            opened.matcher.add_rows(name, live)
        opened.feeds.append({"name": name, "indicators": len(live), "expired": len(doc["rows"]) - len(live)})
    for p in opened.problems:
        log.warning("intel: %s", p)
    return opened


_CACHE: dict[tuple, OpenedFeeds] = {}


def open_cached(intel_dir: str | Path, *, min_confidence: int = 0) -> OpenedFeeds:
    """:func:`open_matcher`, reused while no feed file changes (expiry is re-checked every hour)."""
    folder = Path(intel_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.json"))) \
        if folder.is_dir() else ()
    key = (str(folder), stamp, min_confidence, int(time.time() // 3600))
    hit = _CACHE.get(key)
    if hit is None:
        _CACHE.clear()
        hit = _CACHE[key] = open_matcher(folder, min_confidence=min_confidence)
    return hit
