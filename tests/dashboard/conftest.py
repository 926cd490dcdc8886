"""A fixture data directory for the dashboard: a real embedded index filled through the store
from ``tests/data/dashboard``, a run status file, a sources file and one user per role."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.documents import Alert, Post

DATA = Path(__file__).parents[1] / "data" / "dashboard"
APP = Path(__file__).parents[2] / "dashboard" / "app.py"
PASSWORDS = {"comms": "truyenthong-demo", "security": "anninh-demo", "analyst": "phantich-demo",
             "admin": "quantri-demo"}
ALLOWED = {"comms": ["overview", "listening", "search"], "security": ["overview", "search", "security"],
           "analyst": ["overview", "listening", "search"],
           "admin": ["overview", "listening", "search", "security", "sources", "users"]}
PAGES = ["overview", "listening", "search", "security", "users", "sources"]


def _rows(name: str) -> list[dict]:
    with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fill_data_dir(data_dir: Path, now: datetime | None = None) -> dict:
    """Build the fixture data directory; returns the figures the pages should show."""
    from core.settings import load_settings
    from core.status import record_run
    from dashboard.auth import add_user
    from index import open_store

    now = now or datetime.now(UTC)
    settings = load_settings(data_dir=data_dir)
    posts, alerts = [], []
    for row in _rows("posts"):
        row = dict(row)
        age = row.pop("age_h")
        posts.append(Post.new(published_at=now - timedelta(hours=age), **row))
    for row in _rows("alerts"):
        row = dict(row)
        age = row.pop("age_h")
        at = now - timedelta(hours=age)
        row = {k: v for k, v in row.items() if v is not None}
        row["id"] = Alert.make_id(row["rule.name"], row["entity"], at.isoformat())
        alerts.append(Alert.model_validate({"@timestamp": at.isoformat(), **row}))
    store = open_store(settings)
    try:
        assert store.upsert_many("posts", posts).ok
        assert store.upsert_many("alerts", alerts).ok
    finally:
        store.close()
    record_run(data_dir, "sources", "tuoitre-cantho", items=14, errors=0, schedule_s=1800,
               at=now - timedelta(minutes=20))
    record_run(data_dir, "sources", "baocantho", items=0, errors=3,
               last_error="HTTP 503 at http://127.0.0.1:8999/baocantho/", at=now - timedelta(minutes=50))
    record_run(data_dir, "monitors", "eth0", items=5120, errors=0, at=now - timedelta(minutes=2))
    for name, password in PASSWORDS.items():
        add_user(settings, name, name, password, display_name=f"Người dùng {name}", rounds=4)

    raw_posts = _rows("posts")
    week = [p for p in raw_posts if p["age_h"] < 24 * 7]
    security = [a for a in _rows("alerts") if a.get("module", "security") == "security"]
    talkers: dict[str, int] = {}
    for a in security:
        if a["age_h"] < 24 * 30 and a["status"] != "closed":
            talkers[a["source.ip"]] = talkers.get(a["source.ip"], 0) + 1
    return {
        "m24": sum(p["age_h"] < 24 for p in raw_posts),
        "m7d": len(week),
        "negative_share": sum(p["sentiment"] == "negative" for p in week) / len(week),
        "open_alerts": sum(a["status"] != "closed" for a in _rows("alerts")),
        "listening_7d": len(week),
        "posts": len(raw_posts),
        "security_open_30d": sum(1 for a in security if a["age_h"] < 24 * 30 and a["status"] != "closed"),
        "top_talker": max(talkers.items(), key=lambda kv: kv[1]),
        "security_alerts": security,
    }


@pytest.fixture(scope="session")
def dash_data(tmp_path_factory):
    """One fixture data directory for the read-only dashboard tests."""
    data_dir = tmp_path_factory.mktemp("dash") / "data"
    expected = fill_data_dir(data_dir)
    return data_dir, expected


def use_data_dir(monkeypatch, data_dir: Path) -> None:
    """Point the dashboard at ``data_dir`` and forget cached settings, stores and queries."""
    import streamlit as st

    from core.settings import get_settings

    for key in list(os.environ):
        if key.startswith("IOCWATCH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("IOCWATCH_CRAWL__SOURCES_FILE", str(DATA / "sources.yaml"))
    monkeypatch.chdir(data_dir.parent)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def dash_env(dash_data, monkeypatch):
    data_dir, expected = dash_data
    use_data_dir(monkeypatch, data_dir)
    yield expected
    from core.settings import get_settings

    get_settings.cache_clear()


def new_app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=60)


def login(at, name: str, password: str | None = None):
    """Fill and submit the login form; returns the AppTest after the rerun."""
    at.run()
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(PASSWORDS[name] if password is None else password)
    at.button[0].click().run()
    return at


def open_search_card(at, post_id: str, query: str) -> None:
    """Search Tìm kiếm for ``query`` and open the card of ``post_id`` in place."""
    at.switch_page("pages/search.py").run()
    at.text_input(key="s_text").input(query).run()
    at.button(key=f"s_open_{post_id}").click().run()
    assert not at.exception, at.exception


def stored_post(post_id: str) -> Post:
    """The post as the app's store holds it now."""
    from dashboard import data

    return Post.from_doc(data.store().get("posts", post_id))


def negative_share(at) -> str:
    """The "Tỷ lệ tiêu cực" metric of the page shown (Lắng nghe)."""
    return {m.label: m.value for m in at.metric}["Tỷ lệ tiêu cực"]


@pytest.fixture(scope="module")
def truth_dir(tmp_path_factory):
    """The truth fixture directory (tests/dashboard/truth_fixtures.py), one per test module."""
    from tests.dashboard.truth_fixtures import fill_truth_dir

    data_dir = tmp_path_factory.mktemp("truth") / "data"
    fill_truth_dir(data_dir)
    return data_dir


@pytest.fixture
def truth(truth_dir, monkeypatch):
    """The dashboard reads the module's truth directory (with its watchlists file)."""
    from core.settings import get_settings
    from tests.dashboard.truth_fixtures import use_truth_dir

    use_truth_dir(monkeypatch, truth_dir)
    yield truth_dir
    get_settings.cache_clear()


@pytest.fixture
def fresh_truth(tmp_path, monkeypatch):
    """A truth directory of the test's own (for tests that write: triage, status), read by
    the dashboard; yields the expected figures of :func:`fill_truth_dir`."""
    from core.settings import get_settings
    from tests.dashboard.truth_fixtures import fill_truth_dir, use_truth_dir

    data_dir = tmp_path / "data"
    expected = fill_truth_dir(data_dir)
    use_truth_dir(monkeypatch, data_dir)
    yield expected
    get_settings.cache_clear()
