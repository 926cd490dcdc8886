"""Faults reported, not hidden: a crawl that spooled says so until replayed; the spool fails cleanly
on a read-only or full data directory (message, non-zero exit, nothing lost) instead of SIGBUS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from core.status import read_status
from tests.faults.disks import fill, remount_read_only, remount_read_write

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    from crawlers.demo_site import DEMO_ENV

    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(DEMO_ENV)
    env.update(IOCWATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
               IOCWATCH_SERVE__SPOOL_MIN_FREE_MB="0", **extra)
    return env


def _cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iocwatch", "-q", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def site(tmp_path):
    from crawlers.demo_site import build_site, demo_sources, generate_content
    from crawlers.demo_site.server import SiteServer

    content = generate_content(5, now=NOW, n_articles=12)
    with SiteServer(build_site(content)) as server:
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump(demo_sources(server.base_url), allow_unicode=True), encoding="utf-8")
        yield path


def test_faults_crawl_that_spooled_says_so_until_replayed(tmp_path, site):
    from tests.ops.receivers import free_port

    data = tmp_path / "data"
    down = _env(data, IOCWATCH_STORE="elasticsearch", IOCWATCH_ES_URL=f"http://127.0.0.1:{free_port()}")
    crawl = _cli(down, "crawl", "demo-baocantho", "--sources", str(site), "--no-analyse", "--json", cwd=tmp_path)
    assert crawl.returncode == 1, crawl.stderr  # not a success while the posts wait in the spool
    result = json.loads(crawl.stdout)
    assert result["spooled"] > 0 and result["stored"] == 0 and result["ok"] is False
    entry = read_status(data)["sources"]["demo-baocantho"]
    assert entry["ok"] is False and entry["spooled"] == result["spooled"] and entry["spool"] == "listen"
    assert "spool" in entry["last_error"]

    text = _cli(down, "crawl", "demo-baocantho", "--sources", str(site), "--no-analyse", "--full", cwd=tmp_path)
    assert "spooled=" in text.stdout and "waiting in the spool" in text.stderr and text.returncode == 1

    up = _env(data)  # the store is back (the embedded one here)
    replay = _cli(up, "serve", "--replay", "--name", "listen", cwd=tmp_path)
    assert replay.returncode == 0, replay.stderr
    entry = read_status(data)["sources"]["demo-baocantho"]
    assert entry["ok"] is True and entry["spooled"] == 0 and entry["replayed_at"]
    stats = _cli(up, "index", "stats", cwd=tmp_path)
    assert f"posts: {result['spooled']}" in stats.stdout  # every spooled post arrived, once


_SPOOL_CHILD = """
import os, sys
from iocwatch.ops.spool import Spool, SpoolError
path = sys.argv[1]
try:
    spool = Spool(path)
    n = 0
    while True:
        spool.append("posts", [{"id": f"p{n}", "text": os.urandom(3000).hex()}])
        n += 1
except SpoolError as exc:
    print("refused:", exc, flush=True)
    sys.exit(3)
"""


def _spool_child(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _SPOOL_CHILD, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_faults_spool_on_a_full_disk_refuses_cleanly_and_keeps_what_it_acknowledged(small_disk):
    from iocwatch.ops.spool import Spool

    disk = small_disk("3m")
    res = _spool_child(disk / "spool" / "x.sqlite")
    assert res.returncode == 3, (res.returncode, res.stderr)  # our error, not -SIGBUS
    assert res.returncode != -signal.SIGBUS
    assert "disk full" in res.stdout or "free" in res.stdout
    spool = Spool(disk / "spool" / "x.sqlite")
    assert spool.pending_batches() > 50  # everything acknowledged before is still there
    spool.close()


def test_faults_spool_on_a_read_only_disk_refuses_cleanly(small_disk):
    from iocwatch.ops.spool import Spool

    disk = small_disk("4m")
    spool = Spool(disk / "spool" / "x.sqlite")
    spool.append("posts", [{"id": "a", "text": "x"}])
    spool.close()
    killed = subprocess.run([sys.executable, "-c", "import os, sys\nfrom iocwatch.ops.spool import Spool\n"
                             "s = Spool(sys.argv[1]); s.append('posts', [{'id': 'b'}]); os._exit(0)",
                             str(disk / "spool" / "y.sqlite")], cwd=ROOT, timeout=60)
    assert killed.returncode == 0  # y.sqlite keeps its write-ahead log, as after a kill
    remount_read_only(disk)
    try:
        for name in ("x.sqlite", "y.sqlite", "new.sqlite"):
            res = _spool_child(disk / "spool" / name)
            assert res.returncode == 3, (name, res.returncode, res.stderr)
            assert "read-only" in res.stdout
    finally:
        remount_read_write(disk)
    again = Spool(disk / "spool" / "x.sqlite")
    assert again.pending_batches() == 1  # nothing lost
    again.close()


def test_faults_commands_on_a_read_only_or_full_data_dir_end_with_a_clear_message(small_disk, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text("2026-11-20T07:00:01+07:00 srv sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2\n")
    disk = small_disk("4m")
    data = disk / "data"
    env = _env(data)
    assert _cli(env, "monitor", "--log", str(log), cwd=tmp_path).returncode == 0
    remount_read_only(disk)
    try:
        for args in (["monitor", "--log", str(log)], ["serve", "--replay"], ["index", "load", str(log)]):
            res = _cli(env, *args, cwd=tmp_path)
            assert res.returncode == 2, (args, res.stderr)
            assert "error:" in res.stderr and "Read-only" in res.stderr and "Traceback" not in res.stderr
    finally:
        remount_read_write(disk)
    fill(disk)
    res = _cli(env, "monitor", "--log", str(log), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "error:" in res.stderr and "Traceback" not in res.stderr
