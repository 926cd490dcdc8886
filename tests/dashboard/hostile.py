"""Hostile collected data for the dashboard's security tests, and the dashboard served for real.

:func:`plant` adds posts and an alert whose every text field carries Markdown links and images,
raw HTML, Streamlit directives and autolinkable addresses; :func:`serve` runs
``iocwatch dashboard``'s command line (the ASGI launcher) on a free local port.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.documents import Alert, Author, Post

EVIL = "evil.example"
HOSTILE = (f"[bấm vào đây](https://{EVIL}/a) ![ảnh](https://{EVIL}/i.png) "
           f'<img src="https://{EVIL}/x.png" onerror="alert(1)"> <a href="https://{EVIL}/b">liên kết</a> '
           f"<script>alert(1)</script> <b>đậm</b> **sao** _nghiêng_ `mã` www.{EVIL} https://{EVIL}/raw "
           f"mailto:a@{EVIL} ban@{EVIL} :red[đỏ] :material/home: $x^2$ <https://{EVIL}/auto> "
           "&lt;i&gt;thực thể&lt;/i&gt;")
HOSTILE_BLOCK = HOSTILE + "\n# tiêu đề giả\n- mục\n> trích\n| a | b |\n|---|---|\n| 1 | 2 |"
HOSTILE_URL = "javascript:alert(document.cookie)"  # a url field that must never become a link
SAFE_URL = "https://tin.example/bai-viet(1)"  # a real http(s) url field: the only link allowed
# Spreadsheet formula triggers at the start of cells (title, text, author; source "-2+3").
FORMULAS = (f'=HYPERLINK("https://{EVIL}/x","ngập")', "+cmd|' /C calc'!A0", "@SUM(1+1)")


def plant(data_dir: Path, now: datetime | None = None) -> dict[str, str]:
    """Store two hostile posts (the newest of all) and a hostile critical alert in ``data_dir``."""
    from core.settings import load_settings
    from index import open_store

    now = now or datetime.now(UTC)
    posts = [
        Post.new(platform="facebook", source=f"nguon {HOSTILE}", native_id="hostile-1", url=HOSTILE_URL,
                 title=f"ngập {HOSTILE}", text=f"ngập {HOSTILE_BLOCK}", author=Author(id="x", name=HOSTILE),
                 published_at=now - timedelta(minutes=3), sentiment="negative", sentiment_score=0.9,
                 topics=["traffic"], places=[HOSTILE], keywords=[HOSTILE]),
        Post.new(platform="news", source="tin-that", native_id="hostile-2", url=SAFE_URL,
                 title=f"ngập tiêu đề hai {HOSTILE}", text=f"ngập {HOSTILE}",
                 published_at=now - timedelta(minutes=2), sentiment="negative", sentiment_score=0.8),
        Post.new(platform="forum", source="-2+3", native_id="hostile-3", url=SAFE_URL + "?3",  # formulas
                 title=FORMULAS[0], text=FORMULAS[1], author=Author(id="y", name=FORMULAS[2]),
                 published_at=now - timedelta(minutes=4), keywords=["\tTAB", "\rCR"]),
    ]
    at = now - timedelta(minutes=1)
    alert = Alert.model_validate({
        "@timestamp": at.isoformat(), "id": Alert.make_id("web_attack", "10.9.9.9", at.isoformat()),
        "rule.name": f"luat {HOSTILE}", "title": f"Cảnh báo {HOSTILE}", "entity": "10.9.9.9",
        "source.ip": "10.9.9.9", "severity": "critical", "risk_score": 100, "status": "open",
        "threat.technique.id": "T1190", "threat.technique.name": HOSTILE, "evidence": [HOSTILE],
    })
    store = open_store(load_settings(data_dir=data_dir))
    try:
        assert store.upsert_many("posts", posts).ok
        assert store.upsert_many("alerts", [alert]).ok
    finally:
        store.close()
    return {"post": posts[0].id, "safe_post": posts[1].id, "formula_post": posts[2].id, "alert": alert.id}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(data_dir: Path, root: Path, **env: str) -> Iterator[str]:
    """``iocwatch dashboard``'s command over ``data_dir``; yields its base URL."""
    from iocwatch.commands.dashboard import streamlit_command, wait_until_healthy
    from tests.dashboard.conftest import DATA

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    environ.update(IOCWATCH_DATA_DIR=str(data_dir), IOCWATCH_CRAWL__SOURCES_FILE=str(DATA / "sources.yaml"),
                   HF_HUB_OFFLINE="1", HOME=str(root), **env)
    log_path = root / f"streamlit-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(streamlit_command(port), cwd=root, env=environ, stdout=log,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, proc, 60, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def http(url: str, *, cookie: str | None = None, method: str = "GET",
         body: bytes | None = None) -> tuple[int, bytes, Any]:
    """One real HTTP request: ``(status, body, headers)`` (headers looked up in any case),
    errors included."""
    import urllib.error

    request = urllib.request.Request(url, method=method, data=body)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers
