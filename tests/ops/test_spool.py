"""No data lost: the spool keeps every acknowledged document through store outages, SIGKILL and full disks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.errors import ValidationFailed
from index import open_store
from iocwatch.ops.spool import Spool, SpooledStore, SpoolFullError, open_spool
from tests.ops.faults import SwitchableStore
from tests.ops.producer import make_batch

ROOT = Path(__file__).resolve().parents[2]


def _all_ids(store) -> list[str]:
    total = store.count("posts")
    res = store.search("posts", None, size=max(total, 1) + 10)
    return [h.id for h in res.hits]


def _assert_exactly_once(store, expected: set[str]) -> None:
    ids = _all_ids(store)
    assert len(ids) == len(set(ids)), "a document arrived more than once"
    assert set(ids) == expected
    assert store.count("posts") == len(expected)


def test_spool_store_stopped_mid_run_every_doc_arrives_once_in_order(settings, store):
    flaky = SwitchableStore(store)
    clock = [0.0]
    spooled = SpooledStore(flaky, open_spool(settings), retry_s=10.0, retry_max_s=40.0,
                           clock=lambda: clock[0])
    produced: list[str] = []
    pending_seen = 0
    for b in range(12):
        if b == 4:
            flaky.down = True  # the store stops in the middle of the run
        if b == 9:
            flaky.down = False  # ... and comes back; replay waits for the back-off
        batch = make_batch(b, 20)
        produced.extend(p.id for p in batch)
        res = spooled.upsert_many("posts", batch)
        assert res.acknowledged == 20 and not res.rejected
        pending_seen = max(pending_seen, spooled.spool.pending_batches())
        clock[0] += 1.0
    assert pending_seen >= 5  # batches 4..8 waited in the spool
    assert spooled.spool.pending_batches() > 0  # still in back-off after the store returned
    assert flaky.refused >= 1
    out = spooled.flush(force=True)
    assert out.unavailable is None and out.remaining == 0
    _assert_exactly_once(store, set(produced))
    arrival = [i for w in flaky.writes for i in w]
    first_seen = list(dict.fromkeys(arrival))
    assert first_seen == produced  # replayed in production order
    spooled.close()


def test_spool_backoff_doubles_and_store_opened_lazily(settings, store):
    flaky = SwitchableStore(store)
    flaky.down = True
    opened = []

    def factory():
        opened.append(1)
        return flaky

    clock = [0.0]
    spooled = SpooledStore(factory, open_spool(settings), retry_s=1.0, retry_max_s=4.0,
                           clock=lambda: clock[0])
    spooled.upsert_many("posts", make_batch(0, 3))
    refused = flaky.refused
    spooled.upsert_many("posts", make_batch(1, 3))  # inside the 1 s back-off: no attempt
    assert flaky.refused == refused
    clock[0] = 1.5
    spooled.upsert_many("posts", make_batch(2, 3))  # attempt, fails, next delay is 2 s
    assert flaky.refused == refused + 1
    clock[0] = 3.0
    spooled.upsert_many("posts", make_batch(3, 3))
    assert flaky.refused == refused + 1
    assert len(opened) >= 2  # the store is reopened after an outage
    flaky.down = False
    clock[0] = 10.0
    res = spooled.upsert_many("posts", make_batch(4, 3))
    assert len(res.stored) == 3 and spooled.available
    assert store.count("posts") == 15
    spooled.close()


def test_spool_invalid_documents_rejected_before_spooling(settings, store):
    spooled = SpooledStore(store, open_spool(settings))
    good = [p.to_doc() for p in make_batch(0, 3)]
    bad = dict(good[0], id="bad-1", platform="carrier-pigeon")
    res = spooled.upsert_many("posts", [*good, bad])
    assert [i for i, _ in res.rejected] == ["bad-1"] and len(res.stored) == 3
    assert spooled.spool.pending_batches() == 0
    with pytest.raises(ValidationFailed):
        spooled.upsert_many("posts", [bad], raise_on_error=True)
    spooled.close()


def test_spool_corrupt_batch_moves_to_dead_and_rest_arrives(settings, store):
    flaky = SwitchableStore(store)
    flaky.down = True
    spool = open_spool(settings)
    spooled = SpooledStore(flaky, spool, retry_s=0.0, retry_max_s=0.0)
    for b in range(3):
        spooled.upsert_many("posts", make_batch(b, 4))
    db = sqlite3.connect(spool.path)
    db.execute("UPDATE pending SET payload = CAST(substr(payload, 1, 10) || x'00ff' AS BLOB) "
               "WHERE seq = (SELECT min(seq) + 1 FROM pending)")
    db.commit()
    db.close()
    flaky.down = False
    out = spooled.flush(force=True)
    assert out.corrupt == 1 and spool.dead_count() == 1
    assert spool.dead()[0]["reason"] == "checksum mismatch"
    _assert_exactly_once(store, {p.id for b in (0, 2) for p in make_batch(b, 4)})
    spooled.close()


def _run_child(data_dir: Path, batches: int, size: int, down_after: int, kill_after_acks: int | None):
    cmd = [sys.executable, "-m", "tests.ops.spool_child", str(data_dir), str(batches), str(size),
           str(down_after)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    acked: list[int] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ack "):
            acked.append(int(line.split()[1]))
            if kill_after_acks is not None and len(acked) >= kill_after_acks:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=120)
    if kill_after_acks is None:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    else:
        assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.parametrize("down_after", [-1, 3])
def test_spool_sigkill_mid_run_every_acknowledged_doc_arrives_once(settings, down_after):
    data_dir = settings.data_dir
    acked = _run_child(data_dir, batches=24, size=25, down_after=down_after, kill_after_acks=8)
    assert len(acked) == 8
    store = open_store(settings)
    spooled = SpooledStore(store, open_spool(settings))
    out = spooled.flush(force=True)
    assert out.unavailable is None and out.remaining == 0
    if down_after >= 0:
        assert out.batches >= 8 - down_after  # what the store never saw came from the spool
    acked_ids = {p.id for b in acked for p in make_batch(b, 25)}
    ids = _all_ids(store)
    assert len(ids) == len(set(ids))
    assert acked_ids <= set(ids)
    produced_any = {p.id for b in range(24) for p in make_batch(b, 25)}
    assert set(ids) <= produced_any
    spooled.close()
    # The collector runs again (as the service does) and re-produces everything: still once each.
    _run_child(data_dir, batches=24, size=25, down_after=-1, kill_after_acks=None)
    store = open_store(settings)
    _assert_exactly_once(store, produced_any)
    store.close()


def test_spool_size_limit_fails_loudly_and_keeps_acknowledged(settings, store):
    flaky = SwitchableStore(store)
    flaky.down = True
    spool = Spool(settings.path("spool", "small.sqlite"), max_bytes=64 * 1024)
    spooled = SpooledStore(flaky, spool, retry_s=0.0, retry_max_s=0.0)
    acked: list[str] = []
    with pytest.raises(SpoolFullError, match="size limit"):
        for b in range(1000):
            batch = make_batch(b, 10)
            spooled.upsert_many("posts", batch)
            acked.extend(p.id for p in batch)
    assert acked
    flaky.down = False
    spooled.flush(force=True)
    _assert_exactly_once(store, set(acked))
    spooled.close()


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 512 KiB tmpfs (a really full disk); skips when this user may not mount."""
    mnt = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}); "
                    "test_spool_size_limit_fails_loudly_and_keeps_acknowledged covers the limit")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_spool_full_disk_fails_loudly_and_keeps_acknowledged(settings, store, tiny_tmpfs):
    filler = tiny_tmpfs / "filler.bin"
    filler.write_bytes(os.urandom(96 * 1024))  # the operator's way out: delete something
    flaky = SwitchableStore(store)
    flaky.down = True
    spool = Spool(tiny_tmpfs / "spool.sqlite")  # no size limit: the disk itself runs out
    spooled = SpooledStore(flaky, spool, retry_s=0.0, retry_max_s=0.0)
    acked: list[str] = []
    failed: list[str] = []
    with pytest.raises(SpoolFullError, match="disk full|free"):
        for b in range(2000):
            batch = make_batch(b, 10)
            for p in batch:  # incompressible text, so the disk fills quickly
                p.text += " " + os.urandom(300).hex()
            failed = [p.id for p in batch]
            spooled.upsert_many("posts", batch)
            acked.extend(failed)
    assert len(acked) >= 20
    filler.unlink()  # space is freed
    flaky.down = False
    out = spooled.flush(force=True)
    assert out.remaining == 0
    _assert_exactly_once(store, set(acked))
    assert not set(failed) & set(_all_ids(store))  # the refused batch was never acknowledged
    spooled.close()


def test_spool_replayed_alert_keeps_triage_done_meanwhile(settings, store):
    from core.documents import Alert, Severity
    from index.triage import triage

    flaky = SwitchableStore(store)
    spooled = SpooledStore(flaky, open_spool(settings), retry_s=0.0, retry_max_s=0.0)
    first = Alert(id=Alert.make_id("ssh_bruteforce", "10.1.2.3", "w1"), rule_name="ssh_bruteforce",
                  title="Dò mật khẩu SSH từ 10.1.2.3", severity=Severity.HIGH, risk_score=75, count=40,
                  entity="10.1.2.3")
    spooled.upsert_many("alerts", [first])
    triage(store, first.id, status="acknowledged", by="an-ninh", note="đang kiểm tra")
    flaky.down = True  # the store goes away; the monitor sees the attack go on
    assert spooled.get("alerts", first.id) is None  # treated as new while the store is down
    later = first.model_copy(update={"count": 25, "risk_score": 60.0, "severity": Severity.MEDIUM})
    res = spooled.upsert_many("alerts", [later])
    assert res.pending == [first.id]
    flaky.down = False
    spooled.flush(force=True)
    doc = store.get("alerts", first.id)
    assert doc["status"] == "acknowledged" and doc["history"][0]["by"] == "an-ninh"
    assert doc["count"] == 40 and doc["risk_score"] == 75
    spooled.close()


def test_spool_real_elasticsearch_client_unreachable_cluster_is_spooled(settings):
    from tests.ops.receivers import free_port

    es = settings.model_copy(update={"store": "elasticsearch",
                                     "es_url": f"http://127.0.0.1:{free_port()}"})
    from iocwatch.ops.spool import open_spooled_store

    spooled = open_spooled_store(es, "es-down")
    res = spooled.upsert_many("posts", make_batch(0, 5))
    assert len(res.pending) == 5 and not res.stored
    assert spooled.down_reason  # the client's connection error, as StoreUnavailableError
    assert spooled.spool.pending_docs() == 5
    spooled.spool.close()


def test_spool_concurrent_writers_each_told_their_documents_were_stored(settings, store):
    import threading

    spooled = SpooledStore(store, open_spool(settings))
    results: dict[int, list] = {}

    def writer(w: int) -> None:
        results[w] = [spooled.upsert_many("posts", make_batch(w * 100 + b, 15)) for b in range(6)]

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    every = [r for rs in results.values() for r in rs]
    assert len(every) == 24
    assert all(len(r.stored) == 15 and not r.pending and not r.rejected for r in every)
    assert store.count("posts") == 24 * 15
    spooled.close()
