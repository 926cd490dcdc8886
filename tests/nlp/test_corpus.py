"""The project's own corpus is rebuilt exactly by its generator."""

from __future__ import annotations

import hashlib

from nlp.corpus import DEFAULT_OUT, build_corpus


def test_corpus_rebuild_is_identical_and_covers_every_label(tmp_path):
    summary = build_corpus(tmp_path / "c.jsonl")
    assert summary["sha256"] == hashlib.sha256(DEFAULT_OUT.read_bytes()).hexdigest()
    assert summary["rows"] > 5000
    assert len(summary["topic"]) == 12 and min(summary["topic"].values()) > 200
    assert set(summary["sentiment"]) == {"negative", "neutral", "positive"}
    assert set(summary["toxicity"]) == {"clean", "offensive", "hate"}
    assert set(summary["style"]) == {"news", "social", "plain"}
