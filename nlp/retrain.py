"""Retraining on operators' corrections: train a candidate, compare it with the model in use,
promote it only if it is not worse.

The candidate is trained with :func:`nlp.train.train` (the shipped recipe) on the shipped
corpus plus the corrections, each correction repeated so that the corrections make up
``share`` of the training rows (a few hundred real posts against thousands of corpus
sentences; at least once each, at most ``max_weight`` times). A share of the corrections (``holdout``,
chosen per label by a hash of the post id, so a post always falls on the same side) is
held back: both the candidate and the model in use are evaluated on it, and on any
labelled file given, with macro-F1. The candidate becomes a new version in the registry
either way; it is promoted only if its macro-F1 is at least the current model's on every
evaluation.

Bad input gives :class:`RetrainError` with a message saying what to do: no corrections,
too few, a single class (nothing to tell a better model from one that answers that class
every time), or conflicting corrections (the same text with different labels).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import NlpError
from nlp.models import TASKS, default_model_dir, load_classifier, read_meta
from nlp.normalize import normalize_text
from nlp.registry import ModelRegistry, ModelVersion
from nlp.train import metrics, read_jsonl, train

log = logging.getLogger(__name__)


class RetrainError(NlpError):
    """Retraining cannot run on these corrections; the message says why and what to do."""


@dataclass(frozen=True)
class Example:
    """One corrected post: its id, its text (title and text as the pipeline reads them) and
    the operator's label."""

    id: str
    text: str
    label: str


@dataclass
class RetrainOptions:
    """How a retraining runs (the defaults come from ``settings.learn``)."""

    holdout: float = 0.3  # share of the corrections held back to compare the two models
    share: float = 0.7  # the corrections' share of the training rows (by repeating them)
    max_weight: int = 100  # a correction is never repeated more than this
    min_corrections: int = 10  # fewer corrections than this cannot train and evaluate anything
    by: str | None = None  # who asked (recorded with the version)
    promote: bool = True  # False: make and evaluate the candidate, never promote it


@dataclass
class RetrainReport:
    """What a retraining did: the candidate version, both evaluations, the decision."""

    task: str
    candidate: str
    current: str
    promoted: bool
    reason: str
    n_corrections: int
    n_train: int
    n_heldout: int
    label_counts: dict[str, int]
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {current, candidate}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_corrections(task: str, examples: Sequence[Example], *, min_corrections: int,
                      has_eval: bool = False) -> list[Example]:
    """The examples to train on, or :class:`RetrainError` saying why retraining cannot run."""
    if task not in TASKS:
        raise RetrainError(f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}")
    if not examples:
        raise RetrainError(f"there are no {task} corrections yet",
                           hint="correct posts in the dashboard (Lắng nghe, Tìm kiếm, Cần xem lại) first")
    by_text: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for ex in examples:
        by_text[normalize_text(ex.text)[0].casefold()][ex.label].append(ex.id)
    conflicts = [labels for labels in by_text.values() if len(labels) > 1]
    if conflicts:
        shown = "; ".join(", ".join(f"{label}: {ids[0]}" for label, ids in sorted(c.items()))
                          for c in conflicts[:3])
        raise RetrainError(
            f"{len(conflicts)} {task} correction(s) conflict: the same text has different labels ({shown})",
            hint="open those posts and give them one label, then retrain")
    if len(examples) < min_corrections:
        raise RetrainError(f"only {len(examples)} {task} correction(s); retraining needs at least "
                           f"{min_corrections} to train and to hold some back for the comparison",
                           hint="correct more posts (the review queue 'Cần xem lại' lists the most useful)")
    counts = Counter(ex.label for ex in examples)
    if len(counts) < 2 and not has_eval:
        (label, n), = counts.items()
        raise RetrainError(
            f"all {n} {task} corrections say {label!r}: the held-back part cannot tell a better model "
            "from one that answers that label every time",
            hint="correct posts of other labels too, or give a labelled file with --eval")
    return list(examples)


def _bucket(post_id: str) -> float:
    return int(hashlib.sha1(post_id.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def split_heldout(examples: Sequence[Example], fraction: float) -> tuple[list[Example], list[Example]]:
    """(train, held back): per label, the ``fraction`` of posts with the lowest id hash is held
    back (at least one when a label has two or more posts, never all of them)."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_label[ex.label].append(ex)
    train_part: list[Example] = []
    held: list[Example] = []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: (_bucket(e.id), e.id))
        k = round(fraction * len(group))
        if len(group) >= 2:
            k = min(max(k, 1), len(group) - 1)
        else:
            k = 0
        held.extend(group[:k])
        train_part.extend(group[k:])
    return train_part, held


def shipped_corpus(task: str) -> tuple[Path, str]:
    """The corpus file the shipped ``task`` model was trained on, and its label field."""
    meta = read_meta(default_model_dir(task))
    corpus_dir = Path(str(default_model_dir(task).parents[1] / "data" / "corpus"))
    path = corpus_dir / str(meta.get("data_file") or "corpus.jsonl")
    if not path.is_file():
        raise RetrainError(f"the shipped {task} corpus {path.name} is not in the package",
                           where=str(path), hint="reinstall iocwatch")
    return path, str(meta.get("label_field") or task)


def correction_weight(n_corpus: int, n_corrections: int, share: float, max_weight: int) -> int:
    """How many times each correction is repeated so corrections make ``share`` of the rows."""
    if n_corrections <= 0:
        return 1
    wanted = share / (1.0 - share) * n_corpus / n_corrections
    return max(1, min(max_weight, round(wanted)))


def _write_training_file(path: Path, task: str, examples: Sequence[Example], *, share: float,
                         max_weight: int) -> tuple[int, int]:
    """The shipped corpus's rows for ``task`` plus the repeated corrections: (rows, repeats)."""
    corpus, label_field = shipped_corpus(task)
    rows: list[str] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if isinstance(row.get("text"), str) and row.get(label_field) is not None:
                rows.append(json.dumps({"text": row["text"], "label": row[label_field]},
                                       ensure_ascii=False) + "\n")
    weight = correction_weight(len(rows), len(examples), share, max_weight)
    with path.open("w", encoding="utf-8") as out:
        out.writelines(rows)
        for ex in examples:
            out.write((json.dumps({"text": ex.text, "label": ex.label}, ensure_ascii=False) + "\n") * weight)
    return len(rows) + weight * len(examples), weight


def evaluate_on(ref: str, texts: Sequence[str], gold: Sequence[str]) -> dict[str, Any]:
    """Metrics (see :func:`nlp.train.metrics`) of the model ``ref`` on normalised ``texts``."""
    model = load_classifier(ref)
    pred: list[str] = []
    for start in range(0, len(texts), 256):
        labels, _ = model.predict(list(texts[start:start + 256]), {})
        pred.extend(labels)
    return metrics(list(gold), pred)


def _figures(m: dict[str, Any]) -> dict[str, Any]:
    return {"n": m["n"], "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
            "per_class_f1": {k: v["f1"] for k, v in m["per_class"].items()}}


def retrain(task: str, examples: Sequence[Example], registry: ModelRegistry, *,
            options: RetrainOptions | None = None, eval_file: Path | None = None,
            eval_label_field: str | None = None, wait_s: float = 0.0) -> RetrainReport:
    """Train a candidate on the shipped corpus plus ``examples``, evaluate it against the
    version in use, add it to ``registry`` and promote it if it is not worse.

    Holds the registry's writer lock throughout (a second retraining waits ``wait_s``, then
    raises :class:`core.state.LockHeldError` naming the holder).
    """
    options = options or RetrainOptions()
    examples = check_corrections(task, examples, min_corrections=options.min_corrections,
                                 has_eval=eval_file is not None)
    train_part, held = split_heldout(examples, options.holdout)
    evals: dict[str, tuple[list[str], list[str]]] = {}
    if held:
        evals["heldout"] = ([normalize_text(e.text)[0] for e in held], [e.label for e in held])
    if eval_file is not None:
        data = read_jsonl(Path(eval_file), label_field=eval_label_field or task)
        evals[f"eval:{Path(eval_file).name}"] = (data.texts, data.labels)
    if not evals:
        raise RetrainError(f"nothing to evaluate the {task} candidate on",
                           hint="correct more posts of each label, or give --eval FILE")
    with registry.lock(f"iocwatch nlp retrain --task {task}", wait_s=wait_s):
        current = registry.current(task)
        log.info("retraining %s on %d corrections (%d held back); model in use: %s",
                 task, len(examples), len(held), current.name)
        with tempfile.TemporaryDirectory(prefix="iocwatch-retrain-") as tmp:
            data_path = Path(tmp) / "train.jsonl"
            n_train, weight = _write_training_file(data_path, task, train_part, share=options.share,
                                                   max_weight=options.max_weight)

            def build(directory: Path) -> dict[str, Any]:
                return train(task, data_path, directory, label_field="label",
                             command=f"iocwatch nlp retrain --task {task}")

            record = {"task": task, "parent": current.name, "by": options.by,
                      "n_corrections": len(examples), "n_train_corrections": len(train_part),
                      "n_heldout": len(held), "weight": weight, "share": options.share,
                      "correction_ids": sorted(e.id for e in examples)}
            candidate = registry.add(task, build, record)
        evaluations: dict[str, dict[str, Any]] = {}
        for name, (texts, gold) in evals.items():
            evaluations[name] = {"current": _figures(evaluate_on(current.ref, texts, gold)),
                                 "candidate": _figures(evaluate_on(candidate.ref, texts, gold))}
        worse = [name for name, ev in evaluations.items()
                 if ev["candidate"]["macro_f1"] < ev["current"]["macro_f1"]]
        promoted = not worse and options.promote
        if worse:
            reason = "candidate is worse than the model in use on " + ", ".join(worse)
        elif not options.promote:
            reason = "not promoted (asked not to)"
        else:
            reason = "candidate is not worse on any evaluation"
        registry.update_record(task, candidate.name, evaluations=evaluations, promoted=promoted,
                               reason=reason, n_train=n_train)
        if promoted:
            registry.promote(task, candidate.name, by=options.by)
    log.info("%s: %s (%s)", candidate.name, "promoted" if promoted else "kept aside", reason)
    return RetrainReport(task=task, candidate=candidate.name, current=current.name,
                         promoted=promoted, reason=reason, n_corrections=len(examples),
                         n_train=n_train, n_heldout=len(held),
                         label_counts=dict(sorted(Counter(e.label for e in examples).items())),
                         evaluations=evaluations)


def describe(version: ModelVersion) -> dict[str, Any]:
    """One row of ``iocwatch nlp models``: name, whether in use, how made, its figures."""
    record = version.record
    row: dict[str, Any] = {"task": version.task, "version": version.name,
                           "trained_at": version.meta.get("trained_at"),
                           "n_train": version.meta.get("n_train")}
    if record:
        row.update(parent=record.get("parent"), by=record.get("by"),
                   n_corrections=record.get("n_corrections"), promoted=record.get("promoted"),
                   reason=record.get("reason"),
                   evaluations={k: {side: v[side]["macro_f1"] for side in ("current", "candidate")}
                                for k, v in (record.get("evaluations") or {}).items()})
    return row
