"""`iocwatch nlp retrain|models|rollback|reanalyze` end to end, on corrections made the way the
dashboard makes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.documents import Post
from index.corrections import correct_post
from iocwatch.cli import cli

DATA = Path(__file__).parents[1] / "data" / "nlp"
ROOT = Path(__file__).parents[2]


def one_pair(monkeypatch) -> None:
    """Retraining with one (corpus C, correction C) pair: no cross-validated choice, which
    tests/nlp/test_retrain.py covers on a small corpus (the full grid takes minutes)."""
    monkeypatch.setenv("IOCWATCH_LEARN__CORPUS_C", "0.1")
    monkeypatch.setenv("IOCWATCH_LEARN__CORRECTION_C", "1")


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    one_pair(monkeypatch)
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


def _fill(store, rows: list[dict], correct: str | None = "sentiment") -> list[Post]:
    posts = [Post.new(platform="news", source="fixture", native_id=r["id"], text=r["text"], language="vi",
                      sentiment="neutral", topics=["other"]) for r in rows]
    store.upsert_many("posts", posts)
    if correct:
        for post, row in zip(posts, rows, strict=True):
            correct_post(store, post.id, correct, row[correct], by="comms", role="comms")
    return posts


def _rows() -> list[dict]:
    return [json.loads(line) for line in (DATA / "loop_posts.jsonl").open(encoding="utf-8")]


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "iocwatch", *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=data_dir.parent)


def test_cli_nlp_retrain_prints_both_evaluations_then_models_and_rollback(run, store, settings):
    _fill(store, _rows())
    store.close()
    result = run("nlp", "retrain", "--task", "sentiment", "--eval", str(DATA / "tiny_sentiment.jsonl"),
                 "--eval-label-field", "label")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "60 corrections (negative 20, neutral 20, positive 20); " in out
    # posts of the audit sample are held back (or, when too few, a stratified share), and
    # the output says which
    assert ("held back for the comparison (the audit sample" in out
            or "held back for the comparison (a share per label" in out), out
    # one (corpus C, correction C) pair in these tests (see one_pair): nothing to choose
    assert "SVM C: corpus 0.1, corrections 1 (not chosen" in out
    assert "heldout:" in out and "eval:tiny_sentiment.jsonl:" in out
    assert out.count("current   shipped") == 2 and out.count("candidate v1") == 2
    promoted = "v1 promoted: now in use" in out
    assert promoted or "v1 kept aside, not promoted (candidate is worse" in out

    models = json.loads(run("nlp", "models", "--task", "sentiment", "--json").stdout)
    assert [(m["version"], m["current"]) for m in models] == [("shipped", not promoted), ("v1", promoted)]
    assert models[1]["n_corrections"] == 60 and set(models[1]["evaluations"]) == {
        "heldout", "eval:tiny_sentiment.jsonl"}
    listing = run("nlp", "models").stdout
    assert "topic      shipped" in listing and "sentiment  v1" in listing and "corrections=60" in listing
    if promoted:
        assert run("nlp", "rollback", "--task", "sentiment").stdout.strip() == \
            "sentiment: v1 -> shipped (now in use)"


def test_cli_nlp_retrain_clear_messages_for_bad_corrections(settings, store):
    result = _cli(settings.data_dir, "nlp", "retrain", "--task", "topic")
    assert result.returncode == 2
    assert "error: there are no topic corrections yet" in result.stderr
    rows = [r for r in _rows() if r["sentiment"] == "negative"][:12]
    _fill(store, rows)
    store.close()
    result = _cli(settings.data_dir, "nlp", "retrain", "--task", "sentiment")
    assert result.returncode == 2
    assert "all 12 sentiment corrections say 'negative'" in result.stderr
    rollback = _cli(settings.data_dir, "nlp", "rollback", "--task", "sentiment")
    assert rollback.returncode == 2 and "no earlier version to go back to" in rollback.stderr


def test_cli_nlp_retrain_conflicting_corrections(run, store):
    rows = _rows()[:15]
    twin = {**rows[0], "id": "twin", "sentiment": "negative"}  # the same text, another label
    _fill(store, [*rows, twin])
    store.close()
    from nlp.retrain import RetrainError

    with pytest.raises(RetrainError, match="conflict: the same text has different labels"):
        run("nlp", "retrain", "--task", "sentiment")


def test_cli_nlp_reanalyze_keeps_human_labels(run, store):
    posts = _fill(store, _rows()[:4], correct=None)
    correct_post(store, posts[0].id, "sentiment", "negative", by="analyst", role="analyst")
    store.close()
    result = run("nlp", "reanalyze", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["posts"] == 4 and counts["human_kept"] == 1 and counts["rejected"] == 0
    from core.settings import get_settings
    from index import open_store

    store = open_store(get_settings())
    try:
        first = Post.from_doc(store.get("posts", posts[0].id))
        assert first.sentiment == "negative" and first.model_labels["sentiment"]["label"] in (
            "negative", "neutral", "positive")
        others = [Post.from_doc(store.get("posts", p.id)) for p in posts[1:]]
        assert all(0 < p.label_confidence["sentiment"] < 1 for p in others)  # relabelled by the model
    finally:
        store.close()
    assert json.loads(run("nlp", "reanalyze", "--since", "now-1d", "--json").stdout)["posts"] == 0


def test_learning_curve_on_the_project_fixture(tmp_path, monkeypatch):
    """The bench's loop (bench/nlp_loop.py) on the project's own small labelled text."""
    from index import open_store
    from iocwatch.flows.learn import learning_curve, split_halves

    for key in list(os.environ):
        if key.startswith("IOCWATCH_"):
            monkeypatch.delenv(key)
    one_pair(monkeypatch)
    rows = _rows()
    first, other = split_halves(rows)
    assert len(first) == len(other) == 30 and not {r["id"] for r in first} & {r["id"] for r in other}
    curve = learning_curve(rows, [0, 30], tmp_path)
    assert [p["n"] for p in curve["points"]] == [0, 30]
    base, last = curve["points"]
    for task in ("sentiment", "topic"):
        assert 0 < base[task]["in_use"] <= 1 and base[task]["candidate"] == base[task]["in_use"]
        point = last[task]
        assert isinstance(point["promoted"], bool) and set(point["heldout"]) == {"current", "candidate"}
        # the model in use afterwards is the candidate exactly when the held-back part promoted it
        assert point["in_use"] == (point["candidate"] if point["promoted"] else base[task]["in_use"])
    from core.settings import load_settings

    store = open_store(load_settings(data_dir=tmp_path / "n30"))
    try:  # the 30 corrections went through the dashboard's code path, topic and sentiment each
        corrected = [Post.from_doc(h.source) for h in
                     store.search("posts", {"term": {"flags": "corrected"}}, size=100).hits]
    finally:
        store.close()
    assert len(corrected) == 30
    assert all(set(p.human_labels()) == {"sentiment", "topic"} and p.corrections[0].by == "learning-curve"
               for p in corrected)


def test_retraining_and_reanalysis_keep_journaled_corrections_after_the_index_is_lost(store, settings):
    """The posts index is wiped and re-filled from an old export (copies without their
    corrections): retraining still finds every correction, and re-analysis gives the human
    labels back."""
    from iocwatch.flows.learn import correction_examples, reanalyze

    rows = _rows()[:12]
    posts = _fill(store, rows)
    assert len(correction_examples(store, "sentiment", settings)) == 12
    store.delete_all("posts")
    assert correction_examples(store, "sentiment") == []  # the store alone has lost them
    from_journal = correction_examples(store, "sentiment", settings)
    assert sorted((e.id, e.label) for e in from_journal) == sorted(
        (p.id, r["sentiment"]) for p, r in zip(posts, rows, strict=True))
    assert all(e.text == p.text for e, p in zip(sorted(from_journal, key=lambda e: e.id),
                                                sorted(posts, key=lambda p: p.id), strict=True))

    store.upsert_many("posts", posts)  # the old export: model labels only, written directly
    counts = reanalyze(settings, store=store)
    assert counts["posts"] == 12 and counts["human_kept"] == 12
    for post, row in zip(posts, rows, strict=True):
        again = Post.from_doc(store.get("posts", post.id))
        assert again.sentiment == row["sentiment"] and again.corrections[-1].by == "comms"
