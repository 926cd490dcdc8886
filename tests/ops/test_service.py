"""``iocwatch serve``: jobs on schedules over the real demo site, status, SIGTERM, malformed config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from core.status import read_status
from crawlers.sources import Source
from iocwatch.ops.service import Service, healthy, read_heartbeat, source_interval
from tests.ops.receivers import HttpReceiver

ROOT = Path(__file__).resolve().parents[2]
RUNS_COLUMN = "Số lần chạy"  # the Sources page's "runs" column (dashboard.language = vi)


def _with(settings, section: str, **values):
    cur = getattr(settings, section)
    return settings.model_copy(update={section: type(cur)(**{**dict(cur), **values})})


def _wait(cond, timeout: float = 240.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_service_source_interval_defaults_and_major_news_ceiling(settings):
    news = Source(name="bao", type="rss", url="http://127.0.0.1/rss", schedule="1h", tags=["bao-chi"])
    forum = Source(name="dien-dan", type="forum", url="http://127.0.0.1/f/", schedule="1h")
    bare = Source(name="trang", type="rss", url="http://127.0.0.1/x")
    fast = Source(name="nhanh", type="rss", url="http://127.0.0.1/y", schedule="10m", tags=["major"])
    assert source_interval(news, settings) == 1800  # major news: every 30 minutes or less
    assert source_interval(forum, settings) == 3600
    assert source_interval(bare, settings) == settings.serve.default_schedule_s
    assert source_interval(fast, settings) == 600


def test_service_default_sources_collect_major_news_every_30_min_or_less(settings):
    svc = Service(settings, collect=lambda store, src: {"items": 0, "errors": 0})
    jobs = {j.name: j for j in svc.build()}
    news = [j for n, j in jobs.items() if n.startswith("source:") and n != "source:cantho-portal"]
    assert news and all(j.interval_s <= 1800 for j in news)
    assert {"spikes", "notify", "digest", "spool"} <= set(jobs)
    svc.store.close()


def test_service_demo_short_schedule_runs_advance_and_spike_reaches_webhook(settings, monkeypatch):
    from iocwatch.commands.serve import run_service

    for key in ("IOCWATCH_DEMO_YOUTUBE_KEY", "IOCWATCH_DEMO_FACEBOOK_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with HttpReceiver() as rx:
        cfg = _with(settings, "notify", webhook_url=rx.url + "/ioc", backoff_s=0.0)
        cfg = _with(cfg, "serve", short_schedule_s=1)
        result: dict = {}
        services: list[Service] = []
        real_run = Service.run

        def capture_run(self, **kw):
            services.append(self)
            return real_run(self, **kw)

        monkeypatch.setattr(Service, "run", capture_run)
        only = ["demo-tg-tinnongcantho", "spikes", "notify", "spool"]  # 2/3 of the crisis is there
        thread = threading.Thread(target=lambda: result.update(
            run_service(cfg, short=True, demo=True, only=only)), daemon=True)
        thread.start()

        def runs(name: str) -> int:
            assert thread.is_alive(), "the service stopped early"
            return read_status(cfg.data_dir)["sources"].get(name, {}).get("runs", 0)

        _wait(lambda: runs("demo-tg-tinnongcantho") >= 2, what="two runs of the demo source")
        _wait(lambda: runs("demo-tg-tinnongcantho") >= 0
              and any(b.get("kind") == "spike" for _, b in rx.requests),
              what="a spike webhook")
        services[0].stop()
        thread.join(timeout=120)
        assert not thread.is_alive()
    status = read_status(cfg.data_dir)
    tg = status["sources"]["demo-tg-tinnongcantho"]
    assert tg["ok"] and tg["last_success"] and tg["runs"] >= 2
    assert status["monitors"]["listening:spikes"]["runs"] >= 1
    spikes = [b for _, b in rx.requests if b["kind"] == "spike"]
    flood = [b for b in spikes if b["data"]["entity"] == "watchlist:dien-nuoc"]
    assert flood, [b["data"]["entity"] for b in spikes]
    assert len(flood[0]["data"]["related_ids"]) >= 20  # the injected complaints
    beat = read_heartbeat(cfg)
    assert beat["stopped"] and beat["jobs"]["source:demo-tg-tinnongcantho"]["runs"] >= 2
    assert result["jobs"]["spikes"]["failures"] == 0
    from index import open_store

    store = open_store(cfg)
    alert = store.get("alerts", flood[0]["data"]["id"])
    assert alert["module"] == "listening"
    assert all(store.get("posts", i) is not None for i in alert["related_ids"])
    store.close()


def _serve_proc(tmp_path: Path, *args: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-m", "iocwatch", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_service_sigterm_stops_gracefully(tmp_path, settings):
    proc = _serve_proc(tmp_path, "serve", "--short", "--only", "spikes", "--only", "spool",
                       env_extra={"IOCWATCH_SERVE__SHORT_SCHEDULE_S": "1"})
    beat_path = tmp_path / "data" / "serve" / "serve.json"

    def ran_twice() -> bool:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        if not beat_path.exists():
            return False
        return json.loads(beat_path.read_text())["jobs"]["spikes"]["runs"] >= 2

    _wait(ran_twice, timeout=120, what="the service to run spikes twice")
    settings_here = settings.model_copy(update={"data_dir": tmp_path / "data"})
    assert healthy(settings_here)[0]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err
    assert "spikes" in out and "runs=" in out
    beat = json.loads(beat_path.read_text())
    assert beat["stopped"] is True
    ok, why = healthy(settings_here)
    assert not ok and "stopped" in why


def test_service_malformed_toml_stops_startup_naming_file_key_reason(tmp_path):
    cfg = tmp_path / "iocwatch.toml"
    cfg.write_text('[serve]\nmonitor_interval_s = "every minute"\n', encoding="utf-8")
    proc = _serve_proc(tmp_path, "serve", "--once", env_extra={"IOCWATCH_CONFIG": str(cfg)})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert str(cfg) in err and "serve.monitor_interval_s" in err and "integer" in err


def test_service_malformed_sources_stops_startup_naming_file_key_reason(tmp_path, settings):
    bad = tmp_path / "sources.yaml"
    bad.write_text(yaml.safe_dump({"sources": [
        {"name": "bao-a", "type": "rss", "url": "http://127.0.0.1/rss", "schedule": "every day"}]}))
    cfg = _with(settings, "crawl", sources_file=str(bad))
    with pytest.raises(ConfigError) as err:
        Service(cfg).build()
    text = str(err.value)
    assert str(bad) in text and "schedule" in text and "bao-a" in text


def test_service_bad_severity_and_schedule_stop_startup(settings, monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("IOCWATCH_NOTIFY__MIN_SEVERITY", "khẩn")  # refused as settings load
    with pytest.raises(ConfigError, match="notify.min_severity"):
        load_settings()
    monkeypatch.delenv("IOCWATCH_NOTIFY__MIN_SEVERITY")
    monkeypatch.setenv("IOCWATCH_SERVE__SPIKE_INTERVAL_S", "0")
    with pytest.raises(ConfigError, match="serve.spike_interval_s"):
        load_settings()
    with pytest.raises(ConfigError, match="monitor_pcap_dir"):
        Service(_with(settings, "serve", monitor_pcap_dir="/khong/ton/tai")).build()


def test_service_failed_job_recorded_and_service_continues(settings):
    calls = []

    def collect(store, src):
        calls.append(src.name)
        if len(calls) == 1:
            raise ConnectionError("trang nguồn không phản hồi")
        return {"items": 3, "errors": 0}

    sources = settings.data_dir.parent / "one.yaml"
    sources.write_text(yaml.safe_dump({"sources": [
        {"name": "bao-thu", "type": "rss", "url": "http://127.0.0.1:9/rss", "schedule": "1h"}]}))
    cfg = _with(settings, "crawl", sources_file=str(sources))
    cfg = _with(cfg, "serve", short_schedule_s=1)
    svc = Service(cfg, short=True, collect=collect, only=["bao-thu"])
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    _wait(lambda: len(calls) >= 2, timeout=60, what="a second collection")
    svc.stop()
    thread.join(timeout=30)
    entry = read_status(cfg.data_dir)["sources"]["bao-thu"]
    assert entry["runs"] >= 2 and entry["last_success"] is not None
    assert svc.jobs[0].failures == 1


def test_service_only_selects_by_kind_name_or_source(settings):
    def collect(store, src):
        return {"items": 0, "errors": 0}

    svc = Service(settings, collect=collect, only=["source", "spikes"])
    names = [j.name for j in svc.build()]
    svc.store.close()
    assert "spikes" in names and len(names) > 2
    assert all(n.startswith("source:") for n in names if n != "spikes")
    svc = Service(settings, collect=collect, only=["baocantho"])
    assert [j.name for j in svc.build()] == ["source:baocantho"]
    svc.store.close()
    with pytest.raises(ConfigError, match="no job matches"):
        Service(settings, collect=collect, only=["khong-co-nguon-nay"]).build()
    with pytest.raises(ConfigError, match="service name"):
        Service(settings, name="../etc")


def test_service_monitor_pcaps_and_security_notifications(settings, tmp_path):
    import shutil as sh

    from core.documents import Severity
    from index import open_store
    from iocwatch.flows.monitor import run_learn
    from security.demo import demo_inputs, write_demo

    folder = tmp_path / "sec"
    write_demo(folder)
    inputs = demo_inputs(folder)
    run_learn(settings, pcaps=inputs["baseline_pcaps"], logs=inputs["baseline_logs"])
    captures = tmp_path / "captures"
    captures.mkdir()
    for pcap in inputs["attack_pcaps"]:
        target = captures / pcap.name
        sh.copy(pcap, target)
        os.utime(target, (time.time() - 60, time.time() - 60))  # finished writing a minute ago
    with HttpReceiver() as rx:
        cfg = _with(settings, "serve", monitor_pcap_dir=str(captures))
        cfg = _with(cfg, "notify", webhook_url=rx.url, min_severity="high", lookback_h=24 * 3650)
        out = Service(cfg, once=True, only=["monitor", "notify"]).run()
        assert out["jobs"]["monitor:pcaps"]["last"]["files"] == 1
        again = Service(cfg, once=True, only=["monitor", "notify"]).run()  # nothing new
    assert again["jobs"]["monitor:pcaps"]["last"]["files"] == 0
    store = open_store(cfg)
    alerts = [h.source for h in store.search("alerts", {"term": {"module": "security"}}, size=500).hits]
    store.close()
    high = {a["id"] for a in alerts if Severity(a["severity"]).rank >= Severity.HIGH.rank}
    assert alerts and high
    sent = [b["data"]["id"] for _, b in rx.requests]
    assert sorted(sent) == sorted(high)  # each high/critical alert once, nothing below
    monitors = read_status(cfg.data_dir)["monitors"]
    assert any(k.endswith("attack.pcap") for k in monitors)


def test_service_outbox_leftovers_of_a_killed_crawl_are_ingested(settings):
    from index import open_store
    from tests.ops.producer import make_batch

    runs = settings.path("crawl", "runs")
    runs.mkdir(parents=True)
    posts = make_batch(7, 30)
    left = runs / "posts-20261121T101010000000.jsonl"
    with left.open("w", encoding="utf-8") as fh:
        for p in posts:
            fh.write(json.dumps(p.to_doc(), ensure_ascii=False) + "\n")
        fh.write('{"id": "cut-off", "source": "bao", "ti')  # the crawl was killed mid-write
    fresh = runs / "posts-20261121T111111000000.jsonl"  # a crawl writing right now: left alone
    fresh.write_text(json.dumps(make_batch(8, 1)[0].to_doc()) + "\n", encoding="utf-8")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    svc = Service(settings, once=True, only=["outbox"])
    svc._analyse = None  # store as crawled (the NLP pipeline is tested elsewhere)
    out = svc.run()
    assert out["jobs"]["outbox"]["last"] == {"ok": True, "items": 30, "errors": 1, "files": 1,
                                             "seconds": out["jobs"]["outbox"]["last"]["seconds"]}
    assert not left.exists() and fresh.exists()
    store = open_store(settings)
    assert store.count("posts") == 30
    store.close()
    assert read_status(settings.data_dir)["sources"]["serve:outbox"]["errors"] == 1


def test_service_sigterm_during_a_crawl_loses_no_delivered_post(tmp_path, settings):
    import sqlite3

    from index import open_store

    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT),
               IOCWATCH_SERVE__SHORT_SCHEDULE_S="1")
    proc = subprocess.Popen([sys.executable, "-m", "iocwatch", "serve", "--demo", "--only",
                             "demo-baocantho"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen_db = tmp_path / "data" / "crawl" / "seen.sqlite"

    def delivered() -> int:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        if not seen_db.exists():
            return 0
        db = sqlite3.connect(seen_db)
        try:
            return db.execute("SELECT count(*) FROM seen").fetchone()[0]
        except sqlite3.OperationalError:  # the crawler is creating its tables
            return 0
        finally:
            db.close()

    _wait(lambda: delivered() >= 20, timeout=180, what="the crawl to deliver posts")
    os.killpg(proc.pid, signal.SIGTERM)  # what `tini -g` does on `docker stop`
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    db = sqlite3.connect(seen_db)
    seen = {r[0] for r in db.execute("SELECT id FROM seen")}
    db.close()
    leftovers = set()
    for path in (tmp_path / "data" / "crawl").glob("*/posts-*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                leftovers.add(json.loads(line)["id"])
    cfg = settings.model_copy(update={"data_dir": tmp_path / "data"})
    store = open_store(cfg)
    stored = {h.id for h in store.search("posts", None, size=5000).hits}
    store.close()
    assert seen and seen <= stored | leftovers  # delivered = stored, or waiting for the outbox job


def test_service_runs_advance_on_the_dashboard_sources_page(settings, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import dashboard
    from core.settings import get_settings
    from dashboard.auth import add_user

    add_user(settings, "quan-tri", "admin", "mat-khau-quan-tri-1", display_name="Quản trị", rounds=4)
    for key in list(os.environ):
        if key.startswith("IOCWATCH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    cfg = _with(settings, "serve", short_schedule_s=1)
    svc = Service(cfg, short=True, only=["spikes"])
    thread = threading.Thread(target=svc.run, daemon=True)
    page = Path(dashboard.__file__).parent / "pages" / "sources.py"

    def runs_shown() -> int:
        st.cache_data.clear()
        at = AppTest.from_file(str(page), default_timeout=60)
        at.session_state["auth_user"] = {"name": "quan-tri", "role": "admin",
                                         "display_name": "Quản trị", "via": "password"}
        at.run()
        assert not at.exception
        frame = at.dataframe[0].value
        row = frame[frame.iloc[:, 0] == "listening:spikes"]
        return int(row.iloc[0][RUNS_COLUMN])

    try:
        thread.start()
        _wait(lambda: read_status(cfg.data_dir)["monitors"].get("listening:spikes", {}).get("runs", 0) >= 1,
              timeout=60, what="a first spike run")
        first = runs_shown()
        _wait(lambda: read_status(cfg.data_dir)["monitors"]["listening:spikes"]["runs"] >= first + 2,
              timeout=60, what="two more spike runs")
        later = runs_shown()
    finally:
        svc.stop()
        thread.join(timeout=30)
        get_settings.cache_clear()
    assert first >= 1 and later >= first + 2
