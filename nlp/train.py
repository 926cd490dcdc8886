"""Train and evaluate classifiers on labelled JSONL (the functions behind ``iocwatch nlp train|eval``).

Texts are normalised exactly as the pipeline normalises posts, so a model sees the same
kind of input in training, evaluation and production.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core.errors import NlpError
from nlp.models import TASKS, load_classifier, resolve, write_meta
from nlp.normalize import normalize_text

log = logging.getLogger(__name__)

MAX_CHARS = 20_000  # same default as nlp.max_chars


@dataclass
class LabelledData:
    """Texts and labels read from a JSONL file, with the rows that could not be used."""

    texts: list[str]
    labels: list[str]
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)
    sha256: str = ""
    unlabelled: list[str] = field(default_factory=list)  # texts of rows with no label
    weights: list[float] = field(default_factory=list)  # per labelled row, when a weight field is read


def parse_label_map(spec: str | None) -> dict[str, str]:
    """``'0:negative,1:neutral,2:positive'`` -> ``{'0': 'negative', ...}``."""
    if not spec:
        return {}
    out: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        if ":" not in part:
            raise NlpError(f"label map entry {part!r} has no ':'",
                           hint="write it as '0:negative,1:neutral,2:positive'")
        key, value = part.split(":", 1)
        out[key.strip()] = value.strip()
    return out


def _label_str(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def read_jsonl(path: Path, *, text_field: str = "text", label_field: str = "label",
               label_map: dict[str, str] | None = None, max_chars: int = MAX_CHARS,
               normalize: bool = True, weight_field: str | None = None) -> LabelledData:
    """Read labelled rows; bad rows (not JSON, no text, no label, a weight that is not a
    positive number) are counted and skipped. With ``weight_field``, a labelled row's weight
    is read from it (1 when absent)."""
    if not path.is_file():
        raise NlpError(f"data file {path} does not exist", hint="give a JSONL file with --data")
    digest = hashlib.sha256()
    data = LabelledData([], [])
    with path.open("rb") as fh:
        for raw in fh:
            digest.update(raw)
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                data.skipped += 1
                data.reasons["not_json"] += 1
                continue
            if not isinstance(row, dict):
                data.skipped += 1
                data.reasons["not_an_object"] += 1
                continue
            text = row.get(text_field)
            label = _label_str(row.get(label_field))
            if not isinstance(text, str):
                data.skipped += 1
                data.reasons[f"no_{text_field}"] += 1
                continue
            if label is None:
                data.skipped += 1
                data.reasons[f"no_{label_field}"] += 1
                if text.strip():  # unlabelled for this task: still part of the IDF statistics
                    data.unlabelled.append(normalize_text(text, max_chars=max_chars)[0]
                                           if normalize else text)
                continue
            if weight_field:
                weight = row.get(weight_field, 1.0)
                if (isinstance(weight, bool) or not isinstance(weight, int | float)
                        or not math.isfinite(weight) or weight <= 0):
                    data.skipped += 1
                    data.reasons[f"bad_{weight_field}"] += 1
                    continue
                data.weights.append(float(weight))
            if label_map:
                label = label_map.get(label, label)
            if normalize:
                text = normalize_text(text, max_chars=max_chars)[0]
            data.texts.append(text)
            data.labels.append(label)
    data.sha256 = digest.hexdigest()
    if data.skipped:
        log.warning("%s: skipped %d rows (%s)", path, data.skipped, dict(data.reasons))
    if not data.texts:
        raise NlpError(f"no usable rows in {path}",
                       hint=f"each line must be a JSON object with {text_field!r} and {label_field!r}")
    return data


def library_versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def train(task: str, data_path: Path, out: Path, *, text_field: str = "text",
          label_field: str = "label", backend: str = "linear", base: str | None = None,
          epochs: int = 3, device: str = "cpu", command: str | None = None,
          weight_field: str | None = None, linear: Any = None, counts: Any = None,
          extra_meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train a ``task`` classifier on ``data_path`` and save it to ``out``; return its metadata.

    Linear backend: ``linear`` is a configured, unfitted
    :class:`~nlp.linear.LinearTextClassifier` (default: one that chooses its features and
    ``C`` itself); ``weight_field`` names the rows' weight field (see :func:`read_jsonl`);
    ``counts`` are the file's texts already featurised by ``linear`` (its labelled texts,
    then its unlabelled ones, normalised as :func:`read_jsonl` does), passed on to
    :meth:`~nlp.linear.LinearTextClassifier.fit`, which refuses counts of other texts.
    """
    if task not in TASKS:
        raise NlpError(f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}")
    data = read_jsonl(data_path, text_field=text_field, label_field=label_field,
                      weight_field=weight_field)
    per_label = Counter(data.labels)
    log.info("training %s/%s on %d rows: %s", task, backend, len(data.texts), dict(per_label))
    if backend == "linear":
        from nlp.linear import LinearTextClassifier

        # IDF over every text of the file: models trained on one file for different tasks
        # share IDF weights, so the pipeline weights a batch's features once for all of them
        model = (linear or LinearTextClassifier()).fit(
            data.texts, data.labels, idf_texts=data.unlabelled,
            sample_weight=data.weights if weight_field else None, counts=counts)
        model.save(out)
        labels = list(model.labels_)
        versions = library_versions("iocwatch", "scikit-learn", "numpy", "scipy", "joblib")
        extra: dict[str, Any] = {
            "features": model.state()["features"], "C": model.C_,
            "cv_macro_f1": None if model.cv_macro_f1_ is None else round(model.cv_macro_f1_, 4),
            # labels whose probability is below this are marked unsure (Post.unsure)
            "unsure_below": round(model.unsure_below_, 4)}
    elif backend == "transformers":
        from nlp.transformer import train_transformers

        if not base:
            raise NlpError("the transformers backend needs a base model",
                           hint="give --base with a Hugging Face model id or a local directory")
        labels = train_transformers(data.texts, data.labels, base=base, out=out, epochs=epochs,
                                    device=device)
        versions = library_versions("iocwatch", "torch", "transformers", "tokenizers")
        extra = {"base": base, "epochs": epochs}
    else:
        raise NlpError(f"unknown backend {backend!r}", hint="use linear or transformers")
    meta = {
        "task": task, "backend": backend, "labels": labels, "n_train": len(data.texts),
        "label_counts": dict(sorted(per_label.items())), "skipped_rows": data.skipped,
        "data_file": data_path.name, "data_sha256": data.sha256,
        "text_field": text_field, "label_field": label_field,
        "command": command, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions, **extra, **(extra_meta or {}),
    }
    write_meta(out, meta)
    log.info("saved %s model to %s", task, out)
    return meta


def metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """``{"n", "accuracy", "macro_f1", "weighted_f1", "per_class"}`` over the gold classes."""
    from sklearn.metrics import precision_recall_fscore_support

    classes = sorted(set(gold))
    n = len(gold)
    accuracy = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n if n else 0.0
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=classes, zero_division=0)
    total = sum(int(x) for x in s)
    per_class = {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                     "f1": round(float(f[i]), 4), "support": int(s[i])}
                 for i, c in enumerate(classes)}
    macro = float(sum(f) / len(classes)) if classes else 0.0
    weighted = float(sum(f[i] * s[i] for i in range(len(classes))) / total) if total else 0.0
    return {"n": n, "accuracy": round(accuracy, 4), "macro_f1": round(macro, 4),
            "weighted_f1": round(weighted, 4), "per_class": per_class}


def evaluate(model_ref: str, data_path: Path, *, text_field: str = "text",
             label_field: str = "label", label_map: str | None = None, device: str = "cpu",
             batch_size: int = 256) -> dict[str, Any]:
    """Evaluate a model (directory or ``default:TASK``) on labelled JSONL; return the metrics."""
    from tqdm import tqdm

    mapping = parse_label_map(label_map)
    data = read_jsonl(data_path, text_field=text_field, label_field=label_field,
                      label_map=mapping)
    model = load_classifier(model_ref, device=device)
    unknown = sorted(set(data.labels) - set(model.labels))
    if unknown:
        log.warning("gold labels %s are not labels of the model %s; give --label-map",
                    unknown, model.labels)
    pred: list[str] = []
    for start in tqdm(range(0, len(data.texts), batch_size), desc="evaluating", unit="batch"):
        labels, _ = model.predict(data.texts[start:start + batch_size], {})
        pred.extend(labels)
    out = metrics(data.labels, pred)
    out["skipped_rows"] = data.skipped
    out["model"] = str(resolve(model_ref)) if not str(model_ref).startswith("default:") else model_ref
    return out
