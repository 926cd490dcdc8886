"""The continuous service behind ``iocwatch serve``: scheduled jobs, graceful shutdown, run status.

Jobs (each runs at most once at a time, at most ``serve.workers`` together, in threads):

``source:<name>``  collect one source through the listen flow (crawl → NLP → store), every
                   ``schedule`` of the source (``serve.default_schedule_s`` when it has none;
                   sources tagged ``bao-chi`` or ``major`` at least every
                   ``serve.major_news_schedule_s``, 30 minutes by default)
``monitor:pcaps``  score capture files dropped in ``serve.monitor_pcap_dir`` (once each)
``monitor:follow`` follow ``serve.monitor_logs`` / capture ``serve.monitor_iface`` through the
                   monitor flow, one batch per ``serve.monitor_interval_s``
``spikes``         spike detection every ``serve.spike_interval_s``, then notify spikes
``notify``         notify security alerts at or above ``notify.min_severity`` (each once)
``digest``         the daily digest after ``notify.digest_hour`` local time
``spool``          replay the spool into the store (when it came back)

Every write goes through the durable spool (:mod:`iocwatch.ops.spool`), so a store
outage delays documents and loses none. Each run is recorded with
:func:`core.status.record_run` (``sources`` and ``monitors`` sections) for the
dashboard's Sources page, and ``<data_dir>/serve/<name>.json`` holds the service's heartbeat
(pid, jobs, next runs, spool backlog), which ``iocwatch serve --status`` and the
container healthchecks read.

SIGTERM and SIGINT stop scheduling, let running jobs finish (up to
``serve.shutdown_timeout_s``), replay the spool once more and exit 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ConfigError, IocwatchError
from core.settings import Settings
from core.status import record_run

log = logging.getLogger(__name__)

MAJOR_TAGS = frozenset({"bao-chi", "major"})
_UNSET: Any = object()


@dataclass
class Job:
    """One scheduled job. ``run`` returns a dict with at least ``items`` and ``errors``."""

    name: str
    interval_s: float
    run: Callable[[], dict[str, Any]]
    section: str | None = None  # status section written after each run ("sources"/"monitors")
    status_name: str | None = None
    next_at: float = 0.0  # monotonic time of the next run (0 = now)
    runs: int = 0
    failures: int = 0
    running: bool = False
    last: dict[str, Any] = field(default_factory=dict)
    records_itself: bool = False  # the flow already writes its own status entry


def source_interval(source: Any, settings: Settings) -> int:
    """Seconds between two collections of a source."""
    serve = settings.serve
    interval = source.schedule_s or serve.default_schedule_s
    if MAJOR_TAGS & set(source.tags or ()):
        interval = min(interval, serve.major_news_schedule_s)
    return int(interval)


def validate_startup(settings: Settings) -> list[Any]:
    """Check every configuration file the service reads; raise :class:`ConfigError` naming file,
    key and reason. Returns the enabled sources."""
    from core.documents import Severity
    from crawlers.sources import load_sources
    from crawlers.watchlists import load_watchlists

    sources = [s for s in load_sources(settings.crawl.sources_file) if s.enabled]
    load_watchlists(settings.crawl.watchlists_file)
    try:
        Severity(settings.notify.min_severity.lower())
    except ValueError:
        raise ConfigError(f"setting 'notify.min_severity': {settings.notify.min_severity!r} is not "
                          f"one of {[s.value for s in Severity]}", where=_config_where(),
                          hint="use low, medium, high or critical") from None
    serve = settings.serve
    for key in ("default_schedule_s", "monitor_interval_s", "spike_interval_s",
                "major_news_schedule_s", "short_schedule_s"):
        if getattr(serve, key) <= 0:
            raise ConfigError(f"setting 'serve.{key}': must be a positive number of seconds",
                              where=_config_where(), hint="set a value above 0")
    if serve.monitor_pcap_dir and not Path(serve.monitor_pcap_dir).is_dir():
        raise ConfigError(f"setting 'serve.monitor_pcap_dir': {serve.monitor_pcap_dir} is not a "
                          "directory", where=_config_where(), hint="create it or unset the key")
    for path in serve.monitor_logs:
        if not Path(path).parent.is_dir():
            raise ConfigError(f"setting 'serve.monitor_logs': the folder of {path} does not exist",
                              where=_config_where(), hint="fix the path")
    return sources


def _config_where() -> str:
    return os.environ.get("IOCWATCH_CONFIG") or "iocwatch.toml / IOCWATCH_* environment"


class Service:
    """Schedules and runs the jobs until :meth:`stop` (or SIGTERM).

    Args:
        settings: the settings (data directory, schedules, sinks).
        short: every job runs every ``serve.short_schedule_s`` seconds (demo, tests).
        once: run every job once, then return.
        only: names of jobs (or sources) to keep; ``None`` keeps all.
        workers: jobs that may run at the same time.
        collect: ``collect(store, source) -> report`` override for collection (tests).
    """

    def __init__(self, settings: Settings, *, short: bool = False, once: bool = False,
                 only: list[str] | None = None, workers: int | None = None,
                 collect: Callable[[Any, Any], dict[str, Any]] | None = None,
                 env: dict[str, str] | None = None, name: str = "serve"):
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"service name {name!r} may only hold letters, digits, - and _",
                              hint="e.g. --name collector")
        self.name = name
        self.settings = settings
        self.short = short
        self.once = once
        self.only = set(only or [])
        self.workers = workers or settings.serve.workers
        self._collect = collect
        self.env = env or {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.jobs: list[Job] = []
        self.started_at = datetime.now(UTC)
        self.store: Any = None
        self.notifier: Any = None
        self._heartbeat_at = 0.0
        self._analyse: Any = _UNSET
        self._analyse_lock = threading.Lock()

    # -- building -------------------------------------------------------------------
    def _interval(self, seconds: float) -> float:
        return float(self.settings.serve.short_schedule_s) if self.short else float(seconds)

    def build(self) -> list[Job]:
        """Validate the configuration and make the jobs (no work is done yet)."""
        from iocwatch.ops.notify import Notifier
        from iocwatch.ops.spool import open_spooled_store

        sources = validate_startup(self.settings)
        self.notifier = Notifier(self.settings)
        serve = self.settings.serve
        jobs: list[Job] = []
        for src in sources:
            interval = source_interval(src, self.settings)
            jobs.append(Job(f"source:{src.name}", self._interval(interval),
                            self._source_job(src, interval), "sources", src.name,
                            records_itself=self._collect is None))
        if serve.monitor_pcap_dir:
            jobs.append(Job("monitor:pcaps", self._interval(serve.monitor_interval_s),
                            self._pcap_job, "monitors", "serve:pcaps", records_itself=True))
        if serve.monitor_logs or serve.monitor_iface:
            # Runs for the service's lifetime; the interval only spaces restarts after a failure.
            jobs.append(Job("monitor:follow", self._interval(serve.monitor_interval_s),
                            self._follow_job, "monitors", "serve:follow", records_itself=True))
        jobs.append(Job("outbox", self._interval(serve.outbox_settle_s), self._outbox_job))
        jobs.append(Job("spikes", self._interval(serve.spike_interval_s), self._spike_job,
                        "monitors", "listening:spikes"))
        jobs.append(Job("notify", self._interval(serve.monitor_interval_s), self._notify_job))
        jobs.append(Job("digest", self._interval(300), self._digest_job))  # checks if it is due
        jobs.append(Job("spool", self._interval(max(serve.spool_retry_s, 1.0)), self._spool_job))
        if self.only:
            # a job's full name (source:baocantho), its kind (source, monitor) or its last part
            jobs = [j for j in jobs if {j.name, j.name.split(":", 1)[0], j.name.split(":", 1)[-1]}
                    & self.only]
            if not jobs:
                raise ConfigError(f"no job matches {sorted(self.only)}",
                                  hint="name sources or jobs: source:<name>, spikes, notify, "
                                       "digest, monitor:pcaps, monitor:follow, spool, outbox")
        self.jobs = jobs
        self.store = open_spooled_store(self.settings, self.name)
        return jobs

    # -- jobs -----------------------------------------------------------------------
    def _source_job(self, source: Any, interval: int) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            if self._collect is not None:
                return self._collect(self.store, source)
            from iocwatch.flows.listen import listen

            # A child process per crawl (Twisted cannot restart); the flow records the status.
            out = listen(self.settings, [source.name], store=self.store, analyse=self._analyser(),
                         in_process=False, env=self.env, progress=False,
                         overrides={"AUTOTHROTTLE_ENABLED": False} if self.short else None)
            return {"items": out["stored"], "errors": out["errors"] + out["rejected"],
                    "disabled": bool(out["disabled"]), "analysed": out["analysed"]}

        return run

    def _analyser(self) -> Any:
        """The NLP pipeline, loaded once and shared by every collection job."""
        with self._analyse_lock:
            if self._analyse is _UNSET:
                from iocwatch.flows.listen import load_analyser

                self._analyse = load_analyser(self.settings)
            return self._analyse

    def _outbox_job(self) -> dict[str, Any]:
        """Ingest crawl hand-over files a killed crawl or a failed store left behind.

        The crawler marks a URL as seen once its post is in the JSONL hand-over file, so a
        file that never reached the store must be ingested or its posts would be lost. A
        truncated last line (a crawl killed mid-write) is counted and skipped.
        """
        from core.documents import Post
        from core.errors import ValidationFailed

        settle = time.time() - self.settings.serve.outbox_settle_s
        files = sorted(p for folder in ("runs", "outbox")
                       for p in self.settings.path("crawl", folder).glob("posts-*.jsonl")
                       if p.stat().st_mtime < settle)
        stored = bad = 0
        analyse = self._analyser() if files else None
        for path in files:
            batch: list[Post] = []
            with path.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        batch.append(Post.from_doc(json.loads(line)))
                    except (ValueError, ValidationFailed) as exc:
                        bad += 1
                        log.warning("%s:%d: unreadable post skipped (%s)", path, n, exc)
            for start in range(0, len(batch), 200):
                chunk = batch[start:start + 200]
                result = self.store.upsert_many("posts", list(analyse(chunk)) if analyse else chunk)
                stored += result.acknowledged
                bad += len(result.rejected)
            path.unlink()  # every post is in the store or durably spooled now
            log.warning("ingested %d left-over posts from %s", len(batch), path)
        if files:  # shown on the Sources page only when there was something to recover
            record_run(self.settings.data_dir, "sources", "serve:outbox", items=stored, errors=bad,
                       last_error=f"{bad} unreadable or rejected posts" if bad else None,
                       extra={"files": len(files)})
        return {"items": stored, "errors": bad, "files": len(files)}

    def _pcap_job(self) -> dict[str, Any]:
        from iocwatch.flows.monitor import run_monitor

        folder = Path(self.settings.serve.monitor_pcap_dir or "")
        ledger_path = self.settings.path("serve", f"{self.name}.pcaps-done.json")
        done = set(json.loads(ledger_path.read_text())) if ledger_path.exists() else set()
        settle = time.time() - 2.0  # a capture still being written is left for the next run
        new = sorted(str(p) for p in folder.glob("*.pcap*")
                     if str(p) not in done and p.stat().st_mtime < settle)
        if not new:
            return {"items": 0, "errors": 0, "files": 0}
        report = run_monitor(self.settings, self.store, pcaps=new)
        done.update(new)
        _write_json(ledger_path, sorted(done))
        return {"items": sum(i.get("records", 0) for i in report.get("inputs", [])),
                "errors": len(report.get("rejected", [])), "files": len(new),
                "alerts": report.get("alerts", 0)}

    def _follow_job(self) -> dict[str, Any]:
        """Runs for the service's lifetime: one monitor batch per interval until stopped."""
        from iocwatch.flows.monitor import follow_monitor

        serve = self.settings.serve
        interval = self._interval(serve.monitor_interval_s)
        batches = 0
        alerts = 0
        for report in follow_monitor(self.settings, self.store, logs=serve.monitor_logs,
                                     iface=serve.monitor_iface, interval_s=interval,
                                     max_batches=1 if self.once else None, stop=self._stop.is_set):
            batches += 1
            alerts += int(report.get("alerts", 0))
            self._notify_job()
            if self._stop.is_set():
                break
        return {"items": batches, "errors": 0, "alerts": alerts}

    def _spike_job(self) -> dict[str, Any]:
        from iocwatch.ops.spikes import SpikeDetector

        now = datetime.now(UTC)
        if self.settings.serve.spike_now == "latest":  # demo data: "now" is the newest post
            from iocwatch.ops.spikes import latest_post_time

            latest = latest_post_time(self.store)
            now = latest if latest is not None else now
        out = SpikeDetector(self.store, self.settings).run(now)
        sent = self.notifier.notify_alerts(out.alerts)
        return {"items": out.groups, "errors": len(sent.errors), "alerts": len(out.alerts),
                "new_alerts": out.new_alerts, "notified": sent.sent,
                "last_error": sent.errors[-1] if sent.errors else None}

    def _notify_job(self) -> dict[str, Any]:
        from core.documents import Severity

        floor = Severity(self.settings.notify.min_severity.lower()).rank
        wanted = [s.value for s in Severity if s.rank >= floor]
        query = {"bool": {"filter": [{"term": {"module": "security"}},
                                     {"terms": {"severity": wanted}},
                                     {"range": {"last_seen": {
                                         "gte": f"now-{int(self.settings.notify.lookback_h)}h"}}}]}}
        hits = self.store.search("alerts", query, size=500,
                                 sort=[{"risk_score": {"order": "desc"}}]).hits
        out = self.notifier.notify_alerts([h.source for h in hits])
        return {"items": out.sent, "errors": out.failed, "considered": out.considered,
                "last_error": out.errors[-1] if out.errors else None}

    def _digest_job(self) -> dict[str, Any]:
        from iocwatch.ops.notify import send_digest

        out = send_digest(self.store, self.settings, self.notifier)
        return {"items": int(out is not None), "errors": 0, "digest": out}

    def _spool_job(self) -> dict[str, Any]:
        out = self.store.flush()
        return {"items": out.batches, "errors": int(out.unavailable is not None),
                "last_error": out.unavailable, "pending": out.remaining}

    # -- running --------------------------------------------------------------------
    def _execute(self, job: Job) -> None:
        started = time.monotonic()
        try:
            out = job.run()
            job.last = {"ok": True, **{k: v for k, v in out.items() if _jsonable(v)}}
            if job.section and not job.records_itself:
                record_run(self.settings.data_dir, job.section, job.status_name or job.name,  # type: ignore[arg-type]
                           items=int(out.get("items", 0)), errors=int(out.get("errors", 0)),
                           last_error=out.get("last_error"), schedule_s=int(job.interval_s),
                           extra={k: v for k, v in out.items()
                                  if k not in ("items", "errors", "last_error") and _jsonable(v)})
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the service
            job.failures += 1
            reason = str(exc) if isinstance(exc, IocwatchError) else f"{type(exc).__name__}: {exc}"
            log.error("job %s failed: %s", job.name, reason,
                      exc_info=not isinstance(exc, IocwatchError))
            job.last = {"ok": False, "error": reason}
            if job.section:
                record_run(self.settings.data_dir, job.section, job.status_name or job.name,  # type: ignore[arg-type]
                           items=0, errors=1, last_error=reason[:500],
                           schedule_s=int(job.interval_s))
        finally:
            job.last["seconds"] = round(time.monotonic() - started, 2)
            with self._lock:
                job.runs += 1
                job.running = False
                job.next_at = time.monotonic() + job.interval_s

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the service gracefully (only from the main thread; a service
        run from another thread is stopped with :meth:`stop`)."""
        if threading.current_thread() is not threading.main_thread():
            log.debug("not the main thread: signal handlers left alone")
            return

        def handler(signum: int, _frame: Any) -> None:
            log.warning("received %s: finishing running jobs, then stopping",
                        signal.Signals(signum).name)
            self._stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, max_seconds: float | None = None) -> dict[str, Any]:
        """Run until stopped (or every job once with ``once``); returns a summary."""
        if not self.jobs:
            self.build()
        deadline = time.monotonic() + max_seconds if max_seconds else None
        log.info("iocwatch serve: %d jobs (%s)", len(self.jobs),
                 ", ".join(f"{j.name}@{j.interval_s:g}s" for j in self.jobs))
        # Daemon threads: a job still running after the shutdown timeout does not keep the
        # process alive (what it acknowledged is in the spool; a crawl's hand-over file is
        # picked up by the outbox job next time).
        threads: dict[str, threading.Thread] = {}
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                sources_done = all(j.runs >= 1 for j in self.jobs if j.section == "sources")
                for job in self.jobs:
                    if self.once and job.runs + int(job.running) >= 1:
                        continue
                    if self.once and job.section != "sources" and not sources_done:
                        continue  # one pass: analyse and notify what this pass collected
                    with self._lock:
                        due = not job.running and job.next_at <= now
                        busy = sum(1 for j in self.jobs if j.running and j.name != "monitor:follow")
                        if due and (busy < self.workers or job.name == "monitor:follow"):
                            job.running = True
                        else:
                            continue
                    thread = threading.Thread(target=self._execute, args=(job,), daemon=True,
                                              name=f"job-{job.name}")
                    threads[job.name] = thread
                    thread.start()
                self._heartbeat()
                if self.once and all(j.runs >= 1 for j in self.jobs):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._stop.wait(0.2)
        finally:
            self._stop.set()
            timeout = self.settings.serve.shutdown_timeout_s
            end = time.monotonic() + timeout
            for name, thread in threads.items():
                thread.join(timeout=max(end - time.monotonic(), 0.0))
                if thread.is_alive():
                    log.error("job %s still running after the %ss shutdown timeout; leaving it",
                              name, timeout)
            self._heartbeat(force=True, stopped=True)
            if self.store is not None:
                self.store.close()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        return {"jobs": {j.name: {"runs": j.runs, "failures": j.failures,
                                  "interval_s": j.interval_s, "last": j.last}
                         for j in self.jobs}}

    def _heartbeat(self, *, force: bool = False, stopped: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._heartbeat_at < 1.0:
            return
        self._heartbeat_at = now
        pending = None
        if self.store is not None:
            try:
                pending = self.store.spool.pending_docs()
            except IocwatchError as exc:
                log.warning("cannot read the spool backlog: %s", exc)
        data = {"name": self.name, "pid": os.getpid(), "started_at": self.started_at.isoformat(),
                "updated_at": datetime.now(UTC).isoformat(), "stopped": stopped,
                "short": self.short, "spool_pending_docs": pending,
                "store_down": None if self.store is None else self.store.down_reason,
                "jobs": {j.name: {"interval_s": j.interval_s, "runs": j.runs,
                                  "failures": j.failures, "running": j.running,
                                  "next_in_s": round(max(j.next_at - now, 0.0), 1),
                                  "last": j.last} for j in self.jobs}}
        _write_json(heartbeat_path(self.settings, self.name), data)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _write_json(path: Path, data: Any) -> None:
    from core.state import atomic_write_json

    atomic_write_json(path, data)


def heartbeat_path(settings: Settings, name: str = "serve") -> Path:
    return settings.path("serve", f"{name}.json")


def read_heartbeat(settings: Settings, name: str = "serve") -> dict[str, Any] | None:
    path = heartbeat_path(settings, name)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def healthy(settings: Settings, name: str = "serve", *, max_age_s: float = 120.0
            ) -> tuple[bool, str]:
    """Whether a service is running here: a fresh heartbeat from an unstopped process."""
    beat = read_heartbeat(settings, name)
    if beat is None:
        return False, f"no heartbeat ({heartbeat_path(settings, name)}): the service has not started"
    if beat.get("stopped"):
        return False, "the service stopped"
    age = (datetime.now(UTC) - datetime.fromisoformat(beat["updated_at"])).total_seconds()
    if age > max_age_s:
        return False, f"heartbeat is {age:.0f}s old"
    return True, f"running (pid {beat['pid']}, heartbeat {age:.0f}s ago)"
