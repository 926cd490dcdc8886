"""Classifier backends chosen by name, model directories and the shipped defaults.

A model directory holds ``meta.json`` (task, backend, labels, provenance) and the
backend's files. ``default:TASK`` names the model shipped in ``nlp/models/TASK``.
Backends register with :func:`register_backend`; each returns an object with
``labels`` and ``predict(texts, shared) -> (labels, probabilities)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.errors import NlpError

log = logging.getLogger(__name__)

TASKS = ("topic", "sentiment", "toxicity")
META_FILE = "meta.json"


class TextClassifier(Protocol):
    """What the pipeline needs from a classifier backend.

    ``labels`` lists class names in column order. ``predict`` takes texts (already
    normalised) and a ``shared`` dict the pipeline keeps per batch, so backends that
    share features compute them once; it returns one label per text and a
    probability matrix (rows sum to 1, columns in ``labels`` order).
    """

    labels: list[str]

    def predict(self, texts: Sequence[str], shared: dict[Any, Any] | None = None
                ) -> tuple[list[str], np.ndarray]: ...


BACKENDS: dict[str, Callable[..., TextClassifier]] = {}


def register_backend(name: str):
    """Register a loader ``(model_ref, meta, **options) -> TextClassifier`` under ``name``."""

    def wrap(fn: Callable[..., TextClassifier]) -> Callable[..., TextClassifier]:
        BACKENDS[name] = fn
        return fn

    return wrap


def default_model_dir(task: str) -> Path:
    """Where the shipped default model of ``task`` lives."""
    if task not in TASKS:
        raise NlpError(f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}")
    return Path(str(resources.files("nlp").joinpath("models", task)))


def resolve(ref: str | Path) -> Path | str:
    """``default:TASK`` -> the shipped directory; an existing path -> Path; else a model id."""
    text = str(ref)
    if text.startswith("default:"):
        return default_model_dir(text.split(":", 1)[1])
    path = Path(text)
    if path.exists():
        return path
    return text


def read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NlpError(f"cannot read model metadata: {exc}", where=str(path),
                       hint="retrain the model") from None


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")


class _LinearAdapter:
    def __init__(self, directory: Path):
        from nlp.linear import LinearTextClassifier

        self.model = LinearTextClassifier.load(directory)
        self.labels = list(self.model.labels_)
        # a label whose probability is below this is "unsure" (chosen out of fold at training)
        self.unsure_below = float(self.model.unsure_below_)

    def predict(self, texts: Sequence[str], shared: dict[Any, Any] | None = None
                ) -> tuple[list[str], np.ndarray]:
        key = ("linear-counts", self.model.features.key(), len(texts), hash(tuple(texts)))
        counts = shared.get(key) if shared is not None else None
        if counts is None:
            counts = self.model.counts(texts)
            if shared is not None:
                shared[key] = counts
        return self.model.predict_from_counts(counts, shared)


class _TransformersAdapter:
    def __init__(self, ref: str, device: str, max_length: int, batch_size: int):
        from nlp.transformer import TransformersClassifier

        self.model = TransformersClassifier(ref, device=device, max_length=max_length,
                                            batch_size=batch_size)
        self.labels = self.model.labels

    def predict(self, texts: Sequence[str], shared: dict[Any, Any] | None = None
                ) -> tuple[list[str], np.ndarray]:
        return self.model.predict(texts)


@register_backend("linear")
def _load_linear(ref: Path | str, meta: dict[str, Any], **_: Any) -> TextClassifier:
    if not isinstance(ref, Path):
        raise NlpError(f"linear model directory {ref} does not exist",
                       hint="train one with `iocwatch nlp train`, or use default:TASK")
    return _LinearAdapter(ref)


@register_backend("transformers")
def _load_transformers(ref: Path | str, meta: dict[str, Any], *, device: str = "cpu",
                       max_length: int = 256, batch_size: int = 32, **_: Any) -> TextClassifier:
    return _TransformersAdapter(str(ref), device, max_length, batch_size)


def load_classifier(ref: str | Path, *, backend: str | None = None, **options: Any) -> TextClassifier:
    """Load a classifier from ``default:TASK``, a model directory or a Hugging Face id.

    The backend comes from the directory's ``meta.json`` unless ``backend`` is given;
    a directory with ``config.json`` and no meta is taken as a transformers model.
    """
    target = resolve(ref)
    meta = read_meta(target) if isinstance(target, Path) else {}
    name = backend or meta.get("backend")
    if name is None:
        name = "transformers" if (not isinstance(target, Path)
                                  or (target / "config.json").is_file()) else "linear"
    if isinstance(target, Path) and not target.is_dir():
        raise NlpError(f"model {target} is not a directory", hint="give the model directory")
    loader = BACKENDS.get(name)
    if loader is None:
        raise NlpError(f"unknown classifier backend {name!r}",
                       hint=f"use one of {', '.join(sorted(BACKENDS))}")
    log.debug("loading %s model %s", name, target)
    return loader(target, meta, **options)
