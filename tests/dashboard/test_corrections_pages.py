"""AppTest over the real app: one-click corrections on Lắng nghe and Tìm kiếm, the review queue,
roles, and the administrators' retrain button."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.documents import Post
from tests.dashboard.conftest import (
    fill_data_dir,
    login,
    negative_share,
    new_app,
    open_search_card,
    stored_post,
    use_data_dir,
)

LOOP = Path(__file__).parents[1] / "data" / "nlp" / "loop_posts.jsonl"


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A data directory of its own (corrections change it), plus posts with model confidences."""
    from core.settings import get_settings
    from index import open_store

    data_dir = tmp_path / "data"
    expected = fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    # one (corpus C, correction C) pair: retraining skips the cross-validated choice, which
    # tests/nlp/test_retrain.py covers (the full grid takes minutes)
    monkeypatch.setenv("IOCWATCH_LEARN__CORPUS_C", "0.1")
    monkeypatch.setenv("IOCWATCH_LEARN__CORRECTION_C", "1")
    now = datetime.now(UTC)
    # outside the audit sample (core.documents.audit_bucket 0.45 >= learn.holdout), so the
    # queue ranks it by how unsure the models are
    unsure = Post.new(platform="news", source="baocantho", native_id="unsure-3", language="vi",
                      title="Cầu Trần Hoàng Na thông xe sớm", published_at=now - timedelta(hours=1),
                      text="Cây cầu mới thông xe, người dân phấn khởi.", topics=["traffic"],
                      sentiment="negative", sentiment_score=-0.1, toxicity="clean", toxicity_score=0.05,
                      label_confidence={"topic": 0.9, "sentiment": 0.36})
    store = open_store(get_settings())
    try:
        store.upsert_many("posts", [unsure])
    finally:
        store.close()
    expected["listening_7d"] += 1
    yield data_dir, expected, unsure
    get_settings.cache_clear()


def test_corrections_review_queue_one_click_changes_the_counts_at_once(fresh):
    data_dir, expected, unsure = fresh
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    assert any(s.value == "Cần xem lại" for s in at.subheader)
    # the audit sample is asked too, and says why (learn.holdout of the queue's slots)
    # (captions hold the escaped Markdown source: "kiểm tra\\: chọn")
    assert any("mẫu kiểm tra" in c.value and "chọn ngẫu nhiên để đo mô hình cho công bằng" in c.value
               for c in at.caption)
    before = negative_share(at)
    button = at.button(key=f"rq0_{unsure.id}_sentiment_positive")  # the least sure post comes first
    assert button.label == "Tích cực"
    button.click().run()
    assert not at.exception, at.exception
    assert any("Đã sửa Cảm xúc thành «Tích cực»" in s.value for s in at.success)
    post = stored_post(unsure.id)
    (c,) = post.corrections
    assert (c.by, c.before, c.label, post.sentiment) == ("comms", "negative", "positive", "positive")
    after = negative_share(at)
    assert before != after  # the page's counts use the corrected label at once
    negative_week = round(float(before.rstrip("%")) / 100 * expected["listening_7d"])
    assert after == f"{(negative_week - 1) / expected['listening_7d']:.0%}"
    # the corrected post leaves the queue for that task, and shows as corrected where listed
    assert not [b for b in at.button if b.key == f"rq0_{unsure.id}_sentiment_positive"]


def test_corrections_on_search_detail_and_topic_picker(fresh):
    _, _, unsure = fresh
    at = login(new_app(), "analyst")
    open_search_card(at, unsure.id, "Trần Hoàng Na")
    at.selectbox(key=f"s_fix_{unsure.id}_topic").set_value("urban_construction").run()
    assert not at.exception, at.exception
    post = stored_post(unsure.id)
    assert post.topics == ["urban_construction"] and post.corrections[-1].by == "analyst"
    assert any("✎ đã sửa" in md.value for md in at.markdown)


def test_corrections_security_officers_see_labels_but_cannot_correct(fresh):
    _, _, unsure = fresh
    at = login(new_app(), "security")
    open_search_card(at, unsure.id, "Trần Hoàng Na")
    assert any("chỉ xem nhãn, không sửa được" in c.value for c in at.caption)
    assert not [b for b in at.button if (b.key or "").startswith(f"s_fix_{unsure.id}")]
    assert not [s for s in at.selectbox if unsure.id in (s.key or "")]


def test_corrections_admin_retrain_button_refuses_then_trains(fresh):
    from core.settings import get_settings
    from dashboard import data
    from index.corrections import correct_post

    at = login(new_app(), "admin")
    at.switch_page("pages/listening.py").run()
    at.selectbox(key="corr_retrain_task").set_value("sentiment").run()
    at.button(key="corr_retrain_go").click().run()
    assert not at.exception, at.exception
    assert any("Không huấn luyện lại được: there are no sentiment corrections yet" in e.value for e in at.error)

    rows = [json.loads(line) for line in LOOP.open(encoding="utf-8")][::3]  # 20 posts, all labels
    posts = [Post.new(platform="forum", source="fixture", native_id=r["id"], text=r["text"], language="vi",
                      sentiment="neutral", topics=["other"]) for r in rows]
    store = data.store()
    store.upsert_many("posts", posts)
    for post, row in zip(posts, rows, strict=True):
        correct_post(store, post.id, "sentiment", row["sentiment"], by="admin", role="admin")
    at.button(key="corr_retrain_go").click().run(timeout=600)
    assert not at.exception, at.exception
    done = [s.value for s in at.success if s.value.startswith("v1:")]
    assert done and "Trên phần giữ lại: mô hình đang dùng" in done[0]
    from nlp.registry import ModelRegistry

    assert ModelRegistry(get_settings().data_dir).version("sentiment", "v1").record["n_corrections"] == 20


def test_corrections_comms_has_no_retrain_button(fresh):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not [b for b in at.button if b.key == "corr_retrain_go"]
