"""The monitor flow: captures and logs through ``security/``, alerts into the store through ``index/``.

Plain functions the commands, the scheduler and the demo call:

* :func:`run_learn` fits the detector on baseline inputs and saves it under
  ``<data_dir>/security/``;
* :func:`run_monitor` scores inputs, raises alerts and upserts them (keeping the triage
  state of alerts already stored under the same id);
* :func:`follow_monitor` does the same continuously for followed logs or a live interface;
* :func:`demo_step` generates the demo network and runs both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from core.documents import Alert
from core.settings import Settings
from core.state import atomic_write_json, read_json
from core.status import record_run

log = logging.getLogger(__name__)


def model_paths(settings: Settings) -> dict[str, Path]:
    base = settings.path("security")
    return {"dir": base, "detector": base / "detector.joblib", "templates": base / "templates.json",
            "baseline_templates": base / "baseline_templates.json", "meta": base / "model.json",
            "analytics": base / "analytics.json"}


def _progress(iterable: Iterable, desc: str, unit: str) -> Iterator:
    from tqdm import tqdm

    yield from tqdm(iterable, desc=desc, unit=unit, unit_scale=True, leave=False, mininterval=0.5)


def _records(pcaps: Iterable[str | Path], logs_: Iterable[str | Path], log_format: str | None,
             stats: list) -> Iterator:
    from security import logs, pcap
    from security.records import ParseStats

    for path in pcaps:
        st = ParseStats(str(path))
        stats.append(st)
        if not Path(path).exists():
            st.errors.append(f"{path}: no such file")
            continue
        yield from _progress(pcap.read(path, st), Path(path).name, "pkt")
    for path in logs_:
        st = ParseStats(str(path))
        stats.append(st)
        if not Path(path).exists():
            st.errors.append(f"{path}: no such file")
            continue
        yield from _progress(logs.read(path, log_format, st), Path(path).name, "line")


def _template_miner(settings: Settings):
    from security.templates import TemplateMiner

    return TemplateMiner(model_paths(settings)["templates"], sim_th=settings.security.template_sim_th)


def run_learn(settings: Settings, *, pcaps: Iterable[str | Path] = (), logs: Iterable[str | Path] = (),
              log_format: str | None = None) -> dict[str, Any]:
    """Fit the detector on baseline captures and logs and save it; returns what was learnt."""
    from core.errors import SecurityMonitorError
    from security.monitor import learn

    pcaps, logs = list(pcaps), list(logs)
    if not pcaps and not logs:
        raise SecurityMonitorError("nothing to learn from", hint="give --pcap and/or --log baseline files")
    stats: list = []
    miner = _template_miner(settings)
    model = learn(_records(pcaps, logs, log_format, stats), settings.security, miner)
    paths = model_paths(settings)
    # Each file is replaced atomically (a full disk or a kill keeps the working one); the
    # detector goes last but one, so a failure before it leaves the old detector in use.
    miner.save()
    atomic_write_json(paths["baseline_templates"], model.baseline_templates)
    if model.analytics is not None:  # learnt baselines; the running state starts afresh
        model.analytics.save(paths["analytics"])
    model.detector.save(paths["detector"])
    det = model.detector
    meta = {"detector": det.name, "contamination": det.contamination, "threshold": det.threshold_,
            "windows": model.windows, "features": det.schema_.columns, "versions": det.versions_,
            "fitted_at": det.fitted_at_, "inputs": [s.as_dict() for s in stats],
            "templates": len(model.baseline_templates)}
    atomic_write_json(paths["meta"], meta)
    log.info("detector %s fitted on %d windows, threshold %.3f", det.name, model.windows, det.threshold_)
    return meta


def load_monitor(settings: Settings):
    """A :class:`security.monitor.Monitor` with the saved detector (rules only when none was learnt)."""
    from security.detectors import Detector
    from security.monitor import Monitor

    paths = model_paths(settings)
    detector = None
    baseline_templates = None
    if paths["detector"].exists():
        detector = Detector.load(paths["detector"])
        if paths["baseline_templates"].exists():
            raw = read_json(paths["baseline_templates"], {})
            baseline_templates = {int(k): int(v) for k, v in raw.items()}
    else:
        log.warning("no fitted detector in %s: rules only (run `iocwatch monitor learn`)", paths["dir"])
    analytics = None
    if settings.security.analytics_enabled:
        from security.analytics.engine import AnalyticsEngine

        analytics = AnalyticsEngine.open(paths["analytics"], settings.security)
    return Monitor(settings.security, detector, _template_miner(settings), baseline_templates, analytics,
                   observers=detection_observers(settings))


def detection_observers(settings: Settings) -> list:
    """The monitor's observers: Sigma rules (bundled and the operators' folders) and intel feeds."""
    cfg = settings.security
    out: list = []
    if cfg.sigma_enabled:
        from security.sigma.engine import SigmaEngine
        from security.sigma.loader import load_cached

        ruleset = load_cached(cfg.sigma_rules_dirs, bundled=cfg.sigma_bundled)
        if ruleset.rules:
            out.append(SigmaEngine(ruleset, cfg))
    if cfg.intel_enabled:
        from security.intel.matcher import IntelObserver
        from security.intel.store import open_cached

        opened = open_cached(intel_dir(settings), min_confidence=cfg.intel_min_confidence)
        if len(opened.matcher):
            out.append(IntelObserver(opened.matcher, cfg))
    return out


def intel_dir(settings: Settings) -> Path:
    """Where loaded threat-intelligence feeds are kept (security.intel_dir, default <data_dir>/security/intel)."""
    return Path(settings.security.intel_dir) if settings.security.intel_dir else settings.path("security", "intel")


def merge_with_stored(store, alerts: list[Alert]) -> list[Alert]:
    """Keep the triage state (status, assignee, reason, history) of alerts already stored.

    A re-run over the same data (overlapping time range) keeps the larger count; a later
    batch in the same de-duplication window adds its count. A store without ``get`` (or
    one that is unreachable) gets the alerts as they are.
    """
    from core.errors import StoreUnavailableError

    getter = getattr(store, "get", None)  # a spooling wrapper may only offer upsert_many
    out = []
    for alert in alerts:
        old_doc = None
        if getter is not None:
            try:
                old_doc = getter("alerts", alert.id)
            except StoreUnavailableError as exc:
                log.warning("store unavailable, alerts stored without merging triage state: %s", exc)
                getter = None
        if old_doc is not None:
            old = Alert.from_doc(old_doc)
            overlap = alert.first_seen <= old.last_seen and alert.last_seen >= old.first_seen
            alert.count = max(old.count, alert.count) if overlap else old.count + alert.count
            alert.first_seen = min(old.first_seen, alert.first_seen)
            alert.last_seen = max(old.last_seen, alert.last_seen)
            alert.status, alert.assignee = old.status, old.assignee
            alert.close_reason, alert.history = old.close_reason, old.history
            if old.risk_score > alert.risk_score:
                alert.risk_score, alert.severity = old.risk_score, old.severity
        out.append(alert)
    return out


def store_result(settings: Settings, store, result, stats: list, started: float) -> dict[str, Any]:
    alerts = merge_with_stored(store, result.alerts)
    bulk = store.upsert_many("alerts", alerts)
    report = result.summary()
    spooled = len(getattr(bulk, "pending", ()))  # alerts kept in the spool while the store is down
    spool = getattr(store, "spool", None)
    report.update(stored=len(bulk.stored), spooled=spooled, rejected=[list(r) for r in bulk.rejected],
                  inputs=[s.as_dict() for s in stats], seconds=round(time.time() - started, 2))
    for st in stats:
        record_run(settings.data_dir, "monitors", st.source, items=st.records, errors=st.bad + len(st.errors),
                   last_error=st.errors[-1] if st.errors else None,
                   extra={"skipped": dict(st.skipped), "alerts": report["alerts"]},
                   spooled=spooled, spool=spool.path.stem if spool is not None else None)
    return report


def run_monitor(settings: Settings, store, *, pcaps: Iterable[str | Path] = (),
                logs: Iterable[str | Path] = (), log_format: str | None = None) -> dict[str, Any]:
    """Score captures and logs once, store the alerts, and return a report dict.

    The report has ``alerts`` (how many), ``by_rule``, ``by_severity``, ``stored``,
    ``rejected``, ``suppressed`` (allow-listed), ``inputs`` (records and skipped lines
    or packets by reason, per file) and ``alert_ids``.
    """
    started = time.time()
    monitor = load_monitor(settings)
    stats: list = []
    monitor.feed_many(_records(list(pcaps), list(logs), log_format, stats))
    result = monitor.finish()
    if monitor.templates is not None:
        monitor.templates.save()
    report = store_result(settings, store, result, stats, started)
    if monitor.analytics is not None:  # after the alerts are stored: a kill before re-judges the input
        monitor.analytics.save(model_paths(settings)["analytics"])
    report["detector"] = monitor.detector.name if monitor.detector is not None else None
    report["alert_ids"] = [a.id for a in result.alerts]
    return report


def follow_registry_path(settings: Settings) -> Path:
    """The registry of followed log positions (one per data directory: one monitor writes at a time)."""
    return settings.path("security", "follow-registry.json")


def follow_monitor(settings: Settings, store, *, logs: Iterable[str | Path] = (), iface: str | None = None,
                   bpf: str | None = None, log_format: str | None = None, interval_s: float | None = None,
                   max_batches: int | None = None, from_start: bool = True,
                   registry_path: Path | None = None,
                   stop: Callable[[], bool] | None = None) -> Iterator[dict[str, Any]]:
    """Follow logs (and/or capture from ``iface``) and yield one report per batch of ``interval_s``.

    Positions are kept in a Filebeat-style registry (:mod:`security.follow`), saved after
    each batch's alerts are stored: a restart resumes right after the last stored batch,
    and a file seen for the first time is read from its start (``from_start=False``: from
    its end). A file that cannot be read or whose format is not recognised is reported in
    the batch's ``inputs`` and ``failed`` and skipped; the other files go on. When ``stop()``
    turns true or the run is interrupted (Ctrl-C), the batch in progress is stored first.
    """
    from security import live
    from security.follow import FollowRegistry, LogFollower
    from security.records import ParseStats

    interval = interval_s or settings.serve.monitor_interval_s
    registry = FollowRegistry(registry_path or follow_registry_path(settings))
    followers = [LogFollower(p, log_format, position=registry.get(p), from_start=from_start) for p in logs]
    stop = stop or (lambda: False)
    batches = 0
    interrupted = False
    detection_observers(settings)  # rules and feeds loaded (and cached) before the first batch's clock starts
    try:
        while (max_batches is None or batches < max_batches) and not interrupted:
            started = time.time()
            for f in followers:
                f.stats = ParseStats(str(f.path))  # counts per batch
                f.retry()
            cap_stats = ParseStats(f"iface:{iface}") if iface else None
            monitor = load_monitor(settings)
            deadline = started + interval
            try:
                while time.time() < deadline and not stop():
                    if iface:
                        monitor.feed_many(live.sniff_packets(
                            iface, bpf=bpf or settings.security.bpf_filter,
                            timeout_s=min(1.0, max(0.1, deadline - time.time())), stats=cap_stats))
                    idle = True
                    for f in followers:
                        for rec in f.poll(max_lines=5000):
                            idle = False
                            monitor.feed(rec)
                    if idle and not iface:
                        time.sleep(max(0.0, min(0.2, deadline - time.time())))
            except KeyboardInterrupt:
                interrupted = True  # store what was read before stopping
            result = monitor.finish()
            stats = [f.stats for f in followers] + ([cap_stats] if cap_stats else [])
            report = store_result(settings, store, result, stats, started)
            if monitor.analytics is not None:
                monitor.analytics.save(model_paths(settings)["analytics"])
            for f in followers:  # only now: these lines' alerts are stored (or durably spooled)
                registry.update(f.path, f.position())
            registry.save()
            report["alert_ids"] = [a.id for a in result.alerts]
            report["failed"] = {str(f.path): f.failed for f in followers if f.failed}
            report["interrupted"] = interrupted
            batches += 1
            yield report
            if stop():
                return
    finally:
        for f in followers:
            f.close()


def demo_step(settings: Settings, report: dict[str, Any]) -> None:
    """Generate the demo network, learn on its benign hour, monitor the attack hour, store the alerts."""
    from index import open_store
    from security.demo import INJECTED, demo_inputs, write_demo

    folder = settings.path("demo", "security")
    written = write_demo(folder)
    inputs = demo_inputs(folder)
    meta = run_learn(settings, pcaps=inputs["baseline_pcaps"], logs=inputs["baseline_logs"])
    store = open_store(settings)
    try:
        out = run_monitor(settings, store, pcaps=inputs["attack_pcaps"], logs=inputs["attack_logs"])
        stored = [Alert.from_doc(store.get("alerts", i)) for i in out["alert_ids"]]
    finally:
        store.close()
    raised = {}
    for rule, spec in INJECTED.items():
        hits = [a for a in stored if a.rule_name == rule and a.entity == spec["entity"]]
        raised[rule] = len(hits)
    attackers = {spec["entity"] for spec in INJECTED.values()}  # Sigma and intel alerts on them are not benign
    benign_high = [a.id for a in stored
                   if a.rule_name not in INJECTED and a.entity not in attackers and a.severity.rank > 1]
    report.update(packets=sum(v for k, v in written["files"].items() if k.endswith(".pcap")),
                  baseline_windows=meta["windows"], threshold=round(meta["threshold"], 3),
                  alerts=out["alerts"], injected_detected=sum(1 for n in raised.values() if n == 1),
                  injected=len(INJECTED), benign_above_medium=len(benign_high),
                  by_rule=out["by_rule"], by_severity=out["by_severity"], inputs_folder=str(folder))
