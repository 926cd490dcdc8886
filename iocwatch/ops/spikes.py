"""Crisis spikes: per watchlist and per topic, volume and negative-share spikes against a baseline.

For every watchlist and topic with posts in the recent *window* (``serve.spike_window_h``
hours up to now), aggregations over the indexed posts (``terms`` → hourly
``date_histogram`` → ``terms`` on sentiment for the window; ``terms`` → ``terms`` for the
*baseline*, the ``serve.spike_baseline_d`` days before it) give the counts. Two tests,
both one-sided and exact:

* **volume**: given ``n = n_window + n_baseline`` posts, under "same rate" the window's
  share is Binomial(n, T_window / (T_window + T_baseline)) (the conditional test for
  two Poisson rates). A spike needs ``n_window >= spike_min_count``, a rate ratio of at
  least ``spike_min_ratio`` (baseline smoothed by one post) and a tail probability
  below ``spike_p_value``; with ``spike_relative`` (default) the group's share of all
  posts must also have risen (Fisher's exact test, same p-value), so a change in
  collection volume does not make every group spike.
* **negative share**: Fisher's exact test of negative/other posts in the window
  against the baseline; needs ``spike_min_count`` negative posts in the window, a share
  at least ``spike_min_share_delta`` higher and a p-value below ``spike_p_value``.

Each spike becomes a listening :class:`core.documents.Alert` (``module="listening"``,
``entity="watchlist:<name>"`` or ``"topic:<name>"``, ``related_ids`` = the window's
posts behind it, newest first). The alert id is fixed per rule, entity and window
block, so later runs update the same alert: triage fields (status, assignee,
history) and ``first_seen`` are kept.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.documents import Alert, Explanation, Severity
from core.errors import IocwatchError
from core.settings import Settings

log = logging.getLogger(__name__)

GROUP_FIELDS = {"watchlist": "watchlists", "topic": "topics"}
VOLUME_RULE = "listening.volume_spike"
NEGATIVE_RULE = "listening.negative_spike"


@dataclass
class GroupCounts:
    """Window and baseline counts of one watchlist or topic."""

    group: str  # "watchlist" | "topic"
    name: str
    window: int = 0
    window_negative: int = 0
    baseline: int = 0
    baseline_negative: int = 0
    peak_hour: str | None = None
    peak_count: int = 0
    total_window: int = 0  # all posts in the window / baseline (for the share test)
    total_baseline: int = 0


@dataclass
class Spike:
    """A significant spike, before it becomes an alert."""

    rule: str
    counts: GroupCounts
    p_value: float
    ratio: float
    window_rate: float  # posts per hour (volume) or negative share (negative)
    baseline_rate: float
    related_ids: list[str] = field(default_factory=list)
    terms: list[tuple[str, int, int]] = field(default_factory=list)  # (keyword, window, baseline) that rose


RISING_MIN = 2  # a term that rose appears in at least this many of the window's posts ...
RISING_RATIO = 2.0  # ... at least this many times its baseline count scaled to the window (+1 smoothing)
RISING_TOP = 5  # terms named in the alert's evidence


def rising_terms(window: dict[str, int], baseline: dict[str, int], scale: float,
                 top: int = RISING_TOP) -> list[tuple[str, int, int]]:
    """Keywords whose count in the window beats their baseline count (scaled by window/baseline
    duration ``scale``) at least :data:`RISING_RATIO`-fold, seen :data:`RISING_MIN` times or more;
    the steepest rise first."""
    def rise(term: str) -> float:
        return (window[term] + 1) / (baseline.get(term, 0) * scale + 1)

    found = [t for t, n in window.items() if n >= RISING_MIN and rise(t) >= RISING_RATIO]
    found.sort(key=lambda t: (-rise(t), -window[t], t))
    return [(t, window[t], baseline.get(t, 0)) for t in found[:top]]


@dataclass
class SpikeReport:
    """What a detection run did."""

    groups: int = 0
    volume: int = 0
    negative: int = 0
    alerts: list[Alert] = field(default_factory=list)
    new_alerts: int = 0  # not seen by earlier runs
    window_start: str | None = None
    now: str | None = None


def _negative(bucket: dict[str, Any]) -> int:
    return sum(s["doc_count"] for s in bucket.get("sentiment", {}).get("buckets", [])
               if s["key"] == "negative")


def _floor_hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    from scipy.stats import binom

    if k <= 0:
        return 1.0
    return float(binom.sf(k - 1, n, p))


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p-value that a/(a+b) exceeds c/(c+d)."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, b], [c, d]], alternative="greater").pvalue)


def _risk(ratio: float, p_value: float) -> float:
    """0-100: grows with the log of the ratio and with the significance."""
    sig = min(-math.log10(max(p_value, 1e-300)), 20.0)
    return max(0.0, min(100.0, 30.0 + 15.0 * math.log2(max(ratio, 1.0)) + 2.0 * sig))


class SpikeDetector:
    """Finds spikes in a store's posts; :meth:`run` also stores them as alerts."""

    def __init__(self, store: Any, settings: Settings):
        self.store = store
        self.settings = settings
        cfg = settings.serve
        self.window_h = cfg.spike_window_h
        self.baseline_d = cfg.spike_baseline_d
        self.min_count = cfg.spike_min_count
        self.p_value = cfg.spike_p_value
        self.min_ratio = cfg.spike_min_ratio
        self.min_share_delta = cfg.spike_min_share_delta
        self.related_max = cfg.spike_related_max
        self.ignore = set(cfg.spike_ignore)
        self.relative = cfg.spike_relative
        self._titles: dict[str, str] | None = None

    def display_name(self, group: str, name: str) -> str:
        """The name people read for a group: a watchlist's title (its slug when it has none)."""
        if group != "watchlist":
            return name
        if self._titles is None:
            from crawlers.watchlists import load_watchlists

            try:
                self._titles = {w.name: w.label for w in
                                load_watchlists(self.settings.crawl.watchlists_file)}
            except IocwatchError as exc:  # a broken watchlists file must not stop spike alerts
                log.warning("watchlist titles unavailable, slugs shown instead: %s", exc)
                self._titles = {}
        return self._titles.get(name, name)

    # -- counting -------------------------------------------------------------------
    def counts(self, now: datetime) -> tuple[list[GroupCounts], datetime, float, float]:
        """Per-group counts; also the window start and both durations in hours.

        Two aggregations keep the bucket count small on Elasticsearch (``search.max_buckets``):
        the window per group, hour and sentiment, then the baseline per group and sentiment,
        restricted to the groups the window has.
        """
        end = _floor_hour(now) + timedelta(hours=1)  # hourly buckets: include the current hour
        window_start = end - timedelta(hours=self.window_h)
        baseline_start = window_start - timedelta(days=self.baseline_d)
        t_window = max((now - window_start).total_seconds() / 3600.0, 1.0)
        t_baseline = self.baseline_d * 24.0
        sentiment = {"sentiment": {"terms": {"field": "sentiment", "size": 3}}}
        hours = {"hours": {"date_histogram": {"field": "published_at", "fixed_interval": "1h",
                                              "min_doc_count": 1}, "aggs": sentiment}}
        window = self.store.aggregate(
            "posts", {"range": {"published_at": {"gte": window_start.isoformat(),
                                                 "lt": end.isoformat()}}},
            {group: {"terms": {"field": fld, "size": 500}, "aggs": hours}
             for group, fld in GROUP_FIELDS.items()})
        found: dict[tuple[str, str], GroupCounts] = {}
        for group in GROUP_FIELDS:
            for bucket in window.get(group, {}).get("buckets", []):
                if f"{group}:{bucket['key']}" in self.ignore:
                    continue
                gc = GroupCounts(group=group, name=str(bucket["key"]))
                for hour in bucket.get("hours", {}).get("buckets", []):
                    gc.window += hour["doc_count"]
                    gc.window_negative += _negative(hour)
                    if hour["doc_count"] > gc.peak_count:
                        gc.peak_count = hour["doc_count"]
                        gc.peak_hour = hour.get("key_as_string") or str(hour["key"])
                found[(group, gc.name)] = gc
        for group, fld in GROUP_FIELDS.items():
            names = [name for g, name in found if g == group]
            if not names:
                continue
            base = self.store.aggregate(
                "posts", {"bool": {"filter": [
                    {"range": {"published_at": {"gte": baseline_start.isoformat(),
                                                "lt": window_start.isoformat()}}},
                    {"terms": {fld: names}}]}},
                {group: {"terms": {"field": fld, "size": len(names) + 10}, "aggs": sentiment}})
            for bucket in base.get(group, {}).get("buckets", []):
                gc = found.get((group, str(bucket["key"])))
                if gc is not None:  # a post in several groups brings the others along
                    gc.baseline += bucket["doc_count"]
                    gc.baseline_negative += _negative(bucket)
        if found:
            total_w = self.store.count("posts", {"range": {"published_at": {
                "gte": window_start.isoformat(), "lt": end.isoformat()}}})
            total_b = self.store.count("posts", {"range": {"published_at": {
                "gte": baseline_start.isoformat(), "lt": window_start.isoformat()}}})
            for gc in found.values():
                gc.total_window, gc.total_baseline = total_w, total_b
        return list(found.values()), window_start, t_window, t_baseline

    # -- testing --------------------------------------------------------------------
    def test(self, gc: GroupCounts, t_window: float, t_baseline: float) -> list[Spike]:
        """The spikes one group shows (zero, one or both kinds)."""
        spikes: list[Spike] = []
        if gc.window >= self.min_count:
            rate_w = gc.window / t_window
            rate_b = max(gc.baseline, 1) / t_baseline  # smoothed: an empty baseline is ~1 post
            ratio = rate_w / rate_b
            if ratio >= self.min_ratio and self._share_rose(gc):
                p = binom_sf(gc.window, gc.window + gc.baseline, t_window / (t_window + t_baseline))
                if p < self.p_value:
                    spikes.append(Spike(VOLUME_RULE, gc, p, ratio, rate_w, gc.baseline / t_baseline))
        if gc.window_negative >= self.min_count and gc.baseline > 0:
            share_w = gc.window_negative / gc.window
            share_b = gc.baseline_negative / gc.baseline
            if share_w - share_b >= self.min_share_delta:
                p = fisher_greater(gc.window_negative, gc.window - gc.window_negative,
                                   gc.baseline_negative, gc.baseline - gc.baseline_negative)
                if p < self.p_value:
                    ratio = share_w / max(share_b, 1.0 / (gc.baseline + 1))
                    spikes.append(Spike(NEGATIVE_RULE, gc, p, ratio, share_w, share_b))
        return spikes

    def _share_rose(self, gc: GroupCounts) -> bool:
        """With ``spike_relative``: the group's share of all posts rose significantly too, so a
        change in collection (a new source, a first crawl that only sees recent items, an
        outage that thinned the baseline) does not make every group spike at once."""
        if not self.relative:
            return True
        if gc.total_baseline == 0:
            return False  # nothing collected before the window: no baseline to compare with
        p = fisher_greater(gc.window, max(gc.total_window - gc.window, 0),
                           gc.baseline, max(gc.total_baseline - gc.baseline, 0))
        return p < self.p_value

    def related(self, spike: Spike, window_start: datetime, end: datetime) -> list[str]:
        """Ids of the window's posts that drove the spike (newest first)."""
        gc = spike.counts
        flt: list[dict[str, Any]] = [
            {"term": {GROUP_FIELDS[gc.group]: gc.name}},
            {"range": {"published_at": {"gte": window_start.isoformat(), "lt": end.isoformat()}}},
        ]
        if spike.rule == NEGATIVE_RULE:
            flt.append({"term": {"sentiment": "negative"}})
        res = self.store.search("posts", {"bool": {"filter": flt}}, size=self.related_max,
                                sort=[{"published_at": {"order": "desc"}}])
        return [h.id for h in res.hits]

    def terms(self, spike: Spike, window_start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """The keywords that rose in the group's window against its baseline days (:func:`rising_terms`)."""
        gc = spike.counts
        base_start = window_start - timedelta(days=self.baseline_d)

        def keywords(gte: datetime, lt: datetime) -> dict[str, int]:
            query = {"bool": {"filter": [{"term": {GROUP_FIELDS[gc.group]: gc.name}},
                                         {"range": {"published_at": {"gte": gte.isoformat(), "lt": lt.isoformat()}}}]}}
            res = self.store.aggregate("posts", query, {"k": {"terms": {"field": "keywords", "size": 50}}})
            return {str(b["key"]): int(b["doc_count"]) for b in res.get("k", {}).get("buckets", [])}

        scale = (end - window_start) / (window_start - base_start)
        return rising_terms(keywords(window_start, end), keywords(base_start, window_start), scale)

    # -- alerts ---------------------------------------------------------------------
    def to_alert(self, spike: Spike, now: datetime, window_start: datetime) -> Alert:
        gc = spike.counts
        entity = f"{gc.group}:{gc.name}"
        label = "danh sách theo dõi" if gc.group == "watchlist" else "chủ đề"
        shown = self.display_name(gc.group, gc.name)
        block_h = max(self.window_h, 1)
        block = datetime.fromtimestamp(
            (int(now.timestamp()) // (block_h * 3600)) * block_h * 3600, UTC)
        risk = _risk(spike.ratio, spike.p_value)
        if spike.rule == VOLUME_RULE:
            title = (f"Lượng thảo luận về {label} «{shown}» tăng đột biến "
                     f"(gấp {spike.ratio:.1f} lần mức thường)")
            evidence = [
                f"{gc.window} bài trong {self.window_h} giờ qua, trung bình "
                f"{spike.window_rate:.2f} bài/giờ so với {spike.baseline_rate:.2f} bài/giờ "
                f"trong {self.baseline_d} ngày trước đó (p = {spike.p_value:.2g})",
            ]
            if gc.total_window and gc.total_baseline:
                evidence.append(f"Chiếm {gc.window / gc.total_window:.0%} tổng số bài trong cửa sổ, "
                                f"so với {gc.baseline / gc.total_baseline:.0%} trước đó")
            explanation = [Explanation(feature="posts_per_hour", observed=round(spike.window_rate, 3),
                                       baseline=round(spike.baseline_rate, 3), contribution=1.0)]
        else:
            title = (f"Tỷ lệ ý kiến tiêu cực về {label} «{shown}» tăng đột biến "
                     f"({spike.window_rate:.0%} so với {spike.baseline_rate:.0%})")
            evidence = [
                f"{gc.window_negative}/{gc.window} bài tiêu cực trong {self.window_h} giờ qua so "
                f"với {gc.baseline_negative}/{gc.baseline} trong {self.baseline_d} ngày trước "
                f"đó (p = {spike.p_value:.2g})",
            ]
            explanation = [Explanation(feature="negative_share", observed=round(spike.window_rate, 3),
                                       baseline=round(spike.baseline_rate, 3), contribution=1.0)]
        if gc.peak_hour:
            evidence.append(f"Giờ cao điểm: {gc.peak_hour} với {gc.peak_count} bài")
        if spike.terms:
            evidence.append("Từ khoá tăng mạnh: " + ", ".join(f"{term} ({n} bài, trước đó {before})"
                                                           for term, n, before in spike.terms))
        return Alert(
            id=Alert.make_id(spike.rule, entity, block.isoformat()), timestamp=now,
            module="listening", event_category=["listening"], rule_name=spike.rule,
            title=title, risk_score=round(risk, 1), severity=Severity.from_score(risk),
            title_key=f"{spike.rule}.{gc.group}", title_params={
                "name": shown, "ratio": spike.ratio, "now": spike.window_rate, "before": spike.baseline_rate},
            first_seen=window_start, last_seen=now, count=max(gc.window, 1),
            explanation=explanation, evidence=evidence, related_ids=spike.related_ids,
            entity=entity)

    def _merge(self, alert: Alert) -> tuple[Alert, bool]:
        """Keep triage and first_seen of an earlier run's alert with the same id."""
        old = self.store.get("alerts", alert.id)
        if old is None:
            return alert, True
        prev = Alert.from_doc(old)
        alert.status, alert.assignee, alert.close_reason = prev.status, prev.assignee, prev.close_reason
        alert.history = prev.history
        alert.first_seen = min(prev.first_seen or alert.first_seen, alert.first_seen)  # type: ignore[type-var]
        alert.risk_score = max(alert.risk_score, prev.risk_score)
        alert.severity = Severity.from_score(alert.risk_score)
        return alert, False

    def detect(self, now: datetime | None = None) -> tuple[list[Alert], SpikeReport]:
        """Spikes as alerts (not stored)."""
        now = now or datetime.now(UTC)
        groups, window_start, t_window, t_baseline = self.counts(now)
        report = SpikeReport(groups=len(groups), window_start=window_start.isoformat(),
                             now=now.isoformat())
        end = _floor_hour(now) + timedelta(hours=1)
        alerts: list[Alert] = []
        for gc in groups:
            for spike in self.test(gc, t_window, t_baseline):
                spike.related_ids = self.related(spike, window_start, end)
                spike.terms = self.terms(spike, window_start, end)
                alerts.append(self.to_alert(spike, now, window_start))
                if spike.rule == VOLUME_RULE:
                    report.volume += 1
                else:
                    report.negative += 1
                log.info("%s for %s:%s (window %d, baseline %d, p=%.2g)", spike.rule, gc.group,
                         gc.name, gc.window, gc.baseline, spike.p_value)
        return alerts, report

    def run(self, now: datetime | None = None) -> SpikeReport:
        """Detect, merge with earlier runs and store the alerts in ``alerts``."""
        alerts, report = self.detect(now)
        merged = []
        for alert in alerts:
            alert, new = self._merge(alert)
            report.new_alerts += int(new)
            merged.append(alert)
        if merged:
            self.store.upsert_many("alerts", merged)
        report.alerts = merged
        return report


def detect_spikes(store: Any, settings: Settings, *, now: datetime | None = None) -> SpikeReport:
    """Run spike detection once over ``store`` and store the alerts."""
    return SpikeDetector(store, settings).run(now)


def latest_post_time(store: Any) -> datetime | None:
    """When the newest indexed post was published (the demo's "now")."""
    res = store.search("posts", {"exists": {"field": "published_at"}}, size=1,
                       sort=[{"published_at": {"order": "desc"}}])
    if not res.hits:
        return None
    return datetime.fromisoformat(res.hits[0].source["published_at"])


def demo_step(settings: Settings, report: dict[str, Any]) -> None:
    """Demo: detect spikes over the demo posts (at the time of the newest post) and notify.

    The demo site carries an injected crisis; its spike becomes a listening alert, and
    a notification goes to every configured sink (none configured: none sent).
    """
    from index.base import open_store
    from iocwatch.ops.notify import Notifier

    store = open_store(settings)
    try:
        now = latest_post_time(store)
        if now is None:
            report.update(posts=0, spikes=0, note="no posts indexed: run the listen step first")
            return
        now += timedelta(minutes=1)
        out = SpikeDetector(store, settings).run(now)
        sent = Notifier(settings).notify_alerts(out.alerts)
        report.update(groups=out.groups, volume_spikes=out.volume, negative_spikes=out.negative,
                      alerts=len(out.alerts), notified=sent.sent, at=now.isoformat(),
                      titles=[a.title for a in out.alerts][:10])
    finally:
        store.close()
