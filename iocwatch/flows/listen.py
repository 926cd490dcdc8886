"""The listening flow: crawl -> analyse -> store, and the demo's collection step.

Spiders hand batches of :class:`core.documents.Post` to a *sink* built here; the sink
runs the NLP pipeline on the batch and writes it through ONE store-like object (any
object with ``upsert_many(kind, docs)``, e.g. the Store or a spooling wrapper).

Two ways to run a crawl:

* in this process (``iocwatch crawl``): the sink is called from Scrapy's item pipeline;
* in a child process (the demo, tests, the service): the child writes JSONL, this
  process then analyses and stores it. Twisted's reactor cannot restart, so anything
  that crawls more than once per process uses this.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.documents import Post
from core.settings import Settings
from core.status import record_run

log = logging.getLogger(__name__)

Analyse = Callable[[list[Post]], Iterable[Post]]
_DEFAULT: Any = object()
LINK = re.compile(r"https?://[^\s<>\"')\]]{4,2000}", re.I)  # links in a post's text (as intel scan-posts reads them)


class CrawlIntel:
    """Threat intel on crawled URLs: each stored post's URL and the links in its text are matched
    against the loaded feeds (:mod:`security.intel`) as batches are stored; :meth:`alerts` gives one
    alert per feed, indicator and post, naming both (``threat.feed.name``, ``threat.indicator.name``)."""

    def __init__(self, matcher: Any, config: Any):
        self.matcher = matcher
        self.config = config
        self.matched: list[tuple[str, str, float]] = []  # (url, "post:<id>", epoch s) that hit a feed
        self.urls = 0

    @classmethod
    def open(cls, settings: Settings) -> CrawlIntel | None:
        """The loaded feeds, or None when intel on crawls is off or no feed is loaded."""
        sec = settings.security
        if not (sec.intel_enabled and sec.intel_on_crawl):
            return None
        from iocwatch.flows.monitor import intel_dir
        from security.intel.store import open_cached

        opened = open_cached(intel_dir(settings), min_confidence=sec.intel_min_confidence)
        for problem in opened.problems:
            log.warning("threat intel on crawled URLs: %s", problem)
        return cls(opened.matcher, sec) if len(opened.matcher) else None

    def add(self, posts: Iterable[Post]) -> None:
        from urllib.parse import urlsplit

        for p in posts:
            found = {p.url} if p.url else set()
            found |= {u.rstrip(".,;") for u in LINK.findall(p.text or "")}
            ts = (p.collected_at or datetime.now(UTC)).timestamp()
            for url in found:
                self.urls += 1
                try:
                    host = urlsplit(url).hostname
                except ValueError:  # a malformed link in a post's text: nothing to match
                    continue
                if self.matcher.match_url(url) or self.matcher.match_domain(host):
                    self.matched.append((url, f"post:{p.id}", ts))

    def alerts(self) -> list:
        from security.intel.matcher import url_alerts

        return url_alerts(self.matcher, self.matched, self.config) if self.matched else []


def open_listen_store(settings: Settings):
    """The store every write of the listening flow goes through: the configured store behind
    the durable spool (:mod:`iocwatch.ops.spool`), so a store outage loses no analysed post."""
    from iocwatch.ops.spool import open_spooled_store

    return open_spooled_store(settings, "listen")


def load_analyser(settings: Settings) -> Analyse | None:
    """The NLP pipeline as a batch function, or ``None`` when ``nlp.pipeline`` is not built."""
    if importlib.util.find_spec("nlp.pipeline") is None:
        log.warning("nlp.pipeline is not available: posts are stored without analysis")
        return None
    from nlp.pipeline import load_pipeline

    pipeline = load_pipeline(settings)
    batch_size = settings.nlp.batch_size

    def analyse(posts: list[Post]) -> Iterator[Post]:
        return pipeline.pipe(posts, batch_size=batch_size)

    return analyse


class StoreSink:
    """Analyse a batch, upsert it, and count what was stored, spooled and rejected per source.

    ``spooled`` counts posts a spooling store kept on disk because the store was down:
    safe, but not in the index until the spool is replayed.
    """

    def __init__(self, store: Any, analyse: Analyse | None, intel: CrawlIntel | None = None):
        self.store = store
        self.analyse = analyse
        self.intel = intel  # matches stored posts' URLs against the loaded feeds
        self.stored: Counter = Counter()
        self.spooled: Counter = Counter()
        self.rejected: Counter = Counter()
        self.rejections: list[tuple[str | None, str]] = []
        self.platforms: Counter = Counter()

    def __call__(self, posts: list[Post]) -> None:
        if not posts:
            return
        batch = list(self.analyse(posts)) if self.analyse is not None else list(posts)
        source_of = {p.id: p.source for p in batch}
        result = self.store.upsert_many("posts", batch)
        for doc_id in result.stored:
            self.stored[source_of.get(doc_id, "?")] += 1
        for doc_id in getattr(result, "pending", ()):
            self.spooled[source_of.get(doc_id, "?")] += 1
        for doc_id, reason in result.rejected:
            self.rejected[source_of.get(doc_id, "?")] += 1
            if len(self.rejections) < 20:
                self.rejections.append((doc_id, reason))
            log.warning("store rejected post %s: %s", doc_id, reason)
        stored = set(result.stored)
        for p in batch:
            if p.id in stored:
                self.platforms[p.platform] += 1
        if self.intel is not None:
            kept = stored | set(getattr(result, "pending", ()))
            self.intel.add(p for p in batch if p.id in kept)


def listen(settings: Settings, names: Iterable[str] = (), *, sources_file: str | Path | None = None,
           store: Any = None, analyse: Analyse | None = _DEFAULT, jobdir: str | Path | None = None,
           in_process: bool = True, overrides: dict[str, Any] | None = None,
           env: dict[str, str] | None = None, progress: bool = True, record: bool = True) -> dict[str, Any]:
    """Crawl the named sources (all enabled ones by default), analyse and store the posts.

    Args:
        store: the store-like object to write to; opened (and closed) here when ``None``.
        analyse: a batch function ``list[Post] -> Iterable[Post]``; by default the NLP
            pipeline (:func:`load_analyser`); ``None`` stores posts unanalysed.
        jobdir: keep Scrapy's queue there so a stopped crawl resumes (one folder per source).
        in_process: crawl in this process (once per process) or in a child process.
        overrides: extra Scrapy settings (e.g. ``{"AUTOTHROTTLE_ENABLED": False}``).
        env: extra environment for the child process (API keys of the demo).
        record: record each source's run in ``status.json``.

    Returns a dict with one report per source (items stored, errors, what was skipped)
    and totals.
    """
    from crawlers.runner import read_posts, run_crawl, run_crawl_subprocess
    from crawlers.sources import default_sources_path, load_sources, select_sources

    names = list(names)
    sources_path = Path(sources_file or settings.crawl.sources_file or default_sources_path())
    sources = select_sources(load_sources(sources_path), names)
    own_store = store is None
    if own_store:
        store = open_listen_store(settings)
    if analyse is _DEFAULT:
        analyse = load_analyser(settings)
    sink = StoreSink(store, analyse, CrawlIntel.open(settings))
    started = datetime.now(UTC)
    kept_file: str | None = None
    intel_alerts = 0
    try:
        if in_process:
            reports = run_crawl(settings, sources, sink=sink, jobdir=jobdir, overrides=overrides,
                                progress=progress)
        else:
            runs = settings.path("crawl", "runs")
            runs.mkdir(parents=True, exist_ok=True)
            out = runs / f"posts-{started:%Y%m%dT%H%M%S%f}.jsonl"
            reports = run_crawl_subprocess(settings, sources_path, [s.name for s in sources], out_path=out,
                                           jobdir=jobdir, overrides=overrides, env=env)
            failed = 0
            from tqdm import tqdm

            total = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
            with tqdm(total=total, desc="analyse+store", unit="post", disable=not progress or not total,
                      file=sys.stderr, mininterval=1.0) as bar:
                for batch in read_posts(out):
                    try:
                        sink(batch)
                    except Exception as exc:  # the store is down: keep the file for a replay
                        failed += len(batch)
                        log.error("could not store %d crawled posts: %s", len(batch), exc)
                    bar.update(len(batch))
            if failed:
                kept_file = str(out)
                log.error("%d posts were not stored; they are kept in %s", failed, out)
            else:
                out.unlink(missing_ok=True)
        intel_alerts = _store_intel_alerts(store, sink.intel)
    finally:
        waiting = _still_spooled(store, replay=own_store)
        if own_store:
            store.close()
    if not waiting:  # whatever went through the spool has reached the store by now
        sink.spooled.clear()

    by_name = {s.name: s for s in sources}
    spool = getattr(store, "spool", None)
    spool_name = spool.path.stem if spool is not None else None
    out_reports = []
    for rep in reports:
        name = rep["source"]
        rep["stored"] = sink.stored.get(name, 0)
        rep["spooled"] = sink.spooled.get(name, 0)
        rep["rejected"] = sink.rejected.get(name, 0)
        out_reports.append(rep)
        if record:
            src = by_name.get(name)
            errors = rep["errors"] + rep["rejected"]
            last_error = rep.get("disabled")
            if rep.get("error_samples"):
                sample = rep["error_samples"][0]
                last_error = f"{sample['kind']}: {sample.get('url') or ''} {sample.get('detail') or ''}".strip()
            record_run(settings.data_dir, "sources", name, items=rep["stored"],
                       errors=errors if not rep.get("disabled") else 1, last_error=last_error,
                       schedule_s=src.schedule_s if src else None,
                       spooled=rep["spooled"], spool=spool_name,
                       extra={"type": rep.get("type"), "disabled": rep.get("disabled"),
                              "skipped_seen": rep.get("requests_skipped_seen", 0)
                              + rep.get("counters", {}).get("skipped_seen", 0)})
    return {
        "sources": out_reports,
        "stored": sum(sink.stored.values()),
        "spooled": sum(sink.spooled.values()),
        "spool": spool_name,
        # False while posts of this run wait in the spool (until it is replayed), or a batch
        # could not be stored at all (sink_failed: collected again by the next run)
        "ok": not sink.spooled and not any(r.get("error_counts", {}).get("sink_failed")
                                           for r in out_reports),
        "rejected": sum(sink.rejected.values()),
        "errors": sum(r["errors"] for r in out_reports),
        "disabled": [r["source"] for r in out_reports if r.get("disabled")],
        "by_platform": dict(sink.platforms),
        "analysed": analyse is not None,
        "unstored_file": kept_file,
        "intel_alerts": intel_alerts,  # crawled URLs that a loaded feed lists, as stored alerts
    }


def _store_intel_alerts(store: Any, intel: CrawlIntel | None) -> int:
    """Store the alerts of crawled URLs that loaded feeds list (triage of earlier ones kept)."""
    alerts = intel.alerts() if intel is not None else []
    if not alerts:
        return 0
    from iocwatch.flows.monitor import merge_with_stored

    result = store.upsert_many("alerts", merge_with_stored(store, alerts))
    for doc_id, reason in result.rejected:
        log.warning("store rejected intel alert %s: %s", doc_id, reason)
    log.info("threat intel: %d crawled URL(s) of %d matched a feed, %d alert(s)", len(intel.matched), intel.urls,
             len(alerts))
    return len(alerts)


def _still_spooled(store: Any, *, replay: bool) -> int:
    """Documents still waiting in the store's spool (0 for a store without one); with
    ``replay``, one last replay is tried first."""
    spool = getattr(store, "spool", None)
    if spool is None:
        return 0
    if replay:
        from core.errors import StoreError

        try:
            store.flush(force=True)
        except StoreError as exc:
            log.warning("last replay of the spool failed: %s", exc)
    return spool.pending_docs()


def demo_step(settings: Settings, report: dict[str, Any], *, seed: int = 7,
              extra_posts: list[dict[str, Any]] | None = None, store: Any = None,
              analyse: Analyse | None = _DEFAULT) -> None:
    """Serve the demo site on 127.0.0.1, crawl all of it, analyse and store the posts.

    ``extra_posts`` (see :mod:`crawlers.demo_site.generator`) are added to the site, e.g.
    a burst of complaints for the spike detector. ``store`` and ``analyse`` as in
    :func:`listen` (defaults: the configured store and the NLP pipeline).
    """
    from crawlers.demo_site import DEMO_ENV, serve_demo

    if extra_posts is None:  # the demo crisis the spikes step finds (iocwatch/ops/demo.py)
        from iocwatch.ops.demo import spike_posts

        extra_posts = spike_posts()
    if analyse is _DEFAULT:
        analyse = load_analyser(settings)  # fail before serving anything if the models are missing

    with serve_demo(seed, extra_posts=extra_posts, sources_path=settings.path("demo", "sources.yaml")) \
            as (server, content, path):
        log.info("demo site on %s with %d items", server.base_url, len(content.items))
        result = listen(settings, sources_file=path, in_process=False, env=DEMO_ENV, store=store, analyse=analyse,
                        overrides={"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                                   "RETRY_BACKOFF_BASE_S": 0.2})
    report.update(
        site_items=len(content.items),
        sources=len(result["sources"]),
        posts_stored=result["stored"],
        rejected=result["rejected"],
        crawl_errors=result["errors"],
        analysed=result["analysed"],
        by_platform=result["by_platform"],
        per_source={r["source"]: r["stored"] for r in result["sources"]},
    )
    errs = defaultdict(int)
    for r in result["sources"]:
        for kind, n in r.get("error_counts", {}).items():
            errs[kind] += n
    if errs:
        report["error_kinds"] = dict(errs)
