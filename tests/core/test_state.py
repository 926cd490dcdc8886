"""Atomic state files and the single-writer lock of a data directory."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.state import LockHeldError, StateWriteError, WriterLock, atomic_write, atomic_write_json, read_json


def test_state_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path):
    target = tmp_path / "model.json"
    atomic_write_json(target, {"v": 1})
    atomic_write_json(target, {"v": 2})
    assert read_json(target) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_state_failed_write_keeps_the_old_file(tmp_path: Path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    def boom(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(StateWriteError, match="previous version is kept"):
        atomic_write(target, boom)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_state_kill_mid_write_leaves_old_or_new(tmp_path: Path):
    target = tmp_path / "big.bin"
    target.write_bytes(b"A" * 10)
    code = (
        "import sys, time\n"
        "from core.state import atomic_write\n"
        "def w(fh):\n"
        "    fh.write(b'B' * 1000); fh.flush(); print('writing', flush=True); time.sleep(30)\n"
        f"atomic_write({str(target)!r}, w)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == b"A" * 10


def test_state_read_json_names_a_corrupt_file(tmp_path: Path):
    bad = tmp_path / "state.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="state.json"):
        read_json(bad)
    assert read_json(tmp_path / "missing.json", default={}) == {}


def _hold(data_dir: str, ready, release) -> None:
    with WriterLock(data_dir, "test holder"):
        ready.set()
        release.wait(10)


def test_state_writer_lock_refuses_a_second_writer_naming_the_holder(tmp_path: Path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockHeldError) as info:
            with WriterLock(tmp_path, "second"):
                pass
        assert f"pid {proc.pid}" in str(info.value)
        assert "test holder" in str(info.value)
    finally:
        release.set()
        proc.join(10)
    with WriterLock(tmp_path, "after") as lock:  # free again once the holder is gone
        assert lock.holder()["purpose"] == "after"


def test_state_writer_lock_waits_for_a_holder_that_finishes(tmp_path: Path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    proc.start()
    assert ready.wait(10)
    release.set()  # the holder lets go soon; the waiter must get the lock within its bound
    with WriterLock(tmp_path, "waiter", wait_s=10):
        pass
    proc.join(10)


def test_state_writer_lock_is_released_when_the_holder_is_killed(tmp_path: Path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    proc.start()
    assert ready.wait(10)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    with WriterLock(tmp_path, "next"):
        pass


def test_state_writer_lock_is_reentrant_in_one_process(tmp_path: Path):
    with WriterLock(tmp_path, "outer"):
        with WriterLock(tmp_path, "inner"):
            pass
        assert json.loads((tmp_path / ".writer.lock").read_text())["purpose"] == "outer"
