"""The ``transformers`` classifier backend: any Hugging Face sequence-classification model.

A model is a Hugging Face model id or a local directory holding ``config.json``,
weights and a tokenizer. Inference is batched and truncated, on CPU or GPU. Nothing
is downloaded: ``HF_HUB_OFFLINE`` is honoured, and a missing model raises
:class:`~core.errors.NlpError` naming the ways out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import MissingDependencyError, NlpError

log = logging.getLogger(__name__)


def _imports():
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - both are dependencies of iocwatch
        raise MissingDependencyError(
            f"the transformers backend needs torch and transformers ({exc})",
            hint="install them, or set nlp.<task>_backend = 'linear'") from exc
    return torch, transformers


class TransformersClassifier:
    """Batched inference with a sequence-classification model; labels from ``config.id2label``."""

    def __init__(self, model_ref: str, *, device: str = "cpu", max_length: int = 256,
                 batch_size: int = 32):
        torch, transformers = _imports()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model_ref)
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(model_ref)
        except (OSError, ValueError) as exc:
            raise NlpError(f"cannot load transformers model {model_ref!r}: {exc}",
                           hint="give a local model directory, or put the model in the Hugging "
                                "Face cache on a machine with access, or use the linear backend"
                           ) from exc
        self.model.to(device)
        self.model.eval()
        id2label = self.model.config.id2label or {}
        self.labels = [str(id2label.get(i, i)) for i in range(self.model.config.num_labels)]
        self._torch = torch

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                chunk = [t if t else " " for t in texts[start:start + self.batch_size]]
                enc = self.tokenizer(chunk, truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt").to(self.device)
                logits = self.model(**enc).logits
                out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, len(self.labels)))
        return np.vstack(out)

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in np.argmax(proba, axis=1)], proba


def train_transformers(texts: Sequence[str], labels: Sequence[str], *, base: str, out: Path,
                       epochs: int = 3, batch_size: int = 16, lr: float = 5e-5,
                       max_length: int = 256, device: str = "cpu", seed: int = 13) -> list[str]:
    """Fine-tune ``base`` (model id or directory) on ``texts``/``labels``; save to ``out``.

    Returns the label names in class-index order.
    """
    torch, transformers = _imports()
    from tqdm import tqdm

    torch.manual_seed(seed)
    names = sorted({str(y) for y in labels})
    index = {name: i for i, name in enumerate(names)}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(base)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(names), id2label=dict(enumerate(names)), label2id=index,
            ignore_mismatched_sizes=True)
    except (OSError, ValueError) as exc:
        raise NlpError(f"cannot load base model {base!r}: {exc}",
                       hint="give a local model directory with --base") from exc
    model.to(device)
    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=lr)
    y = torch.tensor([index[str(v)] for v in labels])
    order = np.arange(len(texts))
    rng = np.random.default_rng(seed)
    steps = epochs * ((len(texts) + batch_size - 1) // batch_size)
    with tqdm(total=steps, desc="fine-tuning", unit="batch") as bar:
        for _ in range(epochs):
            rng.shuffle(order)
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                enc = tokenizer([texts[i] or " " for i in idx], truncation=True,
                                max_length=max_length, padding=True, return_tensors="pt").to(device)
                loss = model(**enc, labels=y[idx].to(device)).loss
                loss.backward()
                optim.step()
                optim.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return names
