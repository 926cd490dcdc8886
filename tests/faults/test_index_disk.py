"""`index load` on a full or read-only disk: a clear message, a non-zero exit, no partial segments left."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.faults.disks import remount_read_only, remount_read_write

ROOT = Path(__file__).resolve().parents[2]
SEGMENT = re.compile(r"^[0-9a-f]{32}\.")


def _cli(data_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "iocwatch", "-q", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _export(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"url": f"https://a.vn/{i}", "text": f"nội dung khá dài số {i} " * 20,
                                 "published_at": "2026-01-05T00:00:00Z"}, ensure_ascii=False) + "\n")
    return path


def _segments(data: Path) -> list[Path]:
    return [p for p in (data / "index").rglob("*") if SEGMENT.match(p.name)]


def test_faults_index_load_on_a_full_disk_fails_clearly_and_removes_partial_segments(small_disk, tmp_path):
    disk = small_disk("4m")
    data = disk / "data"
    small = _cli(data, "index", "load", str(_export(tmp_path / "small.jsonl", 50)), cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    kept = set(_segments(data))
    big = _cli(data, "index", "load", str(_export(tmp_path / "big.jsonl", 30_000, 1000)), cwd=tmp_path)
    assert big.returncode == 2, big.stdout + big.stderr
    assert "cannot write the posts index" in big.stderr and "No space" in big.stderr
    assert "Traceback" not in big.stderr
    assert set(_segments(data)) == kept  # the failed load's segment files are gone
    assert shutil.disk_usage(disk).free > 3 * 1024 * 1024  # the disk is not left full
    stats = _cli(data, "index", "stats", cwd=tmp_path)
    assert stats.returncode == 0 and "posts: 50" in stats.stdout


def test_faults_index_load_on_a_read_only_disk_fails_clearly_and_keeps_the_index(small_disk, tmp_path):
    disk = small_disk("8m")
    data = disk / "data"
    assert _cli(data, "index", "load", str(_export(tmp_path / "a.jsonl", 20)), cwd=tmp_path).returncode == 0
    remount_read_only(disk)
    try:
        res = _cli(data, "index", "load", str(_export(tmp_path / "b.jsonl", 20, 100)), cwd=tmp_path)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "error:" in res.stderr and "Read-only" in res.stderr and "Traceback" not in res.stderr
    finally:
        remount_read_write(disk)
    stats = _cli(data, "index", "stats", cwd=tmp_path)
    assert "posts: 20" in stats.stdout
