"""Downloader middlewares: retries with exponential backoff, redirects that detect loops."""

from __future__ import annotations

import asyncio
import logging

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest

from core.ids import canonical_url

log = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry policy, but retry *n* waits ``base * 2**(n-1)`` seconds (capped) first.

    Settings: ``RETRY_BACKOFF_BASE_S`` (0 disables the wait) and ``RETRY_BACKOFF_MAX_S``.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE_S", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX_S", 30.0)

    async def process_request(self, request, spider=None):
        delay = request.meta.pop("backoff_s", 0)
        if delay:
            log.debug("backing off %.1fs before retrying %s", delay, request.url)
            await asyncio.sleep(delay)
        return None

    def _retry(self, request, reason):
        new = super()._retry(request, reason)
        if new is not None and self.backoff_base > 0:
            attempt = new.meta.get("retry_times", 1)
            new.meta["backoff_s"] = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return new


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, but a redirect back to a URL already in the chain is a loop: the
    request is given up at once and reported (the dupefilter would otherwise drop it silently)."""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if canonical_url(redirected.url) in {canonical_url(u) for u in chain}:
            raise IgnoreRequest(f"redirect loop: {' -> '.join([*chain, redirected.url])}")
        return super()._redirect(redirected, request, reason)
