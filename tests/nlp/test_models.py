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
