"""Retraining on operators' corrections: train a candidate, compare it with the model in use,
promote it only if it is not worse.

The candidate is trained with :func:`nlp.train.train` (the shipped recipe and features) on
the shipped corpus plus the corrections. A corpus sentence and a real post corrected by an
operator do not teach the same: the SVM's ``C`` for corpus rows and for corrections (a
correction's weight is their ratio) are chosen on a small grid by k-fold cross-validation
over the training corrections themselves (:func:`choose_weighting`: each fold trains on the
corpus plus the other folds and is scored on its own posts), so the choice is made on the
operators' data and nothing else. Both the choice and the candidate's final fit take their
design matrix from :meth:`nlp.linear.LinearTextClassifier.designs` (one recipe), and the
texts are featurised once for the two. The corrections of the audit sample (posts whose id
hash is below ``holdout``, which the review queue asks about label-blind: see
:func:`split_heldout`) are held back: both the candidate and the model in use are
evaluated on them, and on any
labelled file given, with macro-F1. The candidate becomes a new version in the registry
either way; it is promoted only if its macro-F1 is at least the current model's on every
evaluation.

Bad input gives :class:`RetrainError` with a message saying what to do: no corrections,
too few, a single class (nothing to tell a better model from one that answers that class
every time), or conflicting corrections (the same text with different labels).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.documents import audit_bucket
from core.errors import NlpError
from nlp.models import TASKS, default_model_dir, load_classifier, read_meta
from nlp.normalize import normalize_text
from nlp.registry import ModelRegistry, ModelVersion
from nlp.train import MAX_CHARS, metrics, read_jsonl, train

if TYPE_CHECKING:
    from nlp.features import Counts, FeatureConfig

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
    corpus_c: tuple[float, ...] = (0.033, 0.1, 0.33, 1.0)  # SVM C candidates for corpus rows
    correction_c: tuple[float, ...] = (0.33, 1.0, 3.0)  # SVM C candidates for corrections
    folds: int = 5  # cross-validation folds over the corrections to choose the pair
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
    heldout_kind: str  # "audit": the audit sample's corrections; "stratified": a hash share per label
    label_counts: dict[str, int]
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {current, candidate}
    weighting: dict[str, Any] = field(default_factory=dict)  # see Weighting

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


MIN_AUDIT_HELDOUT = 8  # fewer audit-sample corrections than this: a stratified hash share is held back


def split_heldout(examples: Sequence[Example], fraction: float) -> tuple[list[Example], list[Example], str]:
    """(train, held back, how): the corrections of posts in the audit sample
    (:func:`core.documents.audit_bucket` below ``fraction``) are held back, ``how`` =
    ``"audit"``. The review queue asks about those posts label-blind, so they are a fair
    sample of the stream, while the rest were mostly asked because the models were unsure.

    With fewer than :data:`MIN_AUDIT_HELDOUT` of them, or fewer than two labels among them,
    or none left to train on, ``how`` = ``"stratified"``: per label, the ``fraction`` of
    posts with the lowest id hash (at least one when a label has two or more posts, never
    all of them)."""
    audit = [ex for ex in examples if audit_bucket(ex.id) < fraction]
    rest = [ex for ex in examples if audit_bucket(ex.id) >= fraction]
    if len(audit) >= MIN_AUDIT_HELDOUT and len({ex.label for ex in audit}) >= 2 and rest:
        return rest, audit, "audit"
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_label[ex.label].append(ex)
    train_part: list[Example] = []
    held: list[Example] = []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: (audit_bucket(e.id), e.id))
        k = round(fraction * len(group))
        if len(group) >= 2:
            k = min(max(k, 1), len(group) - 1)
        else:
            k = 0
        held.extend(group[:k])
        train_part.extend(group[k:])
    return train_part, held, "stratified"


def shipped_corpus(task: str) -> tuple[Path, str]:
    """The corpus file the shipped ``task`` model was trained on, and its label field."""
    meta = read_meta(default_model_dir(task))
    corpus_dir = Path(str(default_model_dir(task).parents[1] / "data" / "corpus"))
    path = corpus_dir / str(meta.get("data_file") or "corpus.jsonl")
    if not path.is_file():
        raise RetrainError(f"the shipped {task} corpus {path.name} is not in the package",
                           where=str(path), hint="reinstall iocwatch")
    return path, str(meta.get("label_field") or task)


@dataclass(frozen=True)
class Weighting:
    """The SVM's C for corpus rows and for corrections, and how the choice was made."""

    corpus_c: float
    correction_c: float
    cv_macro_f1: float | None  # out-of-fold macro-F1 over the corrections of the chosen pair
    folds: int  # 0: too few corrections per label to cross-validate; the middle pair is used
    grid: dict[str, float] = field(default_factory=dict)  # "corpus_c/correction_c" -> macro-F1

    @property
    def weight(self) -> float:
        """A correction's weight in the SVM's loss (corpus rows weigh 1)."""
        return self.correction_c / self.corpus_c


def read_corpus(task: str) -> tuple[list[str], list[str], list[str]]:
    """The shipped corpus for ``task``: (texts, labels, unlabelled texts), raw (not normalised)."""
    corpus, label_field = shipped_corpus(task)
    texts: list[str] = []
    labels: list[str] = []
    unlabelled: list[str] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("text"), str):
                continue
            if row.get(label_field) is not None:
                texts.append(row["text"])
                labels.append(str(row[label_field]))
            elif row["text"].strip():
                unlabelled.append(row["text"])
    return texts, labels, unlabelled


def shipped_features(task: str) -> FeatureConfig:
    """The feature configuration of the shipped ``task`` model (a retrained one keeps it)."""
    from nlp.features import FeatureConfig

    return FeatureConfig(**read_meta(default_model_dir(task))["features"])


def training_texts(examples: Sequence[Example], corpus: tuple[list[str], list[str], list[str]]
                   ) -> list[str]:
    """The texts a candidate trains on, as :func:`nlp.train.train` reads them from the file
    :func:`_write_training_file` writes (normalised with the same ``max_chars``): the
    corpus's labelled texts, the corrections, then the corpus's unlabelled texts (IDF only)."""
    texts, _, unlabelled = corpus
    return [normalize_text(t, max_chars=MAX_CHARS)[0]
            for t in [*texts, *(ex.text for ex in examples), *unlabelled]]


def training_counts(task: str, examples: Sequence[Example],
                    corpus: tuple[list[str], list[str], list[str]]) -> Counts:
    """Counts of :func:`training_texts` with the shipped ``task`` features: what
    :func:`choose_weighting` and the candidate's final fit both start from."""
    from nlp.linear import LinearTextClassifier

    return LinearTextClassifier(shipped_features(task)).counts(training_texts(examples, corpus))


def choose_weighting(task: str, examples: Sequence[Example], options: RetrainOptions,
                     corpus: tuple[list[str], list[str], list[str]] | None = None,
                     counts: Counts | None = None) -> Weighting:
    """Choose the (corpus C, correction C) pair by k-fold CV over ``examples``.

    Features and IDF are the shipped model's, built as the candidate's final fit builds them
    (:meth:`nlp.linear.LinearTextClassifier.designs` with the shipped feature configuration,
    IDF over the corpus, the corrections and the corpus's unlabelled texts); ``counts`` are
    :func:`training_counts` of the same ``examples`` and ``corpus`` when already computed.
    Each fold trains a class-balanced ``LinearSVC`` on the corpus plus the other folds'
    corrections, weighted ``correction C / corpus C``, and predicts its own corrections. The
    pair with the best out-of-fold macro-F1 wins (the first on the grid on a tie). Nothing
    but the corpus and the corrections is read.
    """
    import numpy as np
    from scipy import sparse
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from nlp.linear import LinearTextClassifier, _macro_f1, used_columns

    middle = (options.corpus_c[len(options.corpus_c) // 2], options.correction_c[len(options.correction_c) // 2])
    per_label = Counter(ex.label for ex in examples)
    folds = min(options.folds, min(per_label.values())) if len(per_label) >= 2 else 0
    if len(options.corpus_c) * len(options.correction_c) == 1:
        return Weighting(*middle, cv_macro_f1=None, folds=0)  # one pair: nothing to choose
    if folds < 2:
        log.info("%s: too few corrections per label to cross-validate; corpus C %g, correction C %g",
                 task, *middle)
        return Weighting(*middle, cv_macro_f1=None, folds=0)
    corpus = corpus or read_corpus(task)
    texts, labels, unlabelled = corpus
    model = LinearTextClassifier(shipped_features(task))
    if counts is None:
        counts = model.counts(training_texts(examples, corpus))
    elif counts[0].shape[0] != len(texts) + len(examples) + len(unlabelled):
        raise NlpError(f"the counts have {counts[0].shape[0]} rows, not one per training text",
                       hint="pass training_counts(task, examples, corpus), or no counts")
    x = model.designs(counts, len(texts) + len(examples))[model.features.lexicon].x
    x = used_columns(x)[1]  # the same predictions, faster (see nlp.linear.used_columns)
    classes = sorted(set(labels) | set(per_label))
    index = {c: i for i, c in enumerate(classes)}
    y_corpus = np.array([index[v] for v in labels])
    y_ex = np.array([index[ex.label] for ex in examples])
    x_corpus, x_ex = x[:len(texts)], x[len(texts):]
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=13).split(x_ex, y_ex))
    grid: dict[str, float] = {}
    best: tuple[float, float, float] | None = None
    for corpus_c in options.corpus_c:
        for correction_c in options.correction_c:
            pred = np.zeros(len(y_ex), dtype=int)
            for tr, te in splits:
                weights = np.r_[np.ones(len(y_corpus)), np.full(len(tr), correction_c / corpus_c)]
                svm = LinearSVC(C=corpus_c, class_weight="balanced", max_iter=5000, random_state=13)
                svm.fit(sparse.vstack([x_corpus, x_ex[tr]], format="csr"), np.r_[y_corpus, y_ex[tr]],
                        sample_weight=weights)
                scores = svm.decision_function(x_ex[te])
                pred[te] = svm.classes_[(scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)]
            score = _macro_f1(y_ex, pred, len(classes))
            grid[f"{corpus_c:g}/{correction_c:g}"] = round(score, 4)
            log.info("%s: corpus C %g, correction C %g: out-of-fold macro-F1 %.4f",
                     task, corpus_c, correction_c, score)
            if best is None or score > best[0] + 1e-4:
                best = (score, corpus_c, correction_c)
    assert best is not None
    return Weighting(best[1], best[2], cv_macro_f1=round(best[0], 4), folds=folds, grid=grid)


def _write_training_file(path: Path, task: str, examples: Sequence[Example], weight: float,
                         corpus: tuple[list[str], list[str], list[str]]) -> int:
    """The shipped corpus's rows for ``task`` (weight 1; its unlabelled rows join the IDF)
    plus the corrections with ``weight``; returns the labelled rows written."""
    texts, labels, unlabelled = corpus
    with path.open("w", encoding="utf-8") as out:
        for text, label in zip(texts, labels, strict=True):
            out.write(json.dumps({"text": text, "label": label, "weight": 1}, ensure_ascii=False) + "\n")
        for text in unlabelled:
            out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        for ex in examples:
            out.write(json.dumps({"text": ex.text, "label": ex.label, "weight": weight},
                                 ensure_ascii=False) + "\n")
    return len(texts) + len(examples)


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
    train_part, held, held_how = split_heldout(examples, options.holdout)
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
        corpus = read_corpus(task)
        counts = training_counts(task, train_part, corpus)  # featurised once for both fits
        weighting = choose_weighting(task, train_part, options, corpus, counts)
        log.info("%s: corpus C %g, correction C %g (out-of-fold macro-F1 %s over %d folds)", task,
                 weighting.corpus_c, weighting.correction_c, weighting.cv_macro_f1, weighting.folds)
        with tempfile.TemporaryDirectory(prefix="iocwatch-retrain-") as tmp:
            data_path = Path(tmp) / "train.jsonl"
            n_train = _write_training_file(data_path, task, train_part, weighting.weight, corpus)

            def build(directory: Path) -> dict[str, Any]:
                from nlp.linear import LinearTextClassifier

                linear = LinearTextClassifier(shipped_features(task), C=weighting.corpus_c, c_factors=(1,))
                return train(task, data_path, directory, label_field="label", weight_field="weight",
                             linear=linear, counts=counts, command=f"iocwatch nlp retrain --task {task}",
                             extra_meta={"weighting": asdict(weighting)})

            record = {"task": task, "parent": current.name, "by": options.by,
                      "n_corrections": len(examples), "n_train_corrections": len(train_part),
                      "n_heldout": len(held), "heldout_kind": held_how, "weighting": asdict(weighting),
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
                         n_train=n_train, n_heldout=len(held), heldout_kind=held_how,
                         weighting=asdict(weighting),
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
