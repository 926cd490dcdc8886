"""Figures and their evidence in a real headless Chromium (the browser and helpers of
``test_browser.py``) over the truth fixture: notable lists in order, one alert count, the close
reason shown, a spike opened to its posts; screenshots under ``tests/artifacts/dashboard/``."""

# ruff: noqa: F811  (pytest fixtures imported from test_browser are test parameters here)
from __future__ import annotations

import time

import pytest

from tests.dashboard.hostile import serve
from tests.dashboard.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    NAV,
    _click,
    _free_port,
    _log_in,
    _wait,
    _wait_rendered,
    browser,
    chromium,
)
from tests.dashboard.truth_fixtures import fill_truth_dir

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served_truth(tmp_path_factory):
    """The dashboard served as `iocwatch dashboard` serves it, over the truth fixture (with its
    watchlists file)."""
    root = tmp_path_factory.mktemp("browser_truth")
    data_dir = root / "data"
    fill_truth_dir(data_dir)
    with serve(data_dir, root, IOCWATCH_CRAWL__WATCHLISTS_FILE=str(root / "watchlists.yaml")) as url:
        yield url


def _open(driver, url: str, role: str, page: str, title: str) -> None:
    driver.get(url)
    _log_in(driver, role)
    _wait_rendered(driver, "overview")
    if page != "overview":
        _click(driver, '[data-testid="stSidebarNav"] a', NAV[page])
        _wait(driver, "h1", text=title)
    time.sleep(1.0)  # let tables and charts paint


def _frame_cells(driver, header: str) -> list[str]:
    """The cell texts, row by row, of the visible table whose header row has ``header``."""
    from selenium.webdriver.common.by import By

    for _ in range(50):
        for frame in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'):
            heads = [h.get_attribute("textContent").strip() for h in frame.find_elements(By.CSS_SELECTOR, "th")]
            if header in heads:
                return [c.get_attribute("textContent").strip() for c in frame.find_elements(By.CSS_SELECTOR, "td")]
        time.sleep(0.2)
    raise AssertionError(f"no table with the column {header!r}")


def _shown(driver, needle: str, what: str) -> None:
    """Wait until some Markdown on the page contains ``needle``."""
    from selenium.webdriver.common.by import By

    for _ in range(150):
        if any(needle in m.text for m in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMarkdownContainer"]')):
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: no {needle!r} on the page")


def _metric(driver, label: str) -> str:
    from selenium.webdriver.common.by import By

    for _ in range(100):
        for m in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
            lines = [x.strip() for x in m.text.splitlines() if x.strip()]
            if lines and lines[0] == label and len(lines) > 1:
                return lines[1]
        time.sleep(0.2)
    raise AssertionError(f"no metric {label!r}")


def _choose(driver, widget_label: str, option: str, *, prefix: bool = False) -> None:
    """Pick ``option`` (or the first option starting with it) in the select box or multiselect
    labelled ``widget_label``."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def pick(d):
        for el in d.find_elements(By.CSS_SELECTOR, '[role="option"]'):
            text = el.text.strip()
            if el.is_displayed() and (text.startswith(option) if prefix else text == option):
                el.click()
                return True
        return False

    for _ in range(8):  # the page may re-render meanwhile and close the list: open it again
        try:
            _wait(driver, f'input[aria-label="{widget_label}"]').click()
            WebDriverWait(driver, 5, poll_frequency=0.2).until(pick)
            return
        except (StaleElementReferenceException, TimeoutException):
            time.sleep(0.5)
    raise AssertionError(f"cannot pick {option!r} in {widget_label!r}")


def _first_column(driver, header: str) -> list[str]:
    """The first column's cells, top to bottom, of the table whose first header is ``header``."""
    from selenium.webdriver.common.by import By

    for _ in range(50):
        for frame in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'):
            heads = frame.find_elements(By.CSS_SELECTOR, "th")
            if heads and heads[0].get_attribute("textContent").strip() == header:
                return [c.get_attribute("textContent").strip()
                        for c in frame.find_elements(By.CSS_SELECTOR, 'td[aria-colindex="1"]')]
        time.sleep(0.2)
    raise AssertionError(f"no table starting with the column {header!r}")


def test_browser_truth_top_negative_is_most_negative_first(browser, served_truth):
    _open(browser, served_truth, "comms", "listening", "Lắng nghe mạng xã hội")
    cells = _frame_cells(browser, "Xác suất tiêu cực")
    assert _first_column(browser, "Xác suất tiêu cực")[:4] == ["97", "91", "62", "48"]  # most negative first
    assert sum("Nước ngập tới yên xe" in c for c in cells) == 1  # a text posted three times, listed once
    browser.save_screenshot(str(ARTIFACTS / "truth_top_negative.png"))


def test_browser_truth_overview_and_security_agree(browser, served_truth):
    _open(browser, served_truth, "admin", "overview", "Tổng quan")
    on_overview = _metric(browser, "Cảnh báo an ninh chưa đóng")
    _click(browser, '[data-testid="stSidebarNav"] a', NAV["security"])
    _wait(browser, "h1", text="An ninh mạng")
    assert _metric(browser, "Hàng đợi cảnh báo") == on_overview
    browser.save_screenshot(str(ARTIFACTS / "truth_security_counts.png"))


def test_browser_truth_spike_opens_its_posts(browser, served_truth):
    from selenium.webdriver.common.by import By

    _open(browser, served_truth, "comms", "listening", "Lắng nghe mạng xã hội")
    browser.save_screenshot(str(ARTIFACTS / "truth_spikes.png"))
    _click(browser, '[data-testid="stButton"] button', "Xem 8 bài viết")
    _wait(browser, "h1", text="Tìm kiếm")
    _shown(browser, "8 kết quả", "the spike's posts")
    assert "Ngập đô thị" in browser.find_element(By.CSS_SELECTOR, "body").text  # the watchlist filter, by name
    browser.save_screenshot(str(ARTIFACTS / "truth_spike_posts.png"))


def test_browser_truth_place_bar_opens_its_posts(browser, served_truth):
    from selenium.webdriver.common.by import By

    _open(browser, served_truth, "comms", "listening", "Lắng nghe mạng xã hội")
    bar = None
    for _ in range(100):
        bars = [b for b in browser.find_elements(By.CSS_SELECTOR, 'path[role="graphics-symbol"]')
                if "Địa danh: Ninh Kiều;" in (b.get_attribute("aria-label") or "")]
        if bars:
            bar = bars[0]
            break
        time.sleep(0.2)
    assert bar is not None, "no bar for Ninh Kiều"
    count = int(bar.get_attribute("aria-label").split("Số đề cập: ")[1].split(";")[0])
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    time.sleep(0.5)
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(bar).click().perform()
    _wait(browser, "h1", text="Tìm kiếm")
    box = _wait(browser, 'input[aria-label^="Truy vấn"]')
    assert box.get_attribute("value") == 'places:"Ninh Kiều"'
    _shown(browser, f"{count} kết quả", "the bar's posts")
    browser.save_screenshot(str(ARTIFACTS / "truth_place_drill.png"))


def test_browser_truth_spike_marker_opens_its_posts(browser, served_truth):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _open(browser, served_truth, "comms", "listening", "Lắng nghe mạng xã hội")
    marker = None
    for _ in range(100):
        marks = [m for m in browser.find_elements(By.CSS_SELECTOR, '[role="graphics-symbol"]')
                 if "Cảnh báo đột biến" in (m.get_attribute("aria-label") or "")
                 and "Ngập đô thị" in (m.get_attribute("aria-label") or "")
                 and "ngập sâu" in (m.get_attribute("aria-label") or "")]  # its terms in the tooltip
        if marks:
            marker = marks[0]
            break
        time.sleep(0.2)
    assert marker is not None, "no marker for the critical spike"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", marker)
    time.sleep(0.5)
    ActionChains(browser).move_to_element(marker).click().perform()
    _wait(browser, "h1", text="Tìm kiếm")
    _shown(browser, "8 kết quả", "the spike marker's posts")
    browser.save_screenshot(str(ARTIFACTS / "truth_marker_posts.png"))


def test_browser_truth_close_reason_is_shown(browser, served_truth):
    from selenium.webdriver.common.by import By

    _open(browser, served_truth, "security", "security", "An ninh mạng")
    _choose(browser, "Lý do đóng", "Báo động nhầm")
    _click(browser, '[data-testid="stButton"] button', "Đóng cảnh báo")
    for _ in range(150):  # the page reruns and says so before anything else is touched
        if any("Đã cập nhật cảnh báo: Đã đóng" in a.text
               for a in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContainer"]')):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the close was not confirmed")
    _choose(browser, "Trạng thái", "Đã đóng")
    _choose(browser, "Chọn cảnh báo", "[Nghiêm trọng] SSH brute force from 198.51.100.7", prefix=True)
    for _ in range(150):
        texts = " ".join(a.text for a in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlert"], '
                                                                                '[data-testid="stAlertContainer"]'))
        if "Đã đóng – lý do: Báo động nhầm" in texts:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the close reason is not shown on the closed alert")
    history = _frame_cells(browser, "Thao tác")
    assert "Báo động nhầm" in history and "Đổi trạng thái" in history
    browser.save_screenshot(str(ARTIFACTS / "truth_close_reason.png"))
