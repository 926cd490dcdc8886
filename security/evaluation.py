"""Evaluation on any labelled split: tabular records, log-event sessions, and template grouping.

Each function takes paths and returns a dict of figures, so the same code scores
NSL-KDD, HDFS sessions or Loghub files, or a city's own labelled data. Detectors are
fitted on normal data only (unsupervised), and scored at their own calibrated
threshold.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import SecurityMonitorError
from security.detectors import Detector

log = logging.getLogger(__name__)

# Columns that carry the answer in common labelled datasets; never used as features.
LABEL_LIKE = ("label", "class", "difficulty", "attack_category", "attack_cat", "is_attack", "attack")


def metrics(y_true: list[int] | np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC, and precision/recall/F1 at ``threshold`` (1 = anomalous)."""
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score

    y = np.asarray(y_true, dtype=int)
    if len(set(y.tolist())) < 2:
        raise SecurityMonitorError("the test set needs both normal and anomalous rows to score")
    pred = (scores > threshold).astype(int)
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return {"roc_auc": round(float(roc_auc_score(y, scores)), 4),
            "pr_auc": round(float(average_precision_score(y, scores)), 4),
            "precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4)}


def _read_csv(path: str | Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out: dict[str, Any] = {}
            for k, v in row.items():
                if k is None:
                    continue
                try:
                    out[k] = float(v)
                except (TypeError, ValueError):
                    out[k] = v
            rows.append(out)
    if not rows:
        raise SecurityMonitorError(f"{path} has no rows")
    return rows


def eval_records(train: str | Path, test: str | Path, *, label_field: str, normal_value: str,
                 fit_on: str = "normal", detector: str = "ecod", contamination: float = 0.01,
                 ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Fit on the train CSV (its normal rows, or all rows as unlabelled) and score the test CSV."""
    train_rows, test_rows = _read_csv(train), _read_csv(test)
    if label_field not in train_rows[0]:
        raise SecurityMonitorError(f"no column {label_field!r} in {train}", hint="check --label-field")
    drop = {label_field, *ignore} | {c for c in train_rows[0] if c.lower() in LABEL_LIKE}
    columns = [c for c in train_rows[0] if c not in drop]
    normal = str(normal_value)

    def is_normal(row: dict[str, Any]) -> bool:
        value = row.get(label_field)
        return (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)) == normal

    fit_rows = [r for r in train_rows if is_normal(r)] if fit_on == "normal" else train_rows
    det = Detector(detector, contamination).fit(fit_rows, columns)
    scores = det.decision_function(test_rows)
    y = [0 if is_normal(r) else 1 for r in test_rows]
    out = metrics(y, scores, det.threshold_)
    out.update(detector=detector, fit_on=fit_on, train_rows=len(fit_rows), test_rows=len(test_rows),
               test_anomalous=int(sum(y)), features=len(det.schema_.columns),
               ignored_columns=sorted(drop), threshold=round(det.threshold_, 4))
    return out


def _read_sessions(path: str | Path) -> tuple[list[list[str]], list[int]]:
    events, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                events.append([str(e) for e in row["events"]])
                labels.append(int(row["label"]))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise SecurityMonitorError("not a session line", where=f"{path}:{n}",
                                           hint='each line must be {"events": [...], "label": 0|1}') from None
    return events, labels


def session_rows(sessions: list[list[str]], vocabulary: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """Template-count vectors: one count per known event, plus length and unseen-event count."""
    if vocabulary is None:
        vocabulary = sorted({e for s in sessions for e in s})
    known = set(vocabulary)
    rows = []
    for s in sessions:
        counts = Counter(s)
        row = {f"e{e}": float(counts.get(e, 0)) for e in vocabulary}
        row["length"] = float(len(s))
        row["unseen_events"] = float(sum(c for e, c in counts.items() if e not in known))
        rows.append(row)
    return rows, vocabulary


def eval_sessions(train: str | Path, test: str | Path, *, detector: str = "ecod",
                  contamination: float = 0.01) -> dict[str, Any]:
    """Fit on the normal sessions of ``train`` (JSONL ``{"events": [...], "label": 0|1}``), score ``test``."""
    tr_events, tr_labels = _read_sessions(train)
    te_events, te_labels = _read_sessions(test)
    normal = [s for s, y in zip(tr_events, tr_labels, strict=True) if y == 0]
    fit_rows, vocab = session_rows(normal)
    det = Detector(detector, contamination).fit(fit_rows)
    test_rows, _ = session_rows(te_events, vocab)
    scores = det.decision_function(test_rows)
    out = metrics(te_labels, scores, det.threshold_)
    out.update(detector=detector, train_sessions=len(normal), test_sessions=len(te_events),
               test_anomalous=int(sum(te_labels)), events=len(vocab), threshold=round(det.threshold_, 4))
    return out


def eval_templates(structured: str | Path, *, sim_th: float | None = None) -> dict[str, Any]:
    """Loghub grouping accuracy of the template miner on a structured CSV (``Content``, ``EventId``)."""
    from security.templates import DEFAULT_SIM_TH, group_lines, grouping_accuracy

    with open(structured, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "Content" not in rows[0] or "EventId" not in rows[0]:
        raise SecurityMonitorError(f"{structured} needs Content and EventId columns")
    pred = group_lines([r["Content"] for r in rows], sim_th=sim_th or DEFAULT_SIM_TH)
    truth = [r["EventId"] for r in rows]
    return {"grouping_accuracy": round(grouping_accuracy(truth, pred), 4), "lines": len(rows),
            "true_templates": len(set(truth)), "found_templates": len(set(pred))}
