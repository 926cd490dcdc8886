"""Corrections through the store: who/when/label before, counts at once, roles, and the human
label kept through re-crawls (the listen flow's spooled store) and re-analysis; withdrawing a
correction made by mistake."""

from __future__ import annotations

import pytest

from core.documents import CORRECTED_FLAG, RULES_DISAGREE_FLAG, Post
from core.errors import StoreError, ValidationFailed
from index.corrections import (
    correct_post,
    corrected_posts,
    keep_human_labels,
    review_queue,
    usefulness,
    withdraw_correction,
)
from tests.conftest import labelled_post as _post


def _sentiments(store) -> dict[str, int]:
    res = store.aggregate("posts", None, {"s": {"terms": {"field": "sentiment", "size": 5}}})
    return {b["key"]: b["doc_count"] for b in res["s"]["buckets"]}


def test_corrections_stored_with_who_when_before_and_counted_at_once(store):
    posts = [_post(i, f"Cầu mới thông xe số {i}") for i in range(3)]
    store.upsert_many("posts", posts)
    assert _sentiments(store) == {"negative": 3}
    out = correct_post(store, posts[0].id, "sentiment", "positive", by="comms", role="comms")
    assert out.sentiment == "positive" and out.sentiment_score == 1.0
    assert _sentiments(store) == {"negative": 2, "positive": 1}  # every count, at once
    stored = Post.from_doc(store.get("posts", posts[0].id))
    (c,) = stored.corrections
    assert (c.task, c.label, c.by, c.before) == ("sentiment", "positive", "comms", "negative")
    assert c.at.tzinfo is not None
    assert stored.model_labels["sentiment"] == {"label": "negative", "score": -0.5, "confidence": 0.9}
    assert CORRECTED_FLAG in stored.flags and stored.label_confidence["sentiment"] == 1.0
    assert store.count("posts", {"term": {"flags": CORRECTED_FLAG}}) == 1

    # a second operator changes it again: the model's label is still the model's
    correct_post(store, posts[0].id, "sentiment", "neutral", by="analyst", role="analyst")
    correct_post(store, posts[0].id, "topic", "urban_construction", by="admin", role="admin")
    again = Post.from_doc(store.get("posts", posts[0].id))
    assert [c.before for c in again.corrections] == ["negative", "positive", "traffic"]
    assert again.model_labels["sentiment"]["label"] == "negative"
    assert again.topics == ["urban_construction"] and again.human_labels() == {
        "sentiment": "neutral", "topic": "urban_construction"}
    assert [p.id for p in corrected_posts(store, "topic")] == [posts[0].id]


def test_corrections_refused_for_security_officers_bad_labels_and_deleted_posts(store):
    post = _post(1, "Kẹt xe")
    store.upsert_many("posts", [post])
    with pytest.raises(ValidationFailed, match="'security' may not correct"):
        correct_post(store, post.id, "sentiment", "positive", by="sec", role="security")
    with pytest.raises(ValidationFailed, match="'great' is not a sentiment label"):
        correct_post(store, post.id, "sentiment", "great", by="comms", role="comms")
    with pytest.raises(ValidationFailed, match="not one of"):
        correct_post(store, post.id, "weather", "sunny", by="comms", role="comms")
    with pytest.raises(StoreError, match="no post with id missing"):
        correct_post(store, "missing", "sentiment", "positive", by="comms", role="comms")
    assert Post.from_doc(store.get("posts", post.id)).corrections == []


def test_corrections_survive_a_recrawl_through_the_listen_store(settings, store):
    from iocwatch.flows.listen import StoreSink
    from iocwatch.ops.spool import open_spooled_store

    post = _post(1, "Khánh thành bệnh viện mới")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, post.id, "topic", "health", by="comms", role="comms")
    store.close()
    # the crawler collects the same post again, the models label it again (negative, traffic)
    fresh = _post(1, "Khánh thành bệnh viện mới (cập nhật)", sentiment="negative", conf=0.7)
    listen_store = open_spooled_store(settings, "listen")
    try:
        sink = StoreSink(listen_store, None)
        sink([fresh])
        sink([fresh])  # twice: idempotent
        kept = Post.from_doc(listen_store.get("posts", post.id))
    finally:
        listen_store.close()
    assert kept.text.endswith("(cập nhật)")  # the new crawl is stored...
    assert kept.sentiment == "positive" and kept.topics == ["health"]  # ...with the human labels
    assert kept.model_labels["sentiment"] == {"label": "negative", "score": -0.5, "confidence": 0.7}
    assert len(kept.corrections) == 2 and CORRECTED_FLAG in kept.flags


def test_corrections_keep_human_labels_leaves_other_posts_alone(store):
    a, b = _post(1, "a"), _post(2, "b")
    store.upsert_many("posts", [a, b])
    correct_post(store, a.id, "sentiment", "neutral", by="comms", role="comms")
    out = keep_human_labels(store, [_post(1, "a2"), _post(2, "b2").to_doc()])
    assert out[0].sentiment == "neutral" and out[1]["sentiment"] == "negative"
    assert keep_human_labels(store, []) == []


def test_corrections_reanalysis_never_overwrites_a_human_label(settings, store):
    from iocwatch.flows.learn import reanalyze

    good = Post.new(platform="news", source="s", native_id="g", language="vi",
                    text="Cầu mới thông xe, người dân phấn khởi vì đi lại thuận tiện hơn.")
    other = Post.new(platform="news", source="s", native_id="o", language="vi",
                     text="Kẹt xe kéo dài hàng giờ trên cầu, người dân rất bức xúc.")
    store.upsert_many("posts", [good, other])
    counts = reanalyze(settings, store=store)
    assert counts["posts"] == 2 and counts["human_kept"] == 0
    model_sentiment = Post.from_doc(store.get("posts", good.id)).sentiment
    human = "neutral" if model_sentiment != "neutral" else "negative"
    correct_post(store, good.id, "sentiment", human, by="comms", role="comms")
    counts = reanalyze(settings, store=store)
    assert counts == {"posts": 2, "changed": 0, "human_kept": 1, "rejected": 0}
    after = Post.from_doc(store.get("posts", good.id))
    assert after.sentiment == human and after.model_labels["sentiment"]["label"] == model_sentiment
    assert 0 < after.model_labels["sentiment"]["confidence"] < 1
    assert Post.from_doc(store.get("posts", other.id)).label_confidence["sentiment"] < 1


def test_corrections_review_queue_asks_about_unsure_and_disagreeing_posts_first(store):
    sure = _post(1, "chắc chắn", conf=0.97)
    unsure = _post(2, "phân vân", conf=0.35)
    clash = _post(3, "từ khóa khác", conf=0.95, flags=[RULES_DISAGREE_FLAG])
    done = _post(4, "đã sửa", conf=0.30)
    repost = _post(5, "phân vân", conf=0.35, duplicate_of=unsure.id)
    store.upsert_many("posts", [sure, unsure, clash, done, repost])
    correct_post(store, done.id, "sentiment", "neutral", by="comms", role="comms")
    rows = review_queue(store, limit=10)
    assert [r["post"]["id"] for r in rows] == [unsure.id, clash.id, sure.id]  # corrected, repost left out
    assert rows[0]["task"] in ("topic", "sentiment") and rows[0]["reasons"][0].startswith("unsure:")
    assert rows[1]["task"] == "topic" and "rules_disagree" in rows[1]["reasons"]
    score, task, _ = usefulness(Post.from_doc(store.get("posts", done.id)))
    assert task == "topic"  # sentiment is settled; its topic may still be asked


def test_corrections_review_queue_mixes_in_the_audit_sample_label_blind(store):
    from datetime import UTC, datetime, timedelta

    from core.documents import audit_bucket

    now = datetime.now(UTC)
    # confidences fall with i, so by usefulness the last posts would come first
    posts = [_post(i, f"bài {i}", conf=0.95 - 0.01 * i, published_at=now - timedelta(hours=i))
             for i in range(40)]
    store.upsert_many("posts", posts)
    audit = [p for p in posts if audit_bucket(p.id) < 0.3]
    assert 6 <= len(audit) <= 20  # the fixture holds enough of both kinds
    rows = review_queue(store, limit=20, audit_share=0.3)
    kinds = ["audit" if r["reasons"] == ["audit"] else "ranked" for r in rows]
    assert len(rows) == 20
    # every prefix of the queue is 30 % audit sample, rounded
    assert [kinds[:m].count("audit") for m in range(1, 21)] == [round(m * 0.3) for m in range(1, 21)]
    audit_rows = [r["post"]["id"] for r in rows if r["reasons"] == ["audit"]]
    newest_audit = [p.id for p in sorted(audit, key=lambda p: p.published_at, reverse=True)]
    assert audit_rows == newest_audit[:len(audit_rows)]  # newest first, not by how unsure
    ranked = [Post.from_doc(r["post"]) for r in rows if r["reasons"] != ["audit"]]
    assert all(audit_bucket(p.id) >= 0.3 for p in ranked)
    confidences = [p.label_confidence["sentiment"] for p in ranked]
    assert confidences == sorted(confidences)  # the rest: least sure first
    assert [r["post"]["id"] for r in review_queue(store, limit=20)] != [r["post"]["id"] for r in rows]


def test_corrections_survive_a_recrawl_spooled_while_the_store_was_down(settings, store):
    from iocwatch.ops.spool import SpooledStore, open_spool
    from tests.ops.faults import SwitchableStore

    post = _post(1, "Khánh thành trường mới")
    store.upsert_many("posts", [post])
    flaky = SwitchableStore(store)
    spooled = SpooledStore(flaky, open_spool(settings), retry_s=0.0, retry_max_s=0.0)
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    flaky.down = True  # the store goes away while the crawler collects the post again
    res = spooled.upsert_many("posts", [_post(1, "Khánh thành trường mới (cập nhật)", conf=0.6)])
    assert res.pending == [post.id]
    flaky.down = False
    spooled.flush(force=True)  # the replay looks up the stored copy before writing
    kept = Post.from_doc(store.get("posts", post.id))
    assert kept.text.endswith("(cập nhật)") and kept.sentiment == "positive"
    assert kept.model_labels["sentiment"]["confidence"] == 0.6
    spooled.close()


def test_corrections_two_operators_at_the_same_moment_both_kept(store):
    from concurrent.futures import ThreadPoolExecutor

    post = _post(1, "Cùng lúc")
    store.upsert_many("posts", [post])
    jobs = [("sentiment", "positive", "comms"), ("topic", "health", "analyst"),
            ("toxicity", "offensive", "admin")] * 3
    with ThreadPoolExecutor(max_workers=9) as pool:
        list(pool.map(lambda j: correct_post(store, post.id, j[0], j[1], by=j[2], role=j[2]), jobs))
    stored = Post.from_doc(store.get("posts", post.id))
    assert len(stored.corrections) == 9
    assert stored.human_labels() == {"sentiment": "positive", "topic": "health", "toxicity": "offensive"}
    assert (stored.sentiment, stored.topics, stored.toxicity) == ("positive", ["health"], "offensive")


def test_corrections_withdraw_restores_the_model_label_and_the_counts_at_once(store):
    posts = [_post(i, f"Cầu mới thông xe số {i}") for i in range(3)]
    store.upsert_many("posts", posts)
    pid = posts[0].id
    correct_post(store, pid, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, pid, "sentiment", "neutral", by="analyst", role="analyst")  # two in force
    correct_post(store, pid, "topic", "health", by="comms", role="comms")
    assert _sentiments(store) == {"negative": 2, "neutral": 1}
    assert Post.from_doc(store.get("posts", pid)).label_without_corrections("sentiment") == "negative"

    out = withdraw_correction(store, pid, "sentiment", by="comms", role="comms")
    assert _sentiments(store) == {"negative": 3}  # every count, at once
    stored = Post.from_doc(store.get("posts", pid))
    assert out == stored
    assert (stored.sentiment, stored.sentiment_score, stored.label_confidence["sentiment"]) == (
        "negative", -0.5, 0.9)  # the model's label, score and confidence
    assert [(c.task, c.label) for c in stored.corrections] == [("topic", "health")]
    assert set(stored.model_labels) == {"topic"} and CORRECTED_FLAG in stored.flags  # topic still corrected
    assert [p.id for p in corrected_posts(store, "sentiment")] == []

    withdraw_correction(store, pid, "topic", by="admin", role="admin")
    stored = Post.from_doc(store.get("posts", pid))
    assert stored.topics == ["traffic"] and stored.corrections == [] and stored.model_labels == {}
    assert CORRECTED_FLAG not in stored.flags and store.count("posts", {"term": {"flags": CORRECTED_FLAG}}) == 0
    assert stored.label_confidence == {"topic": 0.9, "sentiment": 0.9}


def test_corrections_withdraw_gives_back_the_models_unsure_mark(store):
    post = _post(1, "Chưa rõ thế nào", sentiment="neutral", conf=0.41, unsure=["sentiment"])
    store.upsert_many("posts", [post])
    corrected = correct_post(store, post.id, "sentiment", "negative", by="comms", role="comms")
    assert corrected.unsure == [] and corrected.model_labels["sentiment"]["unsure"] is True
    stored = withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")
    assert (stored.sentiment, stored.label_confidence["sentiment"], stored.unsure) == (
        "neutral", 0.41, ["sentiment"])


def test_corrections_withdraw_refused_for_security_officers_and_when_nothing_is_corrected(store):
    post = _post(1, "Kẹt xe")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    with pytest.raises(ValidationFailed, match="'security' may not withdraw"):
        withdraw_correction(store, post.id, "sentiment", by="sec", role="security")
    with pytest.raises(ValidationFailed, match="nothing to withdraw: the post has no topic correction in force"):
        withdraw_correction(store, post.id, "topic", by="comms", role="comms")
    with pytest.raises(ValidationFailed, match="not one of"):
        withdraw_correction(store, post.id, "weather", by="comms", role="comms")
    with pytest.raises(ValidationFailed, match="store holds no such post"):
        withdraw_correction(store, "missing", "sentiment", by="comms", role="comms")
    assert Post.from_doc(store.get("posts", post.id)).sentiment == "positive"  # all refused: unchanged
    withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")
    with pytest.raises(ValidationFailed, match="nothing to withdraw"):  # twice: already withdrawn
        withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")


def test_corrections_withdrawn_stays_out_of_a_recrawl_and_of_retraining(settings, store):
    from iocwatch.flows.learn import correction_examples
    from iocwatch.flows.listen import StoreSink
    from iocwatch.ops.spool import open_spooled_store

    post = _post(1, "Khánh thành bệnh viện mới")
    store.upsert_many("posts", [post])
    correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
    withdraw_correction(store, post.id, "sentiment", by="comms", role="comms")
    assert correction_examples(store, "sentiment", settings) == []  # retraining no longer learns it
    store.close()
    listen_store = open_spooled_store(settings, "listen")
    try:
        StoreSink(listen_store, None)([_post(1, "Khánh thành bệnh viện mới (cập nhật)", conf=0.7)])
        kept = Post.from_doc(listen_store.get("posts", post.id))
    finally:
        listen_store.close()
    assert kept.sentiment == "negative" and kept.corrections == [] and kept.label_confidence["sentiment"] == 0.7


def test_corrections_take_turns_with_other_processes_on_the_data_directory(settings, store):
    """Another process holding the "corrections" writer lock (a CLI withdrawing, another
    dashboard): a correction waits for it up to learn.correction_lock_wait_s, then is
    refused naming the holder and changes nothing; once it is free the correction goes in."""
    import subprocess
    import sys
    from pathlib import Path

    from core.state import LockHeldError

    post = _post(1, "Đèn đường hẻm 12 tắt cả tuần nay")
    store.upsert_many("posts", [post])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from core.state import WriterLock\n"
         f"with WriterLock({str(settings.data_dir)!r}, 'iocwatch nlp corrections --withdraw', "
         "scope='corrections'):\n"
         "    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        settings.learn.correction_lock_wait_s = 0.0
        with pytest.raises(LockHeldError, match="corrections --withdraw"):
            correct_post(store, post.id, "sentiment", "neutral", by="lan", role="comms")
        assert Post.from_doc(store.get("posts", post.id)).corrections == []
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    stored = correct_post(store, post.id, "sentiment", "neutral", by="lan", role="comms")
    assert stored.human_labels() == {"sentiment": "neutral"}
