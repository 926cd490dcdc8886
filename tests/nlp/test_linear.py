"""The linear backend: hashed features, calibrated probabilities, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import NlpError
from nlp.features import FeatureConfig, HashedFeaturizer
from nlp.linear import LinearTextClassifier

DATA = Path(__file__).parent.parent / "data" / "nlp"


def _rows(name):
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def test_features_are_deterministic_and_fold_diacritics():
    a = HashedFeaturizer(FeatureConfig(word_bits=16, char_bits=16))
    b = HashedFeaturizer(FeatureConfig(word_bits=16, char_bits=16))
    wa, ca = a.transform(["Không biết nữa", "", "kẹt xe kẹt xe"])
    wb, cb = b.transform(["Không biết nữa", "", "kẹt xe kẹt xe"])
    assert (wa != wb).nnz == 0 and (ca != cb).nnz == 0
    assert wa[1].nnz == 0 and ca[1].nnz == 0  # empty text: empty row
    # "kẹt" counts as itself and as "ket", "xe" only as itself; plus 3 bigrams
    assert wa[2].sum() == 2 * 2 + 2 + 3
    plain, _ = a.transform(["khong"])
    accented, _ = a.transform(["không"])
    assert set(plain.indices) & set(accented.indices)  # the undiacritised copy is shared


def test_linear_fit_predict_save_load(tmp_path):
    texts, labels = _rows("tiny_sentiment.jsonl")
    model = LinearTextClassifier(FeatureConfig(word_bits=16, char_bits=16)).fit(texts, labels)
    assert model.labels_ == ["negative", "neutral", "positive"]
    proba = model.predict_proba(["kẹt xe quá mệt mỏi", "cảm ơn, rất hài lòng"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(texts) == labels or np.mean(
        [p == y for p, y in zip(model.predict(texts), labels, strict=True)]) > 0.9
    model.save(tmp_path)
    again = LinearTextClassifier.load(tmp_path)
    assert np.allclose(again.predict_proba(texts[:5]), model.predict_proba(texts[:5]))


def test_linear_refuses_single_class_and_missing_model(tmp_path):
    with pytest.raises(NlpError, match="only one label"):
        LinearTextClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(NlpError, match="no linear model"):
        LinearTextClassifier.load(tmp_path)


def test_linear_long_documents_use_syllable_ngrams_only():
    config = LinearTextClassifier.choose_features(["chữ " * 600])
    assert config.char_max < config.char_min and config.word_bits == 22
    assert LinearTextClassifier.choose_features(["ngắn thôi"]) == FeatureConfig()
