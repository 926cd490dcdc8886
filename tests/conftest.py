"""Fixtures every test package may use: isolated settings and an embedded store per test, and
labelled_post, a post as the NLP pipeline leaves it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings whose data directory is a fresh temporary folder; no iocwatch.toml is read."""
    from core.settings import load_settings

    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("IOCWATCH_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings):
    """An embedded store under the test's data directory."""
    from index import open_store

    st = open_store(settings)
    yield st
    st.close()


def labelled_post(i: int, text: str, sentiment: str = "negative", topic: str = "traffic",
                  conf: float = 0.9, **kw):
    """A news post as the models labelled it (topic, sentiment with its score, clean), with
    confidence ``conf`` for topic and sentiment; ``kw`` sets any other field."""
    from core.documents import Post

    return Post.new(platform="news", source="s", native_id=f"n{i}", text=text, topics=[topic],
                    sentiment=sentiment, sentiment_score=-0.5 if sentiment == "negative" else 0.5,
                    toxicity="clean", toxicity_score=0.02, language="vi",
                    label_confidence={"topic": conf, "sentiment": conf}, **kw)
