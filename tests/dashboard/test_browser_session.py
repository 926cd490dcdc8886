"""Sessions, exports and planted markup in the real headless Chromium, against the dashboard as
``iocwatch dashboard`` serves it (``dashboard/server.py``) over data with hostile text planted.

Screenshots go to ``tests/artifacts/dashboard/``.
"""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from dashboard import auth
from tests.dashboard import test_browser as tb
from tests.dashboard.conftest import fill_data_dir
from tests.dashboard.hostile import EVIL, FORMULAS, HOSTILE_URL, http, plant, serve

pytestmark = pytest.mark.browser
chromium = tb.chromium  # the session fixture that installs Debian's chromium when missing
LOGIN = 'input[type="password"]'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from core.settings import load_settings

    root = tmp_path_factory.mktemp("session")
    data_dir = root / "data"
    fill_data_dir(data_dir)
    ids = plant(data_dir)
    with serve(data_dir, root) as url:
        yield url, load_settings(data_dir=data_dir), ids


def _driver(chromium, profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in tb.CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    tb.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return driver


@pytest.fixture
def browser(chromium, tmp_path):
    driver = _driver(chromium, tmp_path / "profile")
    yield driver
    driver.quit()


def _h1(driver) -> str:
    tb._wait(driver, "h1")
    return next(h.text for h in driver.find_elements("css selector", "h1") if h.is_displayed())


def _session_cookie(driver) -> dict:
    return next(c for c in driver.get_cookies() if c["name"] == auth.COOKIE)


def _wait_cookie(driver) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, tb.WAIT_S, poll_frequency=0.2).until(
        lambda d: any(c["name"] == auth.COOKIE for c in d.get_cookies()), message="no session cookie set")
    return _session_cookie(driver)


def test_browser_session_bookmark_reload_and_new_tab_keep_the_session_and_page(browser, site):
    url, _, _ = site
    browser.get(f"{url}/security")  # a bookmarked page, not signed in
    tb._wait(browser, LOGIN)
    assert browser.current_url == f"{url}/security"  # the address stays ...
    tb._log_in(browser, "security")
    tb._wait(browser, "h1", text="An ninh mạng")  # ... and opens after login
    cookie = _wait_cookie(browser)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert len(cookie["value"].split(".")) == 3
    browser.save_screenshot(str(tb.ARTIFACTS / "session-after-login.png"))

    browser.refresh()  # a reload keeps the session and the page
    tb._wait(browser, "h1", text="An ninh mạng")
    tb._wait(browser, '[data-testid="stMetric"]')
    assert tb._count(browser, LOGIN) == 0

    browser.switch_to.new_window("tab")  # a new tab, another page by address
    browser.get(f"{url}/search")
    tb._wait(browser, "h1", text="Tìm kiếm")
    assert tb._count(browser, LOGIN) == 0
    assert tb._nav_labels(browser) == [tb.NAV[p] for p in ("overview", "search", "security")]
    browser.save_screenshot(str(tb.ARTIFACTS / "session-new-tab.png"))


def test_browser_session_logout_then_reload_asks_for_login(browser, site):
    url, settings, _ = site
    browser.get(f"{url}/listening")
    tb._wait(browser, LOGIN)
    tb._log_in(browser, "comms")
    tb._wait(browser, "h1", text="Lắng nghe mạng xã hội")
    token = _wait_cookie(browser)["value"]
    assert http(f"{url}/media/x.csv", cookie=f"{auth.COOKIE}={token}")[0] == 404  # a live session
    tb._click(browser, '[data-testid="stSidebar"] button', "Đăng xuất")
    tb._wait(browser, LOGIN)
    browser.refresh()
    tb._wait(browser, LOGIN)
    tb._wait_gone(browser, '[data-testid="stMetric"]')
    assert auth.check_token(settings, token) is None  # ended on the server ...
    assert http(f"{url}/media/x.csv", cookie=f"{auth.COOKIE}={token}")[0] == 403  # ... so a copy is refused
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, tb.WAIT_S).until(  # and the browser's cookie is cleared
        lambda d: all(c["name"] != auth.COOKIE for c in d.get_cookies()), message="cookie kept after logout")
    browser.save_screenshot(str(tb.ARTIFACTS / "session-after-logout.png"))


def test_browser_session_idle_session_ends(browser, site):
    url, settings, _ = site
    browser.get(url)
    tb._log_in(browser, "analyst")
    tb._wait(browser, "h1", text="Tổng quan")
    token = _wait_cookie(browser)["value"]
    # the session's last use moved back past the idle time, as if the analyst had left
    path = settings.path("dashboard") / "sessions.json"
    with auth._locked(settings, "sessions"):
        records = json.loads(path.read_text())
        key = auth._session_key(auth.session_id(settings, token))
        records[key]["seen"] -= settings.dashboard.session_idle_s + 1
        path.write_text(json.dumps(records))
    tb._click(browser, '[data-testid="stSidebarNav"] a', "Tìm kiếm")  # the next click
    tb._wait(browser, LOGIN)
    tb._wait(browser, '[data-testid="stAlertContentInfo"]')
    assert "Phiên làm việc đã kết thúc" in browser.find_element("css selector", '[data-testid="stMain"]').text
    browser.refresh()  # and a reload does not bring it back
    tb._wait(browser, LOGIN)


def _link(driver, label: str) -> str:
    """The address of the visible link button labelled ``label`` (its icon's name aside)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d):
        try:
            for a in d.find_elements("css selector", "a"):
                if a.is_displayed() and tb._label(a) == label:
                    return a.get_attribute("href")
        except StaleElementReferenceException:
            return False
        return False

    return WebDriverWait(driver, tb.WAIT_S, poll_frequency=0.2).until(found, message=f"no link {label!r}")


def test_browser_session_export_is_served_to_its_session_only(browser, site):
    url, settings, _ = site
    browser.get(f"{url}/search")
    tb._log_in(browser, "analyst")
    tb._wait(browser, "h1", text="Tìm kiếm")
    tb._click(browser, '[data-testid="stButton"] button', "Chuẩn bị tệp xuất")
    href = _link(browser, "Tải CSV")
    assert href.startswith(f"{url}{auth.ROUTE_EXPORT}") and "/media/" not in href
    browser.save_screenshot(str(tb.ARTIFACTS / "session-export.png"))
    body = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])));",
        href)
    status, disposition, text = body
    assert status == 200 and disposition.startswith("attachment;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["Mã bài", "Thời gian đăng", "Nguồn", "Nền tảng", "Tiêu đề"]
    cells = {c for row in rows[1:] for c in row}
    for formula in FORMULAS:  # every formula trigger arrives inert
        assert "'" + formula in cells and formula not in cells
    assert "'-2+3" in cells and "Tiêu cực" in cells  # a source name, and a label in Vietnamese
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # without the session, or with another user's live session: nothing
    assert http(href)[0] == 403
    _, other = auth.open_session(settings, auth.load_users(settings)["comms"])
    status, body, _ = http(href, cookie=f"{auth.COOKIE}={other}")
    assert status == 404 and FORMULAS[1].encode() not in body
    assert http(href, cookie=f"{auth.COOKIE}={_session_cookie(browser)['value']}")[0] == 200


def _main_text_with(driver, needle: str) -> str:
    """The main area's text once it shows ``needle`` (the page re-renders meanwhile)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d):
        try:
            text = d.find_element("css selector", '[data-testid="stMain"]').text
        except StaleElementReferenceException:
            return False
        return text if needle in text else False

    text = WebDriverWait(driver, tb.WAIT_S, poll_frequency=0.2).until(found, message=f"{needle!r} not shown")
    time.sleep(0.5)  # let the rest of the page paint
    return text


def _assert_no_planted_markup(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    main = driver.find_element("css selector", '[data-testid="stMain"]')
    hrefs = [a.get_attribute("href") or "" for a in main.find_elements("css selector", "a")]
    assert not [h for h in hrefs if EVIL in h or h.startswith("javascript:") or h.startswith("mailto:")], hrefs
    srcs = [i.get_attribute("src") or "" for i in main.find_elements("css selector", "img, iframe, script")]
    assert not [s for s in srcs if EVIL in s], srcs
    # the planted <b>đậm</b>, **sao**, _nghiêng_, `mã`, "# tiêu đề giả", "- mục", "> trích" stay text
    planted = {"đậm", "sao", "nghiêng", "mã", "tiêu đề giả", "mục", "trích", "đỏ"}
    shaped = main.find_elements("css selector", "b, strong, em, i, code, h1, h2, h3, li, blockquote, td, span")
    assert not [e.text for e in shaped if e.text.strip() in planted]
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f"planted JavaScript ran: alert({text!r})")


def test_browser_session_planted_markup_shows_as_text(browser, site):
    url, _, ids = site
    browser.get(f"{url}/search")
    tb._log_in(browser, "analyst")
    tb._wait(browser, "h1", text="Tìm kiếm")
    text = _main_text_with(browser, "bấm vào đây")
    assert "[bấm vào đây](https://" in text.replace("\u2060", "")  # the planted link, as text
    assert "<b>đậm</b>" in text and "**sao**" in text and f"www.{EVIL}" in text.replace("\u2060", "")
    _assert_no_planted_markup(browser)
    hrefs = [a.get_attribute("href") for a in browser.find_elements("css selector", '[data-testid="stMain"] a')]
    assert HOSTILE_URL not in hrefs
    browser.save_screenshot(str(tb.ARTIFACTS / "planted-search.png"))
    tb._click(browser, '[data-testid="stSidebar"] button', "Đăng xuất")
    tb._wait(browser, LOGIN)
    browser.get(f"{url}/security")
    tb._log_in(browser, "security")
    tb._wait(browser, "h1", text="An ninh mạng")
    try:
        _main_text_with(browser, "Cảnh báo [bấm vào đây]")  # the first alert's detail: the planted one
    finally:
        browser.save_screenshot(str(tb.ARTIFACTS / "planted-security.png"))
    _assert_no_planted_markup(browser)
    browser.save_screenshot(str(tb.ARTIFACTS / "planted-security.png"))


def test_browser_session_admin_adds_a_user_who_signs_in_until_removed(browser, chromium, site, tmp_path):
    from selenium.webdriver.common.by import By

    url, settings, _ = site
    browser.get(f"{url}/users")
    tb._log_in(browser, "admin")
    tb._wait(browser, "h1", text="Quản lý người dùng")
    form = tb._wait(browser, '[data-testid="stForm"]')
    fields = [i for i in form.find_elements(By.CSS_SELECTOR, "input") if i.get_attribute("type") in ("text",
                                                                                                     "password")]
    name, display, password = fields[0], fields[1], next(i for i in fields if i.get_attribute("type") == "password")
    name.send_keys("hoa.tran")
    display.send_keys("Trần Hoa")
    password.send_keys("mat-khau-cua-hoa")
    form.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
    _main_text_with(browser, "Đã thêm hoa.tran")
    browser.save_screenshot(str(tb.ARTIFACTS / "users-added.png"))
    assert auth.load_users(settings)["hoa.tran"].role == "comms"  # the store the CLI reads

    other = _driver(chromium, tmp_path / "hoa")
    try:
        other.get(url)
        user = tb._wait(other, 'input[aria-label="Tên đăng nhập"]')
        user.send_keys("hoa.tran")
        other.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys("mat-khau-cua-hoa")
        other.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
        tb._wait(other, "h1", text="Tổng quan")
        assert tb._nav_labels(other) == [tb.NAV[p] for p in ("overview", "listening", "search")]
        auth.remove_user(settings, "hoa.tran")  # as `iocwatch users remove hoa.tran` does
        tb._click(other, '[data-testid="stSidebarNav"] a', "Tìm kiếm")
        tb._wait(other, LOGIN)
        other.refresh()
        tb._wait(other, LOGIN)  # the cookie no longer opens anything
    finally:
        other.quit()
