"""The demo site: a few hundred Vietnamese articles and social posts, generated from a seed.

:func:`generate_content` makes the items (deterministic for a seed and ``now``);
:func:`build_site` renders them as the documented formats of each platform (RSS 2.0,
news sitemap, HTML listings, article pages with reader comments, the Telegram ``t.me/s``
preview, XenForo pages, YouTube Data API v3 and Facebook Graph API JSON);
:func:`demo_sources` writes the matching sources YAML. :func:`serve_demo` does all three
and serves the site on 127.0.0.1.

Extra posts (e.g. a spike of complaints for the spike detector) are dicts::

    {"platform": "telegram" | "forum" | "facebook" | "youtube" | "news",
     "text": "...", "title": "...", "published_at": datetime, "author": "..."}
"""

from __future__ import annotations

import html
import json
import random
import re
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from core.text import fold
from crawlers.demo_site import content as C
from crawlers.demo_site.server import Route, Site, SiteServer

VN = timezone(timedelta(hours=7))
YOUTUBE_KEY = "demo-youtube-key"  # the demo API accepts only these (set in the child's env)
FACEBOOK_TOKEN = "demo-page-token"
PAGE_SIZE_TG = 20
PAGE_SIZE_FORUM = 10


@dataclass
class Comment:
    author: str
    text: str
    at: datetime
    native_id: str = ""
    likes: int = 0


@dataclass
class Item:
    """One generated article or social post."""

    kind: str  # article | telegram | forum | youtube | facebook
    channel: str  # outlet key, telegram channel, forum section, ...
    native_id: str
    title: str
    paragraphs: list[str]
    at: datetime
    topic: str
    polarity: str
    author: str = ""
    comments: list[Comment] = field(default_factory=list)
    views: int = 0
    likes: int = 0
    shares: int = 0
    slug: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class DemoContent:
    now: datetime
    items: list[Item]

    def of(self, kind: str, channel: str | None = None) -> list[Item]:
        return [i for i in self.items if i.kind == kind and (channel is None or i.channel == channel)]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80]


def _cap(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


class _Gen:
    def __init__(self, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.now = now

    def pick_topic_polarity(self) -> tuple[str, str]:
        topic = self.rng.choice(list(C.TOPICS))
        pols = [p for p in C.POLARITY_WEIGHTS if C.TOPICS[topic]["titles"].get(p)]
        weights = [C.POLARITY_WEIGHTS[p] for p in pols]
        return topic, self.rng.choices(pols, weights)[0]

    def fill(self, template: str, ctx: dict[str, str]) -> str:
        return template.format(**ctx)

    def ctx(self) -> dict[str, str]:
        r = self.rng
        days = ["thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật"]
        return {"place": r.choice(C.PLACES), "street": r.choice(C.STREETS), "num": str(r.randint(12, 480)),
                "num2": str(r.randint(2, 9)), "hour": str(r.randint(5, 10)), "agency": r.choice(C.AGENCIES),
                "person": r.choice(C.PERSONS), "day": r.choice(days), "tens": str(r.randint(2, 6) * 10)}

    def when(self, max_days: float) -> datetime:
        # More posts in the day time and in the last days.
        back = timedelta(days=self.rng.random() ** 1.5 * max_days)
        t = self.now - back
        hour = self.rng.choice([6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22])
        t = t.astimezone(VN).replace(hour=hour, minute=self.rng.randint(0, 59), second=0, microsecond=0)
        return min(t, self.now - timedelta(minutes=5))

    def article(self, outlet: str, n: int) -> Item:
        topic, pol = self.pick_topic_polarity()
        t = C.TOPICS[topic]
        ctx = self.ctx()
        ctx["agency"] = self.rng.choice(C.TOPIC_AGENCIES.get(topic, C.AGENCIES))
        title = self.fill(self.rng.choice(t["titles"][pol]), ctx)
        title = title[0].upper() + title[1:]
        own = list(t["body"][pol])
        self.rng.shuffle(own)
        neutral = [x for x in t["body"].get("neutral", []) if x not in own]
        self.rng.shuffle(neutral)
        sentences = own[: self.rng.randint(min(3, len(own)), len(own))] + neutral[: self.rng.randint(1, 2)]
        unused = [x for x in t["body"][pol] if x not in sentences]
        if unused and self.rng.random() < 0.6:
            quote = self.rng.choice(unused)
            sentences.insert(1, f"Theo {ctx['person']}, {quote[0].lower()}{quote[1:]}")
        for g in self.rng.sample(C.GENERIC, self.rng.randint(2, 4)):
            sentences.insert(self.rng.randint(1, len(sentences)), g)
        # Same place and people throughout, fresh figures in every sentence.
        body = [_cap(self.fill(s, {**self.ctx(), **{k: ctx[k] for k in ("place", "street", "person", "agency")}}))
                for s in dict.fromkeys(sentences)]
        lead = f"({ctx['place'].split(' ', 1)[1]}) {body[0]}"
        paras: list[str] = [lead]
        rest = body[1:]
        while rest:
            k = self.rng.randint(1, 3)
            paras.append(" ".join(rest[:k]))
            rest = rest[k:]
        comments = []
        for c in range(self.rng.randint(0, 4)):
            cpol = pol if self.rng.random() < 0.7 else self.rng.choice(list(t["comments"]))
            ctext = self.fill(self.rng.choice(t["comments"][cpol]), ctx)
            comments.append(Comment(self.rng.choice(C.READERS), ctext, self.now, f"c{n}-{c}"))
        at = self.when(14)
        return Item("article", outlet, f"{outlet}-{n}", title, paras, at, topic, pol,
                    author=self.rng.choice(C.REPORTERS), comments=comments, slug=slugify(title))

    def social(self, kind: str, channel: str, native: str, max_days: float = 7) -> Item:
        topic, pol = self.pick_topic_polarity()
        t = C.TOPICS[topic]
        pool = t["social"].get(pol) or t["social"]["neutral"]
        ctx = self.ctx()
        text = self.vary(self.fill(self.rng.choice(pool), ctx), pol)
        if self.rng.random() < 0.35:
            extra = self.fill(self.rng.choice(t["body"][pol]), self.ctx())
            text = f"{text} {extra}"
        return Item(kind, channel, native, "", [text], self.when(max_days), topic, pol,
                    author=self.rng.choice(C.READERS), views=self.rng.randint(80, 25000),
                    likes=self.rng.randint(0, 900), shares=self.rng.randint(0, 120))

    def vary(self, text: str, pol: str) -> str:
        opener = self.rng.choice(C.SOCIAL_OPENERS.get(pol, [""]))
        ending = self.rng.choice(C.SOCIAL_ENDINGS.get(pol, [""]))
        if opener:
            text = opener + text[0].lower() + text[1:]
        if self.rng.random() < 0.5:
            tails = [f" ({self.rng.choice(C.PLACES)})", f" (gần {self.rng.choice(C.STREETS)})"]
            if pol != "neutral":  # questions are about now or later, not "last night"
                tails += [" (sáng nay)", " (chiều nay)", " (tối qua)", " (hôm qua)", " (mấy bữa nay)"]
            text += self.rng.choice(tails)
        return text + ending

    def comment_for(self, item: Item, k: int) -> Comment:
        t = C.TOPICS[item.topic]
        pol = item.polarity if self.rng.random() < 0.7 else self.rng.choice(list(t["social"]))
        pool = t["social"].get(pol) or t["social"]["neutral"]
        text = self.vary(self.fill(self.rng.choice(pool), self.ctx()), pol)
        at = min(item.at + timedelta(minutes=self.rng.randint(3, 600)), self.now - timedelta(minutes=1))
        native_id = f"{item.native_id}_{k}"
        text = _rude(native_id) or text
        return Comment(self.rng.choice(C.READERS), text, at, native_id, self.rng.randint(0, 60))


def _rude(native_id: str) -> str | None:
    """One comment in 12 is rude (chosen by a hash of its id, not by the generator's random
    stream, so every other item of the site stays as it was)."""
    h = zlib.crc32(native_id.encode("utf-8"))
    if h % 12:
        return None
    pool = C.RUDE_COMMENTS["hate" if (h // 12) % 3 == 0 else "offensive"]
    return pool[(h // 36) % len(pool)]


def generate_content(seed: int = 7, *, now: datetime | None = None, n_articles: int = 270,
                     extra_posts: list[dict[str, Any]] | None = None) -> DemoContent:
    """All items of the demo site; the same ``seed`` and ``now`` give the same site."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    g = _Gen(seed, now)
    items: list[Item] = []
    shares = {"baocantho": 0.45, "dothi": 0.33, "congthongtin": 0.22}
    for outlet, share in shares.items():
        for n in range(int(n_articles * share)):
            items.append(g.article(outlet, n + 1))
    # Reposts: the city portal republishes some Báo Cần Thơ articles with a credit line.
    originals = [i for i in items if i.channel == "baocantho"][:: max(1, int(n_articles * 0.45) // 8)][:8]
    for k, orig in enumerate(originals):
        paras = [f"Theo {C.OUTLETS['baocantho'][0]}:", *orig.paragraphs]
        items.append(Item("article", "congthongtin", f"congthongtin-r{k + 1}", orig.title, paras,
                          min(orig.at + timedelta(hours=2), now - timedelta(minutes=1)), orig.topic,
                          orig.polarity, author="Ban biên tập", slug=orig.slug + "-dang-lai"))
    for channel in C.TELEGRAM_CHANNELS:
        for n in range(36):
            items.append(g.social("telegram", channel, f"{channel}/{n + 101}"))
    for s_idx, section in enumerate(C.FORUM_SECTIONS):
        for n in range(8):  # thread ids are unique across sections: 11..18, 21..28
            opener = g.social("forum", section, f"{section}-t{10 * (s_idx + 1) + n + 1}", max_days=10)
            topic_title = g.fill(g.rng.choice(C.TOPICS[opener.topic]["titles"][opener.polarity]), g.ctx())
            opener.title = topic_title[0].upper() + topic_title[1:]
            opener.slug = slugify(opener.title)
            opener.comments = [g.comment_for(opener, k + 1) for k in range(g.rng.randint(1, 14))]
            items.append(opener)
    for n in range(16):
        video = g.social("youtube", C.YOUTUBE_CHANNEL[0], f"dEmOvId{n:04d}", max_days=12)
        ttl = g.fill(g.rng.choice(C.TOPICS[video.topic]["titles"][video.polarity]), g.ctx())
        video.title = ttl[0].upper() + ttl[1:]
        video.paragraphs = [f"{video.title}. "
                            f"{g.fill(g.rng.choice(C.TOPICS[video.topic]['body'][video.polarity]), g.ctx())}"]
        video.comments = [g.comment_for(video, k + 1) for k in range(g.rng.randint(0, 6))]
        items.append(video)
    for n in range(24):
        post = g.social("facebook", C.FACEBOOK_PAGE[0], f"{C.FACEBOOK_PAGE[0]}_{9000 + n}")
        post.comments = [g.comment_for(post, k + 1) for k in range(g.rng.randint(0, 5))]
        items.append(post)
    for k, extra in enumerate(extra_posts or []):
        items.append(_extra_item(extra, k, now))
    return DemoContent(now=now, items=items)


def _extra_item(extra: dict[str, Any], k: int, now: datetime) -> Item:
    platform = extra.get("platform", "telegram")
    at = extra.get("published_at") or now - timedelta(minutes=10 + k)
    text = extra["text"]
    title = extra.get("title", "")
    kind, channel, native = {
        "telegram": ("telegram", "tinnongcantho", f"tinnongcantho/{5000 + k}"),
        "forum": ("forum", "goc-phan-anh.3", f"goc-phan-anh.3-t{900 + k}"),
        "facebook": ("facebook", C.FACEBOOK_PAGE[0], f"{C.FACEBOOK_PAGE[0]}_{50000 + k}"),
        "youtube": ("youtube", C.YOUTUBE_CHANNEL[0], f"xTrAvId{k:04d}"),
        "news": ("article", "baocantho", f"baocantho-x{k + 1}"),
    }[platform]
    title = title or (text[:80] if kind in ("forum", "article", "youtube") else "")
    return Item(kind, channel, native, title, [text], at, extra.get("topic", "extra"), "negative",
                author=extra.get("author", "Người dân"), slug=slugify(title) if title else "",
                views=int(extra.get("views", 100)))


# ------------------------------------------------------------------ rendering
def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _vn_date(dt: datetime) -> str:
    days = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"]
    local = dt.astimezone(VN)
    return f"{days[local.weekday()]}, {local:%d/%m/%Y}, {local:%H:%M} (GMT+7)"


def to_cp1258(text: str) -> bytes:
    """Encode NFC Vietnamese as Windows-1258 (base letters with circumflex/breve/horn kept
    precomposed, tone marks as combining characters, as legacy sites wrote it)."""
    out = bytearray()
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = parts[0] + "".join(m for m in parts[1:] if m not in tones)
        base = unicodedata.normalize("NFC", base)
        marks = "".join(m for m in parts[1:] if m in tones)
        out += (base + marks).encode("cp1258", errors="xmlcharrefreplace")
    return bytes(out)


def _page(title: str, body: str, *, head: str = "", charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="{charset}"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width">{head}</head><body>'
            '<header class="site-header"><nav><a href="/">Trang chủ</a> | <a href="/baocantho/">Thời sự</a> | '
            '<a href="/dothi/">Đô thị</a> | <a href="/congthongtin/">Thông báo</a></nav></header>'
            f"{body}"
            '<footer class="site-footer">© Trang tin thử nghiệm của iocwatch. Nội dung hư cấu phục vụ trình diễn.'
            "</footer></body></html>")


def article_url(item: Item) -> str:
    if item.channel == "baocantho":
        return f"/baocantho/tin-tuc/{item.slug}-{item.native_id.rsplit('-', 1)[1]}.html"
    if item.channel == "dothi":
        return f"/dothi/bai-viet/{item.native_id.rsplit('-', 1)[1]}/{item.slug}"
    return f"/congthongtin/thong-bao/chi-tiet?id={item.native_id.rsplit('-', 1)[1]}"


def render_article(item: Item, related: list[Item]) -> tuple[bytes, str]:
    """An article page in its outlet's layout; returns ``(body, content_type)``."""
    comments = "".join(
        f'<div class="comment"><b class="comment-author">{_e(c.author)}</b><p>{_e(c.text)}</p></div>'
        for c in item.comments)
    rel = "".join(f'<li><a href="{article_url(r)}">{_e(r.title)}</a></li>' for r in related)
    iso = item.at.astimezone(VN).isoformat()
    if item.channel == "baocantho":
        body = (f'<main><article class="detail"><h1 class="detail-title">{_e(item.title)}</h1>'
                f'<div class="detail-meta"><span class="author">{_e(item.author)}</span> - '
                f'<time datetime="{iso}">{_vn_date(item.at)}</time></div>'
                '<div class="detail-content">'
                + "".join(f"<p>{_e(p)}</p>" for p in item.paragraphs)
                + '</div></article>'
                f'<aside class="related"><h3>Tin liên quan</h3><ul>{rel}</ul></aside>'
                f'<section class="comments" id="comments"><h3>Ý kiến bạn đọc</h3>{comments}</section></main>')
        head = (f'<meta property="article:published_time" content="{iso}">'
                f'<meta name="author" content="{_e(item.author)}">'
                f'<meta property="og:title" content="{_e(item.title)}">')
        return _page(item.title, body, head=head).encode("utf-8"), "text/html; charset=utf-8"
    if item.channel == "dothi":
        # An older table layout with <br>-separated text, no <article>: the source uses overrides.
        body = (f'<table class="layout"><tr><td class="left">{rel and "<ul>" + rel + "</ul>"}</td>'
                f'<td class="main"><div class="tieude">{_e(item.title)}</div>'
                f'<div class="ngaydang">Đăng lúc {item.at.astimezone(VN):%H:%M} ngày '
                f'{item.at.astimezone(VN):%d/%m/%Y}</div>'
                f'<div id="noidung">' + "<br><br>".join(_e(p) for p in item.paragraphs) + "</div>"
                f'<div class="tacgia">{_e(item.author)}</div>'
                f'<div class="binh-luan">{comments}</div></td></tr></table>')
        return _page(item.title, body, head=f'<meta itemprop="datePublished" content="{iso}">').encode("utf-8"), \
            "text/html; charset=utf-8"
    # The city portal: a legacy site served in Windows-1258.
    body = (f'<div class="news-detail"><h2 class="title">{_e(item.title)}</h2>'
            f'<div class="news-date">Cập nhật: {item.at.astimezone(VN):%d/%m/%Y %H:%M}</div>'
            '<div class="news-content">' + "".join(f"<p>{_e(p)}</p>" for p in item.paragraphs) + "</div>"
            f'<div class="other-news"><b>Tin khác</b><ul>{rel}</ul></div></div>')
    page = _page(item.title, body, charset="windows-1258")
    return to_cp1258(page), "text/html; charset=windows-1258"


def render_rss(items: list[Item], title: str, link: str) -> bytes:
    entries = "".join(
        f"<item><title>{_e(i.title)}</title><link>@@BASE@@{article_url(i)}</link>"
        f"<guid isPermaLink=\"true\">@@BASE@@{article_url(i)}</guid>"
        f"<pubDate>{format_datetime(i.at.astimezone(UTC))}</pubDate>"
        f"<description><![CDATA[{_e(i.paragraphs[0][:200])}]]></description></item>"
        for i in sorted(items, key=lambda x: x.at, reverse=True))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{_e(title)}</title>'
            f"<link>@@BASE@@{link}</link><description>{_e(title)}</description><language>vi</language>"
            f"{entries}</channel></rss>").encode()


def render_news_sitemap(items: list[Item], publication: str) -> bytes:
    urls = "".join(
        f"<url><loc>@@BASE@@{article_url(i)}</loc><news:news><news:publication><news:name>{_e(publication)}"
        f"</news:name><news:language>vi</news:language></news:publication>"
        f"<news:publication_date>{i.at.astimezone(VN).isoformat()}</news:publication_date>"
        f"<news:title>{_e(i.title)}</news:title></news:news></url>"
        for i in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>").encode("utf-8")


def render_telegram(channel: str, title: str, items: list[Item], before: int | None) -> bytes:
    def num(i: Item) -> int:
        return int(i.native_id.rsplit("/", 1)[1])

    ordered = sorted(items, key=num)
    if before is not None:
        ordered = [i for i in ordered if num(i) < before]
    page = ordered[-PAGE_SIZE_TG:]
    more = ""
    if page and len(ordered) > len(page):
        first = num(page[0])
        more = (f'<a class="tme_messages_more js-messages_more" data-before="{first}" '
                f'href="/tg/s/{channel}?before={first}"></a>')
    msgs = []
    for i in page:
        text = "<br/>".join(_e(p) for p in i.paragraphs)
        msgs.append(
            f'<div class="tgme_widget_message_wrap js-widget_message_wrap">'
            f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{i.native_id}">'
            f'<div class="tgme_widget_message_bubble"><div class="tgme_widget_message_author accent_color">'
            f'<a class="tgme_widget_message_owner_name" href="https://t.me/{channel}"><span '
            f'dir="auto">{_e(title)}</span></a></div>'
            f'<div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>'
            f'<div class="tgme_widget_message_footer"><div class="tgme_widget_message_info">'
            f'<span class="tgme_widget_message_views">{_views(i.views)}</span>'
            f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
            f'href="https://t.me/{i.native_id}">'
            f'<time datetime="{i.at.astimezone(UTC).isoformat()}" '
            f'class="time">{i.at.astimezone(VN):%H:%M}</time></a></span>'
            "</div></div></div></div></div>")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_e(title)} – Telegram</title></head>'
            f'<body class="widget_frame_base tgme_webpage"><main class="tgme_main"><section '
            f'class="tgme_channel_history js-message_history">'
            f"{more}{''.join(msgs)}</section></main></body></html>").encode()


def _views(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.1f}K"
    return str(n)


def render_forum_list(section: str, name: str, threads: list[Item], page: int) -> bytes:
    chunk = threads[(page - 1) * PAGE_SIZE_FORUM: page * PAGE_SIZE_FORUM]
    rows = "".join(
        f'<div class="structItem structItem--thread js-inlineModContainer" data-author="{_e(t.author)}">'
        f'<div class="structItem-cell structItem-cell--main"><div class="structItem-title">'
        f'<a href="/forum/threads/{t.slug}.{t.native_id.rsplit("-t", 1)[1]}/" '
        f'data-tp-primary="on">{_e(t.title)}</a></div>'
        f'<div class="structItem-minor"><ul class="structItem-parts"><li><a class="username">{_e(t.author)}</a></li>'
        f'<li><time class="u-dt" '
        f'datetime="{t.at.astimezone(VN).isoformat()}">{t.at.astimezone(VN):%d/%m/%Y}</time></li>'
        "</ul></div></div></div>"
        for t in chunk)
    nav = ""
    if page * PAGE_SIZE_FORUM < len(threads):
        nav = (f'<div class="pageNav"><a class="pageNav-jump pageNav-jump--next" '
               f'href="/forum/forums/{section}/page-{page + 1}">Tiếp</a></div>')
    body = (f'<div class="p-body"><h1 class="p-title-value">{_e(name)}</h1>'
            f'<div class="structItemContainer">{rows}</div>{nav}</div>')
    return _page(name, body).encode("utf-8")


def render_thread(thread: Item, page: int) -> bytes:
    posts = [(thread.native_id.rsplit("-t", 1)[1] + "00", thread.author, thread.at, thread.text, thread.likes)]
    posts += [(f"{thread.native_id.rsplit('-t', 1)[1]}{k + 1:02d}", c.author, c.at, c.text, c.likes)
              for k, c in enumerate(thread.comments)]
    chunk = posts[(page - 1) * PAGE_SIZE_FORUM: page * PAGE_SIZE_FORUM]
    arts = []
    for num, author, at, text, likes in chunk:
        quote = ""
        if num.endswith("02") and len(posts) > 1:  # a reply quoting the opener, as forums do
            quote = (f'<blockquote class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote">'
                     f'<div class="bbCodeBlock-content">{_e(posts[0][3][:120])}</div></blockquote>')
        arts.append(
            f'<article class="message message--post js-post" data-author="{_e(author)}" data-content="post-{num}" '
            f'id="js-post-{num}">'
            f'<div class="message-inner"><div class="message-cell message-cell--user"><h4 class="message-name">'
            f'<a class="username">{_e(author)}</a></h4></div><div class="message-cell message-cell--main">'
            f'<header class="message-attribution"><a href="/forum/posts/{num}/"><time class="u-dt" dir="auto" '
            f'datetime="{at.astimezone(VN).strftime("%Y-%m-%dT%H:%M:%S%z")}" data-time="{int(at.timestamp())}">'
            f'{at.astimezone(VN):%d/%m/%Y}</time></a></header>'
            f'<div class="message-content js-messageContent"><div class="message-userContent lbContainer '
            f'js-lbContainer">'
            f'<article class="message-body js-selectToQuote"><div '
            f'class="bbWrapper">{quote}{_e(text)}</div></article></div></div>'
            f'<footer class="message-footer"><div class="reactionsBar"><a '
            f'class="reactionsBar-link">{likes}</a></div></footer>'
            "</div></div></article>")
    nav = ""
    tid = thread.native_id.rsplit("-t", 1)[1]
    if page * PAGE_SIZE_FORUM < len(posts):
        nav = (f'<div class="pageNav"><a class="pageNav-jump pageNav-jump--next" '
               f'href="/forum/threads/{thread.slug}.{tid}/page-{page + 1}">Tiếp</a></div>')
    body = (f'<div class="p-body"><div class="p-title"><h1 class="p-title-value">{_e(thread.title)}</h1></div>'
            f'<div class="block-body js-replyNewMessageContainer">{"".join(arts)}</div>{nav}</div>')
    return _page(thread.title, body).encode("utf-8")


def _json(data: Any, status: int = 200) -> Route:
    return Route(body=json.dumps(data, ensure_ascii=False).encode("utf-8"), status=status,
                 content_type="application/json; charset=UTF-8")


def _yt_error(message: str, reason: str, code: int = 400) -> Route:
    return _json({"error": {"code": code, "message": message,
                            "errors": [{"message": message, "domain": "youtube.parameter" if code == 400 else "global",
                                        "reason": reason}]}}, status=code)


def _yt_video(v: Item) -> dict[str, Any]:
    return {"kind": "youtube#video", "etag": f"e{v.native_id}", "id": v.native_id,
            "snippet": {"publishedAt": v.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "channelId": C.YOUTUBE_CHANNEL[0], "title": v.title, "description": v.text,
                        "channelTitle": C.YOUTUBE_CHANNEL[1], "defaultAudioLanguage": "vi"},
            "statistics": {"viewCount": str(v.views), "likeCount": str(v.likes), "favoriteCount": "0",
                           "commentCount": str(len(v.comments))}}


def _youtube_handler(content: DemoContent):
    videos = sorted(content.of("youtube"), key=lambda v: v.at, reverse=True)
    by_id = {v.native_id: v for v in videos}
    uploads = "UU" + C.YOUTUBE_CHANNEL[0][2:]
    per_page = 5

    def page_of(seq: list, token: str | None) -> tuple[list, str | None]:
        start = int(token[1:]) if token and token.startswith("p") and token[1:].isdigit() else 0
        nxt = f"p{start + per_page}" if start + per_page < len(seq) else None
        return seq[start:start + per_page], nxt

    def handle(path: str, q: dict[str, str]) -> Route | None:
        if not path.startswith("/youtube/v3/"):
            return None
        if q.get("key") != YOUTUBE_KEY:
            return _yt_error("API key not valid. Please pass a valid API key.", "badRequest")
        endpoint = path.rsplit("/", 1)[1]
        if endpoint == "search":
            terms = [fold(t.strip().strip('"')) for t in q.get("q", "").split("|") if t.strip()]
            hits = [v for v in videos if any(t and t in fold(v.title + " " + v.text) for t in terms)]
            chunk, nxt = page_of(hits, q.get("pageToken"))
            data = {"kind": "youtube#searchListResponse", "regionCode": "VN",
                    "pageInfo": {"totalResults": len(hits), "resultsPerPage": per_page},
                    "items": [{"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": v.native_id},
                               "snippet": _yt_video(v)["snippet"]} for v in chunk]}
            if nxt:
                data["nextPageToken"] = nxt
            return _json(data)
        if endpoint == "channels":
            if q.get("id") != C.YOUTUBE_CHANNEL[0]:
                return _json({"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0}, "items": []})
            return _json({"kind": "youtube#channelListResponse", "items": [
                {"kind": "youtube#channel", "id": C.YOUTUBE_CHANNEL[0],
                 "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": uploads}}}]})
        if endpoint == "playlistItems":
            chunk, nxt = page_of(videos, q.get("pageToken"))
            data = {"kind": "youtube#playlistItemListResponse", "items": [
                {"kind": "youtube#playlistItem", "id": f"pl{v.native_id}",
                 "snippet": {**_yt_video(v)["snippet"], "playlistId": uploads,
                             "resourceId": {"kind": "youtube#video", "videoId": v.native_id}}} for v in chunk]}
            if nxt:
                data["nextPageToken"] = nxt
            return _json(data)
        if endpoint == "videos":
            ids = q.get("id", "").split(",")
            return _json({"kind": "youtube#videoListResponse",
                          "items": [_yt_video(by_id[i]) for i in ids if i in by_id]})
        if endpoint == "commentThreads":
            v = by_id.get(q.get("videoId", ""))
            if v is None:
                return _yt_error("The video identified by the videoId parameter could not be found.",
                                 "videoNotFound", 404)
            return _json({"kind": "youtube#commentThreadListResponse", "items": [
                {"kind": "youtube#commentThread", "id": f"Ug{c.native_id}",
                 "snippet": {"videoId": v.native_id, "totalReplyCount": 0, "canReply": True, "isPublic": True,
                             "topLevelComment": {"kind": "youtube#comment", "id": f"Ug{c.native_id}", "snippet": {
                                 "videoId": v.native_id, "textDisplay": _e(c.text), "textOriginal": c.text,
                                 "authorDisplayName": f"@{slugify(c.author)}",
                                 "authorChannelId": {"value": f"UC{slugify(c.author)}"},
                                 "likeCount": c.likes,
                                 "publishedAt": c.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 "updatedAt": c.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}}}
                for c in v.comments]})
        return _yt_error("Not found", "notFound", 404)

    return handle


def _facebook_handler(content: DemoContent):
    posts = sorted(content.of("facebook"), key=lambda p: p.at, reverse=True)
    by_id = {p.native_id: p for p in posts}
    page_id = C.FACEBOOK_PAGE[0]
    per_page = 10

    def stamp(dt: datetime) -> str:
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def handle(path: str, q: dict[str, str]) -> Route | None:
        if not path.startswith("/graph/"):
            return None
        if q.get("access_token") != FACEBOOK_TOKEN:
            return _json({"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                                    "type": "OAuthException", "code": 190, "fbtrace_id": "ADemoTrace"}}, 400)
        parts = path.strip("/").split("/")  # graph, v19.0, <node>, <edge>
        if len(parts) != 4:
            return None
        node, edge = parts[2], parts[3]
        if node == page_id and edge == "posts":
            start = int(q.get("after", "0") or 0)
            chunk = posts[start:start + per_page]
            data: dict[str, Any] = {"data": [
                {"id": p.native_id, "message": p.text, "created_time": stamp(p.at),
                 "permalink_url": f"https://www.facebook.com/{page_id}/posts/{p.native_id.split('_')[1]}",
                 "shares": {"count": p.shares},
                 "reactions": {"data": [], "summary": {"total_count": p.likes, "viewer_reaction": "NONE"}},
                 "comments": {"data": [], "summary": {"order": "ranked", "total_count": len(p.comments),
                                                      "can_comment": True}}} for p in chunk]}
            cursors = {"before": str(start), "after": str(start + per_page)}
            data["paging"] = {"cursors": cursors}
            if start + per_page < len(posts):
                nq = {k: v for k, v in q.items() if k != "after"}
                nq["after"] = str(start + per_page)
                data["paging"]["next"] = f"@@BASE@@{path}?{urlencode(nq)}"
            return _json(data)
        if edge == "comments" and node in by_id:
            p = by_id[node]
            return _json({"data": [
                {"id": f"{node}_{c.native_id.rsplit('_', 1)[1]}", "message": c.text, "created_time": stamp(c.at),
                 "from": {"name": c.author, "id": str(abs(hash(c.author)) % 10**15)}, "like_count": c.likes}
                for c in p.comments], "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}})
        return _json({"error": {"message": f"Unsupported get request. Object with ID '{node}' does not exist",
                                "type": "GraphMethodException", "code": 100, "error_subcode": 33,
                                "fbtrace_id": "ADemoTrace"}}, 400)

    return handle


def build_site(content: DemoContent) -> Site:
    """Every page, feed and API answer of the demo site."""
    site = Site()
    site.add("/robots.txt", "User-agent: *\nDisallow: /admin/\nDisallow: /private/\n"
             "Sitemap: @@BASE@@/dothi/sitemap-news.xml\n", content_type="text/plain; charset=utf-8")
    site.add("/", _page("Trang tin thử nghiệm", "<h1>Trang tin thử nghiệm iocwatch</h1>"))
    articles = content.of("article")
    by_topic: dict[str, list[Item]] = {}
    for a in articles:
        by_topic.setdefault(a.topic, []).append(a)
    for a in articles:
        related = [r for r in by_topic[a.topic] if r is not a][:3]
        body, ctype = render_article(a, related)
        site.add(article_url(a), Route(body=body, content_type=ctype))
    site.add("/baocantho/rss/home.rss", Route(body=render_rss(content.of("article", "baocantho"),
                                                              C.OUTLETS["baocantho"][0], "/baocantho/"),
                                              content_type="application/rss+xml; charset=utf-8"))
    site.add("/dothi/sitemap-news.xml", Route(body=render_news_sitemap(content.of("article", "dothi"),
                                                                       C.OUTLETS["dothi"][0]),
                                              content_type="application/xml; charset=utf-8"))
    portal = sorted(content.of("article", "congthongtin"), key=lambda x: x.at, reverse=True)
    per = 20
    pages = max(1, -(-len(portal) // per))
    for p in range(1, pages + 1):
        chunk = portal[(p - 1) * per: p * per]
        lis = "".join(f'<li><a class="news-link" href="{article_url(i)}">{_e(i.title)}</a> '
                      f'<span class="date">{i.at.astimezone(VN):%d/%m/%Y}</span></li>' for i in chunk)
        nxt = f'<a class="next" href="/congthongtin/thong-bao?page={p + 1}">Trang sau</a>' if p < pages else ""
        page = _page("Thông báo", f'<div class="news-list"><ul>{lis}</ul>{nxt}</div>', charset="windows-1258")
        route = Route(body=to_cp1258(page), content_type="text/html; charset=windows-1258")
        site.add(f"/congthongtin/thong-bao?page={p}", route)
        if p == 1:
            site.add("/congthongtin/thong-bao", route)
    for channel, title in C.TELEGRAM_CHANNELS.items():
        msgs = content.of("telegram", channel)

        def tg(path: str, q: dict[str, str], channel=channel, title=title, msgs=msgs) -> Route | None:
            if path != f"/tg/s/{channel}":
                return None
            before = int(q["before"]) if q.get("before", "").isdigit() else None
            return Route(body=render_telegram(channel, title, msgs, before))

        site.dynamic.append(tg)
    for section, name in C.FORUM_SECTIONS.items():
        threads = sorted(content.of("forum", section), key=lambda t: t.at, reverse=True)
        pages = max(1, -(-len(threads) // PAGE_SIZE_FORUM))
        for p in range(1, pages + 1):
            route = Route(body=render_forum_list(section, name, threads, p))
            site.add(f"/forum/forums/{section}/" + (f"page-{p}" if p > 1 else ""), route)
        for t in threads:
            tid = t.native_id.rsplit("-t", 1)[1]
            n_posts = 1 + len(t.comments)
            for p in range(1, -(-n_posts // PAGE_SIZE_FORUM) + 1):
                site.add(f"/forum/threads/{t.slug}.{tid}/" + (f"page-{p}" if p > 1 else ""),
                         Route(body=render_thread(t, p)))
    site.dynamic.append(_youtube_handler(content))
    site.dynamic.append(_facebook_handler(content))
    site.add("/private/bao-cao-noi-bo.html", _page("Nội bộ", "<p>Trang nội bộ, không được thu thập.</p>"))
    return site


def demo_sources(base_url: str) -> dict[str, Any]:
    """The sources (as YAML-ready data) that collect the whole demo site at ``base_url``."""
    fb_id, _ = C.FACEBOOK_PAGE
    return {"sources": [
        {"name": "demo-baocantho", "type": "rss", "url": f"{base_url}/baocantho/rss/home.rss",
         "schedule": "15m", "tags": ["bao-chi", "can-tho"], "max_items": 1000},
        {"name": "demo-dothi", "type": "sitemap", "url": f"{base_url}/dothi/sitemap-news.xml",
         "schedule": "30m", "tags": ["bao-chi", "do-thi"], "max_items": 1000,
         "extract": {"title": "div.tieude", "body": "#noidung", "author": "div.tacgia",
                     "remove": ["div.binh-luan"]}},
        {"name": "demo-congthongtin", "type": "listing", "url": f"{base_url}/congthongtin/thong-bao",
         "schedule": "1h", "tags": ["chinh-quyen"], "max_items": 1000,
         "listing": {"links": "a.news-link", "next_page": "a.next", "max_pages": 10},
         "extract": {"title": "h2.title", "body": "div.news-content", "date": "div.news-date",
                     "remove": ["div.other-news"]}},
        *[{"name": f"demo-tg-{ch}", "type": "telegram", "id": ch, "url": f"{base_url}/tg",
           "schedule": "10m", "tags": ["mang-xa-hoi"]} for ch in C.TELEGRAM_CHANNELS],
        *[{"name": f"demo-forum-{sec.split('.')[0]}", "type": "forum", "url": f"{base_url}/forum/forums/{sec}/",
           "schedule": "30m", "tags": ["dien-dan"]} for sec in C.FORUM_SECTIONS],
        {"name": "demo-youtube", "type": "youtube", "id": C.YOUTUBE_CHANNEL[0],
         "api_base": f"{base_url}/youtube/v3", "credentials": {"api_key": "IOCWATCH_DEMO_YOUTUBE_KEY"},
         "schedule": "1h", "tags": ["mang-xa-hoi"]},
        {"name": "demo-facebook", "type": "facebook", "id": fb_id, "api_base": f"{base_url}/graph/v19.0",
         "credentials": {"access_token": "IOCWATCH_DEMO_FACEBOOK_TOKEN"}, "schedule": "30m",
         "tags": ["mang-xa-hoi"]},
    ]}


DEMO_ENV = {"IOCWATCH_DEMO_YOUTUBE_KEY": YOUTUBE_KEY, "IOCWATCH_DEMO_FACEBOOK_TOKEN": FACEBOOK_TOKEN}


@contextmanager
def serve_demo(seed: int = 7, *, extra_posts: list[dict[str, Any]] | None = None,
               now: datetime | None = None, sources_path: str | Path | None = None,
               n_articles: int = 270) -> Iterator[tuple[SiteServer, DemoContent, Path | None]]:
    """Generate, serve on 127.0.0.1 and (optionally) write the sources YAML; yields
    ``(server, content, sources_path)``. The API sources read their demo keys from
    :data:`DEMO_ENV` (put them in the crawling process's environment)."""
    import yaml

    content = generate_content(seed, now=now, extra_posts=extra_posts, n_articles=n_articles)
    site = build_site(content)
    with SiteServer(site) as server:
        path = None
        if sources_path is not None:
            path = Path(sources_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(demo_sources(server.base_url), allow_unicode=True, sort_keys=False),
                            encoding="utf-8")
        yield server, content, path
