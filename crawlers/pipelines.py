"""Item pipelines: watchlists, incremental de-duplication, and hand-over to the shell's sink.

The sink is whatever the shell put in the ``IOCWATCH_SINK`` setting: a callable taking a
list of :class:`core.documents.Post` (it analyses and stores them, and raises when it
could not). Without one (a plain ``scrapy crawl``), posts go to a JSONL outbox under
``<IOCWATCH_DATA_DIR>/crawl/outbox/``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scrapy.exceptions import DropItem

from core.documents import Post
from crawlers.seen import SeenStore, fingerprint, is_near, signatures, text_words

log = logging.getLogger(__name__)

Sink = Callable[[list[Post]], None]
MIN_WORDS_SAME = 8  # shorter texts are never treated as the same content as another post


def resolve_data_dir(settings) -> Path:
    """``IOCWATCH_DATA_DIR`` from the Scrapy settings, else iocwatch's ``data_dir`` setting (so a
    plain ``scrapy crawl`` uses the same state as ``iocwatch crawl``)."""
    value = settings.get("IOCWATCH_DATA_DIR")
    if value:
        return Path(value)
    from core.settings import get_settings

    return Path(get_settings().data_dir)


class _Base:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider


class WatchlistPipeline(_Base):
    """Store the names of matching watchlists on each post; drop non-matching ones when the
    source says ``require_watchlist``."""

    def process_item(self, item):
        if not isinstance(item, Post):
            return item
        spider = self.spider
        full = f"{item.title}\n{item.text}"
        toks = text_words(full)  # folded once, reused by the de-duplication below
        spider.words[item.id] = toks
        matcher = getattr(spider, "matcher", None)
        if matcher is not None and len(matcher):
            item.watchlists = matcher.match(full, toks)
        source = getattr(spider, "source", None)
        if source is not None and source.require_watchlist and not item.watchlists:
            spider.words.pop(item.id, None)
            spider.report.count("not_matching")
            raise DropItem("matches no watchlist", log_level="DEBUG")
        return item


class RunMemory:
    """What this run already collected, shared by the crawlers of one run (all sources), so
    a repost is linked even when its original was collected minutes earlier by another source."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.fps: dict[str, tuple[str, str]] = {}
        self.simhashes: list[tuple[str, int, bytes | None]] = []

    def __deepcopy__(self, memo: dict) -> RunMemory:  # Scrapy settings deep-copy their values
        return self


class DedupPipeline(_Base):
    """Incremental runs and reposts.

    * same id already delivered with the same fingerprint: dropped (``skipped_seen``);
    * a news page with the same content as an earlier page of the same source (the same
      article under another URL): dropped (``same_content``);
    * other same or near-same content (a repost, a copied social post, an article
      republished elsewhere): kept, ``duplicate_of`` set to the first one collected.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.incremental = crawler.settings.getbool("IOCWATCH_INCREMENTAL", True)
        memory = crawler.settings.get("IOCWATCH_RUN_MEMORY") or RunMemory()
        self.run_ids = memory.ids
        self.run_fps = memory.fps
        self.run_sh = memory.simhashes

    def process_item(self, item):
        if not isinstance(item, Post):
            return item
        spider = self.spider
        seen: SeenStore = spider.seen
        report = spider.report
        full = f"{item.title}\n{item.text}"
        toks = spider.words.pop(item.id, None)
        if toks is None:
            toks = text_words(full)
        if item.id in self.run_ids:
            report.count("duplicate_in_run")
            raise DropItem("already collected in this run", log_level="DEBUG")
        fp = fingerprint(item.title, item.text, toks)
        item.fingerprint = fp
        if self.incremental and seen.has_id(item.id) and seen.fingerprint_of(item.id) == fp:
            report.count("skipped_seen")
            raise DropItem("already collected", log_level="DEBUG")
        long_enough = len(toks) >= MIN_WORDS_SAME
        same = None
        if long_enough:  # "Quá tốt!" from two people is two posts, not one repost
            same = self.run_fps.get(fp) or (seen.same_content(fp) if self.incremental else None)
        if same is not None and same[0] != item.id:
            original, source = same
            if source == item.source and item.platform == "news":  # the same page under another URL
                report.count("same_content")
                raise DropItem(f"same content as {original}", log_level="DEBUG")
            item.duplicate_of = original
        sh, sig = signatures(full, toks)
        if item.duplicate_of is None and sh is not None:
            near = None
            for pid, other, other_sig in self.run_sh:
                if is_near(sh, sig, other, other_sig):
                    near = pid
                    break
            if near is None and self.incremental:
                near = seen.near_duplicate(sh, sig, exclude_id=item.id)
            if near is not None and near != item.id:
                item.duplicate_of = near
        if item.duplicate_of:
            report.count("near_duplicates")
        self.run_ids.add(item.id)
        if long_enough:
            self.run_fps.setdefault(fp, (item.id, item.source))
        if sh is not None:
            self.run_sh.append((item.id, sh, sig))
        spider.simhashes[item.id] = (sh, sig)
        return item


class JsonlSink:
    """Append posts as JSON lines (fsynced per batch): the outbox and the subprocess hand-over."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, posts: list[Post]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            for p in posts:
                fh.write(json.dumps(p.to_doc(), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


class SinkPipeline(_Base):
    """Batch posts, hand each batch to the sink, then mark the batch as seen.

    A batch the sink rejects is counted as errors and *not* marked seen, so the next
    run collects it again.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.batch_size = crawler.settings.getint("IOCWATCH_SINK_BATCH", 100)
        sink = crawler.settings.get("IOCWATCH_SINK")
        if sink is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            data_dir = resolve_data_dir(crawler.settings)
            sink = JsonlSink(data_dir / "crawl" / "outbox" / f"posts-{stamp}-{os.getpid()}.jsonl")
        self.sink: Sink = sink
        self.buffer: list[Post] = []

    def process_item(self, item):
        if not isinstance(item, Post):
            return item
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        spider = self.spider
        try:
            self.sink(batch)
        except Exception as exc:  # the sink is the shell's code: report and keep crawling
            log.error("sink rejected %d posts of %s: %s", len(batch), spider.name, exc)
            spider.report.error("sink_failed", None, f"{len(batch)} posts: {exc}")
            return
        spider.seen.add_many(batch, {p.id: spider.simhashes.pop(p.id) for p in batch if p.id in spider.simhashes})
        spider.report.items += len(batch)

    def close_spider(self):
        self.flush()
