"""The correction loop in a real headless Chromium: a communications officer corrects the
sentiment of the first post of the review queue in one click on Lắng nghe, then finds the
post on Tìm kiếm and undoes the correction ("Hoàn tác").

Uses the Chromium fixtures of :mod:`tests.dashboard.test_browser`, over a data directory of
its own (the correction changes it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.documents import Post
from tests.dashboard.conftest import fill_data_dir
from tests.dashboard.hostile import serve
from tests.dashboard.test_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    _click,
    _free_port,
    _log_in,
    _wait,
    browser,
    chromium,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def served_loop(tmp_path):
    from core.settings import load_settings
    from index import open_store

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    unsure = Post.new(platform="news", source="baocantho", native_id="browser-unsure", language="vi",
                      title="Cầu mới thông xe, người dân phấn khởi", text="Cầu thông xe sớm hai tháng.",
                      published_at=datetime.now(UTC) - timedelta(hours=1), topics=["traffic"],
                      sentiment="negative", sentiment_score=-0.1, toxicity="clean", toxicity_score=0.03,
                      label_confidence={"topic": 0.9, "sentiment": 0.34})
    settings = load_settings(data_dir=data_dir)
    store = open_store(settings)
    try:
        store.upsert_many("posts", [unsure])
    finally:
        store.close()
    with serve(data_dir, tmp_path) as url:
        yield url, settings, unsure


def _press(driver, css: str, text: str | None = None) -> None:
    """Wait for the button ``css`` (labelled ``text``), scroll it to the middle and click it."""
    button = _wait(driver, css, text=text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def _stored(settings, post_id: str) -> Post:
    from index import open_store

    store = open_store(settings)
    try:
        return Post.from_doc(store.get("posts", post_id))
    finally:
        store.close()


def test_browser_comms_corrects_a_queued_post_in_one_click(browser, served_loop):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    url, settings, unsure = served_loop
    browser.get(url)
    _log_in(browser, "comms")
    _wait(browser, "h1", text="Tổng quan")
    _click(browser, '[data-testid="stSidebarNav"] a', "Lắng nghe")
    _wait(browser, "h3", text="Cần xem lại")
    _press(browser, f".st-key-rq0_{unsure.id}_sentiment_positive button", "Tích cực")
    _wait(browser, '[data-testid="stAlertContentSuccess"] p', text="Đã sửa Cảm xúc thành «Tích cực».")
    browser.save_screenshot(str(ARTIFACTS / "comms-correction.png"))
    post = _stored(settings, unsure.id)
    assert post.sentiment == "positive" and post.corrections[-1].by == "comms"
    assert post.model_labels["sentiment"]["label"] == "negative"

    # the same officer finds the post on Tìm kiếm and takes the correction back
    _click(browser, '[data-testid="stSidebarNav"] a', "Tìm kiếm")
    box = _wait(browser, '.st-key-s_text input')
    box.send_keys("thông xe sớm hai tháng", Keys.ENTER)
    _press(browser, f".st-key-s_open_{unsure.id} button")
    _press(browser, f".st-key-s_fix_{unsure.id}_sentiment_undo button", "↶ Hoàn tác Cảm xúc (về «Tiêu cực»)")
    _wait(browser, '[data-testid="stAlertContentSuccess"] p', text="Đã hoàn tác Cảm xúc: nhãn trở về «Tiêu cực».")
    browser.save_screenshot(str(ARTIFACTS / "comms-undo.png"))
    post = _stored(settings, unsure.id)
    assert post.sentiment == "negative" and post.corrections == [] and "sentiment" not in post.model_labels
