"""Screenshots of every dashboard page for every role, in a real headless Chromium over the demo data.

Runs ``iocwatch demo`` into a temporary data directory (a few minutes; or reuses ``--data-dir``),
serves the dashboard as ``iocwatch dashboard`` does (``dashboard/server.py`` on a free
127.0.0.1 port), then for each demo user (comms, security, analyst, admin) opens a fresh
Chromium (Debian's ``chromium`` and ``chromedriver`` through selenium, as the browser tests
do), logs in through the form and visits each page of the role from the sidebar, saving one
PNG of the window per page (``<role>-<page>.png``) and one of the login form::

    python bench/dashboard_screenshots.py                      # into docs/img/dashboard/
    python bench/dashboard_screenshots.py --data-dir /tmp/demo/data --keep

Prints a JSON object naming each file with its size.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, when run as a script

log = logging.getLogger("bench.screenshots")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "dashboard"
WINDOW = (1280, 900)  # the page area each PNG shows (kept small for the repository)
WAIT_S = 90  # a page of the demo data renders in seconds; the machine may be shared
SETTLE_S = 1.5  # the page must stay idle (no "running" widget) this long before the shot
START_S = 90  # the server answers its health check within this
DEMO_S = 1800  # `iocwatch demo` ends within this
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--lang=vi",
                  "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}"]


def _env(data_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", HOME=str(home))
    return env


def run_demo(data_dir: Path, root: Path) -> None:
    """``iocwatch demo`` into ``data_dir`` (its output to ``root/demo.log``)."""
    log.info("iocwatch demo into %s (a few minutes)", data_dir)
    started = time.monotonic()
    with open(root / "demo.log", "w") as out:
        done = subprocess.run([sys.executable, "-m", "iocwatch", "demo"], cwd=root, env=_env(data_dir, root),
                              stdout=out, stderr=subprocess.STDOUT, timeout=DEMO_S, check=False)
    if done.returncode:
        tail = (root / "demo.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"iocwatch demo failed ({done.returncode}):\n{tail}")
    log.info("demo done in %.0f s", time.monotonic() - started)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(data_dir: Path, root: Path) -> Iterator[str]:
    """The dashboard as ``iocwatch dashboard`` serves it, over ``data_dir``; yields its base URL."""
    from iocwatch.commands.dashboard import streamlit_command, wait_until_healthy

    port = _free_port()
    log_path = root / f"streamlit-{port}.log"
    with open(log_path, "w") as out:
        proc = subprocess.Popen(streamlit_command(port), cwd=root, env=_env(data_dir, root), stdout=out,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, proc, START_S, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver_path):
        raise RuntimeError("Debian's chromium and chromium-driver are needed: "
                           "apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_window_size(*WINDOW)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])  # the page gets WINDOW
    return driver


def _visible(driver, css: str, text: str | None = None):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        for el in driver.find_elements(By.CSS_SELECTOR, css):
            if el.is_displayed() and (text is None or el.text.strip().splitlines()[-1:] == [text]):
                return el
    except StaleElementReferenceException:
        return None
    return None


def _wait(driver, css: str, text: str | None = None):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(
        lambda d: _visible(d, css, text) or False, message=f"no visible {css!r} {text or ''}")


def _settled(driver) -> None:
    """Wait until the app has stopped running for :data:`SETTLE_S` and its charts are drawn."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + WAIT_S
    idle_since = None
    while time.monotonic() < deadline:
        busy = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"], [data-testid="stSpinner"], '
                                                     '[data-testid="stSkeleton"]')
        charts = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')
        drawn = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, '
                                                      '[data-testid="stVegaLiteChart"] svg')
        if busy or len(drawn) < len(charts):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= SETTLE_S:
            return
        time.sleep(0.2)
    log.warning("page still busy after %d s; shot taken anyway", WAIT_S)


def _shoot(driver, path: Path) -> dict[str, Any]:
    driver.save_screenshot(str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return {"file": str(shown), "bytes": path.stat().st_size}


def shoot_all(url: str, out: Path, tmp: Path) -> list[dict[str, Any]]:
    """The login form once, then every page of every demo role; returns the files written."""
    from dashboard import auth
    from dashboard.i18n import TEXTS

    shots: list[dict[str, Any]] = []
    out.mkdir(parents=True, exist_ok=True)
    for name, (role, password, _) in auth.DEMO_USERS.items():
        driver = _browser(tmp / f"profile-{name}")
        try:
            driver.get(url)
            _wait(driver, 'input[type="password"]')
            if not shots:
                _settled(driver)
                shots.append(_shoot(driver, out / "login.png"))
            user = _wait(driver, f'input[aria-label="{TEXTS["login.username"]["vi"]}"]')
            user.clear()
            user.send_keys(name)
            secret = _wait(driver, 'input[type="password"]')
            secret.clear()
            secret.send_keys(password)
            _wait(driver, '[data-testid="stFormSubmitButton"] button').click()
            pages = [p for p in auth.PAGES if role in auth.PAGE_ROLES[p]]
            for i, page in enumerate(pages):
                if i:  # the first page is where the login lands
                    _wait(driver, '[data-testid="stSidebarNav"] a', TEXTS[f"nav.{page}"]["vi"]).click()
                _wait(driver, "h1", TEXTS[f"{page}.title"]["vi"])
                _settled(driver)
                shots.append({"role": role, "page": page, **_shoot(driver, out / f"{role}-{page}.png")})
                log.info("%s %s", role, page)
        finally:
            driver.quit()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a data directory `iocwatch demo` already filled "
                        "(default: run the demo into a temporary one)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (demo data, logs)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    tmp = Path(tempfile.mkdtemp(prefix="iocwatch-shots-"))
    try:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = tmp / "data"
            run_demo(data_dir, tmp)
        with serve(data_dir.resolve(), tmp) as url:
            shots = shoot_all(url, args.out.resolve(), tmp)
    finally:
        if args.keep:
            log.info("kept %s", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"shots": shots, "window": WINDOW}, ensure_ascii=False, indent=1))  # noqa: T201


if __name__ == "__main__":
    main()
