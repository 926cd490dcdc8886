"""Operators' labels written back to the store, kept through re-crawls, and the review queue.

A correction goes through :meth:`Store.update`: the post's effective label changes at once
(so every count and chart uses it), with who, when and the label before kept in
``Post.corrections`` and the model's output in ``Post.model_labels`` (see
:meth:`core.documents.Post.corrected`). Posts with an operator's label carry the
``corrected`` flag, so they are found with one query.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from core.documents import CORRECTED_FLAG, LABEL_TASKS, RULES_DISAGREE_FLAG, Post
from core.errors import StoreError, ValidationFailed
from index.base import Store

log = logging.getLogger(__name__)

CORRECTION_ROLES = frozenset({"comms", "analyst", "admin"})  # security officers may not correct
PAGE = 500  # posts per store request when paging
# Read-modify-write of one post: two operators of one dashboard (one process, a thread per
# session) correcting the same post at the same moment must not lose either correction.
_WRITE = threading.Lock()


def correct_post(store: Store, post_id: str, task: str, label: str, *, by: str, role: str) -> Post:
    """Give post ``post_id`` the operator's ``label`` for ``task`` (topic, sentiment, toxicity).

    Raises :class:`ValidationFailed` for a role that may not correct posts or a label that
    is not one of the task's, and :class:`StoreError` for an unknown id (e.g. a deleted post).
    """
    if role not in CORRECTION_ROLES:
        raise ValidationFailed(post_id, "role", f"the role {role!r} may not correct posts")
    with _WRITE:
        doc = store.get("posts", post_id)
        if doc is None:
            raise StoreError(f"no post with id {post_id}",
                             hint="it may have been deleted; search for it again")
        post = Post.from_doc(doc).corrected(task, label, by)
        stored = Post.from_doc(store.update("posts", post_id, post.correction_fields()))
    log.info("post %s: %s corrected to %r by %s (was %r)", post_id, task, label, by,
             post.corrections[-1].before)
    return stored


def _ids_query(ids: list[str]) -> dict[str, Any]:
    return {"bool": {"filter": [{"ids": {"values": ids}}, {"term": {"flags": CORRECTED_FLAG}}]}}


def keep_human_labels(store: Store, docs: Iterable[Post | dict[str, Any]]) -> list[Post | dict[str, Any]]:
    """Posts about to be written keep the operators' labels of their stored copies.

    A re-crawled or re-analysed post replaces the stored one by id; for every post whose
    stored copy has corrections, the corrections come along and the human labels win over
    the fresh model output (which goes to ``model_labels``). One store query per call.
    Idempotent, so a batch replayed twice gives the same result.
    """
    docs = list(docs)
    ids = [d.id if isinstance(d, Post) else d.get("id") for d in docs]
    ids = [i for i in ids if isinstance(i, str)]
    if not ids:
        return docs
    found = store.search("posts", _ids_query(ids), size=len(ids))
    if not found.hits:
        return docs
    stored = {hit.id: Post.from_doc(hit.source) for hit in found.hits}
    out: list[Post | dict[str, Any]] = []
    for doc in docs:
        doc_id = doc.id if isinstance(doc, Post) else doc.get("id")
        old = stored.get(doc_id) if isinstance(doc_id, str) else None
        if old is None:
            out.append(doc)
            continue
        post = doc.model_copy(deep=True) if isinstance(doc, Post) else Post.from_doc(doc)
        post.keep_human_labels(old)
        out.append(post if isinstance(doc, Post) else post.to_doc())
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
                 candidates: int = 400, disagree_bonus: float = 0.5) -> list[dict[str, Any]]:
    """The posts most worth an operator's label, most useful first (see :func:`usefulness`).

    Looks at the newest ``candidates`` analysed posts matching ``query`` that have no
    operator's label yet and are not reposts, plus as many where keyword rules and
    classifier disagree.
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
    rows = []
    for doc in seen.values():
        post = Post.from_doc(doc)
        score, task, reasons = usefulness(post, disagree_bonus=disagree_bonus)
        if task is None:
            continue
        rows.append({"post": doc, "score": score, "task": task, "reasons": reasons})
    rows.sort(key=lambda r: (-r["score"], r["post"].get("id")))
    return rows[:limit]
