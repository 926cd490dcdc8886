"""The project's own corpus is rebuilt exactly by its generator."""

from __future__ import annotations

import hashlib
import json
import shutil

from nlp.corpus import DEFAULT_OUT, PASSAGES_DIR, build_corpus


def test_corpus_rebuild_is_identical_and_covers_every_label(tmp_path):
    # rebuilt from the passages files the shipped corpus was built from (a writer may be
    # adding a new file to the folder meanwhile)
    names = {json.loads(line)["source"].split(":", 1)[1]
             for line in DEFAULT_OUT.read_text(encoding="utf-8").splitlines()
             if json.loads(line)["source"].startswith("passage:")}
    passages = tmp_path / "passages"
    passages.mkdir()
    for name in names:
        shutil.copy(PASSAGES_DIR / name, passages / name)
    summary = build_corpus(tmp_path / "c.jsonl", passages_dir=passages)
    assert summary["sha256"] == hashlib.sha256(DEFAULT_OUT.read_bytes()).hexdigest()
    assert summary["rows"] > 5000
    assert len(summary["topic"]) == 12 and min(summary["topic"].values()) > 200
    assert set(summary["sentiment"]) == {"negative", "neutral", "positive"}
    assert set(summary["toxicity"]) == {"clean", "offensive", "hate"}
    assert {"news", "social", "plain"} <= set(summary["style"]) <= {"news", "forum", "social", "plain"}
