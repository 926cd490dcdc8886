"""Shipped default models and their provenance."""

from __future__ import annotations

import hashlib
import json

import pytest

from core.documents import SENTIMENTS, TOXICITIES
from core.errors import NlpError
from nlp.corpus import DEFAULT_OUT
from nlp.models import default_model_dir, load_classifier
from nlp.taxonomy import load_taxonomy


@pytest.mark.parametrize("task", ["topic", "sentiment", "toxicity"])
def test_models_defaults_ship_with_provenance(task):
    directory = default_model_dir(task)
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    corpus_sha = hashlib.sha256(DEFAULT_OUT.read_bytes()).hexdigest()
    assert meta["data_sha256"] == corpus_sha  # trained on the corpus in the repository
    assert meta["command"].startswith("iocwatch nlp train --task " + task)
    assert meta["label_field"] == task
    size = sum(p.stat().st_size for p in directory.iterdir())
    assert size < 5_000_000


def test_models_default_labels():
    assert sorted(load_classifier("default:sentiment").labels) == sorted(SENTIMENTS)
    assert sorted(load_classifier("default:toxicity").labels) == sorted(TOXICITIES)
    assert sorted(load_classifier("default:topic").labels) == sorted(load_taxonomy().topics)


def test_models_errors_name_the_way_out(tmp_path):
    with pytest.raises(NlpError, match="unknown task"):
        default_model_dir("weather")
    with pytest.raises(NlpError, match="unknown classifier backend"):
        load_classifier(tmp_path, backend="magic")


@pytest.mark.parametrize("task", ["topic", "sentiment", "toxicity"])
def test_models_defaults_carry_an_unsure_threshold(task):
    meta = json.loads((default_model_dir(task) / "meta.json").read_text(encoding="utf-8"))
    model = load_classifier(f"default:{task}")
    assert model.unsure_below == pytest.approx(meta["unsure_below"], abs=1e-4)
    assert 1 / len(model.labels) - 1e-6 <= model.unsure_below < 1.0
    assert 0.0 < meta["cv_macro_f1"] <= 1.0  # chosen out of fold on the training data


def test_models_unsure_labels_are_marked_on_the_post(tmp_path):
    from core.documents import Post
    from core.settings import NlpSettings
    from nlp.linear import LinearTextClassifier
    from nlp.models import write_meta
    from nlp.pipeline import load_pipeline

    # a sentiment model that has seen "thông báo" as often negative as positive
    good = ["cầu mới thông xe phấn khởi", "người dân vui mừng cảm ơn", "đường sạch đẹp thông thoáng"]
    bad = ["đường ngập sâu bức xúc", "kẹt xe mệt mỏi quá", "lừa đảo chiếm đoạt tiền"]
    texts, labels = [], []
    for i in range(12):
        texts += [f"{good[i % 3]} {i}", f"{bad[i % 3]} {i}", f"thông báo lịch họp số {i}",
                  f"thông báo lịch họp số {i} nhé"]
        labels += ["positive", "negative", "positive" if i % 2 else "negative",
                   "negative" if i % 2 else "positive"]
    model = LinearTextClassifier().fit(texts, labels)
    model.save(tmp_path)
    write_meta(tmp_path, {"task": "sentiment", "backend": "linear", "labels": model.labels_})
    assert 0.5 <= model.unsure_below_ < 1.0

    nlp = load_pipeline(NlpSettings(sentiment_model=str(tmp_path)))
    posts = list(nlp.pipe([Post(id=f"p{i}", source="t", text=t) for i, t in enumerate(
        ["Cầu mới thông xe, người dân phấn khởi.", "thông báo lịch họp số 40",
         "Đường ngập sâu, dân bức xúc."])]))
    for post in posts:
        confidence = post.label_confidence["sentiment"]
        assert ("sentiment" in post.unsure) == (confidence < model.unsure_below_)
    assert "sentiment" not in posts[0].unsure and "sentiment" in posts[1].unsure
    assert Post.from_doc(posts[1].to_doc()).unsure == posts[1].unsure
