"""Retraining on corrections: clear refusals, the held-back comparison, promotion, two at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import NlpError
from core.state import LOCK_NAME, WriterLock
from nlp.registry import SHIPPED, ModelRegistry
from nlp.retrain import (
    Example,
    RetrainError,
    RetrainOptions,
    Weighting,
    _write_training_file,
    check_corrections,
    choose_weighting,
    read_corpus,
    retrain,
    shipped_features,
    split_heldout,
    training_counts,
    training_texts,
)
from nlp.train import read_jsonl

DATA = Path(__file__).parent.parent / "data" / "nlp"
ROOT = Path(__file__).parents[2]


def examples(task: str = "sentiment", n: int | None = None) -> list[Example]:
    rows = [json.loads(line) for line in (DATA / "loop_posts.jsonl").open(encoding="utf-8")]
    return [Example(r["id"], r["text"], r[task]) for r in rows][:n]


def test_retrain_refuses_no_corrections_with_what_to_do():
    with pytest.raises(RetrainError, match="no sentiment corrections yet") as err:
        check_corrections("sentiment", [], min_corrections=10)
    assert "dashboard" in err.value.hint


def test_retrain_refuses_too_few_corrections():
    with pytest.raises(RetrainError, match="only 5 sentiment correction"):
        check_corrections("sentiment", examples(n=5), min_corrections=10)


def test_retrain_refuses_a_single_class_unless_a_labelled_file_is_given():
    positive = [e for e in examples() if e.label == "positive"]
    with pytest.raises(RetrainError, match="all 20 sentiment corrections say 'positive'") as err:
        check_corrections("sentiment", positive, min_corrections=10)
    assert "--eval" in err.value.hint
    assert len(check_corrections("sentiment", positive, min_corrections=10, has_eval=True)) == 20


def test_retrain_refuses_conflicting_corrections_naming_the_posts():
    rows = examples()
    clash = Example("repost-1", rows[0].text.upper() + "  ", "negative")  # same text once normalised
    with pytest.raises(RetrainError, match=r"1 sentiment correction\(s\) conflict") as err:
        check_corrections("sentiment", [*rows, clash], min_corrections=10)
    assert "loop-01" in str(err.value) and "repost-1" in str(err.value)


def test_retrain_holds_back_the_audit_sample_else_a_stratified_share():
    from core.documents import audit_bucket

    rows = examples()
    train_a, held_a, how = split_heldout(rows, 0.3)
    assert how == "audit" and len(held_a) >= 8 and len(held_a) + len(train_a) == 60
    assert all(audit_bucket(e.id) < 0.3 for e in held_a) and all(audit_bucket(e.id) >= 0.3 for e in train_a)
    assert len({e.label for e in held_a}) >= 2
    train_b, held_b, _ = split_heldout(list(reversed(rows)), 0.3)
    assert {e.id for e in held_a} == {e.id for e in held_b}  # the same posts, whatever the order

    few = rows[::6]  # 10 posts: too few of them in the audit sample to judge a model
    train_c, held_c, how_c = split_heldout(few, 0.3)
    assert how_c == "stratified" and {e.label for e in held_c} == {e.label for e in few}
    lone = [rows[0], rows[20], rows[21]]  # one positive, two neutral
    train_d, held_d, _ = split_heldout(lone, 0.3)
    assert [e.label for e in held_d] == ["neutral"] and len(train_d) == 2


def _tiny_corpus() -> tuple[list[str], list[str], list[str]]:
    rows = [json.loads(line) for line in (DATA / "tiny_sentiment.jsonl").open(encoding="utf-8")]
    return [r["text"] for r in rows], [r["label"] for r in rows], []


def test_retrain_chooses_the_weighting_by_cv_over_the_corrections():
    options = RetrainOptions(corpus_c=(0.05, 0.5), correction_c=(0.5, 2.0), folds=4)
    chosen = choose_weighting("sentiment", examples(), options, _tiny_corpus())
    assert chosen.folds == 4
    assert set(chosen.grid) == {"0.05/0.5", "0.05/2", "0.5/0.5", "0.5/2"}
    assert all(0.0 <= v <= 1.0 for v in chosen.grid.values())
    assert chosen.cv_macro_f1 == max(chosen.grid.values())  # the best pair (the first on a tie)
    assert chosen.grid[f"{chosen.corpus_c:g}/{chosen.correction_c:g}"] == chosen.cv_macro_f1
    assert chosen.weight == pytest.approx(chosen.correction_c / chosen.corpus_c)
    # the same data chooses the same pair
    assert choose_weighting("sentiment", examples(), options, _tiny_corpus()) == chosen


def test_retrain_weighting_and_final_fit_share_the_training_counts(tmp_path: Path):
    texts, labels, _ = _tiny_corpus()
    corpus = (texts, labels, ["xe buýt chạy đúng giờ", "mưa lớn ở quận 7"])
    rows = examples()
    # the counts are made of the texts train() reads from the training file, in its order
    path = tmp_path / "train.jsonl"
    _write_training_file(path, "sentiment", rows, 2.0, corpus)
    data = read_jsonl(path, weight_field="weight")
    assert data.texts + data.unlabelled == training_texts(rows, corpus)
    counts = training_counts("sentiment", rows, corpus)
    assert list(counts.texts) == training_texts(rows, corpus)
    options = RetrainOptions(corpus_c=(0.05, 0.5), correction_c=(0.5, 2.0), folds=4)
    assert choose_weighting("sentiment", rows, options, corpus, counts) == choose_weighting(
        "sentiment", rows, options, corpus)
    with pytest.raises(NlpError, match="not one per training text"):
        choose_weighting("sentiment", rows[:-1], options, corpus, counts)


def test_retrain_weighting_without_a_choice_uses_the_middle_pair():
    options = RetrainOptions(corpus_c=(0.05, 0.5, 1.0), correction_c=(0.5, 2.0), folds=5)
    rows = examples()
    few = [e for e in rows if e.label == "positive"][:1] + [e for e in rows if e.label != "positive"]
    assert choose_weighting("sentiment", few, options, _tiny_corpus()) == Weighting(
        0.5, 2.0, cv_macro_f1=None, folds=0)  # one positive correction: no 2-fold split
    one = RetrainOptions(corpus_c=(0.1,), correction_c=(1.0,))
    assert choose_weighting("sentiment", rows, one, _tiny_corpus()).folds == 0


def test_retrain_reads_the_shipped_corpus_with_its_unlabelled_rows():
    texts, labels, unlabelled = read_corpus("sentiment")
    assert len(texts) == len(labels) > 1000 and set(labels) == {"negative", "neutral", "positive"}
    assert unlabelled  # topic-only rows still count in the IDF


def test_retrain_makes_a_version_and_promotes_it_only_if_not_worse(tmp_path: Path):
    reg = ModelRegistry(tmp_path)
    report = retrain("sentiment", examples(), reg,
                     options=RetrainOptions(by="admin", corpus_c=(0.1, 0.5), correction_c=(1.0,), folds=3),
                     eval_file=DATA / "tiny_sentiment.jsonl", eval_label_field="label")
    assert report.candidate == "v1" and report.current == SHIPPED
    assert set(report.evaluations) == {"heldout", "eval:tiny_sentiment.jsonl"}
    assert report.evaluations["heldout"]["current"]["n"] == report.n_heldout >= 8
    assert report.heldout_kind == "audit"
    not_worse = all(ev["candidate"]["macro_f1"] >= ev["current"]["macro_f1"]
                    for ev in report.evaluations.values())
    assert report.promoted == not_worse
    assert reg.current("sentiment").name == ("v1" if not_worse else SHIPPED)
    record = reg.version("sentiment", "v1").record
    assert record["promoted"] == report.promoted and record["by"] == "admin"
    assert record["n_corrections"] == 60 and record["parent"] == SHIPPED
    assert "loop-01" in record["correction_ids"]
    weighting = record["weighting"]
    assert weighting["folds"] == 3 and set(weighting["grid"]) == {"0.1/1", "0.5/1"}
    meta = reg.version("sentiment", "v1").meta
    assert meta["C"] == weighting["corpus_c"] and meta["weighting"] == weighting
    # the weighting was chosen on the design matrix the candidate was trained on
    from nlp.linear import LinearTextClassifier

    corpus = read_corpus("sentiment")
    train_part = split_heldout(examples(), 0.3)[0]
    design = LinearTextClassifier(shipped_features("sentiment")).designs(
        training_counts("sentiment", train_part, corpus), len(corpus[0]) + len(train_part))
    candidate = LinearTextClassifier.load(reg.version("sentiment", "v1").path)
    assert np.array_equal(candidate.idf_word_, design[candidate.features.lexicon].idf_word)
    assert np.array_equal(candidate.idf_char_, design[candidate.features.lexicon].idf_char)

    # The same corrections again: the candidate is compared with the model now in use.
    again = retrain("sentiment", examples(), reg,
                    options=RetrainOptions(promote=False, corpus_c=(0.1,), correction_c=(1.0,)))
    assert again.candidate == "v2" and again.current == reg.current("sentiment").name
    assert not again.promoted and reg.version("sentiment", "v2").record["promoted"] is False


def _holder_pid(lock: Path) -> int | None:
    try:
        return json.loads(lock.read_text() or "{}").get("pid")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


RUN = """
import json, sys
from pathlib import Path
from core.state import LockHeldError
from nlp.registry import ModelRegistry
from nlp.retrain import Example, RetrainOptions, retrain
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
ex = [Example(r["id"], r["text"], r["sentiment"]) for r in rows]
try:
    rep = retrain("sentiment", ex, ModelRegistry(sys.argv[1]), wait_s=float(sys.argv[3]),
                  options=RetrainOptions(corpus_c=(0.1,), correction_c=(1.0,)))
    print(json.dumps({"candidate": rep.candidate, "promoted": rep.promoted}))
except LockHeldError as exc:
    print(json.dumps({"refused": str(exc)}))
"""


def test_retrain_two_processes_at_once_one_is_refused_then_one_waits(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", RUN, str(tmp_path), str(DATA / "loop_posts.jsonl")]
    first = subprocess.Popen([*cmd, "0"], env=env, stdout=subprocess.PIPE, text=True)
    lock = tmp_path / "models" / LOCK_NAME
    deadline = time.monotonic() + 120
    while _holder_pid(lock) != first.pid:  # wait until the first one trains under the lock
        assert first.poll() is None and time.monotonic() < deadline, "the first run never took the lock"
        time.sleep(0.05)
    second = subprocess.run([*cmd, "0"], env=env, capture_output=True, text=True, timeout=300)
    third = subprocess.Popen([*cmd, "300"], env=env, stdout=subprocess.PIPE, text=True)
    out_first, _ = first.communicate(timeout=300)
    out_third, _ = third.communicate(timeout=300)
    refused = json.loads(second.stdout)
    assert f"pid {first.pid}" in refused["refused"] and "retrain" in refused["refused"]
    assert json.loads(out_first)["candidate"] == "v1"
    assert json.loads(out_third)["candidate"] == "v2"  # waited, then trained after the first
    reg = ModelRegistry(tmp_path)
    assert [v.name for v in reg.versions("sentiment")] == [SHIPPED, "v1", "v2"]
    assert all(v.meta["task"] == "sentiment" and v.record["evaluations"] for v in reg.versions("sentiment")[1:])
    assert not [p for p in (tmp_path / "models" / "sentiment").iterdir() if p.name.startswith(".new-")]
    reg.current("sentiment")  # the pointer, if any, names an existing version
    with WriterLock(tmp_path / "models", "after"):  # released
        pass
