"""The search page in a real headless Chromium: a malformed query is refused with its column, hostile
queries never crash the page, paging resets when the query changes, a post opens by clicking it.

Uses the served dashboard and the browser of ``test_browser.py``; screenshots go to
``tests/artifacts/dashboard/``.
"""

# ruff: noqa: F811  (pytest fixtures imported from test_browser are test parameters here)
from __future__ import annotations

import time

import pytest

from tests.dashboard.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    NAV,
    _click,
    _count,
    _log_in,
    _wait,
    _wait_rendered,
    browser,
    chromium,
    served,
)

pytestmark = pytest.mark.browser
HOSTILE = ["ngập NOT", "(" * 300 + "ngập" + ")" * 300, '"ngập lụt', "AND", "ngap AND (can tho", "OR", "a)",
           "foo:bar", "NOT " * 500]
ERROR = '[data-testid="stAlert"], [data-testid="stAlertContainer"]'
EXCEPTION = '[data-testid="stException"]'


def _open_search(driver, url: str) -> None:
    driver.get(url)
    _log_in(driver, "analyst")
    _wait_rendered(driver, "overview")
    _click(driver, '[data-testid="stSidebarNav"] a', NAV["search"])
    _wait_rendered(driver, "search")


def _query(driver, text: str) -> None:
    """Type ``text`` in the search box and submit it (Enter)."""
    from selenium.webdriver.common.keys import Keys

    box = _wait(driver, 'input[aria-label^="Truy vấn"]')
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text, Keys.ENTER)


def _text_shown(driver, css: str, needle: str, timeout: float = 40) -> str:
    """The text of the first visible element matching ``css`` that contains ``needle``."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d):
        try:
            for el in d.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and needle in el.text:
                    return el.text
        except StaleElementReferenceException:
            return False
        return False

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(found, message=f"no {css!r} with {needle!r}")


def _page_line(driver, expected: str) -> None:
    _text_shown(driver, '[data-testid="stMarkdownContainer"]', f"· Trang {expected}")


def test_browser_search_refuses_a_malformed_query_with_its_column(browser, served):
    url, _ = served
    _open_search(browser, url)
    _query(browser, "ngap AND (can tho")
    message = _text_shown(browser, ERROR, "Truy vấn không hợp lệ")
    assert "cột 10" in message and "«(» chưa được đóng" in message
    caret = _text_shown(browser, '[data-testid="stCode"], pre', "ngap AND (can tho")
    assert caret.splitlines()[-1].strip() == "^"
    assert _count(browser, EXCEPTION) == 0
    browser.save_screenshot(str(ARTIFACTS / "search-malformed.png"))


def test_browser_search_survives_hostile_queries(browser, served):
    url, _ = served
    _open_search(browser, url)
    for i, query in enumerate(HOSTILE):
        _query(browser, query)
        _text_shown(browser, ERROR, "Truy vấn không hợp lệ ở cột")
        time.sleep(0.3)  # the rerun has settled: no exception box appears afterwards
        assert _count(browser, EXCEPTION) == 0, query[:40]
        assert "Traceback" not in browser.page_source
        browser.save_screenshot(str(ARTIFACTS / f"search-hostile-{i}.png"))
    _query(browser, "can tho")  # and the page still searches afterwards
    _text_shown(browser, '[data-testid="stMarkdownContainer"]', "kết quả")
    assert _count(browser, EXCEPTION) == 0


def test_browser_search_paging_resets_when_the_query_changes(browser, served):
    from selenium.webdriver.common.by import By

    url, expected = served
    _open_search(browser, url)
    _page_line(browser, "1/2")
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stNumberInputStepUp"]').click()
    _page_line(browser, "2/2")
    browser.save_screenshot(str(ARTIFACTS / "search-page-2.png"))
    _query(browser, "can tho")
    _page_line(browser, "1/1")
    browser.save_screenshot(str(ARTIFACTS / "search-reset.png"))


def test_browser_search_opens_the_clicked_post(browser, served):
    from selenium.webdriver.common.by import By

    url, _ = served
    _open_search(browser, url)
    buttons = [b for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stButton"] button')
               if b.text.strip() == "Xem"]
    assert len(buttons) == 20
    buttons[1].click()
    labels = _text_shown(browser, '[data-testid="stMarkdownContainer"]', "Nhãn:")
    assert "Địa danh:" in labels
    _wait(browser, '[data-testid="stButton"] button', text="Đóng")
    browser.save_screenshot(str(ARTIFACTS / "search-card.png"))
