"""The real dashboard in a real headless Chromium (Debian's chromium + chromium-driver, selenium).

The session fixture installs the two Debian packages when they are missing, serves the
dashboard with ``streamlit run`` on 127.0.0.1 over the fixture data directory, and every
step saves a screenshot under ``tests/artifacts/dashboard/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.dashboard.conftest import ALLOWED, DATA, PASSWORDS, fill_data_dir

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "dashboard"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--window-size=1440,2400", "--lang=vi"]
NAV = {"overview": "Tổng quan", "listening": "Lắng nghe", "search": "Tìm kiếm", "security": "An ninh mạng",
       "sources": "Nguồn", "users": "Người dùng"}
TITLES = {"overview": "Tổng quan", "listening": "Lắng nghe mạng xã hội", "search": "Tìm kiếm",
          "security": "An ninh mạng", "sources": "Nguồn thu thập", "users": "Quản lý người dùng"}
WAIT_S = 40


@pytest.fixture(scope="session")
def chromium():
    """Paths of chromium and chromedriver, installed with apt-get when missing."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True,
                           env=env, timeout=1200)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.fail(f"cannot install Debian chromium and chromium-driver ({exc}); "
                        "run `apt-get install -y chromium chromium-driver` as root")
    return shutil.which("chromium"), shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The dashboard served by `streamlit run` on a free local port over the fixture data."""
    from iocwatch.commands.dashboard import streamlit_command, wait_until_healthy

    root = tmp_path_factory.mktemp("browser")
    data_dir = root / "data"
    expected = fill_data_dir(data_dir)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), IOCWATCH_CRAWL__SOURCES_FILE=str(DATA / "sources.yaml"),
               HF_HUB_OFFLINE="1", HOME=str(root))
    log = open(root / "streamlit.log", "w")
    proc = subprocess.Popen(streamlit_command(port), cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, 60, root / "streamlit.log")
    except RuntimeError as exc:
        proc.kill()
        pytest.fail(str(exc))
    yield url, expected
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def browser(chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _wait(driver, css: str, *, text: str | None = None, timeout: float = WAIT_S):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d):
        for el in d.find_elements(By.CSS_SELECTOR, css):
            if el.is_displayed() and (text is None or el.text.strip() == text):
                return el
        return False

    from selenium.common.exceptions import StaleElementReferenceException

    return WebDriverWait(driver, timeout, poll_frequency=0.2,  # elements are replaced while a page re-renders
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        found, message=f"no visible {css!r}" + (f" with text {text!r}" if text else ""))


def _wait_gone(driver, css: str, timeout: float = WAIT_S) -> None:
    """Wait until no element matches (stale elements of the previous page fade after the rerun)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: _count(d, css) == 0, message=f"{css!r} still shown")


def _click(driver, css: str, text: str) -> None:
    """Click the visible element matching ``css`` whose label is ``text`` (retried while re-rendering)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d):
        try:
            for el in d.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and _label(el) == text:
                    el.click()
                    return True
        except StaleElementReferenceException:
            return False
        return False

    WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(attempt, message=f"cannot click {text!r}")


def _nav_labels(driver) -> list[str]:
    """The sidebar's page links, read again if the sidebar re-renders meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(20):
        try:
            return [_label(a) for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')]
        except StaleElementReferenceException:
            time.sleep(0.2)
    raise AssertionError("the sidebar kept re-rendering")


def _count(driver, css: str) -> int:
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR, css))


def _log_in(driver, name: str) -> None:
    from selenium.webdriver.common.by import By

    user = _wait(driver, 'input[aria-label="Tên đăng nhập"]')
    user.clear()
    user.send_keys(name)
    password = driver.find_element(By.CSS_SELECTOR, 'input[type="password"]')
    password.clear()
    password.send_keys(PASSWORDS[name])
    driver.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()


def _label(link) -> str:
    """A navigation link's text without its icon line."""
    return link.text.strip().splitlines()[-1].strip()


def _wait_rendered(driver, page: str) -> None:
    _wait(driver, "h1", text=TITLES[page])
    if page != "users":  # the users page is a table and forms
        _wait(driver, '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg, '
                      '.vega-embed canvas, .vega-embed svg')
    if page == "search":  # one list of results, each with its button to open it; no table
        _wait(driver, '[data-testid="stButton"] button', text="Xem")
    else:
        _wait(driver, '[data-testid="stDataFrame"], [data-testid="stTable"]')
    time.sleep(0.5)  # let the last charts paint before the screenshot


def test_browser_login_form_and_no_data_before_login(browser, served):
    url, _ = served
    browser.get(url)
    _wait(browser, 'input[type="password"]')
    _wait(browser, "h1", text="Đăng nhập hệ thống giám sát")
    assert _count(browser, '[data-testid="stMetric"]') == 0
    assert _count(browser, '[data-testid="stDataFrame"]') == 0
    assert _count(browser, '[data-testid="stVegaLiteChart"]') == 0
    browser.save_screenshot(str(ARTIFACTS / "login.png"))
    # asking for a page by address does not get past the form either
    browser.get(f"{url}/security")
    _wait(browser, 'input[type="password"]')
    assert _count(browser, '[data-testid="stDataFrame"]') == 0
    assert _count(browser, '[data-testid="stMetric"]') == 0


@pytest.mark.parametrize("role", list(ALLOWED))
def test_browser_each_role_sees_its_pages_with_charts_and_tables(browser, served, role):

    url, expected = served
    browser.get(url)
    _log_in(browser, role)
    _wait_rendered(browser, "overview")
    _wait(browser, '[data-testid="stMetricValue"]', text=str(expected["m24"]))  # mentions in 24 h
    assert _nav_labels(browser) == [NAV[p] for p in ALLOWED[role]]
    browser.save_screenshot(str(ARTIFACTS / f"{role}-overview.png"))
    for page in ALLOWED[role][1:]:
        _click(browser, '[data-testid="stSidebarNav"] a', NAV[page])
        _wait_rendered(browser, page)
        browser.save_screenshot(str(ARTIFACTS / f"{role}-{page}.png"))
    _click(browser, '[data-testid="stSidebar"] button', "Đăng xuất")
    _wait(browser, 'input[type="password"]')
    _wait_gone(browser, '[data-testid="stDataFrame"]')
    _wait_gone(browser, '[data-testid="stMetric"]')
