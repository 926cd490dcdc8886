"""The corrections journal: operators' labels survive a wiped index, a deleted post and an old
export, through the crawl's own write path (the listen flow's spooled store); appends from
several processes; torn and garbled lines counted, never fatal; a withdrawn correction stays
withdrawn through all of these."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.documents import CORRECTED_FLAG, Correction, Post
from core.errors import ValidationFailed
from index.corrections import (
    CorrectionsJournal,
    correct_post,
    corrected_posts,
    journal_examples,
    keep_human_labels,
    withdraw_correction,
)
from tests.conftest import labelled_post as _post


def _recrawl(settings, posts: list[Post]) -> None:
    """Write posts as ``iocwatch crawl`` does: the listen flow's sink over the spooled store."""
    from iocwatch.flows.listen import StoreSink, open_listen_store

    listen_store = open_listen_store(settings)
    try:
        StoreSink(listen_store, None)(posts)
    finally:
        listen_store.close()


def _stored(settings, post_id: str) -> Post:
    from index import open_store

    store = open_store(settings)
    try:
        return Post.from_doc(store.get("posts", post_id))
    finally:
        store.close()


def test_corrections_journal_human_label_wins_after_the_posts_index_is_wiped(settings, store):
    post = _post(1, "Khánh thành bệnh viện mới", title="Tin vui")
    other = _post(2, "Kẹt xe")
    store.upsert_many("posts", [post, other])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, post.id, "topic", "health", by="analyst", role="analyst")
    lines = CorrectionsJournal.of(settings).path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["task"] for line in lines] == ["sentiment", "topic"]
    assert json.loads(lines[0])["text"] == "Tin vui\nKhánh thành bệnh viện mới"

    store.delete_all("posts")
    assert store.get("posts", post.id) is None and list(corrected_posts(store)) == []
    store.close()
    # the crawler collects both posts again; the models label them again (negative, traffic)
    fresh = _post(1, "Khánh thành bệnh viện mới (cập nhật)", title="Tin vui", conf=0.7)
    _recrawl(settings, [fresh, _post(2, "Kẹt xe")])
    _recrawl(settings, [fresh])  # twice: idempotent
    kept = _stored(settings, post.id)
    assert kept.text.endswith("(cập nhật)")  # the new crawl is stored...
    assert kept.sentiment == "positive" and kept.topics == ["health"]  # ...with the human labels
    assert [(c.task, c.label, c.by, c.before) for c in kept.corrections] == [
        ("sentiment", "positive", "comms", "negative"), ("topic", "health", "analyst", "traffic")]
    assert kept.model_labels["sentiment"] == {"label": "negative", "score": -0.5, "confidence": 0.7}
    assert CORRECTED_FLAG in kept.flags and kept.label_confidence["sentiment"] == 1.0
    untouched = _stored(settings, other.id)
    assert untouched.corrections == [] and untouched.sentiment == "negative"


def test_corrections_journal_later_correction_of_the_same_task_wins(settings, store):
    post = _post(1, "Cầu mới thông xe")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, post.id, "sentiment", "neutral", by="analyst", role="analyst")
    assert journal_examples(settings, "sentiment") == [(post.id, "Cầu mới thông xe", "neutral")]
    assert journal_examples(settings.data_dir, "topic") == []
    with pytest.raises(ValidationFailed, match="not one of"):
        journal_examples(settings, "weather")

    store.delete_all("posts")
    store.close()
    _recrawl(settings, [_post(1, "Cầu mới thông xe", conf=0.8)])
    kept = _stored(settings, post.id)
    assert kept.sentiment == "neutral" and kept.human_label("sentiment") == "neutral"
    assert [(c.by, c.before) for c in kept.corrections] == [("comms", "negative"), ("analyst", "positive")]


def test_corrections_journal_restores_what_an_old_export_lacks(settings, store):
    post = _post(1, "Trường mới")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    old_export = store.get("posts", post.id)  # exported now, restored after a later correction
    correct_post(store, post.id, "toxicity", "offensive", by="analyst", role="analyst")
    store.delete_all("posts")
    store.upsert_many("posts", [old_export])
    store.close()
    _recrawl(settings, [_post(1, "Trường mới", conf=0.6)])
    kept = _stored(settings, post.id)
    assert kept.human_labels() == {"sentiment": "positive", "toxicity": "offensive"}
    assert kept.toxicity == "offensive" and len(kept.corrections) == 2


def test_corrections_journal_leaves_posts_with_their_stored_corrections_as_today(settings, store):
    a = _post(1, "a")
    store.upsert_many("posts", [a])
    correct_post(store, a.id, "sentiment", "neutral", by="comms", role="comms")
    CorrectionsJournal.of(settings).path.unlink()  # corrected before the journal existed
    out = keep_human_labels(store, [_post(1, "a2")])
    assert out[0].sentiment == "neutral" and [c.by for c in out[0].corrections] == ["comms"]
    doc = _post(2, "b").to_doc()
    assert keep_human_labels(store, [doc])[0] is doc  # nothing to keep: the same document


APPEND = """
import sys, time
from core.documents import Correction, Post
from index.corrections import CorrectionsJournal
path, worker, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
journal = CorrectionsJournal(path)
time.sleep(max(0.0, start - time.time()))
for i in range(n):
    post = Post(id=f"w{worker}-{i}", source="s", text=f"bài {i} " * 50)
    journal.append(post, Correction(task="sentiment", label="positive", by=f"op{worker}"))
"""


def test_corrections_journal_two_processes_appending_at_once_lose_no_line(tmp_path):
    # two separate interpreters (no lock or cache state shared), started at the same moment
    path, n = tmp_path / "journal.jsonl", 150
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    start = time.time() + 3
    procs = [subprocess.Popen([sys.executable, "-c", APPEND, str(path), str(w), str(n), str(start)], env=env)
             for w in (1, 2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    read = CorrectionsJournal(path).read()
    assert read.bad == [] and len(read.entries) == 2 * n
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2 * n
    assert {e.post_id for e in read.entries} == {f"w{w}-{i}" for w in (1, 2) for i in range(n)}


def test_corrections_journal_torn_last_and_garbled_lines_counted_the_rest_read(tmp_path, caplog):
    journal = CorrectionsJournal(tmp_path / "corrections" / "journal.jsonl")
    for i in range(3):
        journal.append(Post(id=f"p{i}", source="s", text=f"t{i}"),
                       Correction(task="topic", label="health", by="comms"))
    with open(journal.path, "ab") as fh:
        fh.write(b'{"post_id": "p9", "task": "sentiment", "label": "great", "by": "x"}\n')
        fh.write(b"\xff not json\n")
        fh.write(b'{"post_id": "p8", "task": "sentiment", "lab')  # a crash mid-write
    with caplog.at_level(logging.WARNING, logger="index.corrections"):
        read = journal.read()
    assert [e.post_id for e in read.entries] == ["p0", "p1", "p2"]
    assert [n for n, _ in read.bad] == [4, 5, 6] and "torn" in read.bad[-1][1]
    assert "line 4, 5, 6" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.corrections"):
        assert journal.read().bad == read.bad  # cached: same count, not logged twice
    assert caplog.text == ""

    # the next append starts on a line of its own; the torn line stays counted
    journal.append(Post(id="p3", source="s", text="t3"), Correction(task="topic", label="crime", by="a"))
    again = journal.read()
    assert [e.post_id for e in again.entries] == ["p0", "p1", "p2", "p3"]
    assert [n for n, _ in again.bad] == [4, 5, 6] and again.entries[-1].line == 7
    assert journal_examples(tmp_path, "topic")[-1] == ("p3", "t3", "crime")


def test_corrections_journal_replaced_file_is_read_afresh(tmp_path):
    journal = CorrectionsJournal(tmp_path / "journal.jsonl")
    journal.append(Post(id="p0", source="s"), Correction(task="topic", label="health", by="a"))
    assert len(journal.read().entries) == 1
    replacement = tmp_path / "new.jsonl"
    CorrectionsJournal(replacement).append(Post(id="q0", source="s"),
                                           Correction(task="topic", label="crime", by="b"))
    CorrectionsJournal(replacement).append(Post(id="q1", source="s"),
                                           Correction(task="topic", label="crime", by="b"))
    replacement.replace(journal.path)  # e.g. restored from a backup
    assert [e.post_id for e in journal.read().entries] == ["q0", "q1"]


def test_corrections_journal_index_load_of_an_old_export_keeps_the_human_labels(settings, store, tmp_path):
    from index.loader import load_file

    post, other = _post(1, "Chợ mới khai trương"), _post(2, "Mưa lớn")
    store.upsert_many("posts", [post, other])
    export = tmp_path / "old.jsonl"  # exported before any correction
    export.write_text("".join(json.dumps(store.get("posts", p.id), ensure_ascii=False) + "\n"
                              for p in (post, other)), encoding="utf-8")
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    assert load_file(store, export).stored == 2  # the stored copy's correction wins
    assert Post.from_doc(store.get("posts", post.id)).sentiment == "positive"
    store.delete_all("posts")
    assert load_file(store, export).stored == 2  # the index rebuilt from the old export
    kept = Post.from_doc(store.get("posts", post.id))
    assert kept.sentiment == "positive" and [(c.by, c.before) for c in kept.corrections] == [
        ("comms", "negative")]
    assert Post.from_doc(store.get("posts", other.id)).corrections == []


# ---- withdrawn corrections ------------------------------------------------------------------
def _journal_rows(settings) -> list[dict]:
    path = CorrectionsJournal.of(settings).path
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_corrections_journal_withdrawal_is_not_restored_after_the_index_is_wiped(settings, store):
    post, other = _post(1, "Khánh thành bệnh viện mới"), _post(2, "Kẹt xe")
    store.upsert_many("posts", [post, other])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, post.id, "topic", "health", by="comms", role="comms")
    correct_post(store, other.id, "sentiment", "neutral", by="comms", role="comms")
    withdraw_correction(store, post.id, "sentiment", by="analyst", role="analyst")
    last = _journal_rows(settings)[-1]
    assert {k: last[k] for k in ("post_id", "task", "withdrawn", "by")} == {
        "post_id": post.id, "task": "sentiment", "withdrawn": True, "by": "analyst"}
    assert "at" in last and "label" not in last

    store.delete_all("posts")
    store.close()
    _recrawl(settings, [_post(1, "Khánh thành bệnh viện mới", conf=0.7), _post(2, "Kẹt xe")])
    kept = _stored(settings, post.id)
    assert kept.sentiment == "negative" and kept.label_confidence["sentiment"] == 0.7  # the model's
    assert kept.topics == ["health"] and [c.task for c in kept.corrections] == ["topic"]  # not withdrawn
    assert set(kept.model_labels) == {"topic"} and CORRECTED_FLAG in kept.flags
    assert _stored(settings, other.id).sentiment == "neutral"  # another post's correction stays
    assert journal_examples(settings, "sentiment") == [(other.id, "Kẹt xe", "neutral")]
    assert [e[0] for e in journal_examples(settings, "topic")] == [post.id]


def test_corrections_journal_correction_after_a_withdrawal_is_in_force(settings, store):
    post = _post(1, "Cầu mới thông xe")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")
    assert journal_examples(settings, "sentiment") == []
    correct_post(store, post.id, "sentiment", "neutral", by="analyst", role="analyst")
    assert journal_examples(settings, "sentiment") == [(post.id, "Cầu mới thông xe", "neutral")]
    read = CorrectionsJournal.of(settings).read()
    assert [e.line for e in read.by_post[post.id]] == [3] and read.bad == []

    store.delete_all("posts")
    store.close()
    _recrawl(settings, [_post(1, "Cầu mới thông xe", conf=0.8)])
    kept = _stored(settings, post.id)
    assert kept.sentiment == "neutral"
    assert [(c.by, c.label, c.before) for c in kept.corrections] == [("analyst", "neutral", "negative")]


def test_corrections_journal_withdrawal_of_a_post_no_longer_stored(settings, store):
    post = _post(1, "Trường mới")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "toxicity", "offensive", by="comms", role="comms")
    store.delete_all("posts")
    assert withdraw_correction(store, post.id, "toxicity", by="admin", role="admin") is None
    assert _journal_rows(settings)[-1]["withdrawn"] is True
    with pytest.raises(ValidationFailed, match="nothing to withdraw: the store holds no such post"):
        withdraw_correction(store, post.id, "toxicity", by="admin", role="admin")
    store.close()
    _recrawl(settings, [_post(1, "Trường mới")])
    kept = _stored(settings, post.id)
    assert kept.toxicity == "clean" and kept.corrections == [] and CORRECTED_FLAG not in kept.flags


def test_corrections_journal_index_load_of_an_export_made_before_the_withdrawal(settings, store, tmp_path):
    from index.loader import load_file

    post = _post(1, "Chợ mới khai trương")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    export = tmp_path / "old.jsonl"  # carries the correction and the human label
    export.write_text(json.dumps(store.get("posts", post.id), ensure_ascii=False) + "\n", encoding="utf-8")
    withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")
    store.delete_all("posts")
    assert load_file(store, export).stored == 1
    kept = Post.from_doc(store.get("posts", post.id))
    assert (kept.sentiment, kept.sentiment_score, kept.corrections) == ("negative", -0.5, [])
    assert CORRECTED_FLAG not in kept.flags and kept.label_confidence["sentiment"] == 0.9

    # corrected again after the withdrawal: an export carrying both keeps only the new one
    correct_post(store, post.id, "sentiment", "neutral", by="analyst", role="analyst")
    doc = store.get("posts", post.id)
    doc["corrections"] = [*json.loads(export.read_text(encoding="utf-8"))["corrections"], *doc["corrections"]]
    (out,) = keep_human_labels(store, [doc])
    assert out["sentiment"] == "neutral" and [c["by"] for c in out["corrections"]] == ["analyst"]


def test_corrections_journal_bad_withdrawal_lines_counted_and_cache_kept_right(tmp_path):
    journal = CorrectionsJournal(tmp_path / "journal.jsonl")
    for i in range(2):
        journal.append(Post(id=f"p{i}", source="s", text=f"t{i}"),
                       Correction(task="topic", label="health", by="comms"))
    assert len(journal.read().entries) == 2  # cached before the withdrawal is appended
    with open(journal.path, "ab") as fh:
        fh.write(b'{"post_id": "p0", "task": "weather", "withdrawn": true, "by": "x"}\n')
        fh.write(b'{"post_id": "p0", "task": "topic", "withdrawn": false, "by": "x"}\n')
        fh.write(b'{"post_id": "p0", "task": "topic", "withdrawn": true}\n')
        fh.write(b'{"task": "topic", "withdrawn": true, "by": "x"}\n')
    read = journal.read()
    assert [n for n, _ in read.bad] == [3, 4, 5, 6] and len(read.entries) == 2
    assert "'task'" in read.bad[0][1] and "'withdrawn'" in read.bad[1][1] and "'by'" in read.bad[2][1]
    assert read.withdrawals == {}

    from index.corrections import Withdrawal

    journal.append_withdrawal("p0", Withdrawal(task="topic", withdrawn=True, by="comms"))
    journal.append_withdrawal("p1", Withdrawal(task="sentiment", withdrawn=True, by="comms"))  # other task
    cached = journal.read()  # parsed from the cached offset on
    assert [e.post_id for e in cached.entries] == ["p1"] and "p0" not in cached.by_post
    assert set(cached.withdrawals) == {("p0", "topic"), ("p1", "sentiment")}
    assert cached.withdrawn_at("p0", "topic") is not None and cached.withdrawn_at("p0", "sentiment") is None
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(journal.path.read_bytes())
    fresh = CorrectionsJournal(copy).read()  # the same file read from the start
    assert [(e.post_id, e.line) for e in fresh.entries] == [(e.post_id, e.line) for e in cached.entries]
    assert fresh.bad == cached.bad and set(fresh.withdrawals) == set(cached.withdrawals)
