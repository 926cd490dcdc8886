"""What every iocwatch spider shares: its source, the run report, error classification,
skip-before-download of known URLs, and article extraction into a :class:`Post`."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TwistedTimeout

from core.documents import Author, Post
from core.errors import ConfigError
from crawlers.extraction import decode_body, extract_article, parse_date
from crawlers.pipelines import resolve_data_dir
from crawlers.seen import SeenStore
from crawlers.sources import Source, load_sources
from crawlers.watchlists import WatchlistMatcher, load_watchlists

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 50  # per source and run; the counters keep the full numbers


@dataclass
class CrawlReport:
    """What one source's run did: posts delivered, what was skipped, what failed and why."""

    source: str
    type: str = ""
    items: int = 0  # posts handed to the sink
    requests_skipped_seen: int = 0  # article URLs not downloaded because already collected
    counters: Counter = field(default_factory=Counter)  # skipped_seen, same_content, ...
    errors: list[dict[str, Any]] = field(default_factory=list)  # {kind, url, detail}
    error_counts: Counter = field(default_factory=Counter)
    disabled: str | None = None  # why the source did not run (missing credentials)
    pages: int = 0  # responses received
    elapsed_s: float = 0.0  # from spider open to close

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n

    def error(self, kind: str, url: str | None, detail: str = "") -> None:
        self.error_counts[kind] += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"kind": kind, "url": url, "detail": detail[:300]})

    @property
    def n_errors(self) -> int:
        return sum(self.error_counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "type": self.type, "items": self.items,
                "requests_skipped_seen": self.requests_skipped_seen,
                "counters": dict(self.counters), "errors": self.n_errors,
                "error_counts": dict(self.error_counts), "error_samples": self.errors,
                "disabled": self.disabled, "pages": self.pages, "elapsed_s": round(self.elapsed_s, 3)}


def classify_failure(failure) -> tuple[str, str]:
    """A short error kind for a request failure, and its detail."""
    exc = failure.value
    text = str(exc)
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}", f"HTTP {exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return "robots_disallowed", text
        if "redirect" in text.lower():
            return "redirect_loop", text
        return "ignored", text
    if isinstance(exc, CancelledError) or "maxsize" in text.lower() or "max size" in text.lower():
        return "too_large", text or "response larger than the maximum page size"
    if isinstance(exc, TwistedTimeout | TCPTimedOutError) or "timeout" in type(exc).__name__.lower():
        return "timeout", text
    if isinstance(exc, DNSLookupError | ConnectionRefusedError) or any(
            word in type(exc).__name__ for word in ("Resolve", "DNS", "ConnectionRefused", "ConnectError")):
        return "unreachable", text
    return type(exc).__name__, text


class SourceSpider(scrapy.Spider):
    """Base of all iocwatch spiders: one spider instance collects one configured source.

    Run from the shell with ``source_obj=<Source>``, or by hand with
    ``scrapy crawl <type> -a source=<name> [-a sources_file=FILE]``.
    """

    source_type = ""
    platform = "news"

    def __init__(self, source: str | None = None, sources_file: str | None = None,
                 source_obj: Source | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._source_name = source
        self._sources_file = sources_file
        self.source: Source | None = source_obj
        self.report = CrawlReport(source=source_obj.name if source_obj else (source or self.name),
                                  type=self.source_type)
        self.simhashes: dict[str, tuple[int | None, bytes | None]] = {}  # id -> (simhash, minhash)
        self.words: dict[str, list[str]] = {}  # id -> folded words, between two pipelines
        self.emitted = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if spider.source is None:
            if not spider._source_name:
                raise ConfigError(f"spider {cls.name!r} needs a source",
                                  hint=f"scrapy crawl {cls.name} -a source=<name from sources.yaml>")
            sources = load_sources(spider._sources_file or settings.get("IOCWATCH_SOURCES_FILE"))
            found = [s for s in sources if s.name == spider._source_name]
            if not found:
                raise ConfigError(f"unknown source {spider._source_name!r}",
                                  hint="check the names in the sources file")
            spider.source = found[0]
        if spider.source.type != cls.source_type:
            raise ConfigError(f"source {spider.source.name!r} is of type {spider.source.type!r}",
                              hint=f"run it with the {spider.source.type!r} spider")
        spider.report.source = spider.source.name
        data_dir = resolve_data_dir(settings)
        spider.seen = SeenStore(data_dir / "crawl" / "seen.sqlite")
        watchlists = settings.get("IOCWATCH_WATCHLISTS")
        if watchlists is None:
            watchlists = load_watchlists(settings.get("IOCWATCH_WATCHLISTS_FILE"))
        spider.matcher = WatchlistMatcher(list(watchlists))
        spider.incremental = settings.getbool("IOCWATCH_INCREMENTAL", True)
        spider.redis_idle_s = settings.getfloat("IOCWATCH_REDIS_IDLE_S", 0.0) if settings.get("REDIS_URL") else 0.0
        if spider.redis_idle_s > 0:
            spider._idle_since = None
            crawler.signals.connect(spider._wait_for_shared_work, signal=signals.spider_idle)
            crawler.signals.connect(spider._busy, signal=signals.response_received)
        return spider

    def _busy(self, *args: Any, **kwargs: Any) -> None:
        self._idle_since = None

    def _wait_for_shared_work(self, spider: scrapy.Spider) -> None:
        """Scale-out (a shared Redis queue): a worker whose queue is empty waits up to
        ``crawl.redis_idle_s`` for requests other workers add (a worker started beside another
        finds the start pages already taken and the articles not yet queued) before it ends;
        Scrapy asks again about every 5 s."""
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.redis_idle_s:
            raise DontCloseSpider

    def closed(self, reason: str) -> None:
        self.report.count(f"finish_{reason}")
        stats = self.crawler.stats
        self.report.pages = int(stats.get_value("response_received_count", 0) or 0)
        start = stats.get_value("start_time")
        if start is not None:
            from datetime import UTC, datetime

            self.report.elapsed_s = (datetime.now(UTC) - start).total_seconds()
        self.seen.close()

    # ------------------------------------------------------------ helpers
    def credentials_missing(self) -> bool:
        """True (and the reason reported) when the source's credentials are not set."""
        missing = self.source.missing_credentials()
        if missing:
            self.report.disabled = f"set {', '.join(missing)} to enable source {self.source.name}"
            log.warning("source %s disabled: %s", self.source.name, self.report.disabled)
            return True
        return False

    def budget_left(self) -> bool:
        return self.emitted < self.source.max_items

    def on_error(self, failure) -> None:
        kind, detail = classify_failure(failure)
        url = getattr(failure.request, "url", None) if hasattr(failure, "request") else None
        self.report.error(kind, url, detail)
        log.warning("%s: %s %s (%s)", self.source.name, kind, url, detail)

    def request(self, url: str, callback, *, meta: dict | None = None, skip_seen: bool = False,
                **kwargs: Any) -> scrapy.Request | None:
        """A request with our errback; ``skip_seen`` drops URLs already collected.

        Such article requests bypass Scrapy's dupefilter (``dont_filter``): whether a page
        is needed is decided by the seen-store, which only knows *delivered* posts. After an
        interrupted run (JOBDIR), a page that was fetched but whose post never reached the
        sink is therefore fetched again instead of being lost; in-run duplicates are dropped
        by the de-duplication pipeline. With a shared Redis scheduler (scale-out) the shared
        dupefilter decides instead, so two workers never fetch the same page.
        """
        if skip_seen:
            if self.incremental and self.seen.has_url(url):
                self.report.requests_skipped_seen += 1
                return None
            kwargs["dont_filter"] = not self.settings.get("REDIS_URL")  # scale-out: see above
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta or {}, **kwargs)

    def decode(self, response) -> tuple[str, list[str]]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        decoded = decode_body(response.body, content_type)
        if "charset_mismatch" in decoded.flags or "charset_missing" in decoded.flags:
            self.report.count("charset_fallback")
        return decoded.text, decoded.flags

    def new_post(self, **fields: Any) -> Post:
        tags = list(dict.fromkeys([*self.source.tags, *fields.pop("tags", [])]))
        self.emitted += 1
        return Post.new(platform=self.platform, source=self.source.name, tags=tags, **fields)

    def parse_article(self, response, **_: Any):
        """An article page: decode, extract, and yield one Post (or report why not)."""
        if not self.budget_left():
            return
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if ctype and "html" not in ctype and "xml" not in ctype:
            self.report.error("not_html", response.url, ctype)
            return
        html, flags = self.decode(response)
        article = extract_article(html, response.url, self.source.extract)
        entry = response.meta.get("entry") or {}
        title = article.title or entry.get("title") or ""
        text = article.text
        if not text:
            text = entry.get("summary") or ""
            if text:
                flags = [*flags, "summary_only"]
        if not text and not title:
            self.report.error("empty_article", response.url, "no title and no body could be extracted")
            return
        if not text:
            self.report.error("empty_article", response.url, "no body could be extracted")
            return
        published = article.published_at
        feed_date = parse_date(entry.get("published"))
        if feed_date is not None and (published is None or not article.date_precise):
            published = feed_date  # the feed's timestamp beats a day-only date from the page
        author = Author(name=article.author) if article.author else None
        url = (response.meta.get("redirect_urls") or [response.url])[0]  # the URL we asked for
        yield self.new_post(url=url, title=title, text=text, author=author,
                            published_at=published, flags=[*flags, *article.flags])
