"""The learning loop, wired: operators' corrections from the store -> retraining (``nlp.retrain``)
-> model versions (``nlp.registry``) -> re-analysis of stored posts that keeps human labels.

The functions behind ``iocwatch nlp retrain|models|rollback|reanalyze`` and the dashboard's
retrain button; each returns data and leaves printing to its caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.documents import Post
from core.settings import Settings

log = logging.getLogger(__name__)


def correction_examples(store: Any, task: str, settings: Settings | None = None) -> list[Any]:
    """Every operator's ``task`` label as :class:`nlp.retrain.Example` rows: the corrected
    posts in the store, plus (with ``settings``) the corrections journal's latest label of
    each post the store no longer holds with a correction (an index lost or rebuilt), with
    the text the post had when it was corrected."""
    from index.corrections import corrected_posts, journal_examples
    from nlp.retrain import Example

    out = []
    for post in corrected_posts(store, task):
        text = "\n".join(p for p in (post.title, post.text) if p)
        out.append(Example(post.id, text, post.human_label(task) or ""))
    if settings is not None:
        stored = {ex.id for ex in out}
        missing = [Example(pid, text, label) for pid, text, label in journal_examples(settings, task)
                   if pid not in stored and text]
        if missing:
            log.info("%d %s corrections come from the journal (their posts are not in the store)",
                     len(missing), task)
        out.extend(missing)
    return out


def retrain_options(settings: Settings, by: str | None) -> Any:
    from nlp.retrain import RetrainOptions

    learn = settings.learn
    return RetrainOptions(holdout=learn.holdout, corpus_c=tuple(learn.corpus_c),
                          correction_c=tuple(learn.correction_c), folds=learn.cv_folds,
                          min_corrections=learn.min_corrections, by=by)


def retrain_task(settings: Settings, task: str, *, eval_file: Path | None = None,
                 eval_label_field: str | None = None, by: str | None = None,
                 wait_s: float = 0.0, store: Any = None) -> dict[str, Any]:
    """Retrain ``task`` on the corrections in the store; the report as a dict
    (see :class:`nlp.retrain.RetrainReport`)."""
    from index import open_store
    from nlp.registry import ModelRegistry
    from nlp.retrain import retrain

    own = store is None
    store = store or open_store(settings)
    try:
        examples = correction_examples(store, task, settings)
    finally:
        if own:
            store.close()
    report = retrain(task, examples, ModelRegistry(settings.data_dir),
                     options=retrain_options(settings, by), eval_file=eval_file,
                     eval_label_field=eval_label_field, wait_s=wait_s)
    return report.as_dict()


def list_models(settings: Settings, tasks: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every model version per task with its figures, the one in use marked ``current``."""
    from nlp.models import TASKS
    from nlp.registry import ModelRegistry
    from nlp.retrain import describe

    registry = ModelRegistry(settings.data_dir)
    rows = []
    for task in tasks or TASKS:
        current = registry.current(task).name
        for version in registry.versions(task):
            rows.append({**describe(version), "current": version.name == current})
    return rows


def rollback_task(settings: Settings, task: str, *, by: str | None = None,
                  wait_s: float = 0.0) -> dict[str, str]:
    """Go back to the previous version of ``task``: ``{"task", "from", "to"}``."""
    from nlp.registry import ModelRegistry

    registry = ModelRegistry(settings.data_dir)
    with registry.lock(f"iocwatch nlp rollback --task {task}", wait_s=wait_s):
        was = registry.current(task).name
        now = registry.rollback(task, by=by)
    return {"task": task, "from": was, "to": now.name}


def reanalyze(settings: Settings, *, since: str | None = None, store: Any = None,
              batch_size: int = 500, progress: Callable[[int], Any] | None = None) -> dict[str, int]:
    """Relabel stored posts (published since ``since``, ISO date or ``now-7d``) with the models
    in use; operators' labels are never overwritten (the fresh model output goes to
    ``model_labels``). Returns ``{"posts", "changed", "human_kept", "rejected"}``.

    The caller holds the data directory's writer lock (the command does).
    """
    from index import open_store
    from index.corrections import iter_posts, keep_human_labels
    from nlp.pipeline import load_pipeline

    query = {"range": {"published_at": {"gte": since}}} if since else None
    pipeline = load_pipeline(settings)
    own = store is None
    store = store or open_store(settings)
    counts = {"posts": 0, "changed": 0, "human_kept": 0, "rejected": 0}
    try:
        # ids first (writes could move documents between pages), then one batch at a time
        ids = [doc["id"] for doc in iter_posts(store, query)]
        for start in range(0, len(ids), batch_size):
            wanted = ids[start:start + batch_size]
            found = store.search("posts", {"ids": {"values": wanted}}, size=len(wanted))
            chunk = [Post.from_doc(hit.source) for hit in found.hits]
            before = [_labels(p) for p in chunk]
            # stored corrections first, then any the journal holds that the stored copy lacks
            # (an index restored from an old export)
            fresh = keep_human_labels(
                store, [post.keep_human_labels() for post in pipeline.pipe(chunk, batch_size=batch_size)])
            result = store.upsert_many("posts", fresh)
            counts["posts"] += len(fresh)
            counts["rejected"] += len(result.rejected)
            counts["human_kept"] += sum(1 for p in fresh if p.corrections)
            counts["changed"] += sum(1 for p, b in zip(fresh, before, strict=True) if _labels(p) != b)
            if progress is not None:
                progress(len(fresh))
    finally:
        if own:
            store.close()
    log.info("re-analysed %d posts: %d changed labels, %d kept operators' labels",
             counts["posts"], counts["changed"], counts["human_kept"])
    return counts


def _labels(post: Post) -> tuple[Any, ...]:
    return (tuple(post.topics), post.sentiment, post.toxicity)


def split_halves(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two halves of labelled rows, by the order of a hash of their ids (stable, label-blind)."""
    import hashlib

    ranked = sorted(rows, key=lambda r: hashlib.sha1(str(r["id"]).encode("utf-8")).hexdigest())
    return ranked[0::2], ranked[1::2]


def learning_curve(rows: list[dict[str, Any]], ns: list[int], work_dir: Path, *,
                   tasks: tuple[str, ...] = ("sentiment", "topic"), order: str = "queue") -> dict[str, Any]:
    """Measure the correction loop: operators correct N posts of one half of ``rows`` (dicts with
    ``id``, ``text`` and a label per task) through the dashboard's code path, retrain, and
    the models are evaluated on the other half.

    For each N a fresh data directory under ``work_dir`` gets the first half, analysed by the
    shipped models; the first N posts in ``order`` (``"queue"``: the review queue's order;
    ``"hash"``: a fixed label-blind order) are corrected for every task with
    :func:`index.corrections.correct_post`, then each task is retrained as ``iocwatch nlp
    retrain`` does. Returns per N and task the macro-F1 on the other half of the candidate,
    of the model in use afterwards (the candidate if promoted, else the shipped one), and the
    held-back comparison.
    """
    from core.settings import load_settings
    from index import open_store
    from index.corrections import correct_post, review_queue
    from nlp.normalize import normalize_text
    from nlp.pipeline import load_pipeline
    from nlp.registry import ModelRegistry
    from nlp.retrain import evaluate_on

    first, other = split_halves(rows)
    other_texts = [normalize_text(r["text"])[0] for r in other]
    by_id = {r["id"]: r for r in first}
    settings = load_settings(data_dir=work_dir / "analyse")
    posts = [Post(id=str(r["id"]), source="learning-curve", platform="other", text=r["text"]) for r in first]
    analysed = [p.to_doc() for p in load_pipeline(settings).pipe(posts)]
    out: dict[str, Any] = {"n_first_half": len(first), "n_other_half": len(other), "order": order,
                           "points": []}
    shipped = {task: evaluate_on(f"default:{task}", other_texts, [r[task] for r in other])["macro_f1"]
               for task in tasks}
    for n in ns:
        point: dict[str, Any] = {"n": n}
        if n == 0:
            for task in tasks:
                point[task] = {"candidate": shipped[task], "in_use": shipped[task], "promoted": None}
            out["points"].append(point)
            continue
        settings = load_settings(data_dir=work_dir / f"n{n}")
        store = open_store(settings)
        try:
            store.upsert_many("posts", analysed)
            if order == "queue":
                queued = [r["post"]["id"] for r in review_queue(
                    store, None, limit=len(first), candidates=len(first),
                    audit_share=settings.learn.holdout)]
                ids = queued + [p["id"] for p in analysed if p["id"] not in set(queued)]
            else:
                ids = [p["id"] for p in analysed]
            for post_id in ids[:n]:
                for task in tasks:
                    correct_post(store, post_id, task, by_id[post_id][task], by="learning-curve",
                                 role="analyst")
            registry = ModelRegistry(settings.data_dir)
            for task in tasks:
                report = retrain_task(settings, task, by="learning-curve", store=store)
                gold = [r[task] for r in other]
                candidate = evaluate_on(registry.version(task, report["candidate"]).ref, other_texts, gold)
                in_use = evaluate_on(registry.current(task).ref, other_texts, gold)
                held = report["evaluations"].get("heldout", {})
                point[task] = {"candidate": candidate["macro_f1"], "in_use": in_use["macro_f1"],
                               "promoted": report["promoted"],
                               "heldout": {k: v["macro_f1"] for k, v in held.items()}}
        finally:
            store.close()
        out["points"].append(point)
        log.info("learning curve N=%d: %s", n, point)
    return out
