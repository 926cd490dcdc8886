"""One writer per data directory: concurrent `iocwatch index load` runs neither duplicate nor corrupt.

Real subprocesses of the real CLI on one data directory; the second run either is refused
with the holder named, or queues behind it with ``--wait``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(ROWS):
            fh.write(json.dumps({"url": f"https://example.vn/bai-{i}.html", "source": "vnexpress",
                                 "platform": "news", "title": f"Tin {i}", "text": f"Nội dung số {i}",
                                 "published_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00+07:00"},
                                ensure_ascii=False) + "\n")
    return path


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return env


def _load(data_dir: Path, export: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "iocwatch", "-q", "index", "load", str(export),
                             "--json", *extra], cwd=export.parent, env=_env(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_holder(data_dir: Path, pid: int) -> dict:
    lock = data_dir / ".writer-posts.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip():
            holder = json.loads(lock.read_text())
            if holder["pid"] == pid:
                return holder
        time.sleep(0.05)
    raise AssertionError("the first load never took the writer lock")


def _stored_ids(data_dir: Path) -> list[str]:
    from core.settings import load_settings
    from index import open_store

    store = open_store(load_settings(data_dir=data_dir))
    try:
        total = store.count("posts")
        return [h.id for h in store.search("posts", None, size=total + 100).hits]
    finally:
        store.close()


def test_faults_second_index_load_is_refused_naming_the_holder(tmp_path: Path, export: Path):
    data = tmp_path / "data"
    first = _load(data, export)
    holder = _wait_for_holder(data, first.pid)
    assert "index load" in holder["purpose"]
    second = _load(data, export)
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2
    assert f"pid {first.pid}" in err2 and "iocwatch" in err2 and "index load" in err2
    assert "--wait" in err2 and "Traceback" not in err2
    ids = _stored_ids(data)
    assert len(ids) == ROWS and len(set(ids)) == ROWS


def test_faults_two_index_loads_with_wait_store_each_id_once(tmp_path: Path, export: Path):
    data = tmp_path / "data"
    first = _load(data, export, "--wait", "300")
    _wait_for_holder(data, first.pid)
    second = _load(data, export, "--wait", "300")
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    for out in (out1, out2):
        report = json.loads(out)[str(export)]
        assert report["read"] == ROWS and report["rejected"] == 0
    ids = _stored_ids(data)
    assert len(ids) == ROWS and len(set(ids)) == ROWS, "an id was stored twice"


def test_faults_writers_of_other_scopes_run_side_by_side(tmp_path: Path, export: Path):
    """An import (posts) does not stop the monitor (security), but stops a rebuild of the posts."""
    data = tmp_path / "data"
    log = Path(__file__).parents[1] / "data" / "security" / "auth.log"
    first = _load(data, export)
    holder = _wait_for_holder(data, first.pid)
    monitor = subprocess.run([sys.executable, "-m", "iocwatch", "-q", "monitor", "--log", str(log)],
                             cwd=tmp_path, env=_env(data), capture_output=True, text=True, timeout=120)
    rebuild = subprocess.run([sys.executable, "-m", "iocwatch", "-q", "index", "rebuild", "--kind", "posts"],
                             cwd=tmp_path, env=_env(data), capture_output=True, text=True, timeout=120)
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert monitor.returncode == 0, monitor.stderr
    assert rebuild.returncode == 2 and f"pid {holder['pid']}" in rebuild.stderr and "(posts)" in rebuild.stderr


def test_faults_service_scopes_let_the_compose_collector_and_monitor_share_a_data_dir():
    from iocwatch.commands.serve import service_scopes

    collector = ["source:baocantho", "source:vnexpress", "spikes", "digest", "spool", "outbox"]
    monitor = ["monitor:pcaps", "monitor:follow", "notify", "spool"]
    assert service_scopes(collector) == ["posts"]
    assert service_scopes(monitor) == ["security"]
    assert service_scopes(collector + monitor) == ["posts", "security"]


@pytest.mark.slow
def test_faults_two_200k_row_imports_at_once_store_each_id_once(tmp_path: Path):
    """The issue's case at its size: 200,000 rows loaded twice at the same time."""
    rows = 200_000
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({"url": f"https://example.vn/p-{i}", "text": f"bài {i}",
                                 "published_at": f"2025-{1 + i % 12:02d}-01T00:00:00Z"}) + "\n")
    data = tmp_path / "data"
    first = _load(data, path, "--wait", "900")
    _wait_for_holder(data, first.pid)
    second = _load(data, path, "--wait", "900")
    for proc in (first, second):
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        assert json.loads(out)[str(path)]["stored"] == rows
    from core.settings import load_settings
    from index import open_store

    store = open_store(load_settings(data_dir=data))
    try:
        assert store.count("posts") == rows  # a duplicate would be counted twice
    finally:
        store.close()
