"""Operators' labels written back to the store, kept through re-crawls, and the review queue.

A correction goes through :meth:`Store.update`: the post's effective label changes at once
(so every count and chart uses it), with who, when and the label before kept in
``Post.corrections`` and the model's output in ``Post.model_labels`` (see
:meth:`core.documents.Post.corrected`). Posts with an operator's label carry the
``corrected`` flag, so they are found with one query.

Every correction is also appended to the corrections journal,
``<data_dir>/corrections/journal.jsonl`` (:class:`CorrectionsJournal`), with the post's text.
The journal outlives the posts index: a post deleted, wiped with the index, or restored from
an old export gets its operators' labels back when it is crawled again
(:func:`keep_human_labels`), and retraining can still learn from it
(:func:`journal_examples`).

A correction made by mistake is withdrawn with :func:`withdraw_correction`: the post's label
for that task goes back to the model's, and a withdrawal line in the journal cancels every
earlier journal entry of that post and task, so neither a re-crawl nor retraining brings the
wrong label back. A later correction of the task is in force again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.documents import (
    CORRECTED_FLAG,
    LABEL_TASKS,
    RULES_DISAGREE_FLAG,
    Correction,
    LabelTask,
    Post,
    as_aware,
    audit_bucket,
    utcnow,
)
from core.errors import StoreError, ValidationFailed
from core.settings import Settings
from core.state import StateWriteError, WriterLock, _fsync_dir
from index.base import Store

log = logging.getLogger(__name__)

CORRECTION_ROLES = frozenset({"comms", "analyst", "admin"})  # security officers may not correct
PAGE = 500  # posts per store request when paging
# Read-modify-write of one post: two operators of one dashboard (one process, a thread per
# session) correcting the same post at the same moment must not lose either correction;
# other processes on the same data directory are kept out by a writer lock (see _writing).
_WRITE = threading.Lock()
JOURNAL_PATH = ("corrections", "journal.jsonl")  # under the data directory
BAD_LINES_LOGGED = 20  # line numbers named in one warning about unreadable journal lines


def post_text(post: Post) -> str:
    """The text a classifier is trained on: the title and the text, one per line."""
    return "\n".join(p for p in (post.title, post.text) if p)


class Withdrawal(BaseModel):
    """A journal line withdrawing the operators' corrections of one task of one post."""

    model_config = ConfigDict(extra="ignore")
    task: LabelTask
    withdrawn: Literal[True]
    by: str = Field(min_length=1)
    at: datetime = Field(default_factory=utcnow)

    @field_validator("at")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        return as_aware(value) or value


@dataclass(frozen=True)
class JournalWithdrawal:
    """One withdrawal line of the corrections journal (see :func:`withdraw_correction`)."""

    post_id: str
    withdrawal: Withdrawal
    line: int  # line number in the journal, from 1


@dataclass(frozen=True)
class JournalEntry:
    """One line of the corrections journal: an operator's label for one task of one post."""

    post_id: str
    correction: Correction
    text: str  # the post's title and text when it was corrected (see :func:`post_text`)
    line: int  # line number in the journal, from 1


@dataclass
class JournalRead:
    """What the journal holds: its entries in force in the order written, and the lines it
    could not read.

    A withdrawal line cancels every earlier entry of its post and task: ``entries`` and
    ``by_post`` (a post id to its entries, oldest first) leave those out, and ``withdrawals``
    maps ``(post id, task)`` to the last withdrawal of each. ``bad`` lists ``(line number,
    reason)``; a torn last line (a write cut by a crash) is one of them.
    """

    entries: list[JournalEntry] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    by_post: dict[str, list[JournalEntry]] = field(default_factory=dict)
    withdrawals: dict[tuple[str, str], JournalWithdrawal] = field(default_factory=dict)

    def withdrawn_at(self, post_id: str, task: str) -> datetime | None:
        """When the corrections of ``task`` of ``post_id`` were last withdrawn, or ``None``."""
        last = self.withdrawals.get((post_id, task))
        return last.withdrawal.at if last is not None else None

    def latest(self, task: str) -> dict[str, JournalEntry]:
        """The last entry for ``task`` of every post that has one (the label in force)."""
        out: dict[str, JournalEntry] = {}
        for entry in self.entries:
            if entry.correction.task == task:
                out[entry.post_id] = entry
        return out


@dataclass
class _Cached:
    ino: int
    offset: int  # bytes of complete lines parsed so far
    lines: int  # complete lines parsed so far
    read: JournalRead  # replaced, never changed, when lines are added
    torn_logged: int = -1  # offset of the torn last line last logged


_CACHE: dict[str, _Cached] = {}
_CACHE_LOCK = threading.Lock()


def _invalid(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"field {'.'.join(str(p) for p in first['loc'])!r}: {first['msg']}"


def _parse_line(raw: bytes, lineno: int) -> JournalEntry | JournalWithdrawal | str:
    """The entry or withdrawal on one journal line, or why it cannot be read."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not JSON ({exc})"
    if not isinstance(row, dict):
        return "not a JSON object"
    post_id, text = row.get("post_id"), row.get("text", "")
    if not isinstance(post_id, str) or not post_id:
        return "no post_id"
    if "withdrawn" in row:
        try:
            return JournalWithdrawal(post_id, Withdrawal.model_validate(row), lineno)
        except ValidationError as exc:
            return _invalid(exc)
    if not isinstance(text, str):
        return "text is not a string"
    try:
        correction = Correction.model_validate(row)
    except ValidationError as exc:
        return _invalid(exc)
    try:  # a label the task does not have could not be applied to a post
        Post(id=post_id, source="journal").check_label(correction.task, correction.label)
    except ValidationFailed as exc:
        return f"field {exc.field!r}: {exc.reason}"
    return JournalEntry(post_id, correction, text, lineno)


class CorrectionsJournal:
    """The append-only journal of operators' corrections, one JSON object a line.

    A correction line holds ``post_id``, ``task``, ``label``, ``by``, ``at`` (ISO time),
    ``before`` (the label the correction replaced) and ``text`` (see :func:`post_text`). A
    withdrawal line holds ``post_id``, ``task``, ``"withdrawn": true``, ``by`` and ``at``, and
    cancels every earlier line of that post and task (see :class:`JournalRead`). Appends take an
    exclusive ``flock`` on the file (several dashboard sessions and processes write it) and
    are fsynced before :meth:`append` returns. :meth:`read` never fails on content: lines
    that cannot be read (a torn last line after a crash, a hand edit) are counted in
    :attr:`JournalRead.bad` and logged with their line numbers; the others are read. Reads
    are cached per process and only the lines appended since the last read are parsed.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @classmethod
    def of(cls, settings_or_data_dir: Settings | str | os.PathLike[str]) -> CorrectionsJournal:
        """The journal of a data directory (given as settings or as the directory)."""
        data_dir = getattr(settings_or_data_dir, "data_dir", settings_or_data_dir)
        return cls(Path(data_dir).joinpath(*JOURNAL_PATH))

    def append(self, post: Post, correction: Correction) -> None:
        """Append ``correction`` of ``post`` and fsync it.

        Raises:
            StateWriteError: the journal could not be written (full or read-only disk).
        """
        row = {"post_id": post.id, **correction.model_dump(mode="json"), "text": post_text(post)}
        self._append(row, f"post {post.id}: the {correction.task} correction")

    def append_withdrawal(self, post_id: str, withdrawal: Withdrawal) -> None:
        """Append ``withdrawal`` of the corrections of one task of ``post_id`` and fsync it.

        Raises:
            StateWriteError: the journal could not be written (full or read-only disk).
        """
        row = {"post_id": post_id, **withdrawal.model_dump(mode="json")}
        self._append(row, f"post {post_id}: the withdrawal of its {withdrawal.task} correction")

    def _append(self, row: dict[str, Any], what: str) -> None:
        """One line, under an exclusive flock, after a newline if the last line is torn; fsynced."""
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            with open(self.path, "a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    end = fh.seek(0, os.SEEK_END)
                    if end:  # a torn last line (a crash mid-write) must not swallow this one
                        fh.seek(end - 1)
                        if fh.read(1) != b"\n":
                            line = b"\n" + line
                    fh.write(line)
                    fh.flush()
                    os.fsync(fh.fileno())
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
        except OSError as exc:
            raise StateWriteError(
                f"{what} could not be written to the corrections journal: {exc.strerror or exc}",
                hint="check free space and permissions; without the journal the change is "
                     "lost if the posts index is rebuilt", where=str(self.path)) from exc
        if created:
            _fsync_dir(self.path.parent)

    def read(self) -> JournalRead:
        """Every readable entry, in the order written (see the class notes on bad lines).

        The result is shared by the callers of this process: treat it as read-only. A
        missing journal reads as empty; a journal that cannot be opened raises ``OSError``.
        """
        key = str(self.path.resolve())
        with _CACHE_LOCK:
            try:
                fh = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
            except FileNotFoundError:
                _CACHE.pop(key, None)
                return JournalRead()
            with fh:
                fcntl.flock(fh, fcntl.LOCK_SH)  # no half-written append is seen
                try:
                    st = os.fstat(fh.fileno())
                    cached = _CACHE.get(key)
                    if cached is None or cached.ino != st.st_ino or cached.offset > st.st_size:
                        cached = _Cached(st.st_ino, 0, 0, JournalRead())
                    fh.seek(cached.offset)
                    tail = fh.read()
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
            done = tail.rfind(b"\n") + 1  # complete lines end with a newline
            bad: list[tuple[int, str]] = []
            if done:
                old = cached.read
                read = JournalRead(list(old.entries), list(old.bad), dict(old.by_post),
                                   dict(old.withdrawals))
                cancel: dict[tuple[str, str], int] = {}  # (post, task) -> line of its last withdrawal
                for raw in tail[:done].split(b"\n")[:-1]:
                    cached.lines += 1
                    if not raw.strip():
                        continue
                    parsed = _parse_line(raw, cached.lines)
                    if isinstance(parsed, str):
                        bad.append((cached.lines, parsed))
                        continue
                    if isinstance(parsed, JournalWithdrawal):
                        key = (parsed.post_id, parsed.withdrawal.task)
                        read.withdrawals[key] = parsed
                        cancel[key] = parsed.line
                        continue
                    read.entries.append(parsed)
                    read.by_post[parsed.post_id] = [*read.by_post.get(parsed.post_id, []), parsed]
                if cancel:  # one pass per read, not one per withdrawal line
                    _cancel(read, cancel)
                read.bad.extend(bad)
                cached.read = read
                cached.offset += done
            _CACHE[key] = cached
            result = cached.read
            if tail[done:].strip():  # a torn last line: not consumed, read again next time
                torn = (cached.lines + 1, "torn last line (no newline: a write cut short)")
                result = JournalRead(result.entries, [*result.bad, torn], result.by_post,
                                     result.withdrawals)
                if cached.torn_logged != cached.offset:  # once per torn line, not every read
                    cached.torn_logged = cached.offset
                    bad.append(torn)
        if bad:
            where = ", ".join(str(n) for n, _ in bad[:BAD_LINES_LOGGED])
            more = f" and {len(bad) - BAD_LINES_LOGGED} more" if len(bad) > BAD_LINES_LOGGED else ""
            log.warning("corrections journal %s: %d unreadable line(s) skipped (line %s%s); first: %s",
                        self.path, len(bad), where, more, bad[0][1])
        return result


def _cancel(read: JournalRead, cancel: dict[tuple[str, str], int]) -> None:
    """Drop from ``read`` the entries written before the withdrawal of their post and task."""
    def live(entry: JournalEntry) -> bool:
        return entry.line > cancel.get((entry.post_id, entry.correction.task), 0)

    read.entries = [e for e in read.entries if live(e)]
    for post_id in {post_id for post_id, _ in cancel}:
        kept = [e for e in read.by_post.get(post_id, []) if live(e)]
        if kept:
            read.by_post[post_id] = kept
        else:
            read.by_post.pop(post_id, None)


def journal_of(store: Any) -> CorrectionsJournal | None:
    """The journal of the data directory a store belongs to (its ``settings``), or ``None``."""
    settings = getattr(store, "settings", None)
    if settings is None or getattr(settings, "data_dir", None) is None:
        return None
    return CorrectionsJournal.of(settings)


def journal_examples(settings_or_data_dir: Settings | str | os.PathLike[str], task: str
                     ) -> list[tuple[str, str, str]]:
    """The operators' ``task`` labels in the journal, as ``(post_id, text, label)`` tuples.

    One tuple per post: its latest correction for ``task`` (the label in force; corrections
    withdrawn since are left out, see :func:`withdraw_correction`), with the
    text the post had when it was corrected (title and text as :func:`post_text` joins
    them), in the order of those latest corrections. Useful when the posts are no longer in
    the store; unreadable journal lines are skipped and logged (see
    :meth:`CorrectionsJournal.read`). Raises :class:`ValidationFailed` for an unknown task.
    """
    if task not in LABEL_TASKS:
        raise ValidationFailed("-", "task", f"{task!r} is not one of {list(LABEL_TASKS)}")
    latest = CorrectionsJournal.of(settings_or_data_dir).read().latest(task)
    rows = sorted(latest.values(), key=lambda e: e.line)
    return [(e.post_id, e.text, e.correction.label) for e in rows]


@contextmanager
def _writing(store: Store, post_id: str) -> Iterator[None]:
    """One change of a post's labels at a time: the threads of this process take turns on
    ``_WRITE``, and processes sharing the store's data directory (a dashboard and `iocwatch
    nlp corrections --withdraw`, say) on its "corrections" writer lock, waited for up to
    ``learn.correction_lock_wait_s``. Raises :class:`core.state.LockHeldError` (naming the
    holder) when another process keeps it longer."""
    settings = getattr(store, "settings", None)
    data_dir = getattr(settings, "data_dir", None)
    with _WRITE:
        if data_dir is None:
            yield
            return
        with WriterLock(data_dir, f"changing the labels of post {post_id}", scope="corrections",
                        wait_s=settings.learn.correction_lock_wait_s):
            yield


def correct_post(store: Store, post_id: str, task: str, label: str, *, by: str, role: str,
                 journal: CorrectionsJournal | None = None) -> Post:
    """Give post ``post_id`` the operator's ``label`` for ``task`` (topic, sentiment, toxicity).

    Once the store has it, the correction is appended to ``journal`` (default: the journal of
    the store's data directory, :func:`journal_of`; a store that names none is logged).

    Raises :class:`ValidationFailed` for a role that may not correct posts or a label that
    is not one of the task's, :class:`StoreError` for an unknown id (e.g. a deleted post),
    and :class:`StateWriteError` when the store has the correction but the journal could not
    be written.
    """
    if role not in CORRECTION_ROLES:
        raise ValidationFailed(post_id, "role", f"the role {role!r} may not correct posts")
    journal = journal or journal_of(store)
    with _writing(store, post_id):
        doc = store.get("posts", post_id)
        if doc is None:
            raise StoreError(f"no post with id {post_id}",
                             hint="it may have been deleted; search for it again")
        post = Post.from_doc(doc).corrected(task, label, by)
        stored = Post.from_doc(store.update("posts", post_id, post.correction_fields()))
        if journal is not None:  # in the order of the store's writes
            journal.append(post, post.corrections[-1])
        else:
            log.warning("post %s: correction not journaled (the store names no data directory); "
                        "it is lost if the posts index is rebuilt", post_id)
    log.info("post %s: %s corrected to %r by %s (was %r)", post_id, task, label, by,
             post.corrections[-1].before)
    return stored


def withdraw_correction(store: Store, post_id: str, task: str, *, by: str, role: str,
                        journal: CorrectionsJournal | None = None) -> Post | None:
    """Withdraw the operators' corrections of ``task`` on post ``post_id`` (one made by mistake).

    The post's label for ``task`` goes back to the model's (:meth:`Post.withdrawn`: the model
    output kept in ``model_labels``, else the label before the first correction), its
    corrections of ``task`` are removed (those of other tasks stay) and, once the store has
    it, a withdrawal line is appended to ``journal`` (default: the store's,
    :func:`journal_of`), which cancels every earlier journal entry of that post and task:
    re-crawls, ``index load`` and re-analysis no longer restore it, and retraining no longer
    learns it. A later correction of the task is in force again.

    A post no longer in the store whose correction the journal still holds is withdrawn in
    the journal only, so it is not restored when the post is collected again; ``None`` is
    returned then. Otherwise returns the post as stored after the withdrawal.

    Raises :class:`ValidationFailed` for a role that may not correct posts, an unknown task,
    or when neither the stored post nor the journal has a correction of ``task`` in force;
    :class:`StateWriteError` when the store has the withdrawal but the journal could not be
    written.
    """
    if role not in CORRECTION_ROLES:
        raise ValidationFailed(post_id, "role", f"the role {role!r} may not withdraw corrections")
    if task not in LABEL_TASKS:
        raise ValidationFailed(post_id, "task", f"{task!r} is not one of {list(LABEL_TASKS)}")
    if not by:
        raise ValidationFailed(post_id, "by", "a withdrawal needs the operator's name")
    journal = journal or journal_of(store)
    with _writing(store, post_id):
        doc = store.get("posts", post_id)
        post = Post.from_doc(doc) if doc is not None else None
        in_store = post is not None and post.human_label(task) is not None
        in_journal = journal is not None and any(
            e.correction.task == task for e in journal.read().by_post.get(post_id, []))
        if not in_store and not in_journal:
            where = "the post" if post is not None else "the store holds no such post and the journal"
            raise ValidationFailed(post_id, task, f"nothing to withdraw: {where} has no {task} "
                                                  "correction in force")
        before = post.label_of(task) if post is not None else None
        if in_store:
            post = Post.from_doc(store.update("posts", post_id, post.withdrawn(task).correction_fields()))
        if journal is not None:  # in the order of the store's writes
            journal.append_withdrawal(post_id, Withdrawal(task=task, withdrawn=True, by=by))
        else:
            log.warning("post %s: withdrawal not journaled (the store names no data directory); "
                        "a re-crawl may restore the correction from an older journal", post_id)
    if post is None:
        log.info("post %s (not in the store): %s correction withdrawn in the journal by %s",
                 post_id, task, by)
    else:
        log.info("post %s: %s correction withdrawn by %s (%r back to %r)", post_id, task, by,
                 before, post.label_of(task))
    return post


def corrections_in_force(store: Store | None, journal: CorrectionsJournal | None,
                         task: str | None = None) -> list[dict[str, Any]]:
    """The operators' labels in force, one row per post and task, newest first.

    Rows: ``post_id``, ``task``, ``label`` (the latest correction's), ``before`` (the label
    before the first correction in force: what withdrawing gives back), ``by`` and ``at``
    (ISO time) of the latest correction, ``n`` (corrections in force) and ``stored`` (the
    store holds the post with that correction). Read from the journal (withdrawn corrections
    left out), plus corrections the store holds that the journal lacks (made before the
    journal existed). Either source may be ``None``. Raises :class:`ValidationFailed` for an
    unknown task.
    """
    if task is not None and task not in LABEL_TASKS:
        raise ValidationFailed("-", "task", f"{task!r} is not one of {list(LABEL_TASKS)}")
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(post_id: str, c: Correction, before: str | None, stored: bool) -> None:
        row = rows.get((post_id, c.task))
        if row is None:
            rows[(post_id, c.task)] = {"post_id": post_id, "task": c.task, "label": c.label, "before": before,
                                       "by": c.by, "at": c.at.isoformat(), "n": 1, "stored": stored}
        else:
            row.update(label=c.label, by=c.by, at=c.at.isoformat(), n=row["n"] + 1)

    for entry in journal.read().entries if journal is not None else []:
        if task is None or entry.correction.task == task:
            add(entry.post_id, entry.correction, entry.correction.before, False)
    for post in corrected_posts(store, task) if store is not None else []:
        for t in LABEL_TASKS:
            if (task is None or t == task) and post.human_label(t) is not None:
                if (post.id, t) in rows:
                    rows[(post.id, t)]["stored"] = True
                    continue
                for c in (c for c in post.corrections if c.task == t):
                    add(post.id, c, post.label_without_corrections(t), True)
    return sorted(rows.values(), key=lambda r: (r["at"], r["post_id"], r["task"]), reverse=True)


def _ids_query(ids: list[str]) -> dict[str, Any]:
    return {"bool": {"filter": [{"ids": {"values": ids}}, {"term": {"flags": CORRECTED_FLAG}}]}}


def _merged(corrections: list[Correction], entries: list[JournalEntry]) -> list[Correction] | None:
    """``corrections`` plus the journal's not among them, by time; ``None`` when none is new."""
    have = {(c.task, c.label, c.by, c.at) for c in corrections}
    extra = [e.correction for e in entries
             if (e.correction.task, e.correction.label, e.correction.by, e.correction.at) not in have]
    if not extra:
        return None
    out = [c.model_copy() for c in corrections] + [c.model_copy() for c in extra]
    out.sort(key=lambda c: c.at)  # stable: equal times keep the stored, then the journal order
    return out


def keep_human_labels(store: Store, docs: Iterable[Post | dict[str, Any]], *,
                      journal: CorrectionsJournal | None = None) -> list[Post | dict[str, Any]]:
    """Posts about to be written keep the operators' labels of their stored copies and journal.

    A re-crawled or re-analysed post replaces the stored one by id; for every post whose
    stored copy has corrections, the corrections come along and the human labels win over
    the fresh model output (which goes to ``model_labels``). The corrections journal
    (``journal``, default the store's: :func:`journal_of`) fills the gaps: corrections of a
    post whose stored copy is gone or older than them (index wiped, post deleted, restored
    from an old export) are applied with their who, when and label before, so the human
    label wins again. Corrections the journal withdrew (:func:`withdraw_correction`) are not
    restored, and are taken off a post that still carries them (a stored copy or an export
    older than the withdrawal): the task's label goes back to the model's. One store query
    and one (cached) journal read per call. Idempotent, so a batch replayed twice gives the
    same result.
    """
    docs = list(docs)
    ids = [d.id if isinstance(d, Post) else d.get("id") for d in docs]
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        return docs
    journal = journal or journal_of(store)
    read = journal.read() if journal is not None else JournalRead()
    by_post = read.by_post
    withdrawn_ids = {post_id for post_id, _ in read.withdrawals}
    found = store.search("posts", _ids_query(ids), size=len(ids))
    if not found.hits and not by_post and not withdrawn_ids:
        return docs
    stored = {hit.id: Post.from_doc(hit.source) for hit in found.hits}
    out: list[Post | dict[str, Any]] = []
    for doc in docs:
        doc_id = doc.id if isinstance(doc, Post) else doc.get("id")
        old = stored.get(doc_id) if isinstance(doc_id, str) else None
        entries = by_post.get(doc_id, []) if isinstance(doc_id, str) else []
        if old is None and not entries and doc_id not in withdrawn_ids:
            out.append(doc)
            continue
        post = doc.model_copy(deep=True) if isinstance(doc, Post) else Post.from_doc(doc)
        if old is not None:
            post.keep_human_labels(old)
        merged = _merged(post.corrections, entries)
        if merged is not None:
            log.info("post %s: %d correction(s) restored from the corrections journal",
                     post.id, len(merged) - len(post.corrections))
            post.corrections = merged
            post.keep_human_labels()
        cancelled = _withdrawn_tasks(post, read)
        for task in cancelled:
            at = read.withdrawn_at(post.id, task)
            later = [c for c in post.corrections if c.task != task or c.at > at]
            if any(c.task == task for c in later):  # corrected again after the withdrawal
                post.corrections = later
                post.keep_human_labels()
            else:
                post = post.withdrawn(task)
        if cancelled:
            log.info("post %s: %s correction(s) withdrawn in the corrections journal not restored",
                     post.id, ", ".join(cancelled))
        if merged is None and old is None and not cancelled:  # the journal changes nothing
            out.append(doc)
            continue
        out.append(post if isinstance(doc, Post) else post.to_doc())
    return out


def _withdrawn_tasks(post: Post, read: JournalRead) -> list[str]:
    """The tasks of which ``post`` carries a correction older than the journal's withdrawal."""
    out = []
    for task in LABEL_TASKS:
        at = read.withdrawn_at(post.id, task)
        if at is not None and any(c.task == task and c.at <= at for c in post.corrections):
            out.append(task)
    return out


def iter_posts(store: Store, query: dict[str, Any] | None, *, page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every post matching ``query``, oldest first, paged through the store."""
    offset = 0
    while True:
        res = store.search("posts", query, size=page, from_=offset,
                           sort=[{"published_at": {"order": "asc"}}])
        yield from (hit.source for hit in res.hits)
        offset += len(res.hits)
        if not res.hits or offset >= res.total:
            return


def corrected_posts(store: Store, task: str | None = None) -> Iterator[Post]:
    """Posts with an operator's label (for ``task``, when given)."""
    for doc in iter_posts(store, {"term": {"flags": CORRECTED_FLAG}}):
        post = Post.from_doc(doc)
        if task is None or post.human_label(task) is not None:
            yield post


def _unsure(post: Post, task: str) -> float | None:
    """How unsure the model was about ``task`` on ``post``: 1 - P(chosen label)."""
    conf = post.label_confidence.get(task)
    if conf is not None:
        return 1.0 - float(conf)
    if task == "toxicity" and post.toxicity_score is not None:  # 1 - P(clean): unsure near 0.5
        return 1.0 - abs(2.0 * float(post.toxicity_score) - 1.0)
    return None


def usefulness(post: Post, *, disagree_bonus: float = 0.5) -> tuple[float, str | None, list[str]]:
    """(score, task to ask about, reasons) for the review queue; higher is asked first.

    The score is the largest ``1 - P(chosen label)`` among the tasks not yet corrected, plus
    ``disagree_bonus`` when the topic keyword rules and the classifier disagree, plus a
    small share for engagement (a widely seen post matters more).
    """
    human = post.human_labels()
    best_task, best = None, -1.0
    reasons: list[str] = []
    for task in LABEL_TASKS:
        if task in human:
            continue
        unsure = _unsure(post, task)
        if unsure is not None and unsure > best:
            best_task, best = task, unsure
    score = max(best, 0.0)
    if best_task is not None:
        reasons.append(f"unsure:{best_task}")
    if RULES_DISAGREE_FLAG in post.flags and "topic" not in human:
        score += disagree_bonus
        reasons.append("rules_disagree")
        best_task = "topic" if best_task is None or best < 0.5 else best_task
    score += 0.05 * math.log1p(post.engagement.total) / math.log1p(10_000)
    return round(score, 4), best_task, reasons


def review_queue(store: Store, query: dict[str, Any] | None = None, *, limit: int = 20,
                 candidates: int = 400, disagree_bonus: float = 0.5,
                 audit_share: float = 0.0) -> list[dict[str, Any]]:
    """The posts most worth an operator's label, most useful first (see :func:`usefulness`),
    with the audit sample's posts mixed in.

    Looks at the newest ``candidates`` analysed posts matching ``query`` that have no
    operator's label yet and are not reposts, plus as many where keyword rules and
    classifier disagree. Posts of the audit sample (:func:`core.documents.audit_bucket`
    below ``audit_share``, the share retraining holds back as ``learn.holdout``) are not
    ranked by usefulness: they come newest first, reason ``"audit"``, in about
    ``audit_share`` of the slots from the top, so the corrections that judge a retrained
    model are a fair sample of the stream, not only the posts the models found hardest.
    Returns ``{"post": stored doc, "score", "task", "reasons"}`` rows.
    """
    base: list[dict[str, Any]] = [{"exists": {"field": "sentiment"}}]
    if query:
        base.append(query)
    # already labelled, or a repost of another post (labelling the original is enough)
    not_corrected = [{"term": {"flags": CORRECTED_FLAG}}, {"exists": {"field": "duplicate_of"}}]
    seen: dict[str, dict[str, Any]] = {}
    for extra in ([], [{"term": {"flags": RULES_DISAGREE_FLAG}}]):
        q = {"bool": {"filter": base + extra, "must_not": not_corrected}}
        res = store.search("posts", q, size=candidates, sort=[{"published_at": {"order": "desc"}}])
        for hit in res.hits:
            seen.setdefault(hit.id, hit.source)
    rows: list[dict[str, Any]] = []
    audit: list[tuple[float, str, dict[str, Any]]] = []
    for doc in seen.values():
        post = Post.from_doc(doc)
        score, task, reasons = usefulness(post, disagree_bonus=disagree_bonus)
        if task is None:
            continue
        row = {"post": doc, "score": score, "task": task, "reasons": reasons}
        if audit_bucket(post.id) < audit_share:
            row["reasons"] = ["audit"]
            newest = -post.published_at.timestamp() if post.published_at else math.inf
            audit.append((newest, post.id, row))
        else:
            rows.append(row)
    rows.sort(key=lambda r: (-r["score"], r["post"].get("id")))
    audit.sort(key=lambda a: a[:2])
    ranked, sampled = iter(rows), iter(a[2] for a in audit)
    out: list[dict[str, Any]] = []
    n_audit = 0
    while len(out) < limit:
        want_audit = n_audit < round((len(out) + 1) * audit_share)
        row = next(sampled, None) if want_audit else next(ranked, None)
        if row is None:  # one kind ran out: the other fills the rest
            row = next(ranked, None) if want_audit else next(sampled, None)
            if row is None:
                break
        n_audit += row["reasons"] == ["audit"]
        out.append(row)
    return out
