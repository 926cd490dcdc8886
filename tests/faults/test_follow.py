"""Following logs as Filebeat does: resume after the last stored batch, rotation, copytruncate,
a failing file among several, and replays that never duplicate alerts. Real files, real store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.state import read_json
from iocwatch.flows.monitor import follow_monitor, follow_registry_path

ROOT = Path(__file__).resolve().parents[2]


def _lines(start: int, n: int) -> str:
    return "".join(f"2026-11-20T07:{(i // 60) % 60:02d}:{i % 60:02d}+07:00 srv sshd[1]: Failed password "
                   f"for u{i} from 10.0.{i // 250}.{i % 250 + 1} port 22 ssh2\n" for i in range(start, start + n))


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _batch(settings, store, logs, **kw) -> dict:
    """One batch of a fresh follow run (as after a restart)."""
    kw.setdefault("interval_s", 0.4)
    reports = list(follow_monitor(settings, store, logs=[str(p) for p in logs], max_batches=1, **kw))
    assert len(reports) == 1
    return reports[0]


def _records(report: dict, path: Path) -> int:
    return next(i["records"] for i in report["inputs"] if i["source"] == str(path))


def _offset(settings, path: Path) -> int:
    return read_json(follow_registry_path(settings))["files"][str(path.absolute())]["offset"]


def test_follow_new_file_is_read_from_its_start_and_restart_resumes_after_the_stored_batch(settings, store,
                                                                                          tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 30))
    first = _batch(settings, store, [log])
    assert _records(first, log) == 30  # lines written before the monitor started are read
    assert _offset(settings, log) == log.stat().st_size
    _append(log, _lines(30, 12))
    second = _batch(settings, store, [log])  # a new run: the registry says where to go on
    assert _records(second, log) == 12
    third = _batch(settings, store, [log])
    assert _records(third, log) == 0
    assert _offset(settings, log) == log.stat().st_size


def test_follow_partial_last_line_waits_for_its_end(settings, store, tmp_path):
    log = tmp_path / "auth.log"
    text = _lines(0, 3)
    log.write_text(text[:-20])  # the writer is in the middle of the third line
    first = _batch(settings, store, [log])
    assert _records(first, log) == 2
    _append(log, text[-20:])
    assert _records(_batch(settings, store, [log]), log) == 1


def test_follow_rotation_by_rename_while_running_reads_the_rest_then_the_new_file(settings, store, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 10))
    gen = follow_monitor(settings, store, logs=[str(log)], interval_s=0.4)
    assert _records(next(gen), log) == 10
    _append(log, _lines(10, 5))  # written just before the rotation
    os.rename(log, tmp_path / "auth.log.1")
    _append(tmp_path / "auth.log.1", _lines(15, 3))  # the daemon still writes the old file
    log.write_text(_lines(18, 7))  # then reopens the new one
    assert _records(next(gen), log) == 15
    gen.close()
    assert _offset(settings, log) == log.stat().st_size


def test_follow_rotation_while_stopped_finds_the_old_file_by_inode(settings, store, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 10))
    assert _records(_batch(settings, store, [log]), log) == 10
    _append(log, _lines(10, 4))  # appended while the monitor was stopped ...
    os.rename(log, tmp_path / "auth.log.1")  # ... then logrotate ran
    log.write_text(_lines(14, 6))
    again = _batch(settings, store, [log])
    assert _records(again, log) == 10  # the 4 left in auth.log.1, then the 6 of the new file
    assert _records(_batch(settings, store, [log]), log) == 0


def test_follow_copytruncate_reads_the_truncated_file_again_from_its_start(settings, store, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 20))
    gen = follow_monitor(settings, store, logs=[str(log)], interval_s=0.4)
    assert _records(next(gen), log) == 20
    shutil.copy(log, tmp_path / "auth.log.1")  # logrotate copytruncate
    with open(log, "r+") as fh:
        fh.truncate(0)
    _append(log, _lines(20, 3))
    assert _records(next(gen), log) == 3
    gen.close()
    # and when the truncation happened while stopped
    with open(log, "r+") as fh:
        fh.truncate(0)
    _append(log, _lines(23, 2))
    assert _records(_batch(settings, store, [log]), log) == 2


def test_follow_a_failing_file_is_reported_and_the_others_go_on(settings, store, tmp_path):
    good = tmp_path / "auth.log"
    good.write_text(_lines(0, 8))
    unknown = tmp_path / "app.log"
    unknown.write_text("".join(f"[app] step {i} finished in {i} ms\n" for i in range(250)))
    folder = tmp_path / "not-a-file.log"
    folder.mkdir()
    gen = follow_monitor(settings, store, logs=[str(good), str(unknown), str(folder)], interval_s=0.4)
    report = next(gen)
    assert _records(report, good) == 8
    assert set(report["failed"]) == {str(unknown), str(folder)}
    assert "not recognised" in report["failed"][str(unknown)]
    errors = {i["source"]: i["errors"] for i in report["inputs"]}
    assert errors[str(unknown)] and errors[str(folder)] and not errors[str(good)]
    _append(good, _lines(8, 5))
    later = next(gen)
    assert _records(later, good) == 5  # the good file goes on
    gen.close()


def test_follow_replay_from_scratch_never_duplicates_alerts(settings, store, tmp_path):
    from security.demo import demo_inputs, write_demo

    write_demo(tmp_path / "demo", clients=4, visitors=20)
    attack = demo_inputs(tmp_path / "demo")["attack_logs"][0]
    log = tmp_path / "auth.log"
    shutil.copy(attack, log)
    first = _batch(settings, store, [log])
    assert first["alert_ids"]
    count = store.count("alerts")
    counts = {i: store.get("alerts", i)["count"] for i in first["alert_ids"]}
    follow_registry_path(settings).unlink()  # as if the registry had been lost: everything again
    again = _batch(settings, store, [log])
    assert sorted(again["alert_ids"]) == sorted(first["alert_ids"])
    assert store.count("alerts") == count
    assert {i: store.get("alerts", i)["count"] for i in first["alert_ids"]} == counts  # not inflated


def test_follow_cli_ctrl_c_stores_the_lines_appended_before_the_stop(settings, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 5))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(settings.data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "iocwatch", "-q", "monitor", "--log", str(log), "--follow",
                             "--interval", "600", "--json"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        registry = follow_registry_path(settings)
        lock = settings.data_dir / ".writer-security.lock"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.1)
        time.sleep(2.0)  # the monitor is following
        _append(log, _lines(5, 7))
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped" in err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["inputs"][0]["records"] == 12
    assert report["interrupted"] is True
    assert read_json(registry)["files"][str(log.absolute())]["offset"] == log.stat().st_size


def test_follow_registry_is_written_atomically_and_survives_many_rotations(settings, store, tmp_path):
    rotations = 3
    log = tmp_path / "auth.log"
    total = 0
    gen = follow_monitor(settings, store, logs=[str(log)], interval_s=0.3)
    for r in range(rotations):
        log.write_text(_lines(r * 10, 10))
        total += _records(next(gen), log)
        os.rename(log, tmp_path / f"auth.log.{r}")
    gen.close()
    assert total == 10 * rotations
    assert not [p for p in follow_registry_path(settings).parent.iterdir() if p.name.endswith(".tmp")]


def test_follow_cli_killed_mid_batch_loses_nothing_on_restart(settings, tmp_path):
    """SIGKILL before a batch is stored: the registry was not moved, so the next run reads those lines."""
    log = tmp_path / "auth.log"
    log.write_text(_lines(0, 6))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(settings.data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    base = [sys.executable, "-m", "iocwatch", "-q", "monitor", "--log", str(log), "--follow", "--json"]
    first = subprocess.Popen([*base, "--interval", "600"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = settings.data_dir / ".writer-security.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
        time.sleep(0.1)
    time.sleep(1.5)
    _append(log, _lines(6, 4))
    time.sleep(1.0)
    first.kill()
    first.communicate(timeout=30)
    again = subprocess.run([*base, "--interval", "1", "--batches", "1"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["inputs"][0]["records"] == 10
    assert read_json(follow_registry_path(settings))["files"][str(log.absolute())]["offset"] == log.stat().st_size
