"""RSS/Atom feeds, news sitemaps and HTML listing pages: find article URLs, then extract them."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from crawlers.spiders.base import SourceSpider

log = logging.getLogger(__name__)

_XML_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(node, *names: str) -> str | None:
    for child in node:
        if _local(child.tag) in names:
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def parse_feed(body: bytes) -> list[dict[str, Any]] | None:
    """Entries of an RSS 2.0 / RSS 1.0 / Atom document; ``None`` when it is not a feed at all."""
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None
    if root is None or _local(root.tag) not in ("rss", "feed", "rdf"):
        return None
    entries: list[dict[str, Any]] = []
    for node in root.iter():
        name = _local(node.tag)
        if name not in ("item", "entry"):
            continue
        link = None
        for child in node:
            if _local(child.tag) == "link":
                link = child.get("href") if child.get("href") else (child.text or "").strip()
                if link and child.get("rel") in (None, "alternate"):
                    break
        link = link or _child_text(node, "guid", "id")
        entries.append({
            "url": link,
            "title": _child_text(node, "title"),
            "published": _child_text(node, "pubdate", "published", "updated", "date"),
            "summary": _strip_html(_child_text(node, "description", "summary", "content")),
        })
    return entries


def _strip_html(text: str | None) -> str | None:
    if not text:
        return text
    if "<" not in text:
        return text
    import lxml.html

    try:
        return lxml.html.fromstring(text).text_content().strip()
    except (ValueError, etree.ParserError):
        return text


class RssSpider(SourceSpider):
    """An RSS or Atom feed: every entry's link is fetched and extracted."""

    name = "rss"
    source_type = "rss"

    async def start(self):
        yield self.request(self.source.url, self.parse_feed, dont_filter=True)

    def parse_feed(self, response):
        entries = parse_feed(response.body)
        if entries is None:
            self.report.error("not_a_feed", response.url, "the document is not RSS or Atom")
            return
        if not entries:
            self.report.error("empty_feed", response.url, "the feed has no entries")
            return
        for entry in entries:
            if not self.budget_left():
                break
            if not entry["url"]:
                self.report.error("entry_without_link", response.url, entry.get("title") or "")
                continue
            url = urljoin(response.url, entry["url"])
            req = self.request(url, self.parse_article, meta={"entry": entry}, skip_seen=True)
            if req is not None:
                yield req


class SitemapSpider(SourceSpider):
    """A sitemap (news sitemap, url set or sitemap index): every ``<loc>`` is fetched."""

    name = "sitemap"
    source_type = "sitemap"

    async def start(self):
        yield self.request(self.source.url, self.parse_sitemap, dont_filter=True)

    def parse_sitemap(self, response):
        try:
            root = etree.fromstring(response.body, parser=_XML_PARSER)
        except etree.XMLSyntaxError:
            root = None
        if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
            self.report.error("not_a_sitemap", response.url, "no <urlset> or <sitemapindex>")
            return
        if _local(root.tag) == "sitemapindex":
            for node in root:
                loc = _child_text(node, "loc")
                if loc:
                    yield self.request(urljoin(response.url, loc), self.parse_sitemap)
            return
        count = 0
        for node in root:
            if _local(node.tag) != "url":
                continue
            loc = _child_text(node, "loc")
            if not loc:
                continue
            count += 1
            entry: dict[str, Any] = {"url": loc, "published": _child_text(node, "lastmod")}
            for child in node:
                if _local(child.tag) == "news":
                    entry["title"] = _child_text(child, "title")
                    entry["published"] = _child_text(child, "publication_date") or entry["published"]
            if not self.budget_left():
                break
            req = self.request(urljoin(response.url, loc), self.parse_article, meta={"entry": entry},
                               skip_seen=True)
            if req is not None:
                yield req
        if count == 0:
            self.report.error("empty_sitemap", response.url, "the sitemap lists no URLs")


class ListingSpider(SourceSpider):
    """An HTML listing page: article links by selector, following ``next_page`` up to ``max_pages``."""

    name = "listing"
    source_type = "listing"

    async def start(self):
        yield self.request(self.source.url, self.parse_listing, meta={"page": 1}, dont_filter=True)

    def _sel(self, response, selector: str):
        if selector.startswith("/") or selector.startswith("("):
            return response.xpath(selector)
        return response.css(selector)

    def parse_listing(self, response):
        cfg = self.source.listing
        html, _ = self.decode(response)
        response = response.replace(body=html.encode("utf-8"), encoding="utf-8")
        links = self._sel(response, cfg.links)
        hrefs = [ln.attrib.get("href") if hasattr(ln, "attrib") and ln.attrib.get("href")
                 else ln.get() for ln in links]
        hrefs = [h for h in hrefs if h and not h.lstrip().startswith("<")]
        if not hrefs:
            self.report.error("empty_listing", response.url, f"selector {cfg.links!r} found no links")
        for href in hrefs:
            if not self.budget_left():
                return
            req = self.request(response.urljoin(href), self.parse_article, skip_seen=True)
            if req is not None:
                yield req
        page = response.meta.get("page", 1)
        if cfg.next_page and page < cfg.max_pages:
            nxt = self._sel(response, cfg.next_page)
            href = nxt.attrib.get("href") if nxt else None
            if href:
                yield self.request(response.urljoin(href), self.parse_listing, meta={"page": page + 1})
