"""Article extraction: bytes -> NFC text, then trafilatura with per-site selector overrides.

Decoding order: a body that is valid UTF-8 with non-ASCII bytes is UTF-8 whatever the
page declares (Vietnamese sites often declare the wrong charset); otherwise the
declared charset (HTTP header, BOM, ``<meta>``) when it decodes cleanly; otherwise the
legacy Vietnamese Windows-1258. Windows-1258 writes some tones as combining marks, so
everything is normalised to NFC afterwards.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from core.text import nfc

log = logging.getLogger(__name__)

VN_TZ = timezone(timedelta(hours=7))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_DMY = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:[^\d]{1,12}(\d{1,2})[:h](\d{2}))?")
_HM_DMY = re.compile(r"(\d{1,2})[:h](\d{2})[^\d]{1,12}(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass
class Decoded:
    text: str
    encoding: str
    declared: str | None
    flags: list[str] = field(default_factory=list)  # "charset_mismatch", "charset_missing"


def _norm_encoding(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the page declares: HTTP header, then BOM, then ``<meta>``."""
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m:
            return m.group(1)
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def decode_body(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML/XML body to NFC text (see the module docstring for the order)."""
    declared_raw = declared_charset(body, content_type)
    declared = _norm_encoding(declared_raw)
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    flags: list[str] = []
    is_ascii = body.isascii()
    try:
        utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and (not is_ascii or declared in (None, "utf-8")):
        if declared not in (None, "utf-8", "ascii") and not is_ascii:
            flags.append("charset_mismatch")
        if declared is None and not is_ascii:
            flags.append("charset_missing")
        return Decoded(nfc(utf8), "utf-8", declared_raw, flags)
    if declared:
        try:
            return Decoded(nfc(body.decode(declared)), declared, declared_raw, flags)
        except UnicodeDecodeError:
            flags.append("charset_mismatch")
    else:
        flags.append("charset_missing")
    return Decoded(nfc(body.decode("cp1258", errors="replace")), "cp1258", declared_raw, flags)


def parse_date(value: Any) -> datetime | None:
    """Parse ISO-8601, RFC 822 (feeds) and Vietnamese ``dd/mm/yyyy[, hh:mm]`` dates.

    Dates without a zone are Vietnam time (UTC+7). Returns an aware datetime or ``None``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{9,11}", text):  # unix seconds
        return datetime.fromtimestamp(int(text), UTC)
    iso = text.replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(iso)
        return dt if dt.tzinfo else dt.replace(tzinfo=VN_TZ)
    except ValueError:
        pass
    if re.search(r"[A-Za-z]{3},?\s+\d{1,2}\s+[A-Za-z]{3}", text) or re.search(r"\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", text):
        try:
            dt = parsedate_to_datetime(text)
            return dt if dt.tzinfo else dt.replace(tzinfo=VN_TZ)
        except (TypeError, ValueError):
            pass
    m = _HM_DMY.search(text)
    if m:
        hh, mi, d, mo, y = (int(g) for g in m.groups())
        return _safe(y, mo, d, hh, mi)
    m = _DMY.search(text)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh = int(m.group(4)) if m.group(4) else 0
        mi = int(m.group(5)) if m.group(5) else 0
        return _safe(y, mo, d, hh, mi)
    return None


def _safe(y: int, mo: int, d: int, hh: int, mi: int) -> datetime | None:
    try:
        return datetime(y, mo, d, hh, mi, tzinfo=VN_TZ)
    except ValueError:
        return None


def clean_text(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks, NFC."""
    lines = [_WS.sub(" ", line).strip() for line in nfc(text).splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


@dataclass
class Article:
    title: str = ""
    text: str = ""
    author: str | None = None
    published_at: datetime | None = None
    date_precise: bool = False  # False when only trafilatura's day-precision date was found
    flags: list[str] = field(default_factory=list)


@lru_cache(maxsize=512)
def _compiled(selector: str) -> Any:
    from lxml.cssselect import CSSSelector
    from lxml.etree import XPath

    if selector.startswith("/") or selector.startswith("("):
        return XPath(selector)
    return CSSSelector(selector)


def _select(tree: Any, selector: str) -> list[Any]:
    """Nodes (or strings) matching a CSS selector, or an XPath when it starts with ``/``."""
    return _compiled(selector)(tree)


def _node_text(node: Any) -> str:
    if isinstance(node, str):
        return node
    # Paragraph-like children and <br> become lines.
    for br in node.iter("br"):
        br.tail = "\n" + (br.tail or "")
    parts: list[str] = []
    blocks = node.xpath(".//p|.//li|.//h2|.//h3|.//blockquote")
    if blocks:
        for b in blocks:
            parts.append(b.text_content())
    else:
        parts.append(node.text_content())
    return "\n".join(parts)


def extract_article(html: str, url: str, overrides: Any = None) -> Article:
    """Title, body, author and date of an article page; comments never reach the body.

    ``overrides`` is a :class:`crawlers.sources.Extract` (or ``None``): its ``remove``
    selectors are dropped first, then each given field is read with its selector and
    the rest come from trafilatura.
    """
    import lxml.html
    import trafilatura

    article = Article()
    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError) as exc:
        log.debug("unparseable html at %s: %s", url, exc)
        article.flags.append("unparseable")
        return article
    # Comment sections are removed before anything reads the page.
    removals = ["#comments", ".comments", ".comment-list", ".box-comment", "[id^=comment]",
                "[class*=binh-luan]"]
    if overrides is not None:
        removals = list(overrides.remove) + removals
    for sel in removals:
        for node in _select(tree, sel):
            if not isinstance(node, str) and node.getparent() is not None:
                node.drop_tree()  # keeps the text that follows the removed element

    # Read the page's own metadata and the overrides first: trafilatura prunes the tree.
    meta_date = None
    for sel in ('//meta[@property="article:published_time"]/@content',
                '//meta[@itemprop="datePublished"]/@content',
                '//meta[@name="pubdate"]/@content', "//time[@datetime]/@datetime"):
        found = tree.xpath(sel)
        if found:
            meta_date = parse_date(found[0])
            if meta_date is not None:
                break
    forced: dict[str, Any] = {}
    if overrides is not None:
        if overrides.title:
            nodes = _select(tree, overrides.title)
            if nodes:
                forced["title"] = _node_text(nodes[0])
        if overrides.body:
            nodes = _select(tree, overrides.body)
            if nodes:
                forced["text"] = "\n".join(_node_text(n) for n in nodes)
        if overrides.author:
            nodes = _select(tree, overrides.author)
            if nodes:
                forced["author"] = _node_text(nodes[0]).strip() or None
        if overrides.date:
            nodes = _select(tree, overrides.date)
            if nodes:
                node = nodes[0]
                raw = node if isinstance(node, str) else (node.get("datetime") or node.text_content())
                forced["published_at"] = parse_date(raw)

    if len(forced) < 3 or "text" not in forced:
        doc = trafilatura.bare_extraction(tree, url=url, with_metadata=True, include_comments=False,
                                          include_tables=False, favor_precision=True)
        if doc is not None:
            data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
            article.title = data.get("title") or ""
            article.text = data.get("text") or ""
            article.author = data.get("author") or None
            article.published_at = parse_date(data.get("date"))
    if meta_date is not None:  # richer than trafilatura's day precision
        article.published_at = meta_date
        article.date_precise = True
    for key, value in forced.items():
        if value:
            setattr(article, key, value)
            if key == "published_at":
                article.date_precise = True

    article.title = clean_text(article.title)
    text = clean_text(article.text)
    first, _, rest = text.partition("\n")
    if article.title and first.strip() == article.title:  # trafilatura repeats the <h1>
        text = rest.strip()
    article.text = text
    if article.author:
        article.author = clean_text(article.author)
    if not article.text:
        article.flags.append("no_body")
    return article
