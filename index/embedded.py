"""The embedded store: tantivy indices under ``<data_dir>/index``; no server.

Each kind is split into monthly shards by its time field (``index/posts/2026-10/``,
documents without a time in ``undated/``), as Elasticsearch deployments split into
time-based indices: a time filter that covers a whole month is dropped for that shard
and months outside it are not searched at all, so a dashboard's "last 90 days" does
not filter a million documents one by one. Shards are searched side by side and their
answers merged.

Full-text fields are indexed twice: folded (lower-case, diacritics and đ removed) under
their own name and lower-cased with diacritics under ``<name>__exact``. Keywords are
raw fast fields, dates are epoch seconds in fast columns, and the whole document is
kept as JSON in the stored ``src`` field. One process writes at a time (tantivy's
lock); others wait for it and searches reload to see new commits.
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import logging
import os
import re
import threading
import time
import typing
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tantivy
from pydantic import BaseModel

from core.documents import Alert, Post
from core.errors import CorruptIndexError, QuerySyntaxError, StoreError, StoreUnavailableError, ValidationFailed
from core.settings import Settings
from index.base import KINDS, BulkResult, Doc, Hit, SearchResult, as_doc, register_store
from index.datemath import interval_seconds, parse_date, tz_offset_seconds
from index.fields import FIELDS, TIME_FIELD, get_path
from index.highlight import WORD, fold_text
from index.highlight import highlight as make_highlight

log = logging.getLogger(__name__)

SCHEMA_VERSION = 9  # 9: place_names and place_areas on posts
# Multi-valued keyword fields whose terms aggregations are hot on the dashboard. tantivy
# aggregates a dense single-valued column an order of magnitude faster than a multi-valued
# one, so each document's set of values is also indexed as one value (``topics__set`` =
# "health␟traffic"); a terms aggregation counts the sets and adds them up per member, and
# goes back to the multi-valued column when there are more distinct sets than SET_LIMIT.
SET_FIELDS: dict[str, tuple[str, ...]] = {
    "posts": ("topics", "places", "watchlists"),
    "alerts": ("event.category",),
}
# Keyword fields that identify one document (lookups only): a fast column of a million
# unique strings costs ingest time and memory and no chart needs it.
LOOKUP_ONLY: dict[str, frozenset[str]] = {
    "posts": frozenset({"id", "url", "fingerprint", "parent_id", "duplicate_of"}),
    "alerts": frozenset(),
}
SET_SEP = "\x1f"
SET_LIMIT = 5_000
MISSING = "\x00"  # the terms key of documents without the field, where that is needed
MODELS: dict[str, type[Post] | type[Alert]] = {"posts": Post, "alerts": Alert}
DAY_TERMS_MAX = 10  # a partial month's range is narrowed by day terms up to this many days
CARDINALITY_LIMIT = 65_000  # distinct values counted exactly
UNDATED = "undated"  # the shard of documents without a time
# Documents per commit inside one bulk load or upsert_many call. Every commit writes a
# segment per month touched, and tantivy merges segments once a month holds about eight:
# loading 1,000,000 posts in one call took 73-77 µs of CPU per post committing every
# 100,000 and 62-63 µs every 500,000 (5 Dec 2026): the difference is merging. A crash
# loses at most this many documents of a load, and loads are idempotent.
COMMIT_EVERY = 500_000
CHUNK = 5_000  # documents checked for existing ids at once
# Optional phrase clauses that only raise scores (the search box's "words together"
# boost) are applied to the best RESCORE_WINDOW hits, as Elasticsearch's rescore does:
# a phrase query over every match took a ranked search at 1M posts from 34 to 85-106 ms p95.
RESCORE_WINDOW = 50
EXACT_CACHE_IDS = 500_000  # ids of checked exact matches kept per month shard until its next commit
LOCK_WAIT_S = 30.0  # how long a writer waits for another process's lock
WRITER_IDLE_S = 2.0  # an idle writer is closed after this, freeing the lock for other processes


_CHECKING = threading.Lock()  # exact matches are checked one month at a time (see _Shard.exact_ids)
_OPEN: weakref.WeakSet[_Shard] = weakref.WeakSet()


@atexit.register
def _release_all() -> None:
    for shard in list(_OPEN):
        shard.release_writer()


def _analyzers() -> dict[str, Any]:
    base = lambda: tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(  # noqa: E731
        tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    return {"vi_fold": base().filter(tantivy.Filter.ascii_fold()).build(), "vi_exact": base().build()}


def tname(name: str) -> str:
    """The tantivy field name of a stored field name (``source.ip`` → ``source__ip``)."""
    return name.replace("@", "at_").replace(".", "__")


def shard_bounds(name: str) -> tuple[int, int] | None:
    """Epoch seconds ``[start, end)`` of a monthly shard; ``None`` for ``undated``."""
    if name == UNDATED:
        return None
    year, month = int(name[:4]), int(name[5:7])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def _leaf_annotation(model: type[BaseModel], name: str) -> Any:
    """The annotation of the model field at a stored (alias or dotted) name, ``None`` if unknown."""
    by_alias = {(f.alias or n): n for n, f in model.model_fields.items()}
    parts = [by_alias[name]] if name in by_alias else name.split(".")
    current: Any = model
    annotation: Any = None
    for part in parts:
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(
            current, BaseModel) else None
        if field is None:
            return None
        annotation = field.annotation
        current = next((a for a in (*typing.get_args(annotation), annotation)
                        if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return annotation


def _holds_list(model: type[BaseModel], name: str) -> bool:
    """Whether the model field at a stored (alias or dotted) name may hold several values."""
    annotation = _leaf_annotation(model, name)
    if annotation is None:
        return True
    return any(typing.get_origin(a) in (list, set, frozenset, tuple) or a in (list, set, frozenset, tuple)
               for a in (annotation, *typing.get_args(annotation)))


def _plain_str(annotation: Any) -> bool:
    """Whether values of this (possibly optional) annotation are always plain ``str``."""
    if typing.get_origin(annotation) is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) in (list, set, frozenset, tuple, dict):
        return False
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return all(a is str or (typing.get_origin(a) is typing.Literal
                            and all(isinstance(v, str) for v in typing.get_args(a))) for a in args)


def _flat_strings(model: type[BaseModel]) -> frozenset[str]:
    """Stored names of the string fields that come, in the stored JSON, before any nested
    object (the fields ``_raw_value`` may read without parsing)."""
    out = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = (annotation, *typing.get_args(annotation))
        if any(isinstance(a, type) and issubclass(a, BaseModel) for a in args) or any(
                any(isinstance(b, type) and issubclass(b, BaseModel) for b in typing.get_args(a)) for a in args):
            break  # a nested object (or a list of them) from here on
        if _plain_str(annotation):
            out.add(field.alias or name)
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def _shard_of_day(day: int) -> str:
    moment = datetime.fromtimestamp(day * 86400, UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def _is_shard_name(name: str) -> bool:
    if name == UNDATED:
        return True
    return len(name) == 7 and name[4] == "-" and name[:4].isdigit() and name[5:].isdigit() and 1 <= int(name[5:]) <= 12


class _Shard:
    """One month of one kind: a tantivy index and, while writing, its writer."""

    def __init__(self, kind: _KindIndex, name: str):
        self.kind = kind
        self.name = name
        self.path = kind.path / name
        self.bounds = shard_bounds(name)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(kind.schema, path=str(self.path), reuse=True)
        except (ValueError, OSError) as exc:
            raise CorruptIndexError(
                f"cannot open the {kind.kind} index: {exc}", where=str(self.path),
                hint="move the folder aside and run `iocwatch index rebuild --from-dir <old folder>`, "
                     "or reload your exports with `iocwatch index load`") from None
        for tokenizer, analyzer in kind.analyzers.items():
            self.index.register_tokenizer(tokenizer, analyzer)
        self.writer: tantivy.IndexWriter | None = None
        self.timer: threading.Timer | None = None
        self._searcher: tantivy.Searcher | None = None
        self._seen: tuple[int, ...] | None = None
        self.stale = True
        self._exact: dict[Any, tuple[frozenset[str], frozenset[str]]] = {}  # checked exact matches, this searcher
        self._exact_lock = threading.Lock()
        _OPEN.add(self)

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the latest commit, reloaded only when a commit happened since.

        Reloading costs about half a millisecond per shard, more than many queries. This
        process's own commits mark the shard stale; another process's show as a new
        ``meta.json`` (tantivy replaces it atomically on every commit).
        """
        try:
            st = os.stat(self.path / "meta.json")
            key: tuple[int, ...] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        if self._searcher is None or key != self._seen or self.stale:
            self.stale = False
            self.index.reload()
            self._searcher, self._seen = self.index.searcher(), key
            self._exact = {}
        return self._searcher

    def exact_ids(self, key: Any, candidates: tantivy.Query, words: list[str], any_word: bool,
                  keep: Callable[[str], bool]) -> tuple[frozenset[str], frozenset[str]]:
        """(kept, dropped): ids of the documents matching ``candidates``, split by ``keep``
        (given the stored JSON). A document whose stored JSON, lower-cased, does not
        contain the words (any of them with ``any_word``) is dropped without looking further.
        """
        searcher = self.searcher()
        with self._exact_lock:
            found = self._exact.get(key)
        if found is not None:
            return found
        total = searcher.search(candidates, 1, count=True).count
        kept, dropped = set(), set()
        test = any if any_word else all
        hits = searcher.search(candidates, total).hits if total else []
        # One month checks at a time: this is Python work, and months checked side by
        # side only pass the GIL back and forth (twice as slow on two cores).
        with _CHECKING:
            # in storage order: neighbours share the compressed block the store reads
            for address in sorted((a for _, a in hits), key=lambda a: (a.segment_ord, a.doc)):
                raw = searcher.doc(address).get_first("src").decode()
                low = raw.lower()
                (kept if test(w in low for w in words) and keep(raw) else dropped).add(_raw_value(raw, "id"))
        found = frozenset(kept), frozenset(dropped)
        with self._exact_lock:
            # bounded by ids held (a common word over a big month is 100,000 of them)
            if sum(len(a) + len(b) for a, b in self._exact.values()) + len(kept) + len(dropped) > EXACT_CACHE_IDS:
                self._exact.clear()
            self._exact[key] = found
        return found

    def open_writer(self, heap: int) -> tantivy.IndexWriter:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.writer is not None:
            return self.writer
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                # One indexing thread per shard: a bulk load spreads over several months (so
                # several threads), and the caller converting documents is the second core's
                # work when it does not; one thread also gets the whole heap, so segments are
                # larger and fewer merges follow.
                self.writer = self.index.writer(heap_size=heap, num_threads=1)
                return self.writer
            except ValueError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"cannot open a writer on the {self.kind.kind} index: {exc}", where=str(self.path),
                        hint="another iocwatch process is writing; it will be retried") from None
                time.sleep(0.2)

    def release_later(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = threading.Timer(WRITER_IDLE_S, self.release_writer)
        self.timer.daemon = True
        self.timer.start()

    def release_writer(self) -> None:
        """Close the writer (waiting for its merges) so another process may write."""
        with self.kind.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.writer is not None:
                writer, self.writer = self.writer, None
                writer.wait_merging_threads()


class _KindIndex:
    """The shards of one kind, their common schema and analysers."""

    def __init__(self, kind: str, path: Path, *, exact_copies: bool = False):
        self.kind = kind
        self.path = path
        self.exact_copies = exact_copies  # <field>__exact: text fields lower-cased with their diacritics
        self.fields = FIELDS[kind]
        self.time_field = TIME_FIELD[kind]
        self.analyzers = _analyzers()
        builder = tantivy.SchemaBuilder()
        self.specs: list[tuple[str, str, str]] = []
        for name, ftype in self.fields.items():
            tn = tname(name)
            if ftype == "text":  # without exact copies, exact matches are checked on the stored text
                builder.add_text_field(tn, tokenizer_name="vi_fold")
                if exact_copies:
                    builder.add_text_field(tn + "__exact", tokenizer_name="vi_exact")
            elif ftype == "keyword":
                builder.add_text_field(tn, tokenizer_name="raw", fast=name not in LOOKUP_ONLY[kind])
                if name in SET_FIELDS[kind]:
                    builder.add_text_field(f"{tn}__set", tokenizer_name="raw", fast=True)
            elif ftype in ("date", "long"):  # fast columns answer ranges, sorts and exists: no terms needed
                builder.add_integer_field(tn, fast=True)
                if name == self.time_field:  # the UTC day as a term: see narrow()
                    builder.add_text_field(tn + "__day", tokenizer_name="raw")
            elif ftype == "double":
                builder.add_float_field(tn, fast=True)
            self.specs.append((name, ftype, tn))
        builder.add_bytes_field("src", stored=True)
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        marker = path / "iocwatch-schema.json"
        expected = {"version": SCHEMA_VERSION, "fields": self.fields, "sets": list(SET_FIELDS[kind]),
                    "lookup_only": sorted(LOOKUP_ONLY[kind]), "exact_copies": exact_copies,
                    "shards": "month"}
        if marker.exists():
            try:
                found = json.loads(marker.read_text())
            except ValueError:
                found = None
            if found != expected:
                raise CorruptIndexError(
                    f"the {kind} index was written by another version of iocwatch or with other index "
                    f"settings (index.exact_copies)",
                    where=str(path), hint="run `iocwatch index rebuild` to re-index it with this version")
        if (path / "meta.json").exists():
            raise CorruptIndexError(
                f"the {kind} folder holds an unsharded or unreadable index", where=str(path),
                hint="move the folder aside and run `iocwatch index rebuild --from-dir <old folder>`, "
                     "or reload your exports with `iocwatch index load`")
        if not marker.exists():
            marker.write_text(json.dumps(expected))
        self.to_tantivy = self._compile()
        self.flat_strings = _flat_strings(MODELS[kind])
        self.single = {name for name, ftype in self.fields.items() if ftype == "keyword" and not _holds_list(
            MODELS[kind], name)}
        self.lock = threading.RLock()  # one writing call per kind at a time
        self.shards: dict[str, _Shard] = {}

    def shard(self, name: str) -> _Shard:
        with self.lock:
            if name not in self.shards:
                self.shards[name] = _Shard(self, name)
            return self.shards[name]

    def all_shards(self) -> list[_Shard]:
        """Every shard on disk, oldest month first (another process may have added one)."""
        names = sorted(entry.name for entry in os.scandir(self.path) if entry.is_dir() and _is_shard_name(entry.name))
        return [self.shard(name) for name in names]

    def release_writers(self) -> None:
        for shard in list(self.shards.values()):
            shard.release_writer()

    def _compile(self) -> Callable[[BaseModel], tuple[tantivy.Document, str]]:
        """Generate the model → (tantivy document, shard name) converter for this kind.

        Ingest speed is bound by per-document Python work, so the converter is one
        generated function with plain attribute reads, specialised by each field's type
        (a plain ``str`` is added as it is, a list is looped over, a number is added
        even when 0), instead of a loop over getters.
        """
        model = MODELS[self.kind]
        by_alias = {(f.alias or name): name for name, f in model.model_fields.items()}
        lines = ["def convert(m):", "    d = Document()", "    home = UNDATED"]
        for name, ftype, tn in self.specs:
            path = [by_alias[name]] if name in by_alias else name.split(".")
            if path[0] not in model.model_fields:
                raise StoreError(f"indexed field {name!r} is not on {model.__name__}")
            expr = "m"
            for i, part in enumerate(path):
                expr = f"{expr}.{part}" if i == 0 else f"({expr}.{part} if {expr} is not None else None)"
            lines.append(f"    v = {expr}")
            annotation = _leaf_annotation(model, name)
            many = annotation is not None and _holds_list(model, name)
            inner = annotation  # the type of one value: a list's items
            if many:
                seq = next((a for a in (annotation, *typing.get_args(annotation))
                            if typing.get_origin(a) in (list, set, frozenset, tuple)), None)
                inner = typing.get_args(seq)[0] if seq is not None and typing.get_args(seq) else None
            plain = inner is not None and _plain_str(inner)
            add = {
                "text": f"d.add_text({tn!r}, x)" + (
                    f"; d.add_text({tn + '__exact'!r}, x)" if self.exact_copies else ""),
                "keyword": f"d.add_text({tn!r}, x[:1024])" if plain else f"d.add_text({tn!r}, str(x)[:1024])",
                "date": f"t = int(x.timestamp()); d.add_integer({tn!r}, t)" + (
                    f"; day = t // 86400; d.add_text({tn + '__day'!r}, str(day)); home = shard_of_day(day)"
                    if name == self.time_field else ""),
                "long": f"d.add_integer({tn!r}, int(x))",
                "double": f"d.add_float({tn!r}, float(x))",
            }[ftype]
            if many:  # a list: each value
                lines += ["    if v:", "        for x in v:", "            if x is not None and x != '':",
                          f"                {add}"]
            elif plain:  # one string: the empty one is not indexed
                lines += ["    if v:", "        x = v", f"        {add}"]
            elif annotation is not None:  # one number, date or enum: 0 is indexed
                lines += ["    if v is not None and v != '':", "        x = v", f"        {add}"]
            else:  # unknown: list or value
                lines += [
                    "    if v is not None and v != '':",
                    "        for x in (v if v.__class__ is list else [v]):",
                    "            if x is not None and x != '':",
                    f"                {add}",
                ]
            if name in SET_FIELDS[self.kind]:
                lines += [
                    "    if v:",
                    "        if v.__class__ is list and len(v) == 1 and v[0].__class__ is str and v[0]:",
                    f"            d.add_text({tn + '__set'!r}, v[0][:1024])",
                    "        else:",
                    "            u = sorted({str(x)[:1024] for x in (v if v.__class__ is list else [v])"
                    " if x is not None and x != ''})",
                    "            if u:",
                    f"                d.add_text({tn + '__set'!r}, SEP.join(u))",
                ]
        lines += ["    d.add_bytes('src', to_json(m, by_alias=True))", "    return d, home"]
        namespace: dict[str, Any] = {"Document": tantivy.Document, "SEP": SET_SEP, "UNDATED": UNDATED,
                                     "shard_of_day": _shard_of_day, "to_json": model.__pydantic_serializer__.to_json}
        exec(compile("\n".join(lines), f"<tantivy converter for {self.kind}>", "exec"), namespace)  # noqa: S102
        return namespace["convert"]


class _Load:
    """One writing session on one kind (see :meth:`index.base.Store.bulk`).

    Documents are validated, converted and handed to the writer of their month; the
    writers stay open for the whole session and commit every COMMIT_EVERY documents and
    at its end. Ids count as stored once committed.
    """

    def __init__(self, ix: _KindIndex, heap: int):
        self.ix = ix
        self.heap = heap
        self.model = MODELS[ix.kind]
        self.result = BulkResult()
        self.pending: list[str] = []  # added, not committed yet
        self.seen: dict[str, str] = {}  # id → month, for ids this session added (searchers do not see them yet)
        self.writers: dict[str, tantivy.IndexWriter] = {}
        self.replaced = 0  # documents added that replaced one stored (or added earlier in the session)

    def _validated(self, doc: Doc) -> BaseModel:
        model = self.model
        return doc if isinstance(doc, model) else model.from_doc(
            doc.to_doc() if isinstance(doc, BaseModel) else doc)

    def add(self, docs: Iterable[Doc], *, raise_on_error: bool = False) -> BulkResult:
        """Validate and add a batch; returns its ids (stored once committed) and its rejections."""
        part = BulkResult()
        if raise_on_error:  # validate everything before writing anything
            docs = [self._validated(d) for d in docs]
        # The cyclic collector is paused while a batch is converted: the batch's models are
        # alive anyway, and a full collection walks all of them again and again.
        collect = gc.isenabled()
        gc.disable()
        try:
            chunk: list[BaseModel] = []
            for doc in docs:
                try:
                    chunk.append(self._validated(doc))
                except ValidationFailed as exc:
                    part.rejected.append((exc.doc_id, str(exc)))
                if len(chunk) >= CHUNK or len(self.pending) + len(chunk) >= COMMIT_EVERY:
                    self._flush(chunk, part)
                    chunk = []
                    if len(self.pending) >= COMMIT_EVERY:
                        self.commit()
            self._flush(chunk, part)
        finally:
            if collect:
                gc.enable()
        self.result.rejected.extend(part.rejected)
        return part

    def _writer(self, name: str) -> tantivy.IndexWriter:
        if name not in self.writers:
            self.writers[name] = self.ix.shard(name).open_writer(self.heap)
        return self.writers[name]

    def _flush(self, chunk: list[BaseModel], part: BulkResult) -> None:
        # Deleting by id before every add is the slow part of ingest, so only delete
        # where the id may be stored: the shards whose term dictionary knows it (a
        # document frequency counts deleted copies too, which only costs a spare
        # delete), and the shard this session already put it in.
        stored: dict[str, list[str]] = {}
        ids = {m.id for m in chunk}
        for shard in self.ix.all_shards():
            searcher = shard.searcher()
            if not searcher.num_docs:  # no live document there: nothing to replace
                continue
            freq = searcher.doc_freq
            for doc_id in ids:
                if freq("id", doc_id):
                    stored.setdefault(doc_id, []).append(shard.name)
        convert, seen, writers, pending = self.ix.to_tantivy, self.seen, self.writers, self.pending
        for item in chunk:
            doc_id = item.id
            try:
                tdoc, home = convert(item)
            except (ValueError, TypeError, OverflowError) as exc:
                part.rejected.append((doc_id, f"cannot index: {exc}"))
                continue
            before = seen.get(doc_id)
            if before is not None or doc_id in stored:
                self.replaced += 1
                for name in {*stored.get(doc_id, ()), *([before] if before else [])}:
                    self._writer(name).delete_documents_by_term("id", doc_id)
            (writers.get(home) or self._writer(home)).add_document(tdoc)
            seen[doc_id] = home
            pending.append(doc_id)
            part.stored.append(doc_id)

    def commit(self) -> None:
        # A commit makes each writer's indexing thread finish its queue and write its
        # segment: one month after another left a core idle for a fifth of a bulk
        # load, so the months commit side by side (tantivy releases the GIL).
        if len(self.writers) > 1:
            with ThreadPoolExecutor(max_workers=len(self.writers), thread_name_prefix="iocwatch-commit") as pool:
                list(pool.map(lambda w: w.commit(), self.writers.values()))
        else:
            for w in self.writers.values():
                w.commit()
        for name in self.writers:
            self.ix.shard(name).stale = True
        self.result.stored.extend(self.pending)
        self.pending = []

    def rollback(self) -> None:
        """Drop what was added since the last commit, and the segment files it wrote (on a full
        disk they would otherwise keep it full)."""
        for name, w in self.writers.items():
            try:
                w.rollback()
                w.garbage_collect_files()
            except ValueError as exc:
                log.error("rolling back the %s/%s index writer failed: %s", self.ix.kind, name, exc)
        self.pending = []

    def release(self) -> None:
        for name in self.writers:
            self.ix.shard(name).release_later()


class EmbeddedStore:
    """The default :class:`index.base.Store`: tantivy files under ``<data_dir>/index``."""

    def __init__(self, settings: Settings):
        self.settings = settings  # its data directory holds the corrections journal, too
        self.root = settings.path("index")
        # The writer memory is shared by the shards written at the same time (a bulk load
        # of old posts touches several months); each writer gets a quarter, at least 64 MB.
        self.heap = max(64, settings.index.writer_heap_mb // 4) * 1_000_000
        self.exact_copies = settings.index.exact_copies
        self._kinds: dict[str, _KindIndex] = {}
        self._open_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------
    def _ix(self, kind: str) -> _KindIndex:
        if kind not in KINDS:
            raise StoreError(f"unknown kind {kind!r}", hint=f"use one of {KINDS}")
        with self._open_lock:
            if kind not in self._kinds:
                self._kinds[kind] = _KindIndex(kind, self.root / kind, exact_copies=self.exact_copies)
            return self._kinds[kind]

    def init(self) -> list[str]:
        """Create the index folders (they are also created on first use)."""
        return [str(self._ix(kind).path) for kind in KINDS]

    # -- writes -----------------------------------------------------------------
    def upsert_many(self, kind: str, docs: Iterable[Doc], *, raise_on_error: bool = False) -> BulkResult:
        with self.bulk(kind) as load:
            load.add(docs, raise_on_error=raise_on_error)
        return load.result

    @contextmanager
    def bulk(self, kind: str) -> Iterator[_Load]:
        ix = self._ix(kind)
        with ix.lock:
            load = _Load(ix, self.heap)
            try:
                yield load
                load.commit()
            except BaseException as exc:
                load.rollback()
                # tantivy reports file-system failures as ValueError ("IO error", "os error 28")
                text = str(exc)
                if isinstance(exc, OSError) or (isinstance(exc, ValueError)
                                                and ("IO error" in text or "os error" in text)):
                    raise StoreError(f"cannot write the {kind} index ({exc}); the documents not yet "
                                     f"committed were dropped, {len(load.result.stored)} committed "
                                     "before are kept", where=str(ix.path),
                                     hint="free disk space or make the data directory writable, "
                                          "then run again") from exc
                raise
            finally:
                load.release()

    def update(self, kind: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        ix = self._ix(kind)
        with ix.lock:
            current = self.get(kind, doc_id)
            if current is None:
                raise StoreError(f"no {kind[:-1]} with id {doc_id}", hint="check the id with `iocwatch search`")
            merged = {**current, **fields}
            result = self.upsert_many(kind, [merged], raise_on_error=True)
        if not result.ok:
            raise StoreError(f"update of {doc_id} failed: {result.rejected}")
        return as_doc(kind, merged)

    def delete_all(self, kind: str) -> None:
        ix = self._ix(kind)
        with ix.lock:
            for shard in ix.all_shards():
                w = shard.open_writer(self.heap)
                try:
                    w.delete_all_documents()
                    w.commit()
                    shard.stale = True
                finally:
                    shard.release_later()

    # -- reads ------------------------------------------------------------------
    def _plan(self, ix: _KindIndex, query: dict[str, Any] | None) -> list[tuple[_Shard, dict[str, Any] | None]]:
        """The shards a query can match, each with the query narrowed to it."""
        out = []
        for shard in ix.all_shards():
            narrowed = narrow(query, ix.time_field, shard.bounds)
            if narrowed is not _NOTHING:
                out.append((shard, narrowed))
        return out

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        ix = self._ix(kind)
        for shard in reversed(ix.all_shards()):
            searcher = shard.searcher()
            res = searcher.search(tantivy.Query.term_query(ix.schema, "id", doc_id), 1)
            if res.hits:
                return json.loads(searcher.doc(res.hits[0][1]).get_first("src"))
        return None

    def count(self, kind: str, query: dict[str, Any] | None = None) -> int:
        ix = self._ix(kind)

        def one(part: tuple[_Shard, dict[str, Any] | None]) -> int:
            shard, q = part
            searcher = shard.searcher()
            return searcher.search(Translator(ix, scoring=False, shard=shard).query(q), 1, count=True).count

        return sum(_map(one, self._plan(ix, query)))

    def search(self, kind: str, query: dict[str, Any] | None = None, *, size: int = 20, from_: int = 0,
               sort: list[Any] | None = None, highlight: list[str] | None = None) -> SearchResult:
        ix = self._ix(kind)
        tr = Translator(ix)
        tr.query(query)  # validates the query and collects the terms to highlight
        size, from_ = max(0, size), max(0, from_)
        kwargs: dict[str, Any] = {"count": True}
        descending = True
        for field, order in _sort_keys(sort):
            if field == "_score":
                break
            ftype = ix.fields.get(field)
            if ftype not in ("date", "long", "double"):
                raise QuerySyntaxError(f"cannot sort on {field!r}", hint="sort on a date or number field")
            kwargs["order_by_field"] = tname(field)
            descending = order == "desc"
            kwargs["order"] = tantivy.Order.Desc if descending else tantivy.Order.Asc
            break
        wanted = from_ + size
        scoring = "order_by_field" not in kwargs
        # a fixed window (not the page) keeps the order stable while paging through it
        window = max(wanted, -(-wanted // RESCORE_WINDOW) * RESCORE_WINDOW)

        def one(part: tuple[_Shard, dict[str, Any] | None]) -> tuple[
                int, list[tuple[Any, tantivy.Searcher, Any]], list[dict[str, Any]]]:
            shard, q = part
            searcher = shard.searcher()
            translator = Translator(ix, scoring=scoring, rescore=True, shard=shard)
            tq = translator.query(q)
            limit = window if translator.boosts else wanted
            res = searcher.search(tq, max(1, limit), **kwargs)
            return res.count, [(key, searcher, address) for key, address in res.hits[:limit]], translator.boosts

        total = 0
        ranked: list[tuple[Any, tantivy.Searcher, Any]] = []
        boosts: list[dict[str, Any]] = []
        plan = self._plan(ix, query)
        shards_used = len(plan)
        for count, hits, shard_boosts in _map(one, plan):
            total += count
            ranked.extend(hits)
            boosts = boosts or shard_boosts  # the same clauses in every shard
        sources: dict[tuple[int, int, int], dict[str, Any]] = {}
        if boosts:
            ranked = self._rescore(ranked, boosts, window, sources)
        elif shards_used > 1:
            # Shards are listed oldest first, so a stable sort keeps a deterministic order
            # for ties; documents without the sort value go last, as in Elasticsearch.
            missing = float("-inf") if descending else float("inf")
            ranked.sort(key=lambda h: missing if h[0] is None else h[0], reverse=descending)
        hits = []
        for key, searcher, address in ranked[from_:wanted]:
            src = sources.get((id(searcher), address.segment_ord, address.doc)) or json.loads(
                searcher.doc(address).get_first("src"))
            hit = Hit(id=src["id"], source=src, score=None if "order_by_field" in kwargs else float(key))
            if highlight:
                for field in highlight:
                    base = field.removesuffix(".exact")
                    value = get_path(src, base)
                    text = " … ".join(value) if isinstance(value, list) else (value or "")
                    frags = make_highlight(text, tr.folded_terms, tr.exact_terms,
                                           folded_phrases=tr.folded_phrases, exact_phrases=tr.exact_phrases,
                                           folded_prefixes=tr.folded_prefixes)
                    if frags:
                        hit.highlight[field] = frags
            hits.append(hit)
        return SearchResult(total=total, hits=hits)

    @staticmethod
    def _rescore(ranked: list[tuple[Any, tantivy.Searcher, Any]], boosts: list[dict[str, Any]], window: int,
                 sources: dict[tuple[int, int, int], dict[str, Any]]) -> list[tuple[Any, tantivy.Searcher, Any]]:
        """The best ``window`` hits by score, those that contain the boost phrases first
        (more phrases first, then by score), then the other hits in their old order.

        A boosted hit's score becomes its score plus, per phrase it contains, the best
        score of the window, so scores still decrease down the list. The stored documents
        read on the way are left in ``sources`` for the caller.
        """
        ranked.sort(key=lambda h: h[0], reverse=True)
        top, rest = ranked[:window], ranked[window:]
        if not top:
            return ranked
        best = float(top[0][0])
        rescored = []
        for score, searcher, address in top:
            key = (id(searcher), address.segment_ord, address.doc)
            src = sources[key] = json.loads(searcher.doc(address).get_first("src"))
            found = sum(1 for boost in boosts if _contains_phrase(src, boost))
            rescored.append((found, score + found * best, searcher, address))
        rescored.sort(key=lambda h: (h[0], h[1]), reverse=True)  # stable: ties keep the shard order
        return [(score, searcher, address) for _, score, searcher, address in rescored] + rest

    def aggregate(self, kind: str, query: dict[str, Any] | None, aggs: dict[str, Any]) -> dict[str, Any]:
        ix = self._ix(kind)
        tr = Translator(ix)
        tr.query(query)
        spec, post = tr.aggs(aggs)
        plan = self._plan(ix, query)
        widen = len(plan) > 1

        # tantivy releases the GIL while aggregating: shards and independent top-level
        # aggregations run side by side.
        def run(task: tuple[int, str]) -> dict[str, Any]:
            index, name = task
            shard, q = plan[index]
            node = _widened(spec[name]) if widen else spec[name]
            try:
                return _run_one(shard.searcher(), Translator(ix, scoring=False, shard=shard).query(q), name, node)
            except ValueError as exc:
                raise QuerySyntaxError(f"aggregation {name!r} failed: {exc}") from None

        tasks = [(i, name) for i in range(len(plan)) for name in spec]
        parts: dict[str, list[dict[str, Any]]] = {name: [] for name in spec}
        for (_, name), raw in zip(tasks, _map(run, tasks), strict=True):
            parts[name].append(raw[name])
        merged = {name: _merge(spec[name], parts[name]) for name in spec}
        return _post_process(merged, post)

    def close(self) -> None:
        for ix in self._kinds.values():
            ix.release_writers()
        self._kinds.clear()

    # -- maintenance ------------------------------------------------------------
    def iter_all(self, kind: str, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Every stored document of a kind (exports and rebuilds), oldest month first."""
        for shard in self._ix(kind).all_shards():
            yield from iter_index(shard.index, batch)


def iter_index(index: tantivy.Index, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """The stored documents of one tantivy index."""
    index.reload()
    searcher = index.searcher()
    total = searcher.num_docs
    offset = 0
    while offset < total:
        res = searcher.search(tantivy.Query.all_query(), batch, offset=offset, count=False)
        for _score, address in res.hits:
            yield json.loads(searcher.doc(address).get_first("src"))
        offset += batch


def _map(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``fn`` over ``items``, side by side when there are several."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    return list(_pool().map(fn, items))


_NOTHING: Any = object()  # a narrowed query that no document of the shard can match


def narrow(query: dict[str, Any] | None, field: str, bounds: tuple[int, int] | None) -> Any:
    """``query`` specialised to a shard whose ``field`` values all lie in ``bounds``.

    Returns ``_NOTHING`` when a required range on ``field`` misses the shard, and
    replaces a required range that covers the whole shard by ``match_all``. Only
    required clauses (top level, ``must``, ``filter``) are looked at; anything else is
    left to tantivy. ``bounds`` is ``None`` for the undated shard, where a bounded
    range on the time field matches nothing.
    """
    if not query or len(query) != 1:
        return query
    (op, body), = query.items()
    if op == "range" and isinstance(body, dict) and len(body) == 1:
        (name, spec), = body.items()
        if name != field or not isinstance(spec, dict):
            return query
        lower = upper = None
        inc_lower = inc_upper = True
        try:
            if "gte" in spec:
                lower = int(parse_date(spec["gte"]).timestamp())
            if "gt" in spec:
                lower, inc_lower = int(parse_date(spec["gt"]).timestamp()), False
            if "lte" in spec:
                upper = int(parse_date(spec["lte"]).timestamp())
            if "lt" in spec:
                upper, inc_upper = int(parse_date(spec["lt"]).timestamp()), False
        except QuerySyntaxError:
            return query  # the translator reports it
        if lower is None and upper is None:
            return query
        if bounds is None:
            return _NOTHING
        first, last = bounds[0], bounds[1] - 1  # stored values are whole seconds
        if lower is not None and (lower > last or (lower == last and not inc_lower)):
            return _NOTHING
        if upper is not None and (upper < first or (upper == first and not inc_upper)):
            return _NOTHING
        covers_low = lower is None or lower < first or (lower == first and inc_lower)
        covers_high = upper is None or upper > last or (upper == last and inc_upper)
        if covers_low and covers_high:
            return {"match_all": {}}
        # A few days of a month: their day terms pick the candidates from the postings, so
        # the range is checked on those alone instead of on every document of the month.
        first_day = max(first, lower if lower is not None else first) // 86_400
        last_day = min(last, upper if upper is not None else last) // 86_400
        if last_day - first_day < DAY_TERMS_MAX:
            days = [str(day) for day in range(first_day, last_day + 1)]
            return {"bool": {"filter": [query, {"_days": {"field": field, "values": days}}]}}
        return query
    if op == "bool" and isinstance(body, dict):
        out = dict(body)
        for key in ("must", "filter"):
            clauses = body.get(key)
            if not clauses:
                continue
            narrowed = []
            for clause in clauses if isinstance(clauses, list) else [clauses]:
                one = narrow(clause, field, bounds)
                if one is _NOTHING:
                    return _NOTHING
                narrowed.append(one)
            out[key] = narrowed
        return {"bool": out}
    return query


def _sort_keys(sort: list[Any] | None) -> list[tuple[str, str]]:
    keys = []
    for item in sort or []:
        if isinstance(item, str):
            field, _, order = item.partition(":")
            keys.append((field, order or "asc"))
        elif isinstance(item, dict):
            for field, spec in item.items():
                order = spec.get("order", "asc") if isinstance(spec, dict) else str(spec)
                keys.append((field, order))
    return keys


class Translator:
    """ES-DSL query and aggregation subset → tantivy, for one kind's index.

    While translating it collects the full-text terms of positive clauses, which the
    highlighter marks. With ``rescore=True`` the optional phrase clauses of a bool that
    has required ones (they only raise scores) are not added to the query but collected
    in ``boosts`` (their ``multi_match`` bodies), for the caller to apply to its best hits.
    """

    def __init__(self, ix: _KindIndex, *, scoring: bool = True, rescore: bool = False,
                 shard: _Shard | None = None):
        self.ix = ix
        self.shard = shard  # where exact matches are checked; None: only validate and collect terms
        self.context: list[tuple[str, tantivy.Query]] = []  # required clauses around the current one
        self.scoring = scoring
        self.rescore = rescore and scoring
        self.boosts: list[dict[str, Any]] = []
        self.schema = ix.schema
        self.folded_terms: set[str] = set()
        self.exact_terms: set[str] = set()
        # phrases are highlighted only where their words stand together
        self.folded_phrases: set[tuple[str, ...]] = set()
        self.exact_phrases: set[tuple[str, ...]] = set()
        self.folded_prefixes: set[str] = set()  # word*: words starting with these, once folded

    # queries
    def query(self, q: dict[str, Any] | None, negated: bool = False) -> tantivy.Query:
        if not q:
            return tantivy.Query.all_query()
        if len(q) != 1:
            raise QuerySyntaxError(f"a query clause has exactly one key, got {sorted(q)}")
        (op, body), = q.items()
        handler = getattr(self, "_q_" + op, None)
        if handler is None:
            raise QuerySyntaxError(f"query type {op!r} is not supported by the embedded store",
                                   hint="use match, match_phrase, multi_match, term, terms, prefix, range, exists, ids "
                                        "or bool")
        return handler(body, negated)

    def _field(self, name: str) -> tuple[str, str]:
        """(type, tantivy name) for a stored field name, ``x.exact`` included."""
        if name.endswith(".exact") and self.ix.fields.get(name[:-6]) == "text":
            return "exact", tname(name[:-6]) + ("__exact" if self.ix.exact_copies else "")
        ftype = self.ix.fields.get(name)
        if ftype is None:
            raise QuerySyntaxError(f"unknown field {name!r} for {self.ix.kind}",
                                   hint=f"known fields: {', '.join(sorted(self.ix.fields))}")
        return ftype, tname(name)

    def _tokens(self, ftype: str, text: str, negated: bool, phrase: bool = False) -> list[str]:
        analyzer = self.ix.analyzers["vi_exact" if ftype == "exact" else "vi_fold"]
        tokens = analyzer.analyze(str(text))
        if negated:
            return tokens
        if phrase and len(tokens) > 1:
            (self.exact_phrases if ftype == "exact" else self.folded_phrases).add(tuple(tokens))
        else:
            (self.exact_terms if ftype == "exact" else self.folded_terms).update(tokens)
        return tokens

    def _value_query(self, ftype: str, tn: str, value: Any) -> tantivy.Query:
        if ftype == "keyword":
            return tantivy.Query.term_query(self.schema, tn, str(value))
        if ftype in ("date", "long"):
            number = int(parse_date(value).timestamp()) if ftype == "date" else int(value)
            return tantivy.Query.range_query(self.schema, tn, tantivy.FieldType.Integer, number, number)
        if ftype == "double":
            return tantivy.Query.range_query(self.schema, tn, tantivy.FieldType.Float, float(value), float(value))
        raise QuerySyntaxError("term queries on full-text fields are not supported; use match")

    def _match(self, field: str, text: Any, operator: str, phrase: bool, negated: bool) -> tantivy.Query:
        ftype, tn = self._field(field)
        if ftype not in ("text", "exact"):
            return self._value_query(ftype, tn, text)
        if ftype == "exact" and not self.ix.exact_copies:
            return self._exact(field[:-6], text, operator, phrase, negated)
        tokens = self._tokens(ftype, text, negated, phrase)
        if not tokens:
            return tantivy.Query.empty_query()
        if phrase and len(tokens) > 1:
            return tantivy.Query.phrase_query(self.schema, tn, tokens)
        terms = [tantivy.Query.term_query(self.schema, tn, t) for t in tokens]
        if len(terms) == 1:
            return terms[0]
        occur = tantivy.Occur.Must if operator == "and" else tantivy.Occur.Should
        return tantivy.Query.boolean_query([(occur, t) for t in terms])

    def _exact(self, field: str, text: Any, operator: str, phrase: bool, negated: bool) -> tantivy.Query:
        """Words with their diacritics (``text.exact``): the folded match, kept to the
        documents whose stored field has the words as written (lower case aside).

        The index has no exact copy of the text (5-10 % of ingest), so the
        documents of the folded match are read and checked here, only among those that
        also match the required clauses around this one (a time range, other words); the
        ids that pass become the clause. Checked sets are cached until the next commit.
        """
        tokens = self._tokens("exact", text, negated, phrase)
        if not tokens:
            return tantivy.Query.empty_query()
        folded = self._match(field, text, operator, phrase, True)  # True: not highlighted as folded
        if self.shard is None:
            return folded
        around = [q for _, q in self.context]
        key = (field, tuple(tokens), operator, phrase, tuple(k for k, _ in self.context))
        candidates = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, q) for q in [folded, *around]]) if around else folded
        analyzer = self.ix.analyzers["vi_exact"]
        flat = field in self.ix.flat_strings

        def keep(raw: str) -> bool:
            value = _raw_value(raw, field) if flat else get_path(json.loads(raw), field)
            return _has_words(value, tokens, operator, phrase, analyzer)

        kept, dropped = self.shard.exact_ids(key, candidates, tokens, operator == "or" and not phrase, keep)
        # Whichever set is smaller makes the clause: the folded match less the dropped ids
        # is the same set wherever the clauses around it hold, and they always apply.
        if not kept:
            return tantivy.Query.empty_query()
        if not dropped:
            return folded
        if len(dropped) < len(kept):
            return tantivy.Query.boolean_query([
                (tantivy.Occur.Must, folded),
                (tantivy.Occur.MustNot, tantivy.Query.term_set_query(self.schema, "id", sorted(dropped)))])
        return tantivy.Query.term_set_query(self.schema, "id", sorted(kept))

    def _q_match_all(self, body: Any, negated: bool) -> tantivy.Query:
        return tantivy.Query.all_query()

    def _q_match_none(self, body: Any, negated: bool) -> tantivy.Query:
        return tantivy.Query.empty_query()

    def _q_match(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        (field, spec), = body.items()
        if isinstance(spec, dict):
            return self._match(field, spec.get("query", ""), spec.get("operator", "or").lower(), False, negated)
        return self._match(field, spec, "or", False, negated)

    def _q_match_phrase(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        (field, spec), = body.items()
        text = spec.get("query", "") if isinstance(spec, dict) else spec
        return self._match(field, text, "and", True, negated)

    def _q_multi_match(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        fields = body.get("fields") or []
        if not fields:
            raise QuerySyntaxError("multi_match needs fields")
        phrase = body.get("type") == "phrase"
        operator = body.get("operator", "or").lower()
        subs = [self._match(f.split("^")[0], body.get("query", ""), operator, phrase, negated) for f in fields]
        return subs[0] if len(subs) == 1 else tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, s) for s in subs])

    def _q_term(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        (field, spec), = body.items()
        value = spec.get("value") if isinstance(spec, dict) else spec
        ftype, tn = self._field(field)
        if ftype in ("text", "exact"):
            return self._match(field, value, "and", True, negated)
        return self._value_query(ftype, tn, value)

    def _q_terms(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        (field, values), = body.items()
        ftype, tn = self._field(field)
        if not values:
            return tantivy.Query.empty_query()
        if ftype == "keyword":
            return tantivy.Query.term_set_query(self.schema, tn, [str(v) for v in values])
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, self._value_query(ftype, tn, v)) for v in values])

    def _q_prefix(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        """Terms starting with ``value``: as indexed (folded on full text, as stored on keywords)."""
        (field, spec), = body.items()
        value = str(spec.get("value", "") if isinstance(spec, dict) else spec)
        ftype, tn = self._field(field)
        if ftype not in ("text", "keyword") or not value:
            raise QuerySyntaxError(f"prefix on {field!r} needs a text or keyword field and a value")
        if ftype == "text":
            tokens = self.ix.analyzers["vi_fold"].analyze(value)
            if len(tokens) != 1:
                raise QuerySyntaxError(f"prefix {value!r} is not one word")
            value = tokens[0]
            if not negated:
                self.folded_prefixes.add(value)
        return tantivy.Query.regex_query(self.schema, tn, re.escape(value) + ".*")

    def _q_ids(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        values = body.get("values") or []
        return tantivy.Query.term_set_query(self.schema, "id", [str(v) for v in values]) if values \
            else tantivy.Query.empty_query()

    def _q_range(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        (field, spec), = body.items()
        ftype, tn = self._field(field)
        if ftype not in ("date", "long", "double"):
            raise QuerySyntaxError(f"range on {field!r} needs a date or number field")
        conv = (lambda v: int(parse_date(v).timestamp())) if ftype == "date" else (
            int if ftype == "long" else float)
        lower = upper = None
        inc_lower = inc_upper = True
        if "gte" in spec:
            lower = conv(spec["gte"])
        if "gt" in spec:
            lower, inc_lower = conv(spec["gt"]), False
        if "lte" in spec:
            upper = conv(spec["lte"])
        if "lt" in spec:
            upper, inc_upper = conv(spec["lt"]), False
        if lower is None and upper is None:
            return tantivy.Query.all_query()
        big = 2**62
        if lower is None:
            lower, inc_lower = (-big if ftype != "double" else -1e300), True
        if upper is None:
            upper, inc_upper = (big if ftype != "double" else 1e300), True
        field_type = tantivy.FieldType.Float if ftype == "double" else tantivy.FieldType.Integer
        return tantivy.Query.range_query(self.schema, tn, field_type, lower, upper,
                                         include_lower=inc_lower, include_upper=inc_upper)

    def _q__days(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        """Documents whose time falls on one of these UTC days (days since 1970), from narrow()."""
        return tantivy.Query.term_set_query(self.schema, tname(body["field"]) + "__day", body["values"])

    def _q_exists(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        ftype, tn = self._field(body["field"])
        if ftype in ("text", "exact"):
            raise QuerySyntaxError("exists works on keyword, date and number fields here")
        if body["field"] in LOOKUP_ONLY[self.ix.kind]:  # no fast column: any term will do
            return tantivy.Query.regex_query(self.schema, tn, ".+")
        return tantivy.Query.exists_query(tn)

    def _q_bool(self, body: dict[str, Any], negated: bool) -> tantivy.Query:
        def clauses(key: str) -> list[dict[str, Any]]:
            value = body.get(key) or []
            return value if isinstance(value, list) else [value]

        # Required clauses without exact words translate first: they narrow the documents
        # an exact clause anywhere inside this bool has to check (see _exact).
        required = [c for key in ("must", "filter") for c in clauses(key)]
        plain = {i: self.query(c, negated) for i, c in enumerate(required) if not _has_exact(c)}
        checks = self.shard is not None and not self.ix.exact_copies and _has_exact(body)
        pushed = [(json.dumps(required[i], sort_keys=True, default=str), q)
                  for i, q in plain.items()] if checks else []
        self.context.extend(pushed)
        try:
            must = [plain[i] if i in plain else self.query(c, negated) for i, c in enumerate(required)]
            return self._bool_rest(body, clauses, must, negated)
        finally:
            del self.context[len(self.context) - len(pushed):]

    def _bool_rest(self, body: dict[str, Any], clauses: Callable[[str], list[dict[str, Any]]],
                   must: list[tantivy.Query], negated: bool) -> tantivy.Query:
        msm = body.get("minimum_should_match")
        needed = int(msm) if msm is not None else (0 if must else 1)
        optional_clauses = clauses("should")
        if not needed and self.rescore and not negated:
            phrases = [c for c in optional_clauses if _phrase_boost(c)]
            self.boosts.extend(c["multi_match"] for c in phrases)
            optional_clauses = [c for c in optional_clauses if c not in phrases]
        # optional clauses only raise scores: an unscored search (sorted, counted) skips them
        should = [self.query(c, negated) for c in optional_clauses] if needed or self.scoring else []
        must_not = [self.query(c, not negated) for c in clauses("must_not")]
        optional: list[tantivy.Query] = []
        if should and needed >= 1:
            must.append(should[0] if len(should) == 1 and needed == 1 else tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, s) for s in should], minimum_number_should_match=needed))
        elif should:
            optional = should  # they only raise the score
        if not must:
            must.append(tantivy.Query.all_query())
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, q) for q in must]
            + [(tantivy.Occur.Should, q) for q in optional]
            + [(tantivy.Occur.MustNot, q) for q in must_not])

    # aggregations
    def aggs(self, aggs: dict[str, Any], *, top: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """Translate an aggregation tree; returns (tantivy spec, post-processing plan)."""
        spec: dict[str, Any] = {}
        plan: dict[str, Any] = {}
        for name, body in aggs.items():
            sub = body.get("aggs") or body.get("aggregations")
            kinds = [k for k in body if k not in ("aggs", "aggregations", "meta")]
            if len(kinds) != 1:
                raise QuerySyntaxError(f"aggregation {name!r} needs exactly one type")
            kind = kinds[0]
            params = body[kind]
            node: dict[str, Any]
            step: dict[str, Any] = {"type": kind}
            if kind in ("terms", "cardinality") and params.get("field") in LOOKUP_ONLY[self.ix.kind]:
                raise QuerySyntaxError(f"cannot aggregate on {params['field']!r}: it identifies single documents",
                                       hint="aggregate on source, platform, topics, places, sentiment or another facet")
            if kind == "terms":
                ftype, tn = self._field(params["field"])
                node = {"terms": {"field": tn, "size": int(params.get("size", 10))}}
                if "min_doc_count" in params:
                    node["terms"]["min_doc_count"] = int(params["min_doc_count"])
                if "order" in params:
                    node["terms"]["order"] = params["order"]
                step["numeric"] = ftype in ("long", "date", "double")
                if (top and params["field"] in SET_FIELDS[self.ix.kind] and not sub and "order" not in params
                        and int(params.get("min_doc_count", 1)) >= 1):
                    node["_set"] = tn + "__set"
                if params["field"] in self.ix.single:
                    node["_single"] = True
            elif kind in ("date_histogram", "histogram"):
                ftype, tn = self._field(params["field"])
                if kind == "date_histogram":
                    if ftype != "date":
                        raise QuerySyntaxError(f"date_histogram needs a date field, {params['field']!r} is {ftype}")
                    interval = interval_seconds(params.get("fixed_interval") or params.get("calendar_interval")
                                                or params.get("interval") or "day")
                    offset = tz_offset_seconds(params.get("time_zone"))
                    hist: dict[str, Any] = {"field": tn, "interval": interval,
                                            "offset": (-offset) % interval,
                                            "min_doc_count": int(params.get("min_doc_count", 0))}
                    bounds = params.get("extended_bounds")
                    if bounds:
                        hist["extended_bounds"] = {
                            "min": parse_date(bounds["min"]).timestamp(), "max": parse_date(bounds["max"]).timestamp()}
                    step.update(interval=interval, offset=offset)
                else:
                    hist = {"field": tn, "interval": params["interval"],
                            "min_doc_count": int(params.get("min_doc_count", 0))}
                node = {"histogram": hist}
            elif kind in ("avg", "sum", "min", "max", "value_count", "stats", "cardinality"):
                ftype, tn = self._field(params["field"])
                # Shard answers are merged: an average from their stats, a distinct count from their terms.
                if kind == "avg":
                    node = {"stats": {"field": tn}}
                elif kind == "cardinality":
                    node = {"terms": {"field": tn, "size": CARDINALITY_LIMIT}}
                else:
                    node = {kind: {"field": tn}}
                step["date"] = ftype == "date"
            else:
                raise QuerySyntaxError(f"aggregation type {kind!r} is not supported by the embedded store",
                                       hint="use terms, date_histogram, histogram, avg, sum, min, max, value_count")
            if sub:
                node["aggs"], step["aggs"] = self.aggs(sub, top=False)
            spec[name] = node
            plan[name] = step
        return spec, plan


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="iocwatch-aggs")
    return _POOL


def _clean(node: dict[str, Any]) -> dict[str, Any]:
    """An aggregation node without this module's private hints, as tantivy takes it."""
    out = {k: v for k, v in node.items() if not k.startswith("_")}
    if "aggs" in out:
        out["aggs"] = {name: _clean(sub) for name, sub in out["aggs"].items()}
    return out


def _has_exact(clause: Any) -> bool:
    """Whether a query clause names an ``.exact`` field anywhere inside."""
    if isinstance(clause, dict):
        return any((isinstance(k, str) and k.endswith(".exact")) or _has_exact(v) for k, v in clause.items())
    if isinstance(clause, list):
        return any(_has_exact(v) for v in clause)
    return isinstance(clause, str) and clause.split("^")[0].endswith(".exact")


_WORD_RUN = re.compile(r"[^\W_]+")  # a run of letters and digits
# Latin script (Vietnamese included), general punctuation and ASCII: here Python's letters
# and digits are exactly Rust's (char::is_alphanumeric, tantivy's simple tokenizer).
_NOT_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")


def exact_tokens(text: str, analyzer: Any) -> list[str]:
    """The tokens of the ``vi_exact`` analyser (simple tokenizer, remove_long(40),
    lowercase), computed in Python for Latin-script text (several times faster than a
    call into the analyser) and by the analyser for anything else."""
    if _NOT_LATIN.search(text):
        return analyzer.analyze(text)
    return [t.lower() for t in _WORD_RUN.findall(text) if len(t.encode()) < 40]


_RAW_KEYS: dict[str, re.Pattern[str]] = {}


def _raw_value(raw: str, key: str) -> str | None:
    """A top-level string of a stored JSON document, read without parsing it.

    Only for keys that come before any nested object in the stored form (see
    ``_KindIndex.flat_strings``), where the first ``"key":`` in the text is the top-level
    one: inside JSON strings a quote is always escaped.
    """
    pattern = _RAW_KEYS.get(key)
    if pattern is None:
        pattern = _RAW_KEYS[key] = re.compile('"' + re.escape(key) + r'":(?:null|"([^"\\]*(?:\\.[^"\\]*)*)")')
    found = pattern.search(raw)
    if found is None or found.group(1) is None:
        return None
    value = found.group(1)
    return json.loads('"' + value + '"') if "\\" in value else value


def _has_words(value: Any, words: list[str], operator: str, phrase: bool, analyzer: Any) -> bool:
    """Whether a stored text value (or list of them) has ``words``, compared as the
    ``vi_exact`` analyser splits them: all of them (``and``), any (``or``) or in a row
    within one value (``phrase``)."""
    values = value if isinstance(value, list) else [value]
    seqs = [exact_tokens(v, analyzer) for v in values if isinstance(v, str) and v]
    if phrase and len(words) > 1:
        n = len(words)
        return any(seq[i:i + n] == words for seq in seqs for i in range(len(seq) - n + 1))
    present = {t for seq in seqs for t in seq}
    return all(w in present for w in words) if operator == "and" or phrase else any(w in present for w in words)


def _phrase_boost(clause: dict[str, Any]) -> bool:
    """Whether an optional clause is a phrase over text fields (rescored in Python)."""
    body = clause.get("multi_match") if len(clause) == 1 else None
    return isinstance(body, dict) and body.get("type") == "phrase" and isinstance(body.get("query"), str)


def _contains_phrase(src: dict[str, Any], boost: dict[str, Any]) -> bool:
    """Whether one of the boost's fields holds its words side by side, folded as the index
    folds them (``.exact`` fields: lower-cased only)."""
    for field in boost.get("fields") or []:
        name = field.split("^")[0]
        convert = str.lower if name.endswith(".exact") else fold_text
        words = WORD.findall(convert(boost["query"]))
        value = get_path(src, name.removesuffix(".exact"))
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and words and \
                    f" {' '.join(words)} " in f" {' '.join(WORD.findall(convert(text)))} ":
                return True
    return False


def _run_one(searcher: tantivy.Searcher, query: tantivy.Query, name: str, node: dict[str, Any]) -> dict[str, Any]:
    """One top-level aggregation, in the cheapest form tantivy answers it.

    * terms over a multi-valued set field count the value sets (one dense column);
    * a histogram split by a small terms aggregation over a single-valued field
      (sentiment per day) is computed as "terms, then histogram", several times faster
      in tantivy, with the documents lacking the field in their own bucket so that the
      bucket totals are the histogram; then reshaped.
    Either falls back to the direct form when its values do not all fit.
    """
    set_field = node.get("_set")
    if set_field is not None:
        merged = _set_terms(searcher, query, node["terms"], set_field)
        if merged is not None:
            return {name: merged}
    hist = node.get("histogram")
    sub = node.get("aggs") or {}
    if hist is not None and len(sub) == 1:
        (sub_name, sub_node), = sub.items()
        terms = sub_node.get("terms")
        if terms is not None and sub_node.get("_single") and "aggs" not in sub_node and "order" not in terms:
            size = int(terms.get("size", 10))
            by_term = {"terms": {**terms, "size": max(100, size), "missing": MISSING},
                       "aggs": {"h": {"histogram": hist}}}
            flipped = searcher.aggregate(query, {"t": by_term})["t"]
            if not flipped.get("sum_other_doc_count"):
                per_key: dict[float, list[tuple[str, int]]] = {}
                totals: dict[float, int] = {}
                for tb in flipped["buckets"]:
                    for hb in tb["h"]["buckets"]:
                        count = int(hb["doc_count"])
                        totals[hb["key"]] = totals.get(hb["key"], 0) + count
                        if count and tb["key"] != MISSING:
                            per_key.setdefault(hb["key"], []).append((tb["key"], count))
                buckets = []
                for key in sorted(totals):
                    pairs = sorted(per_key.get(key, []), key=lambda kv: (-kv[1], str(kv[0])))
                    buckets.append({"key": key, "doc_count": totals[key], sub_name: {
                        "buckets": [{"key": k, "doc_count": c} for k, c in pairs[:size]],
                        "sum_other_doc_count": sum(c for _, c in pairs[size:])}})
                if buckets and int(hist.get("min_doc_count", 0)) == 0:
                    buckets = _fill_gaps(buckets, float(hist["interval"]), _clean(sub))
                return {name: {"buckets": buckets}}
    return searcher.aggregate(query, {name: _clean(node)})


def _set_terms(searcher: tantivy.Searcher, query: tantivy.Query, terms: dict[str, Any],
               set_field: str) -> dict[str, Any] | None:
    """A terms aggregation over a multi-valued field, from the column of its value sets.

    Returns ``None`` (use the multi-valued column) when there are more distinct sets
    than SET_LIMIT.
    """
    size = int(terms.get("size", 10))
    raw = searcher.aggregate(query, {"s": {"terms": {"field": set_field, "size": SET_LIMIT}}})["s"]
    if raw.get("sum_other_doc_count"):
        return None
    counts: dict[str, int] = {}
    for bucket in raw["buckets"]:
        for key in str(bucket["key"]).split(SET_SEP):
            counts[key] = counts.get(key, 0) + int(bucket["doc_count"])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return {"buckets": [{"key": key, "doc_count": n} for key, n in ranked[:size]],
            "sum_other_doc_count": sum(n for _, n in ranked[size:]), "doc_count_error_upper_bound": 0}


def _widened(node: dict[str, Any]) -> dict[str, Any]:
    """A copy of an aggregation node asking each shard for more terms than needed.

    Terms are merged across shards by adding counts, so, as Elasticsearch's
    ``shard_size``, each shard returns ``1.5 × size + 10`` terms to keep the merged top
    list exact in all but contrived cases.
    """
    out = dict(node)
    if "terms" in out:
        size = int(out["terms"]["size"])
        out["terms"] = {**out["terms"], "size": max(size, size * 3 // 2 + 10)}
    if "aggs" in out:
        out["aggs"] = {name: _widened(sub) for name, sub in out["aggs"].items()}
    return out


def _empty(node: dict[str, Any]) -> dict[str, Any]:
    """The answer of an aggregation over no documents, shaped as tantivy's."""
    if "terms" in node:
        return {"buckets": [], "sum_other_doc_count": 0, "doc_count_error_upper_bound": 0}
    if "histogram" in node:
        return {"buckets": []}
    if "stats" in node:
        return {"count": 0, "sum": 0.0, "min": None, "max": None, "avg": None}
    if "value_count" in node or "sum" in node:
        return {"value": 0.0}
    return {"value": None}


def _merge(node: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One aggregation's answers from several shards merged into one (tantivy's shape)."""
    if not parts:
        return _empty(node)
    if len(parts) == 1:
        return parts[0]
    subs = node.get("aggs") or {}
    if "terms" in node or "histogram" in node:
        merged: dict[Any, dict[str, Any]] = {}
        grouped: dict[Any, dict[str, list[dict[str, Any]]]] = {}
        for part in parts:
            for bucket in part.get("buckets", []):
                key = bucket["key"]
                acc = merged.setdefault(key, {"key": key, "doc_count": 0})
                acc["doc_count"] += int(bucket.get("doc_count", 0))
                for extra in ("key_as_string",):
                    if extra in bucket:
                        acc[extra] = bucket[extra]
                for sub in subs:
                    grouped.setdefault(key, {}).setdefault(sub, []).append(bucket.get(sub) or _empty(subs[sub]))
        for key, acc in merged.items():
            for sub in subs:
                acc[sub] = _merge(subs[sub], grouped.get(key, {}).get(sub, []))
        if "histogram" in node:
            hist = node["histogram"]
            buckets = sorted(merged.values(), key=lambda b: b["key"])
            if buckets and int(hist.get("min_doc_count", 0)) == 0:
                buckets = _fill_gaps(buckets, float(hist["interval"]), subs)
            return {"buckets": buckets}
        terms = node["terms"]
        size = int(terms.get("size", 10))
        order = terms.get("order") or {}
        (order_key, direction), = order.items() if len(order) == 1 else (("_count", "desc"),)
        if order_key == "_key":
            ranked = sorted(merged.values(), key=lambda b: b["key"], reverse=direction == "desc")
        else:
            sign = 1 if direction == "asc" else -1
            ranked = sorted(merged.values(), key=lambda b: (sign * b["doc_count"], str(b["key"])))
        min_count = int(terms.get("min_doc_count", 1))
        ranked = [b for b in ranked if b["doc_count"] >= min_count]
        other = sum(int(p.get("sum_other_doc_count", 0)) for p in parts)
        error = sum(p["buckets"][-1]["doc_count"] for p in parts
                    if p.get("sum_other_doc_count") and p.get("buckets"))
        return {"buckets": ranked[:size], "sum_other_doc_count": other + sum(b["doc_count"] for b in ranked[size:]),
                "doc_count_error_upper_bound": error}
    if "stats" in node:
        count = sum(int(p.get("count") or 0) for p in parts)
        total = sum(float(p.get("sum") or 0.0) for p in parts)
        lows = [p["min"] for p in parts if p.get("min") is not None]
        highs = [p["max"] for p in parts if p.get("max") is not None]
        return {"count": count, "sum": total, "min": min(lows) if lows else None,
                "max": max(highs) if highs else None, "avg": total / count if count else None}
    values = [p.get("value") for p in parts if p.get("value") is not None]
    if "min" in node:
        return {"value": min(values) if values else None}
    if "max" in node:
        return {"value": max(values) if values else None}
    if "sum" in node or "value_count" in node:
        return {"value": float(sum(values))}
    raise QuerySyntaxError(f"cannot merge aggregation {sorted(node)} across shards")


def _fill_gaps(buckets: list[dict[str, Any]], interval: float, subs: dict[str, Any]) -> list[dict[str, Any]]:
    """Empty buckets between the first and last key (``min_doc_count: 0``), as one index gives."""
    by_key = {b["key"]: b for b in buckets}
    first, last = buckets[0]["key"], buckets[-1]["key"]
    steps = int(round((last - first) / interval))
    out = []
    for i in range(steps + 1):
        key = first + i * interval
        found = by_key.get(key) or next((b for k, b in by_key.items() if abs(k - key) < interval / 1e6), None)
        out.append(found or {"key": key, "doc_count": 0, **{name: _empty(sub) for name, sub in subs.items()}})
    return out


def _post_process(raw: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Shape tantivy's answer like Elasticsearch's (date keys in epoch ms plus key_as_string)."""
    out: dict[str, Any] = {}
    for name, step in plan.items():
        result = raw.get(name, {})
        kind = step["type"]
        if kind in ("terms", "date_histogram", "histogram"):
            buckets = []
            for bucket in result.get("buckets", []):
                b = dict(bucket)
                if kind == "date_histogram":
                    seconds = int(round(float(b["key"])))
                    b["key"] = seconds * 1000
                    tz = UTC if not step["offset"] else None
                    moment = datetime.fromtimestamp(seconds, UTC)
                    local = moment.astimezone(tz) if tz else moment.astimezone(
                        _fixed_zone(step["offset"]))
                    b["key_as_string"] = local.isoformat()
                elif kind == "terms" and step.get("numeric") and isinstance(b["key"], float) and b["key"].is_integer():
                    b["key"] = int(b["key"])
                b["doc_count"] = int(b.get("doc_count", 0))
                if "aggs" in step:
                    b.update(_post_process(bucket, step["aggs"]))
                buckets.append(b)
            entry: dict[str, Any] = {"buckets": buckets}
            if "sum_other_doc_count" in result:
                entry["sum_other_doc_count"] = int(result["sum_other_doc_count"])
            out[name] = entry
        elif kind == "avg":
            out[name] = {"value": result.get("avg")}
        elif kind == "cardinality":
            out[name] = {"value": len(result.get("buckets", [])) + int(bool(result.get("sum_other_doc_count")))}
        else:
            entry = dict(result)
            if kind == "value_count" and entry.get("value") is not None:
                entry["value"] = int(entry["value"])
            if step.get("date") and kind in ("min", "max") and entry.get("value") is not None:
                entry["value_as_string"] = datetime.fromtimestamp(entry["value"], UTC).isoformat()
                entry["value"] = entry["value"] * 1000
            out[name] = entry
    return out


def _fixed_zone(offset_s: int):
    from datetime import timezone

    return timezone(timedelta(seconds=offset_s))


@register_store("embedded")
def _factory(settings: Settings) -> EmbeddedStore:
    return EmbeddedStore(settings)
