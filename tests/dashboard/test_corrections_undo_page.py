"""AppTest over the real app: the "Hoàn tác" (undo) control of a corrected post on Tìm kiếm, for the
roles that may correct, and the counts of Lắng nghe after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


@pytest.fixture
def corrected(tmp_path, monkeypatch):
    """A data directory of its own holding a post whose sentiment and topic an operator corrected."""
    from core.settings import get_settings
    from index import open_store
    from index.corrections import correct_post

    data_dir = tmp_path / "data"
    expected = fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    post = Post.new(platform="news", source="baocantho", native_id="undo-1", language="vi",
                    title="Cầu Trần Hoàng Na thông xe sớm", published_at=datetime.now(UTC) - timedelta(hours=1),
                    text="Cây cầu mới thông xe, người dân phấn khởi.", topics=["traffic"],
                    sentiment="negative", sentiment_score=-0.4, toxicity="clean", toxicity_score=0.05,
                    label_confidence={"topic": 0.9, "sentiment": 0.55})
    store = open_store(get_settings())
    try:
        store.upsert_many("posts", [post])
        correct_post(store, post.id, "sentiment", "positive", by="comms", role="comms")
        correct_post(store, post.id, "topic", "health", by="comms", role="comms")
    finally:
        store.close()
    expected["listening_7d"] += 1
    yield expected, post
    get_settings.cache_clear()


def _negative_share(at) -> str:
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    return negative_share(at)


def test_corrections_undo_gives_the_model_label_back_and_the_counts_at_once(corrected):
    expected, post = corrected
    at = login(new_app(), "comms")
    before = _negative_share(at)
    open_search_card(at, post.id, "Trần Hoàng Na")
    undo = at.button(key=f"s_fix_{post.id}_sentiment_undo")
    assert undo.label == "↶ Hoàn tác Cảm xúc (về «Tiêu cực»)"  # names the label it gives back
    assert at.button(key=f"s_fix_{post.id}_topic_undo").label.startswith("↶ Hoàn tác Chủ đề")
    undo.click().run()
    assert not at.exception, at.exception
    assert any("Đã hoàn tác Cảm xúc: nhãn trở về «Tiêu cực»." in s.value for s in at.success)
    stored = stored_post(post.id)
    assert (stored.sentiment, stored.label_confidence["sentiment"]) == ("negative", 0.55)
    assert [c.task for c in stored.corrections] == ["topic"]  # the other correction stays
    assert not [b for b in at.button if b.key == f"s_fix_{post.id}_sentiment_undo"]
    assert [b for b in at.button if b.key == f"s_fix_{post.id}_topic_undo"]
    after = _negative_share(at)
    negative_week = round(float(before.rstrip("%")) / 100 * expected["listening_7d"])
    assert after == f"{(negative_week + 1) / expected['listening_7d']:.0%}"  # the page counts it at once


def test_corrections_undo_topic_resets_the_topic_picker(corrected):
    _, post = corrected
    at = login(new_app(), "analyst")
    open_search_card(at, post.id, "Trần Hoàng Na")
    assert at.selectbox(key=f"s_fix_{post.id}_topic").value == "health"
    at.button(key=f"s_fix_{post.id}_topic_undo").click().run()
    assert not at.exception, at.exception
    assert stored_post(post.id).topics == ["traffic"]
    assert at.selectbox(key=f"s_fix_{post.id}_topic").value == "traffic"


def test_corrections_security_officers_get_no_undo_control(corrected):
    _, post = corrected
    at = login(new_app(), "security")
    open_search_card(at, post.id, "Trần Hoàng Na")
    assert any("✎ đã sửa" in md.value for md in at.markdown)  # the correction is shown...
    assert not [b for b in at.button if (b.key or "").endswith("_undo")]  # ...but cannot be undone
    assert stored_post(post.id).human_labels() == {"sentiment": "positive", "topic": "health"}
