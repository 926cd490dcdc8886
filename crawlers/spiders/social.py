"""Public social sources: YouTube Data API v3, Facebook Graph API, Telegram web preview,
XenForo forums. API keys come from the environment variables the source names."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from core.documents import Author, Engagement
from core.ids import post_id, pseudonymise
from crawlers.extraction import clean_text, parse_date
from crawlers.spiders.base import SourceSpider

log = logging.getLogger(__name__)

API_ERROR_CODES = [400, 401, 403, 404, 429]  # read the API's JSON error instead of a bare HTTP error


def parse_count(text: str | None) -> int:
    """``"1.2K"`` -> 1200, ``"3,4M"`` -> 3400000, ``"15"`` -> 15; garbage -> 0."""
    if not text:
        return 0
    m = re.search(r"(\d+(?:[.,]\d+)?)\s*([KkMm]?)", text)
    if not m:
        return 0
    value = float(m.group(1).replace(",", "."))
    mult = {"k": 1_000, "m": 1_000_000}.get(m.group(2).lower(), 1)
    return int(round(value * mult))


class ApiSpider(SourceSpider):
    """Common JSON handling: API errors are reported with the API's own reason."""

    def load_json(self, response) -> dict[str, Any] | None:
        try:
            data = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.report.error("bad_json", response.url, str(exc))
            return None
        if not isinstance(data, dict):
            self.report.error("bad_json", response.url, "top level is not an object")
            return None
        err = data.get("error")
        if err is not None or response.status >= 400:
            err = err if isinstance(err, dict) else {}
            reasons = [e.get("reason") for e in err.get("errors", []) if isinstance(e, dict)]
            reason = (reasons[0] if reasons and reasons[0] else None) or err.get("type") or f"http_{response.status}"
            self.report.error(f"api_{reason}", _redact(response.url), str(err.get("message", ""))[:200])
            return None
        return data

    def api_request(self, url: str, callback, **kwargs: Any):
        meta = kwargs.pop("meta", {})
        meta["handle_httpstatus_list"] = API_ERROR_CODES
        return self.request(url, callback, meta=meta, **kwargs)


def _redact(url: str) -> str:
    """A URL with key/access_token values removed (for reports and logs)."""
    return re.sub(r"((?:key|access_token)=)[^&]+", r"\1***", url)


# ------------------------------------------------------------------ YouTube Data API v3
class YoutubeSpider(ApiSpider):
    """Videos of a channel (``id``) or found by watchlist keywords, with comment threads."""

    name = "youtube"
    source_type = "youtube"
    platform = "youtube"
    default_base = "https://www.googleapis.com/youtube/v3"

    def api(self, endpoint: str, **params: Any) -> str:
        base = (self.source.api_base or self.default_base).rstrip("/")
        params["key"] = self.source.credential("api_key")
        return f"{base}/{endpoint}?{urlencode(params)}"

    async def start(self):
        if self.credentials_missing():
            return
        if self.source.id:
            yield self.api_request(self.api("channels", part="contentDetails", id=self.source.id),
                                   self.parse_channel)
            return
        for wl in self.matcher.watchlists:
            q = wl.api_query()
            if q:
                yield self.api_request(self.api("search", part="snippet", type="video", order="date",
                                                maxResults=50, q=q, regionCode="VN",
                                                relevanceLanguage="vi"),
                                       self.parse_search, cb_kwargs={"q": q}, dont_filter=True)

    def parse_channel(self, response):
        data = self.load_json(response)
        if data is None:
            return
        items = data.get("items") or []
        if not items:
            self.report.error("api_channel_not_found", _redact(response.url), self.source.id or "")
            return
        uploads = items[0].get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        if not uploads:
            self.report.error("api_no_uploads", _redact(response.url), "channel has no uploads playlist")
            return
        yield self.api_request(self.api("playlistItems", part="snippet", playlistId=uploads, maxResults=50),
                               self.parse_playlist, cb_kwargs={"playlist": uploads}, dont_filter=True)

    def parse_playlist(self, response, playlist: str):
        data = self.load_json(response)
        if data is None:
            return
        ids = [it.get("snippet", {}).get("resourceId", {}).get("videoId") for it in data.get("items", [])]
        yield from self._videos([i for i in ids if i])
        token = data.get("nextPageToken")
        if token and self.budget_left():
            yield self.api_request(self.api("playlistItems", part="snippet", playlistId=playlist,
                                            maxResults=50, pageToken=token),
                                   self.parse_playlist, cb_kwargs={"playlist": playlist}, dont_filter=True)

    def parse_search(self, response, q: str):
        data = self.load_json(response)
        if data is None:
            return
        ids = [it.get("id", {}).get("videoId") for it in data.get("items", [])
               if it.get("id", {}).get("kind", "youtube#video") == "youtube#video"]
        yield from self._videos([i for i in ids if i])
        token = data.get("nextPageToken")
        if token and self.budget_left():
            yield self.api_request(self.api("search", part="snippet", type="video", order="date",
                                            maxResults=50, q=q, pageToken=token),
                                   self.parse_search, cb_kwargs={"q": q}, dont_filter=True)

    def _videos(self, ids: list[str]):
        fresh = [i for i in ids if not (self.incremental and self.seen.has_id(post_id("youtube", native_id=i)))]
        self.report.requests_skipped_seen += len(ids) - len(fresh)
        if self.source.comments:  # known videos still get new comments
            for vid in ids:
                if vid not in fresh:
                    yield self._comments_request(vid)
        for start in range(0, len(fresh), 50):
            chunk = fresh[start:start + 50]
            yield self.api_request(self.api("videos", part="snippet,statistics", id=",".join(chunk)),
                                   self.parse_videos)

    def parse_videos(self, response):
        data = self.load_json(response)
        if data is None:
            return
        for item in data.get("items", []):
            if not self.budget_left():
                return
            vid = item.get("id")
            sn = item.get("snippet") or {}
            st = item.get("statistics") or {}
            if not vid or not sn:
                self.report.error("api_bad_item", _redact(response.url), "video without id or snippet")
                continue
            channel = sn.get("channelId")
            yield self.new_post(
                native_id=vid, url=f"https://www.youtube.com/watch?v={vid}",
                title=sn.get("title") or "", text=sn.get("description") or sn.get("title") or "",
                published_at=parse_date(sn.get("publishedAt")),
                author=Author(id=pseudonymise("youtube", channel) if channel else None,
                              name=sn.get("channelTitle")),
                engagement=Engagement(likes=int(st.get("likeCount", 0) or 0),
                                      comments=int(st.get("commentCount", 0) or 0),
                                      views=int(st.get("viewCount", 0) or 0)),
                tags=["video"])
            if self.source.comments and int(st.get("commentCount", 1) or 0) > 0:
                yield self._comments_request(vid)

    def _comments_request(self, vid: str):
        return self.api_request(self.api("commentThreads", part="snippet", videoId=vid, maxResults=100,
                                         textFormat="plainText", order="time"),
                                self.parse_comments, cb_kwargs={"video": vid})

    def parse_comments(self, response, video: str):
        data = self.load_json(response)
        if data is None:
            return
        parent = post_id("youtube", native_id=video)
        for item in data.get("items", []):
            if not self.budget_left():
                return
            top = (item.get("snippet") or {}).get("topLevelComment") or {}
            sn = top.get("snippet") or {}
            cid = top.get("id") or item.get("id")
            text = sn.get("textOriginal") or sn.get("textDisplay") or ""
            if not cid or not text.strip():
                self.report.error("api_bad_item", _redact(response.url), "comment without id or text")
                continue
            author_ch = (sn.get("authorChannelId") or {}).get("value")
            yield self.new_post(
                native_id=cid, url=f"https://www.youtube.com/watch?v={video}&lc={cid}",
                text=clean_text(text), published_at=parse_date(sn.get("publishedAt")),
                author=Author(id=pseudonymise("youtube", author_ch) if author_ch else None,
                              name=sn.get("authorDisplayName")),
                engagement=Engagement(likes=int(sn.get("likeCount", 0) or 0),
                                      comments=int((item.get("snippet") or {}).get("totalReplyCount", 0) or 0)),
                parent_id=parent, tags=["comment"])
        token = data.get("nextPageToken")
        if token and self.budget_left():
            yield self.api_request(self.api("commentThreads", part="snippet", videoId=video, maxResults=100,
                                            textFormat="plainText", order="time", pageToken=token),
                                   self.parse_comments, cb_kwargs={"video": video})


# ------------------------------------------------------------------ Facebook Graph API
class FacebookSpider(ApiSpider):
    """Posts and comments of a public page the operator holds a (page) access token for."""

    name = "facebook"
    source_type = "facebook"
    platform = "facebook"
    default_base = "https://graph.facebook.com/v19.0"
    post_fields = ("id,message,created_time,permalink_url,shares,"
                   "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)")
    comment_fields = "id,message,created_time,from{id,name},like_count"

    def api(self, path: str, **params: Any) -> str:
        base = (self.source.api_base or self.default_base).rstrip("/")
        params["access_token"] = self.source.credential("access_token")
        return f"{base}/{path.lstrip('/')}?{urlencode(params)}"

    async def start(self):
        if self.credentials_missing():
            return
        yield self.api_request(self.api(f"{self.source.id}/posts", fields=self.post_fields, limit=50),
                               self.parse_posts, dont_filter=True)

    def parse_posts(self, response):
        data = self.load_json(response)
        if data is None:
            return
        for item in data.get("data", []):
            if not self.budget_left():
                return
            pid, message = item.get("id"), item.get("message")
            if not pid:
                self.report.error("api_bad_item", _redact(response.url), "post without id")
                continue
            if not message:
                self.report.count("no_text")  # photo-only or shared-link posts
                continue
            reactions = ((item.get("reactions") or {}).get("summary") or {}).get("total_count", 0)
            n_comments = ((item.get("comments") or {}).get("summary") or {}).get("total_count", 0)
            yield self.new_post(
                native_id=pid, url=item.get("permalink_url") or f"https://www.facebook.com/{pid}",
                text=clean_text(message), published_at=parse_date(item.get("created_time")),
                author=Author(id=pseudonymise("facebook", self.source.id), name=self.source.name),
                engagement=Engagement(likes=int(reactions or 0), comments=int(n_comments or 0),
                                      shares=int((item.get("shares") or {}).get("count", 0) or 0)),
                tags=["page_post"])
            if self.source.comments and n_comments:
                yield self.api_request(self.api(f"{pid}/comments", fields=self.comment_fields, limit=100,
                                                filter="stream", order="chronological"),
                                       self.parse_comments, cb_kwargs={"parent": pid})
        nxt = (data.get("paging") or {}).get("next")
        if nxt and self.budget_left():
            yield self.api_request(nxt, self.parse_posts)

    def parse_comments(self, response, parent: str):
        data = self.load_json(response)
        if data is None:
            return
        parent_id = post_id("facebook", native_id=parent)
        for item in data.get("data", []):
            if not self.budget_left():
                return
            cid, message = item.get("id"), item.get("message")
            if not cid or not message:
                self.report.count("no_text")
                continue
            who = item.get("from") or {}
            yield self.new_post(
                native_id=cid, url=f"https://www.facebook.com/{cid}",
                text=clean_text(message), published_at=parse_date(item.get("created_time")),
                author=Author(id=pseudonymise("facebook", who["id"]) if who.get("id") else None,
                              name=who.get("name")),
                engagement=Engagement(likes=int(item.get("like_count", 0) or 0)),
                parent_id=parent_id, tags=["comment"])
        nxt = (data.get("paging") or {}).get("next")
        if nxt and self.budget_left():
            yield self.api_request(nxt, self.parse_comments, cb_kwargs={"parent": parent})


# ------------------------------------------------------------------ Telegram web preview
class TelegramSpider(SourceSpider):
    """A public channel through its web preview ``https://t.me/s/<channel>`` (no API key)."""

    name = "telegram"
    source_type = "telegram"
    platform = "telegram"
    max_pages = 10

    @property
    def channel(self) -> str:
        if self.source.id:
            return self.source.id.lstrip("@")
        return urlsplit(self.source.url).path.rstrip("/").split("/")[-1]

    @property
    def base(self) -> str:
        if self.source.url and "/s/" in self.source.url:
            return self.source.url.split("/s/")[0]
        return (self.source.url or "https://t.me").rstrip("/")

    async def start(self):
        yield self.request(f"{self.base}/s/{self.channel}", self.parse_page, meta={"page": 1},
                           dont_filter=True)

    def parse_page(self, response):
        html, _ = self.decode(response)
        response = response.replace(body=html.encode("utf-8"), encoding="utf-8")
        messages = response.css("div.tgme_widget_message[data-post]")
        if not messages:
            self.report.error("empty_channel", response.url, "no messages in the preview page")
            return
        fresh = 0
        for msg in messages:
            if not self.budget_left():
                return
            native = msg.attrib["data-post"]
            text_nodes = msg.css("div.tgme_widget_message_text")
            if not text_nodes:
                self.report.count("no_text")  # stickers, photos without caption
                continue
            node = text_nodes[0].root
            for br in node.iter("br"):
                br.tail = "\n" + (br.tail or "")
            text = clean_text(node.text_content())
            if not text:
                self.report.count("no_text")
                continue
            pid = post_id("telegram", native_id=native)
            if self.incremental and self.seen.has_id(pid):
                self.report.count("skipped_seen")
                continue
            fresh += 1
            author = msg.css("span.tgme_widget_message_from_author::text").get() or \
                msg.css("a.tgme_widget_message_owner_name span::text").get()
            yield self.new_post(
                native_id=native, url=f"https://t.me/{native}", text=text,
                published_at=parse_date(msg.css("a.tgme_widget_message_date time::attr(datetime)").get()),
                author=Author(id=pseudonymise("telegram", self.channel), name=author) if author else None,
                engagement=Engagement(views=parse_count(msg.css("span.tgme_widget_message_views::text").get())))
        page = response.meta.get("page", 1)
        before = response.css("a.tme_messages_more::attr(data-before)").get()
        if before and fresh and page < self.max_pages and self.budget_left():
            yield self.request(f"{self.base}/s/{self.channel}?before={before}", self.parse_page,
                               meta={"page": page + 1})


# ------------------------------------------------------------------ XenForo forums
class ForumSpider(SourceSpider):
    """A XenForo-style forum section: thread list pages, then every post of each thread."""

    name = "forum"
    source_type = "forum"
    platform = "forum"
    max_pages = 5

    async def start(self):
        yield self.request(self.source.url, self.parse_forum, meta={"page": 1}, dont_filter=True)

    def parse_forum(self, response):
        threads = response.css("div.structItem--thread")
        if not threads:
            self.report.error("empty_forum", response.url, "no div.structItem--thread on the page")
            return
        for thread in threads:
            href = thread.css("div.structItem-title a[href*='threads/']::attr(href)").getall()
            if href:
                yield self.request(response.urljoin(href[-1]), self.parse_thread, meta={"page": 1})
        page = response.meta.get("page", 1)
        nxt = response.css("a.pageNav-jump--next::attr(href)").get()
        if nxt and page < self.max_pages and self.budget_left():
            yield self.request(response.urljoin(nxt), self.parse_forum, meta={"page": page + 1})

    def parse_thread(self, response):
        html, _ = self.decode(response)
        response = response.replace(body=html.encode("utf-8"), encoding="utf-8")
        host = urlsplit(response.url).hostname or ""  # ids survive a port change
        title = clean_text(" ".join(response.css("h1.p-title-value ::text").getall()))
        opener = response.meta.get("opener")
        articles = response.css("article.message[data-content]")
        if not articles:
            self.report.error("empty_thread", response.url, "no article.message in the thread page")
            return
        for art in articles:
            if not self.budget_left():
                return
            num = art.attrib["data-content"].removeprefix("post-")
            body = art.css(".message-body .bbWrapper")
            if not body:
                self.report.count("no_text")
                continue
            root = body[0].root
            for quote in root.xpath(".//blockquote"):  # quoted text belongs to the quoted post
                quote.drop_tree()  # keeps the reply text that follows the quote
            for br in root.iter("br"):
                br.tail = "\n" + (br.tail or "")
            text = clean_text(root.text_content())
            if not text:
                self.report.count("no_text")
                continue
            native = f"{host}:{num}"
            pid = post_id("forum", native_id=native)
            if opener is None:
                opener = pid
            stamp = art.css("time.u-dt::attr(datetime)").get() or art.css("time::attr(data-time)").get()
            author = art.attrib.get("data-author")
            link = art.css("header.message-attribution a[href*='posts/']::attr(href)").get()
            yield self.new_post(
                native_id=native, url=response.urljoin(link) if link else f"{response.url}#post-{num}",
                title=title if pid == opener else "",
                text=text, published_at=parse_date(stamp),
                author=Author(id=pseudonymise("forum", f"{host}:{author}"), name=author) if author else None,
                engagement=Engagement(likes=parse_count(art.css(".reactionsBar-link::text").get())),
                parent_id=None if pid == opener else opener,
                tags=["thread_start"] if pid == opener else ["reply"])
        nxt = response.css("a.pageNav-jump--next::attr(href)").get()
        page = response.meta.get("page", 1)
        if nxt and page < self.max_pages and self.budget_left():
            yield self.request(response.urljoin(nxt), self.parse_thread, meta={"page": page + 1, "opener": opener})
