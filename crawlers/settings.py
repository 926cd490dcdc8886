"""Scrapy settings of the iocwatch crawler (``scrapy crawl <spider>`` reads this module).

Values shared with the rest of iocwatch (timeouts, politeness, robots, retries, page
size, scale-out) come from :class:`core.settings.CrawlSettings` through
:func:`crawlers.runner.scrapy_settings`; the literals below are the defaults of a plain
``scrapy crawl`` run.
"""

BOT_NAME = "iocwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "iocwatch/0.1 (+operation centre social listening)"
ROBOTSTXT_OBEY = True  # never fetch what a site's robots.txt disallows

# Politeness: few parallel requests per outlet, and AutoThrottle adapts to latency.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Robustness: retries with exponential backoff on 5xx and timeouts; capped page size.
DOWNLOAD_TIMEOUT = 20
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE_S = 1.0  # first retry waits 1 s, then 2 s, 4 s ... (our middleware)
RETRY_BACKOFF_MAX_S = 30.0
REDIRECT_MAX_TIMES = 5  # a redirect loop is given up after this many hops and reported
DOWNLOAD_MAXSIZE = 5_000_000  # larger responses are cancelled and reported as too_large
DOWNLOAD_WARNSIZE = 2_000_000

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawlers.middlewares.LoopAwareRedirectMiddleware": 600,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.WatchlistPipeline": 100,
    "crawlers.pipelines.DedupPipeline": 200,
    "crawlers.pipelines.SinkPipeline": 900,
}

# Items are pydantic Post models; nothing to export by default (the sink stores them).
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
COOKIES_ENABLED = False
HTTPCACHE_ENABLED = False

# iocwatch keys (read by our pipelines and spiders)
IOCWATCH_DATA_DIR = None  # where seen.sqlite and the JSONL outbox live; None = iocwatch's data_dir
IOCWATCH_SINK = None  # a callable(list[Post]) injected by the shell; None = JSONL outbox
IOCWATCH_SINK_BATCH = 100  # posts per sink call
IOCWATCH_WATCHLISTS_FILE = None  # None = crawlers/watchlists.yaml
IOCWATCH_SOURCES_FILE = None  # None = crawlers/sources.yaml
IOCWATCH_RUN_MEMORY = None  # shared in-run de-duplication memory (set by the runner)
IOCWATCH_INCREMENTAL = True  # skip URLs and content already collected
