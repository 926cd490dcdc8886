"""Run spiders for configured sources: in this process (the CLI), or in a child process
(tests and anything that crawls more than once per process: Twisted's reactor cannot
restart).

The child is ``python -m crawlers.run``; it writes posts as JSON lines and a report as
JSON, and the parent reads them back (:func:`run_crawl_subprocess`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.documents import Post
from core.errors import CrawlError
from core.settings import Settings
from crawlers.sources import Source

log = logging.getLogger(__name__)


def spider_classes() -> dict[str, type]:
    """Source type -> spider class."""
    from crawlers.spiders.feeds import ListingSpider, RssSpider, SitemapSpider
    from crawlers.spiders.social import FacebookSpider, ForumSpider, TelegramSpider, YoutubeSpider

    return {cls.source_type: cls for cls in (RssSpider, SitemapSpider, ListingSpider, YoutubeSpider,
                                             FacebookSpider, TelegramSpider, ForumSpider)}


class SinkRef:
    """Carries the shell's sink through Scrapy settings, which deep-copy their values."""

    def __init__(self, sink: Callable[[list[Post]], None]):
        self.sink = sink

    def __deepcopy__(self, memo: dict) -> SinkRef:
        return self

    def __call__(self, posts: list[Post]) -> None:
        self.sink(posts)


def scrapy_settings(settings: Settings, *, sink: Callable[[list[Post]], None] | None = None,
                    overrides: dict[str, Any] | None = None):
    """Scrapy settings: ``crawlers/settings.py`` plus the values of :class:`CrawlSettings`."""
    from scrapy.settings import Settings as ScrapySettings

    import crawlers.settings as defaults
    from crawlers.pipelines import RunMemory

    crawl = settings.crawl
    s = ScrapySettings()
    s.setmodule(defaults, priority="project")
    s.update({
        "USER_AGENT": crawl.user_agent,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout_s,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(crawl.max_page_bytes, s.getint("DOWNLOAD_WARNSIZE")),
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "RETRY_TIMES": crawl.retry_times,
        "IOCWATCH_DATA_DIR": str(settings.data_dir),
        "IOCWATCH_SOURCES_FILE": crawl.sources_file,
        "IOCWATCH_WATCHLISTS_FILE": crawl.watchlists_file,
        "IOCWATCH_SINK": SinkRef(sink) if sink is not None else None,
        "IOCWATCH_RUN_MEMORY": RunMemory(),  # shared by every source of this run
    }, priority="cmdline")
    if crawl.redis_url:  # scale-out: several crawler processes share one queue and dupefilter
        s.update({
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": crawl.redis_url,
            "IOCWATCH_REDIS_IDLE_S": crawl.redis_idle_s,
        }, priority="cmdline")
    if overrides:
        s.update(overrides, priority="cmdline")
    return s


class _AtLeast(logging.Filter):
    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def run_crawl(settings: Settings, sources: list[Source], *, sink: Callable[[list[Post]], None] | None,
              jobdir: str | Path | None = None, overrides: dict[str, Any] | None = None,
              progress: bool = True) -> list[dict[str, Any]]:
    """Crawl ``sources`` in this process (once per process) and return one report per source.

    Sources whose credentials are missing are not started; their report says which
    environment variable to set. With ``jobdir`` each source keeps its queue in
    ``<jobdir>/<source>`` so a stopped crawl resumes where it stopped.
    """
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from tqdm import tqdm

    from crawlers.spiders.base import CrawlReport

    classes = spider_classes()
    reports: list[dict[str, Any]] = []
    runnable: list[Source] = []
    for src in sources:
        missing = src.missing_credentials()
        if missing:
            rep = CrawlReport(source=src.name, type=src.type,
                              disabled=f"set {', '.join(missing)} to enable source {src.name}")
            log.warning("source %s disabled: %s", src.name, rep.disabled)
            reports.append(rep.to_dict())
        else:
            runnable.append(src)
    if not runnable:
        return reports
    base = scrapy_settings(settings, sink=sink, overrides=overrides)
    # Scrapy sets its loggers to DEBUG; keep its routine INFO (versions, stats dumps) out of
    # our log unless we run at DEBUG. Our own handler stays the only root handler.
    root_level = logging.getLogger().getEffectiveLevel()
    scrapy_level = logging.DEBUG if root_level <= logging.DEBUG else logging.WARNING
    for name in ("scrapy.utils.log", "scrapy.crawler", "scrapy.addons", "scrapy.middleware",
                 "scrapy.extensions.telnet"):
        logging.getLogger(name).addFilter(_AtLeast(scrapy_level))
    base.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(base)
    logging.getLogger("scrapy").setLevel(scrapy_level)
    bar = tqdm(total=None, desc="crawl", unit="post", disable=not progress, file=sys.stderr, mininterval=1.0)

    def tick(*_: Any, **__: Any) -> None:
        bar.update(1)

    crawlers = []
    for src in runnable:
        crawler = process.create_crawler(classes[src.type])
        if jobdir:  # one queue directory per source
            crawler.settings.set("JOBDIR", str(Path(jobdir) / src.name), priority="cmdline")
        if settings.crawl.redis_url:  # scale-out: one shared queue and dupefilter per source
            for key, part in (("SCHEDULER_QUEUE_KEY", "requests"), ("SCHEDULER_DUPEFILTER_KEY", "dupefilter")):
                crawler.settings.set(key, f"iocwatch:{src.name}:{part}", priority="cmdline")
        crawler.signals.connect(tick, signal=signals.item_scraped)  # `tick` outlives the crawl
        process.crawl(crawler, source_obj=src)
        crawlers.append((src, crawler))
    process.start()
    bar.close()
    for src, crawler in crawlers:
        spider = getattr(crawler, "spider", None)
        if spider is None:
            raise CrawlError(f"spider for source {src.name} did not start",
                             hint="run with -vv to see Scrapy's log")
        reports.append(spider.report.to_dict())
    return reports


def run_crawl_subprocess(settings: Settings, sources_file: str | Path, names: list[str], *,
                         out_path: str | Path, jobdir: str | Path | None = None,
                         overrides: dict[str, Any] | None = None, timeout_s: float | None = None,
                         env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Crawl in a child process that appends posts to ``out_path`` (JSONL); returns the reports."""
    report_path = Path(str(out_path) + ".report.json")
    cmd = [sys.executable, "-m", "crawlers.run", "--sources", str(sources_file),
           "--data-dir", str(settings.data_dir), "--out", str(out_path), "--report", str(report_path)]
    if jobdir:
        cmd += ["--jobdir", str(jobdir)]
    if overrides:
        cmd += ["--scrapy-settings", json.dumps(overrides)]
    if settings.crawl.watchlists_file:
        cmd += ["--watchlists", settings.crawl.watchlists_file]
    cmd += list(names)
    child_env = {**os.environ, **(env or {})}
    child_env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(cmd, env=child_env, timeout=timeout_s, capture_output=True, text=True)
    if proc.returncode != 0 or not report_path.exists():
        raise CrawlError(f"crawl child failed with code {proc.returncode}: {proc.stderr.strip()[-800:]}",
                         hint="run the same sources with `iocwatch -vv crawl` to see the full log")
    reports = json.loads(report_path.read_text(encoding="utf-8"))
    report_path.unlink()
    return reports


def read_posts(path: str | Path, batch_size: int = 200) -> Iterator[list[Post]]:
    """Posts written by a :class:`crawlers.pipelines.JsonlSink`, in batches."""
    path = Path(path)
    if not path.exists():
        return
    batch: list[Post] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                batch.append(Post.from_doc(json.loads(line)))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
    if batch:
        yield batch
