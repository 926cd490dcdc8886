"""A durable on-disk spool in front of the store, so nothing analysed is lost while it is down.

Every batch handed to :meth:`SpooledStore.upsert_many` is first written to a SQLite
database in WAL mode with ``synchronous=FULL`` (the commit returns only after the
write-ahead log is fsynced), with a CRC-32 of its payload. Only then is the batch
*acknowledged*: from that moment a crash, a ``SIGKILL`` or a store outage cannot lose
it. The spool is then replayed into the store oldest batch first; a batch leaves the
spool only after the store accepted it. When the store raises
:class:`core.errors.StoreUnavailableError` (or a connection error), batches stay
spooled and the next call (after a back-off) replays them in order.

Exactly-once arrival comes from the deterministic document ids: a batch written to
the store just before a crash is replayed once more, and the upsert replaces the
same documents instead of adding copies.

A spool that cannot be written (disk full, size limit reached) raises
:class:`SpoolFullError` loudly; the caller's batch is then *not* acknowledged, and
every batch acknowledged earlier is still on disk.

Layout: ``<data_dir>/spool/<name>.sqlite`` (plus SQLite's ``-wal``/``-shm`` files).
Tables: ``pending(seq, kind, n, crc, payload, created_at)`` (payload is zlib-compressed
JSON: a list of stored-form documents) and ``dead(seq, kind, doc_id, reason, doc,
at)`` for documents the store rejected on replay or whose checksum failed.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import OperationsError, StoreError, StoreUnavailableError
from core.settings import Settings
from core.state import StateWriteError, atomic_write_text
from index.base import BulkResult, Doc, SearchResult, Store, validate_batch

log = logging.getLogger(__name__)

# Errors that mean "the store is not reachable now; keep the batch and retry later".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (StoreUnavailableError, ConnectionError,
                                                        TimeoutError)


class SpoolError(OperationsError):
    """The spool database cannot be read or written."""


class SpoolFullError(SpoolError):
    """The spool cannot take more data (disk full or its size limit reached)."""


@dataclass
class SpoolResult(BulkResult):
    """A :class:`BulkResult` plus the ids acknowledged but still waiting for the store."""

    pending: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        """Documents now safe: in the store or durably spooled."""
        return len(self.stored) + len(self.pending)


@dataclass
class ReplayResult:
    """What one replay did."""

    batches: int = 0  # batches that left the spool
    stored: list[str] = field(default_factory=list)
    rejected: list[tuple[str | None, str]] = field(default_factory=list)
    corrupt: int = 0  # batches whose checksum failed (moved to the dead table)
    unavailable: str | None = None  # why replay stopped early, if it did
    remaining: int = 0  # batches still spooled afterwards


_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    crc INTEGER NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER,
    kind TEXT,
    doc_id TEXT,
    reason TEXT NOT NULL,
    doc BLOB,
    at REAL NOT NULL
);
"""


def _is_read_only(exc: BaseException) -> bool:
    return ("readonly" in str(exc).lower() or "read-only" in str(exc).lower()
            or getattr(exc, "errno", None) == errno.EROFS
            or getattr(exc, "sqlite_errorcode", None) == 8)  # SQLITE_READONLY


def _read_only_dir(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_error(path: Path, exc: BaseException | None, docs: int | None = None) -> SpoolError:
    lost = f"; {docs} documents were not accepted" if docs is not None else ""
    return SpoolError(f"the spool's file system is read-only{lost}" + (f" ({exc})" if exc else ""),
                      where=str(path),
                      hint="make the data directory writable (remount it read-write) and run again; "
                           "batches spooled before are kept")


def _is_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("full" in text or "no space" in text or "too large" in text
            or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
            or getattr(exc, "sqlite_errorcode", None) == 13)  # SQLITE_FULL


class Spool:
    """An ordered, durable queue of document batches (one SQLite file, WAL, fsync per commit).

    Args:
        path: the database file; its folder is created.
        max_bytes: refuse new batches once the spool files reach this size (0 = no limit).
        min_free_bytes: refuse new batches when the file system has less free space.

    Several processes may share one spool file: SQLite serialises writers, and
    :meth:`replay` takes an advisory lock so only one process replays at a time.
    """

    def __init__(self, path: Path | str, *, max_bytes: int = 0, min_free_bytes: int = 0):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if _read_only_dir(self.path.parent):
                raise _read_only_error(self.path, None)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                       check_same_thread=False)
            # Never map the database file into memory: a disk that fills up or turns read-only
            # under a mapping kills the process with SIGBUS instead of returning an error.
            self._db.execute("PRAGMA mmap_size=0")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # fsync the WAL on every commit
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            if _is_read_only(exc):
                raise _read_only_error(self.path, exc) from exc
            if _is_full(exc):
                raise SpoolFullError(f"cannot create the spool: {exc}", where=str(self.path),
                                     hint="free disk space in the data directory") from exc
            raise SpoolError(f"cannot open the spool: {exc}", where=str(self.path),
                             hint="check the data directory's permissions, or move the damaged "
                                  "file aside (its batches are then lost)") from exc
        self._replay_lock_path = self.path.with_suffix(".replay.lock")
        self._mark_path = self.path.with_suffix(".acked")
        self._mark = self._read_mark()
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'pending'").fetchone()
        if self._mark and (row is None or row[0] < self._mark):
            # The database was recreated (e.g. deleted by hand): an old mark would hide batches.
            log.warning("spool %s is newer than its replay mark; the mark is reset", self.path)
            self._mark_path.unlink()
            self._mark = 0

    # -- the replay mark: every batch with seq <= mark has reached the store --------------
    def _read_mark(self) -> int:
        try:
            return int(self._mark_path.read_text().strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError as exc:
            raise SpoolError(f"unreadable replay mark: {exc}", where=str(self._mark_path),
                             hint="delete the file: batches are then replayed again, harmlessly"
                             ) from exc

    def _write_mark(self, seq: int) -> None:
        """Durably record that batches up to ``seq`` reached the store (one small file, so it
        can still be written on a nearly full disk where SQLite's log cannot grow)."""
        atomic_write_text(self._mark_path, str(seq))
        self._mark = seq

    # -- writing ---------------------------------------------------------------------
    def size_bytes(self) -> int:
        """Bytes used by the spool's files (database and write-ahead log)."""
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

    def append(self, kind: str, docs: list[dict[str, Any]]) -> int:
        """Make a batch durable and return its sequence number (the acknowledgement).

        Raises :class:`SpoolFullError` when the disk or the size limit is reached;
        the batch is then not acknowledged and nothing spooled earlier is touched.
        """
        payload = zlib.compress(json.dumps(docs, ensure_ascii=False, separators=(",", ":"))
                                .encode("utf-8"), 1)
        if self.max_bytes and self.size_bytes() + len(payload) > self.max_bytes:
            raise SpoolFullError(
                f"spool is at its size limit ({self.max_bytes} bytes); {len(docs)} documents "
                "were not accepted", where=str(self.path),
                hint="bring the store back so the spool drains, or raise serve.spool_max_mb")
        if self.min_free_bytes:
            free = shutil.disk_usage(self.path.parent).free
            if free - len(payload) < self.min_free_bytes:
                raise SpoolFullError(
                    f"only {free} bytes free on the spool's file system; {len(docs)} documents "
                    "were not accepted", where=str(self.path),
                    hint="free disk space or lower serve.spool_min_free_mb")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.execute(
                    "INSERT INTO pending(kind, n, crc, payload, created_at) VALUES (?,?,?,?,?)",
                    (kind, len(docs), zlib.crc32(payload), payload, time.time()))
                self._db.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                self._rollback()
                if _is_read_only(exc):
                    raise _read_only_error(self.path, exc, len(docs)) from exc
                if _is_full(exc):
                    raise SpoolFullError(
                        f"disk full while spooling {len(docs)} documents: {exc}",
                        where=str(self.path),
                        hint="free disk space; batches spooled before this one are kept") from exc
                raise SpoolError(f"cannot write to the spool: {exc}", where=str(self.path),
                                 hint="check the disk and the data directory") from exc
            return int(cur.lastrowid)

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:  # no transaction was open
            log.debug("spool rollback: %s", exc)

    # -- reading ---------------------------------------------------------------------
    def pending_batches(self) -> int:
        with self._lock:
            self._mark = self._read_mark()
            return int(self._db.execute("SELECT count(*) FROM pending WHERE seq > ?",
                                        (self._mark,)).fetchone()[0])

    def pending_docs(self) -> int:
        with self._lock:
            self._mark = self._read_mark()
            return int(self._db.execute("SELECT coalesce(sum(n), 0) FROM pending WHERE seq > ?",
                                        (self._mark,)).fetchone()[0])

    def dead_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM dead").fetchone()[0])

    def dead(self, limit: int = 100) -> list[dict[str, Any]]:
        """Documents that will never reach the store, with the reason."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, doc_id, reason, at FROM dead ORDER BY id LIMIT ?", (limit,))
            return [dict(zip(("seq", "kind", "doc_id", "reason", "at"), r, strict=True))
                    for r in rows]

    def is_pending(self, seq: int) -> bool:
        """Whether batch ``seq`` still waits for the store."""
        with self._lock:
            self._mark = self._read_mark()
            return seq > self._mark and self._db.execute(
                "SELECT 1 FROM pending WHERE seq = ?", (seq,)).fetchone() is not None

    def dead_reasons(self, seq: int) -> dict[str, str]:
        """``{doc_id: reason}`` for documents of batch ``seq`` the store rejected."""
        with self._lock:
            return {i: r for i, r in self._db.execute(
                "SELECT doc_id, reason FROM dead WHERE seq = ? AND doc_id IS NOT NULL", (seq,))}

    def _oldest(self, limit: int) -> list[tuple[int, str, int, bytes]]:
        with self._lock:
            return list(self._db.execute(
                "SELECT seq, kind, crc, CAST(payload AS BLOB) FROM pending WHERE seq > ? "
                "ORDER BY seq LIMIT ?", (self._mark, limit)))

    def _finish(self, seqs: list[int], dead: list[tuple[int, str, str | None, str, bytes | None]]
                ) -> None:
        """Mark replayed batches done: first move the replay mark (one tiny file, which still
        fits on a nearly full disk), then remove the rows and record dead documents."""
        last = max(seqs)
        try:
            self._write_mark(last)
        except (OSError, StateWriteError) as exc:
            # Nothing recorded: the batches stay pending and are replayed again (idempotent).
            raise SpoolError(f"cannot record replayed batches: {exc}", where=str(self.path),
                             hint="free disk space; the batches will be replayed again") from exc
        if dead and not self._has_room():
            for _seq, kind, doc_id, reason, _doc in dead:
                log.error("dead %s document %s (not kept in the spool, disk full): %s",
                          kind, doc_id, reason)
            return
        now = time.time()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO dead(seq, kind, doc_id, reason, doc, at) VALUES (?,?,?,?,?,?)",
                    [(s, k, i, r, d, now) for s, k, i, r, d in dead])
                if self._has_room():
                    self._db.execute("DELETE FROM pending WHERE seq <= ?", (last,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                log.warning("spool compaction deferred (%s)", exc)
                for _seq, kind, doc_id, reason, _doc in dead:
                    log.error("dead %s document %s (not kept in the spool): %s", kind, doc_id,
                              reason)

    def _has_room(self) -> bool:
        """Whether rewriting spool pages is safe: a failed SQLite transaction still grows the
        write-ahead log, so on a nearly full disk only the replay mark moves."""
        return shutil.disk_usage(self.path.parent).free >= max(self.min_free_bytes, 1 << 20)

    def compact(self) -> None:
        """Give disk space back once the spool is empty (best effort)."""
        if not self._has_room():
            log.info("spool compaction deferred: little free disk space")
            return
        with self._lock:
            try:
                self._db.execute("DELETE FROM pending WHERE seq <= ?", (self._mark,))
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("spool compaction failed (%s); retried later", exc)

    def replay(self, write: Callable[[str, list[dict[str, Any]]], BulkResult], *,
               chunk: int = 1000, max_batches: int | None = None) -> ReplayResult:
        """Send spooled batches to ``write(kind, docs)`` oldest first, removing each once written.

        Consecutive batches of one kind are merged up to ``chunk`` documents. Stops at
        the first unavailable error (the batch stays spooled); other store errors
        propagate and leave the batch spooled too.
        """
        out = ReplayResult()
        self._replay_lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._replay_lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._replay_locked(write, chunk, max_batches, out)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        out.remaining = self.pending_batches()
        if out.batches and not out.remaining:
            self.compact()
        return out

    def _replay_locked(self, write: Callable[[str, list[dict[str, Any]]], BulkResult],
                       chunk: int, max_batches: int | None, out: ReplayResult) -> None:
        while max_batches is None or out.batches < max_batches:
            rows = self._oldest(64)
            if not rows:
                return
            group: list[int] = []
            docs: list[dict[str, Any]] = []
            seq_of: dict[str | None, int] = {}
            kind = rows[0][1]
            corrupt: list[tuple[int, str, str | None, str, bytes | None]] = []
            for seq, row_kind, crc, payload in rows:
                if row_kind != kind or (docs and len(docs) >= chunk):
                    break
                if max_batches is not None and out.batches + len(group) >= max_batches:
                    break
                if zlib.crc32(payload) != crc:
                    log.error("spool batch %s failed its checksum; moved to the dead table", seq)
                    corrupt.append((seq, row_kind, None, "checksum mismatch", payload))
                    group.append(seq)
                    out.corrupt += 1
                    continue
                try:
                    batch = json.loads(zlib.decompress(payload))
                    docs.extend(batch)
                    seq_of.update((d.get("id"), seq) for d in batch)
                except (zlib.error, ValueError) as exc:
                    corrupt.append((seq, row_kind, None, f"undecodable: {exc}", payload))
                    out.corrupt += 1
                group.append(seq)
            dead = list(corrupt)
            if docs:
                try:
                    result = write(kind, docs)
                except UNAVAILABLE_ERRORS as exc:
                    out.unavailable = str(exc) or type(exc).__name__
                    return
                out.stored.extend(result.stored)
                out.rejected.extend(result.rejected)
                by_id = {d.get("id"): d for d in docs}
                for doc_id, reason in result.rejected:
                    doc = by_id.get(doc_id)
                    dead.append((seq_of.get(doc_id, group[0]), kind, doc_id, reason,
                                 json.dumps(doc, ensure_ascii=False).encode() if doc else None))
                    log.error("store rejected spooled document %s: %s", doc_id, reason)
            self._finish(group, dead)
            out.batches += len(group)

    def close(self) -> None:
        with self._lock:
            if self._has_room():
                try:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:  # the WAL stays and is read next time
                    log.warning("spool checkpoint failed (%s); the write-ahead log is kept", exc)
            self._db.close()


class SpooledStore:
    """A :class:`index.base.Store` whose writes go through a :class:`Spool` first.

    ``upsert_many`` validates, spools (the acknowledgement), then replays the spool
    in order. While the store is unavailable, batches accumulate and replay is
    retried with exponential back-off (``retry_s`` doubling up to ``retry_max_s``);
    :meth:`flush` with ``force=True`` retries at once. Reads go straight to the store.

    Args:
        store: an open store, or a zero-argument factory called (again) until it opens.
        spool: the spool to write through.
    """

    def __init__(self, store: Store | Callable[[], Store], spool: Spool, *, retry_s: float = 2.0,
                 retry_max_s: float = 300.0, chunk: int = 1000,
                 clock: Callable[[], float] = time.monotonic,
                 on_drained: Callable[[], Any] | None = None):
        if callable(store) and not isinstance(store, Store):
            self._factory: Callable[[], Store] | None = store
            self._store: Store | None = None
        else:
            self._factory = None
            self._store = store  # type: ignore[assignment]
        self.spool = spool
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self.chunk = chunk
        self._clock = clock
        self._next_try = 0.0
        self._delay = retry_s
        self.down_reason: str | None = None
        self.on_drained = on_drained  # called when a replay empties the spool

    # -- the store behind ---------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The underlying store, opened on demand; raises StoreUnavailableError if it cannot be."""
        if self._store is None:
            assert self._factory is not None
            self._store = self._factory()
        return self._store

    def _write(self, kind: str, docs: list[dict[str, Any]]) -> BulkResult:
        try:
            store = self.store
        except UNAVAILABLE_ERRORS:
            raise
        except OSError as exc:  # network errors from a client that does not wrap them
            raise StoreUnavailableError(str(exc)) from exc
        try:
            if kind == "alerts":
                docs = keep_triage(store, docs)
            elif kind == "posts":  # a re-crawled post keeps its operators' labels
                from index.corrections import keep_human_labels

                docs = keep_human_labels(store, docs)
            return store.upsert_many(kind, docs)
        except OSError as exc:
            raise StoreUnavailableError(str(exc)) from exc

    @property
    def available(self) -> bool:
        return self.down_reason is None

    # -- writes ----------------------------------------------------------------------
    def upsert_many(self, kind: str, docs: Iterable[Doc], *, raise_on_error: bool = False
                    ) -> SpoolResult:
        """Validate, make durable, then deliver (now or later, in order). Same contract as
        :meth:`index.base.Store.upsert_many`; ids not yet in the store are in ``pending``."""
        valid, rejected = validate_batch(kind, docs, raise_on_error=raise_on_error)
        result = SpoolResult(rejected=rejected)
        if not valid:
            return result
        chunks = [valid[i:i + self.chunk] for i in range(0, len(valid), self.chunk)]
        seqs = [self.spool.append(kind, chunk) for chunk in chunks]
        self.flush()
        # Another thread or process may have replayed these batches: ask the spool, not the
        # replay this call happened to do.
        for seq, chunk in zip(seqs, chunks, strict=True):
            if self.spool.is_pending(seq):
                result.pending.extend(d["id"] for d in chunk)
                continue
            dead = self.spool.dead_reasons(seq)
            for doc in chunk:
                if doc["id"] in dead:
                    result.rejected.append((doc["id"], dead[doc["id"]]))
                else:
                    result.stored.append(doc["id"])
        return result

    def flush(self, *, force: bool = False) -> ReplayResult:
        """Replay the spool into the store unless in back-off (``force`` ignores back-off)."""
        if not force and self.down_reason is not None and self._clock() < self._next_try:
            return ReplayResult(unavailable=self.down_reason,
                                remaining=self.spool.pending_batches())
        out = self.spool.replay(self._write, chunk=self.chunk)
        if out.unavailable is not None:
            if self.down_reason is None:
                log.warning("store unavailable (%s); %d batch(es) kept in the spool at %s",
                            out.unavailable, out.remaining, self.spool.path)
            self.down_reason = out.unavailable
            self._next_try = self._clock() + self._delay
            self._delay = min(self._delay * 2, self.retry_max_s)
            if self._factory is not None:
                self._drop_store()
        else:
            if self.down_reason is not None:
                log.warning("store is back; replayed %d batch(es) from the spool", out.batches)
            self.down_reason = None
            self._delay = self.retry_s
            if out.batches and not out.remaining and self.on_drained is not None:
                self.on_drained()
        return out

    def _drop_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except (StoreError, OSError) as exc:
                log.debug("closing the unavailable store: %s", exc)

    # -- reads and the rest of the contract: straight to the store ---------------------------
    def search(self, kind: str, query: dict[str, Any] | None = None, **kw: Any) -> SearchResult:
        return self.store.search(kind, query, **kw)

    def aggregate(self, kind: str, query: dict[str, Any] | None, aggs: dict[str, Any]
                  ) -> dict[str, Any]:
        return self.store.aggregate(kind, query, aggs)

    def count(self, kind: str, query: dict[str, Any] | None = None) -> int:
        return self.store.count(kind, query)

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """The stored document. For ``alerts`` while the store is down: ``None`` (callers treat
        the alert as new; its triage state is merged back when the spool replays it)."""
        if kind != "alerts":
            return self.store.get(kind, doc_id)
        if self.down_reason is not None and self._clock() < self._next_try:
            return None
        try:
            return self.store.get(kind, doc_id)
        except UNAVAILABLE_ERRORS as exc:
            log.warning("store unavailable while reading alert %s (%s); triage is merged on "
                        "replay", doc_id, exc)
            return None

    def update(self, kind: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.store.update(kind, doc_id, fields)

    def delete_all(self, kind: str) -> None:
        self.store.delete_all(kind)

    def close(self) -> None:
        """Try a last replay, then close the spool and the store."""
        if self.spool.pending_batches():
            try:
                self.flush(force=True)
            except StoreError as exc:
                log.warning("last replay before closing failed: %s", exc)
        self.spool.close()
        if self._store is not None:
            self._store.close()


def keep_triage(store: Store, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts about to be written keep what people did to the stored copy meanwhile.

    Status, assignee, close reason and history come from the stored alert; the window
    widens (``first_seen`` min, ``last_seen`` max); ``count`` and ``risk_score`` never
    shrink. Idempotent, so a batch replayed twice gives the same result.
    """
    out = []
    for doc in docs:
        old = store.get("alerts", doc["id"])
        if old is None:
            out.append(doc)
            continue
        new = dict(doc)
        for key in ("status", "assignee", "close_reason", "history"):
            if key in old:
                new[key] = old[key]
        for key, pick in (("first_seen", min), ("last_seen", max)):
            if old.get(key) and new.get(key):
                new[key] = pick(old[key], new[key], key=_ts)
        new["count"] = max(int(old.get("count") or 1), int(new.get("count") or 1))
        if float(old.get("risk_score") or 0) > float(new.get("risk_score") or 0):
            new["risk_score"], new["severity"] = old["risk_score"], old.get("severity")
        out.append(new)
    return out


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def open_spool(settings: Settings, name: str = "ingest") -> Spool:
    """The spool ``<data_dir>/spool/<name>.sqlite`` with the limits from ``settings.serve``."""
    serve = settings.serve
    return Spool(settings.path("spool", f"{name}.sqlite"),
                 max_bytes=int(getattr(serve, "spool_max_mb", 0) * 1024 * 1024),
                 min_free_bytes=int(getattr(serve, "spool_min_free_mb", 0) * 1024 * 1024))


def open_spooled_store(settings: Settings, name: str = "ingest") -> SpooledStore:
    """The configured store behind a spool; the store is opened lazily (and reopened after an
    outage), so the service starts and spools even while the store is down."""
    from core.status import mark_replayed
    from index.base import open_store

    serve = settings.serve
    return SpooledStore(lambda: open_store(settings), open_spool(settings, name),
                        retry_s=float(getattr(serve, "spool_retry_s", 2.0)),
                        retry_max_s=float(getattr(serve, "spool_retry_max_s", 300.0)),
                        chunk=settings.index.bulk_chunk,
                        on_drained=lambda: mark_replayed(settings.data_dir, name))


def spool_status(settings: Settings) -> dict[str, Any]:
    """Pending batches/documents and dead documents per spool file (for ``serve --status``)."""
    out: dict[str, Any] = {}
    folder = settings.path("spool")
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.sqlite")):
        spool = Spool(path)
        try:
            out[path.stem] = {"pending_batches": spool.pending_batches(),
                              "pending_docs": spool.pending_docs(), "dead": spool.dead_count(),
                              "bytes": spool.size_bytes()}
        finally:
            spool.close()
    return out


__all__ = ["ReplayResult", "Spool", "SpoolError", "SpoolFullError", "SpoolResult", "SpooledStore",
           "open_spool", "open_spooled_store", "spool_status"]
