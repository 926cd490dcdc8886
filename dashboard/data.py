"""Every query the dashboard makes, through :func:`index.open_store`, cached.

The store is a ``st.cache_resource``; query results are ``st.cache_data`` with a TTL of
``dashboard.cache_ttl_s``. Charts come from aggregations; no function returns more than
one page of raw documents, except :func:`iter_posts`, which pages through the store for
exports and is never cached.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from core.settings import Settings, get_settings
from core.status import read_status
from core.text import is_ip

log = logging.getLogger(__name__)

PAGE_SIZE = 20  # posts or alerts per page of a list
TOP_N = 10  # rows of a "top" list
EXPORT_BATCH = 1000  # documents per store request while exporting
OPEN_STATUSES = ("open", "acknowledged", "in_progress")
# Time range the alert queues open with (An ninh mạng, the spike queue on Lắng nghe); Tổng quan
# counts open alerts over the same range, so the figures of the three pages agree.
QUEUE_RANGE = "30d"
# Roles that triage each module's alerts: security alerts on An ninh mạng, listening alerts
# (spikes) in their queue on Lắng nghe; the assignee is picked among users of these roles.
TRIAGE_ROLES: dict[str, tuple[str, ...]] = {"security": ("security", "admin"), "listening": ("comms", "admin")}
SEVERITIES = ("critical", "high", "medium", "low")
# Time ranges offered in filters: start (date math) and histogram interval.
RANGES: dict[str, tuple[str | None, str]] = {
    "24h": ("now-24h", "1h"),
    "7d": ("now-7d", "6h"),
    "30d": ("now-30d", "1d"),
    "90d": ("now-90d", "1d"),
    "all": (None, "7d"),
}
_PREVIOUS = {"24h": ("now-48h", "now-24h"), "7d": ("now-14d", "now-7d"),
             "30d": ("now-60d", "now-30d"), "90d": ("now-180d", "now-90d")}
CUSTOM = "custom"  # a custom range is the key "custom:<first day>:<last day>" (local dates, ISO)


def custom_range(first, last) -> str:
    """The range key of the days ``first`` to ``last`` (dates, both included, in the dashboard's timezone)."""
    first, last = min(first, last), max(first, last)
    return f"{CUSTOM}:{first.isoformat()}:{last.isoformat()}"


def range_bounds(range_key: str) -> tuple[str | None, str | None]:
    """(gte, lt) of a range key: date math for the presets, local midnights as instants for a custom range."""
    if range_key.startswith(CUSTOM + ":"):
        from datetime import date, datetime, time, timedelta
        from zoneinfo import ZoneInfo

        _, first, last = range_key.split(":")
        zone = ZoneInfo(settings().dashboard.timezone)
        start = datetime.combine(date.fromisoformat(first), time(), zone)
        end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), time(), zone)
        return start.isoformat(), end.isoformat()
    return RANGES[range_key][0], None


def range_interval(range_key: str) -> str:
    """Histogram interval of a range key (a custom range: hours up to two days, days up to 120, then weeks)."""
    if range_key.startswith(CUSTOM + ":"):
        _, first, last = range_key.split(":")
        from datetime import date

        days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
        return "1h" if days <= 2 else "1d" if days <= 120 else "7d"
    return RANGES[range_key][1]


def _previous(range_key: str) -> tuple[str | None, str | None] | None:
    """The period of the same length just before the range (None for "all")."""
    if range_key.startswith(CUSTOM + ":"):
        from datetime import datetime

        start, end = (datetime.fromisoformat(v) for v in range_bounds(range_key))
        return (start - (end - start)).isoformat(), start.isoformat()
    return _PREVIOUS.get(range_key)


def settings() -> Settings:
    return get_settings()


def _context() -> tuple[str, str, str | None, str]:
    s = settings()
    return (s.store, str(Path(s.data_dir).resolve()), s.es_url, s.dashboard.timezone)


@st.cache_resource(show_spinner=False)
def _open_store(store_name: str, data_dir: str, es_url: str | None, _tz: str):
    from index import open_store

    log.info("dashboard opens the %s store at %s", store_name, es_url or data_dir)
    opened = open_store(settings())
    _ROOTS[id(opened)] = _root_id(opened)
    return opened


_ROOTS: dict[int, tuple | None] = {}  # what each opened store found in its index folder
_SEEN: set[str] = set()  # index folders this process has found: a later absence is a deletion


def _root_id(opened: Any) -> tuple | None:
    """The identity (inodes) of an embedded store's index folder and its kind folders; None for
    other stores or when there is no folder."""
    root = getattr(opened, "root", None)
    if root is None:
        return None
    try:
        return (os.stat(root).st_ino, *sorted((c.name, c.stat().st_ino) for c in Path(root).iterdir() if c.is_dir()))
    except FileNotFoundError:
        return None


def store():
    """The store for the current settings (one per process and data directory).

    An embedded index deleted or rebuilt while the dashboard runs is noticed here: while a
    deleted one is missing, :class:`StoreError` says so (the pages show it); a rebuilt one
    (new folders) is reopened; the cached query results are dropped in both cases.
    """
    from core.errors import StoreError

    opened = _open_store(*_context())
    root = getattr(opened, "root", None)
    if root is None:
        return opened
    found, known = _root_id(opened), _ROOTS.get(id(opened))
    if found is None and str(root) in _SEEN:
        _open_store.clear()
        st.cache_data.clear()
        log.error("the index at %s has disappeared", root)
        raise StoreError(f"the index at {root} is missing",
                         hint="rebuild it with `iocwatch index load` or restore it; the dashboard reopens it")
    if found is not None:
        _SEEN.add(str(root))
    if known is None or found == known:
        _ROOTS[id(opened)] = found
        return opened
    log.warning("the index at %s was replaced (rebuilt); reopening it", root)
    _open_store.clear()
    st.cache_data.clear()
    return _open_store(*_context())


def cached(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``st.cache_data`` with the configured TTL, keyed by the store in use.

    The TTL comes from settings on first call, so nothing reads them at import time.
    """
    wrapped: Callable[..., Any] | None = None

    def inner(ctx: tuple, *args: Any, **kwargs: Any) -> Any:  # ctx keys the cache by store
        return fn(*args, **kwargs)

    inner.__name__ = inner.__qualname__ = f"dashboard_data_{fn.__name__}"
    inner.__module__ = fn.__module__

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal wrapped
        if wrapped is None:
            wrapped = st.cache_data(ttl=settings().dashboard.cache_ttl_s, show_spinner=False)(inner)
        return wrapped(_context(), *args, **kwargs)

    return call


def clear_caches() -> None:
    """Forget every cached query (after triage, or when the user asks for fresh data)."""
    st.cache_data.clear()


# ---------------------------------------------------------------- query builders

def _range(field: str, gte: str | None, lt: str | None = None) -> dict[str, Any] | None:
    if gte is None and lt is None:
        return None
    body: dict[str, Any] = {}
    if gte:
        body["gte"] = gte
    if lt:
        body["lt"] = lt
    return {"range": {field: body}}


def posts_query(range_key: str = "7d", *, topics: tuple[str, ...] = (), sources: tuple[str, ...] = (),
                platforms: tuple[str, ...] = (), watchlists: tuple[str, ...] = (),
                sentiments: tuple[str, ...] = (), toxicities: tuple[str, ...] = (),
                text_query: dict[str, Any] | None = None, previous: bool = False) -> dict[str, Any]:
    """A bool query over posts for a time range and facet filters (``previous``: the period before)."""
    filters: list[dict[str, Any]] = []
    if previous:
        start, end = _previous(range_key) or (None, None)
        clause = _range("published_at", start, end)
    else:
        clause = _range("published_at", *range_bounds(range_key))
    if clause:
        filters.append(clause)
    for field, values in (("topics", topics), ("source", sources), ("platform", platforms),
                          ("watchlists", watchlists), ("sentiment", sentiments), ("toxicity", toxicities)):
        if values:
            filters.append({"terms": {field: list(values)}})
    body: dict[str, Any] = {"filter": filters}
    if text_query:
        body["must"] = [text_query]
    return {"bool": body}


ANOMALY_RULE = "anomalous_activity"  # the anomaly detector's rule name (security.monitor)
RULESETS = ("sigma", "intel", "analytics")
# Where a security alert comes from (the queue's filter), as a clause over stored fields.
DETECTION_SOURCES: dict[str, dict[str, Any]] = {
    "rule": {"bool": {"must_not": [{"terms": {"rule.ruleset": list(RULESETS)}},
                                   {"term": {"rule.name": ANOMALY_RULE}}]}},
    "anomaly": {"term": {"rule.name": ANOMALY_RULE}},
    **{name: {"term": {"rule.ruleset": name}} for name in RULESETS},
}


def detection_source(src: dict[str, Any]) -> str:
    """The detection source of a stored alert: one of :data:`DETECTION_SOURCES`."""
    if src.get("rule.ruleset") in RULESETS:
        return str(src["rule.ruleset"])
    return "anomaly" if src.get("rule.name") == ANOMALY_RULE else "rule"


def alerts_query(range_key: str = "7d", *, severities: tuple[str, ...] = (), statuses: tuple[str, ...] = (),
                 rules: tuple[str, ...] = (), techniques: tuple[str, ...] = (), entity: str = "",
                 module: str = "security", sources: tuple[str, ...] = ()) -> dict[str, Any]:
    """The alerts of ``module`` over the range with the queue's filters (``sources``: keys of
    :data:`DETECTION_SOURCES`, any of them)."""
    filters: list[dict[str, Any]] = [{"term": {"module": module}}]
    if sources:
        filters.append({"bool": {"should": [DETECTION_SOURCES[s] for s in sources], "minimum_should_match": 1}})
    clause = _range("@timestamp", *range_bounds(range_key))
    if clause:
        filters.append(clause)
    for field, values in (("severity", severities), ("status", statuses), ("rule.name", rules),
                          ("threat.technique.id", techniques)):
        if values:
            filters.append({"terms": {field: list(values)}})
    body: dict[str, Any] = {"filter": filters}
    if entity.strip():
        body["should"] = entity_clauses(entity)
        body["minimum_should_match"] = 1
    return {"bool": body}


ENTITY_FIELDS = ("entity", "source.ip", "destination.ip", "user.name", "host.name", "destination.domain")
MAX_CIDR_PREFIXES = 256  # text prefixes a CIDR block may expand to (a /16 in /24 steps, a /8 in /16 steps)


def entity_clauses(value: str) -> list[dict[str, Any]]:
    """Queries matching an entity filter in any ECS field: a complete address exactly, an IPv4 CIDR
    block (``10.20.1.0/24``) as the address prefixes that cover it (octet by octet), anything
    else as a prefix (``10.20.``, ``adm``), which an exact name also matches. Raises ValueError for a
    malformed or too wide block."""
    import ipaddress

    value = value.strip()
    try:
        ipaddress.ip_address(value)
        return [{"term": {f: value}} for f in ENTITY_FIELDS]
    except ValueError:
        pass
    if "/" in value:
        net = ipaddress.ip_network(value, strict=False)  # ValueError for a malformed block
        if net.version != 4:
            raise ValueError("a CIDR block must be IPv4 (IPv6: give the address or a prefix)")
        if net.prefixlen == 32:
            return [{"term": {f: str(net.network_address)}} for f in ENTITY_FIELDS]
        octets = -(-net.prefixlen // 8)  # whole octets the prefixes spell out
        step = 8 * octets
        subnets = [net] if net.prefixlen == step else list(net.subnets(new_prefix=step))
        if len(subnets) > MAX_CIDR_PREFIXES:
            raise ValueError(f"{value} is too wide: give at most /{max(8, net.prefixlen)} blocks")
        prefixes = [".".join(str(sub.network_address).split(".")[:octets]) + "." for sub in subnets]
        return [{"prefix": {f: p}} for p in prefixes for f in ("entity", "source.ip", "destination.ip")]
    return [{"prefix": {f: value}} for f in ENTITY_FIELDS]


def _histogram(field: str, interval: str, tz: str, aggs: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"date_histogram": {"field": field, "fixed_interval": interval, "time_zone": tz,
                                               "min_doc_count": 0}}
    if aggs:
        body["aggs"] = aggs
    return body


def _buckets(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return result.get(name, {}).get("buckets", [])


def _terms(result: dict[str, Any], name: str) -> list[tuple[str, int]]:
    return [(str(b["key"]), int(b["doc_count"])) for b in _buckets(result, name)]


def _nested(result: dict[str, Any], name: str, sub: str) -> list[tuple[int, str, int]]:
    """``(time_ms, sub_key, count)`` rows from a histogram with a terms sub-aggregation."""
    rows = []
    for bucket in _buckets(result, name):
        for inner in bucket.get(sub, {}).get("buckets", []):
            rows.append((int(bucket["key"]), str(inner["key"]), int(inner["doc_count"])))
    return rows


# ---------------------------------------------------------------- overview

@cached
def overview() -> dict[str, Any]:
    """Headline figures: mentions in 24 h and 7 days with the period before, negative share,
    open alerts by severity, and mentions per day."""
    s, tz = store(), settings().dashboard.timezone
    counts = {
        "m24": s.count("posts", _range("published_at", "now-24h")),
        "m24_prev": s.count("posts", _range("published_at", "now-48h", "now-24h")),
        "m7d": s.count("posts", _range("published_at", "now-7d")),
        "m7d_prev": s.count("posts", _range("published_at", "now-14d", "now-7d")),
    }
    week = s.aggregate("posts", _range("published_at", "now-7d"), {
        "sentiment": {"terms": {"field": "sentiment", "size": 5}},
        "per_day": _histogram("published_at", "1d", tz),
    })
    sentiments = dict(_terms(week, "sentiment"))
    counts["negative_7d"] = sentiments.get("negative", 0)
    analysed = sum(sentiments.values())
    counts["negative_share"] = counts["negative_7d"] / analysed if analysed else None
    security, listening = open_alerts("security"), open_alerts("listening")
    counts["open_alerts"] = security["severity"]  # security alerts, as An ninh mạng counts them
    counts["open_security"] = security["total"]
    counts["open_listening"] = listening["total"]
    counts["per_day"] = [(int(b["key"]), int(b["doc_count"])) for b in _buckets(week, "per_day")]
    return counts


@cached
def health() -> dict[str, Any]:
    """The run status file (sources and monitor inputs)."""
    return read_status(settings().data_dir)


# ---------------------------------------------------------------- listening

@cached
def post_facets() -> dict[str, list[str]]:
    """Values offered in the listening and search filters (from the whole index)."""
    res = store().aggregate("posts", None, {
        "topics": {"terms": {"field": "topics", "size": 100}},
        "source": {"terms": {"field": "source", "size": 200}},
        "platform": {"terms": {"field": "platform", "size": 20}},
        "watchlists": {"terms": {"field": "watchlists", "size": 100}},
    })
    return {name: sorted(k for k, _ in _terms(res, name)) for name in res}


def change_percent(current: int, previous: int) -> float | None:
    """Change against the previous period in percent (683.3 for +683 %); None when there was nothing
    before (a percentage of nothing means nothing)."""
    if not previous:
        return None
    return round(100.0 * (current - previous) / previous, 1)


def spikes_in(series: list[tuple[int, int]], *, z: float = 2.5, min_count: int = 5) -> list[int]:
    """Bucket times whose count stands ``z`` standard deviations above the series mean."""
    values = [c for _, c in series]
    if len(values) < 4:
        return []
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if sd == 0:
        return []
    return [t for t, c in series if c >= min_count and (c - mean) / sd >= z]


@cached
def listening(range_key: str, topics: tuple[str, ...] = (), sources: tuple[str, ...] = (),
              platforms: tuple[str, ...] = (), watchlists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything the listening page draws, from two aggregation calls and two short searches."""
    s, tz = store(), settings().dashboard.timezone
    filters = {"topics": topics, "sources": sources, "platforms": platforms, "watchlists": watchlists}
    query = posts_query(range_key, **filters)
    interval = range_interval(range_key)
    res = s.aggregate("posts", query, {
        "over_time": _histogram("published_at", interval, tz, aggs={
            "sentiment": {"terms": {"field": "sentiment", "size": 5}},
            "toxicity": {"terms": {"field": "toxicity", "size": 5}},
            "watchlists": {"terms": {"field": "watchlists", "size": 10}}}),
        "topics": {"terms": {"field": "topics", "size": 15}},
        "source": {"terms": {"field": "source", "size": 15}},
        "platform": {"terms": {"field": "platform", "size": 10}},
        "places": {"terms": {"field": "places", "size": 15}},
        "sentiment": {"terms": {"field": "sentiment", "size": 5}},
        "toxicity": {"terms": {"field": "toxicity", "size": 5}},
    })
    out: dict[str, Any] = {
        "total": sum(int(b["doc_count"]) for b in _buckets(res, "over_time")),
        "series": [(int(b["key"]), int(b["doc_count"])) for b in _buckets(res, "over_time")],
        "sentiment_time": _nested(res, "over_time", "sentiment"),
        "watchlist_time": _nested(res, "over_time", "watchlists"),
        "topics": _terms(res, "topics"),
        "source": _terms(res, "source"),
        "platform": _terms(res, "platform"),
        "places": _terms(res, "places"),
        "sentiment": _terms(res, "sentiment"),
        "toxicity": _terms(res, "toxicity"),
        "toxicity_time": [row for row in _nested(res, "over_time", "toxicity") if row[1] != "clean"],
        "interval": interval,
    }
    if _previous(range_key):
        prev = s.aggregate("posts", posts_query(range_key, previous=True, **filters),
                           {"topics": {"terms": {"field": "topics", "size": 50}}})
        out["topics_prev"] = dict(_terms(prev, "topics"))
    else:
        out["topics_prev"] = {}
    out["spikes"] = spikes_in(out["series"])
    spike_alerts = s.search("alerts", {"bool": {"filter": [
        {"term": {"module": "listening"}}, *([_range("@timestamp", *range_bounds(range_key))]
                                             if any(range_bounds(range_key)) else [])]}},
        size=PAGE_SIZE, sort=[{"@timestamp": {"order": "desc"}}])
    out["spike_alerts"] = [{"time": h.source.get("@timestamp"), "title": h.source.get("title"),
                            "entity": h.source.get("entity"), "severity": h.source.get("severity")}
                           for h in spike_alerts.hits]
    out["top_negative"] = notable_posts(s, posts_query(range_key, sentiments=("negative",), **filters),
                                        "sentiment", "negative")
    out["top_positive"] = notable_posts(s, posts_query(range_key, sentiments=("positive",), **filters),
                                        "sentiment", "positive")
    out["top_toxic"] = notable_posts(s, posts_query(range_key, toxicities=("offensive", "hate"), **filters),
                                     "toxicity", "toxic")
    out["top_engaged"] = _most_engaged(s, query)
    return out


NOTABLE_POOL = 5  # candidates read per listed row: re-ranked by probability, repeated texts dropped
# Store order that brings the most likely posts of a label first (the score is monotone enough
# to fetch candidates; the exact order is the model's probability, computed below).
_NOTABLE_SORT = {"negative": ("sentiment_score", "asc"), "positive": ("sentiment_score", "desc"),
                 "toxic": ("toxicity_score", "desc")}


def label_probability(src: dict[str, Any], task: str, label: str) -> float:
    """The model's probability that the post carries ``label`` for ``task``, in [0, 1].

    ``label_confidence[task]`` is the probability of the label the model chose, so it is the
    answer when that label is ``label``. Otherwise it is read from the scores the NLP stages
    write: ``sentiment_score`` = P(positive) - P(negative), a lower bound of P(negative) when
    negated (of P(positive) as it is); ``toxicity_score`` = 1 - P(clean) = P(offensive or hateful).
    """
    if task == "toxicity":
        return min(1.0, max(0.0, float(src.get("toxicity_score") or 0.0)))
    confidence = (src.get("label_confidence") or {}).get(task)
    if src.get(task) == label and confidence is not None:
        return min(1.0, max(0.0, float(confidence)))
    score = float(src.get("sentiment_score") or 0.0)
    return min(1.0, max(0.0, -score if label == "negative" else score))


def _text_key(src: dict[str, Any]) -> str:
    """What makes two posts "the same text" in a list: their text (or title), case and blanks folded."""
    return " ".join(str(src.get("text") or src.get("title") or "").casefold().split())


def notable_posts(s, query: dict[str, Any], task: str, label: str, size: int = TOP_N) -> list[dict[str, Any]]:
    """The posts most likely to carry ``label`` (``"negative"``, ``"positive"`` or ``"toxic"``),
    most likely first, one row per distinct text; each row's ``probability`` is
    :func:`label_probability` (ties: the more engaged, then the newer post first)."""
    field, order = _NOTABLE_SORT[label]
    hits = s.search("posts", query, size=size * NOTABLE_POOL, sort=[{field: {"order": order}}]).hits
    newest_first = sorted((h.source for h in hits), key=lambda src: str(src.get("published_at") or ""),
                          reverse=True)
    ranked = sorted(newest_first, key=lambda src: (-label_probability(src, task, label), -_engagement(src)))
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for src in ranked:
        key = _text_key(src)
        if key in seen:
            continue
        seen.add(key)
        row = _post_row(src)
        row["probability"] = label_probability(src, task, label)
        rows.append(row)
        if len(rows) == size:
            break
    return rows


def _engagement(src: dict[str, Any]) -> int:
    eng = src.get("engagement") or {}
    return int(eng.get("likes", 0)) + int(eng.get("comments", 0)) + int(eng.get("shares", 0))


def _most_engaged(s, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Top posts by likes + comments + shares, from the top few by each count."""
    seen: dict[str, dict[str, Any]] = {}
    for field in ("engagement.shares", "engagement.comments", "engagement.likes"):
        for hit in s.search("posts", query, size=TOP_N, sort=[{field: {"order": "desc"}}]).hits:
            seen[hit.id] = hit.source
    rows, texts = [], set()
    for src in sorted(seen.values(), key=_engagement, reverse=True):
        if _text_key(src) not in texts:  # one row per distinct text
            texts.add(_text_key(src))
            rows.append(_post_row(src))
    return rows[:TOP_N]


def _post_row(src: dict[str, Any]) -> dict[str, Any]:
    eng = src.get("engagement") or {}
    return {
        "id": src.get("id"),
        "title": src.get("title") or (src.get("text") or "")[:120],
        "text": (src.get("text") or "")[:200],
        "source": src.get("source"),
        "platform": src.get("platform"),
        "published_at": src.get("published_at"),
        "sentiment": src.get("sentiment"),
        "sentiment_score": src.get("sentiment_score"),
        "toxicity": src.get("toxicity"),
        "toxicity_score": src.get("toxicity_score"),
        "topics": ", ".join(src.get("topics") or []),
        "engagement": int(eng.get("likes", 0)) + int(eng.get("comments", 0)) + int(eng.get("shares", 0)),
        "url": src.get("url"),
    }


# ---------------------------------------------------------------- search

# Orders of the search page: relevance (newest first when there is no query), newest, most negative.
SEARCH_ORDERS = ("relevance", "newest", "negative")


@cached
def search_posts(text: str, range_key: str, platforms: tuple[str, ...] = (), sources: tuple[str, ...] = (),
                 topics: tuple[str, ...] = (), sentiments: tuple[str, ...] = (), page: int = 0,
                 order: str = "relevance", watchlists: tuple[str, ...] = ()) -> dict[str, Any]:
    """One page of matching posts with highlighted snippets, and their count per day.

    ``order``: one of :data:`SEARCH_ORDERS`; "negative" puts the lowest ``sentiment_score``
    (P(positive) - P(negative)) first. A malformed ``text`` raises QuerySyntaxError."""
    query = build_search_query(text, range_key, platforms=platforms, sources=sources, topics=topics,
                               sentiments=sentiments, watchlists=watchlists)
    if order == "negative":
        sort: list[Any] | None = [{"sentiment_score": {"order": "asc"}}]
    elif order == "newest" or not text.strip():
        sort = [{"published_at": {"order": "desc"}}]
    else:
        sort = None
    s = store()
    result = s.search("posts", query, size=PAGE_SIZE, from_=page * PAGE_SIZE, sort=sort,
                      highlight=["title", "text"])
    hist = s.aggregate("posts", query, {
        "over_time": _histogram("published_at", range_interval(range_key) if range_key != "7d" else "1d",
                                settings().dashboard.timezone)})
    hits = []
    for h in result.hits:
        row = _post_row(h.source)
        row["snippet"] = " … ".join(h.highlight.get("text", [])[:2]) or _escape((h.source.get("text") or "")[:240])
        row["title_hl"] = (h.highlight.get("title") or [_escape(row["title"] or "")])[0]
        hits.append(row)
    return {"total": result.total, "hits": hits,
            "over_time": [(int(b["key"]), int(b["doc_count"])) for b in _buckets(hist, "over_time")]}


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def build_search_query(text: str, range_key: str, **filters: tuple[str, ...]) -> dict[str, Any]:
    """The user's boolean query (diacritic-insensitive) combined with the filters."""
    text_query = None
    if text.strip():
        from index.querystring import parse_query

        text_query = parse_query(text, max_depth=settings().index.query_max_depth)
    return posts_query(range_key, text_query=text_query, **filters)


# The search page's own widget keys (dashboard/pages/search.py), filled by a drill-down.
SEARCH_KEYS = {"text": "s_text", "range": "s_range", "platforms": "s_platforms", "sources": "s_sources",
               "topics": "s_topics", "sentiments": "s_sentiments", "watchlists": "s_watchlists"}
HANDOVER_KEY = "search_handover"


def hand_over_search(*, text: str = "", range_key: str = "all", **filters: Any) -> None:
    """Open the search page on these filters (a chart's bar or point, a spike): kept under
    :data:`HANDOVER_KEY` until the search page calls :func:`take_search_handover` as it starts,
    then switches to it. ``filters``: platforms, sources, topics, sentiments, watchlists (lists);
    ``text``: a query in the search language (``place:"Ninh Kiều"``, a ``published_at`` range)."""
    unknown = set(filters) - set(SEARCH_KEYS)
    if unknown:
        raise ValueError(f"the search page has no filter {sorted(unknown)}")
    st.session_state[HANDOVER_KEY] = {"text": text, "range": range_key,
                                      **{k: list(v) for k, v in filters.items() if v}}
    st.switch_page("pages/search.py")


def take_search_handover() -> dict[str, Any] | None:
    """On the search page, before its widgets: the handed-over filters written into its widget keys
    (every filter not handed over is cleared, so the results are exactly the figure's posts)."""
    handed = st.session_state.pop(HANDOVER_KEY, None)
    if not handed:
        return None
    for name, key in SEARCH_KEYS.items():
        st.session_state[key] = handed.get(name, "" if name == "text" else "all" if name == "range" else [])
    return handed


DRILL_FACETS = {"topic": "topics", "source": "sources", "platform": "platforms", "watchlist": "watchlists",
                "sentiment": "sentiments"}


def drill_filters(kind: str, value: Any, range_key: str, *, interval: str | None = None,
                  **filters: Any) -> dict[str, Any]:
    """The search filters behind one bar or point of a chart: the page's own filters (``filters``:
    topics, sources, platforms, watchlists) and range, narrowed by what was clicked: a topic,
    source, platform or watchlist (that facet), a place (``places:"…"``) or a time bucket starting
    at ``value`` ms of ``interval`` (a ``published_at`` range). Give the result to
    :func:`hand_over_search`."""
    out: dict[str, Any] = {"range_key": range_key, **{k: list(v) for k, v in filters.items() if v}}
    window = ""
    if range_key.startswith(CUSTOM + ":"):  # the search page offers the presets: a custom range goes in the query
        out["range_key"] = "all"
        gte, lt = range_bounds(range_key)
        window = f"published_at:[{gte} TO {lt}}}"
    if kind in DRILL_FACETS:
        out[DRILL_FACETS[kind]] = [str(value)]
        if window:
            out["text"] = window
    elif kind == "place":
        # the field the places chart counts, so the results are the bar's posts
        out["text"] = 'places:"{}"'.format(str(value).replace('"', " ")) + (f" AND {window}" if window else "")
    elif kind == "day":
        out["text"] = bucket_query(int(value), interval or "1d")
    else:
        raise ValueError(f"no drill-down for {kind!r}")
    return out


def window_query(start_ms: int, end_ms: int) -> str:
    """A ``published_at`` range [start, end) in the search language (UTC instants)."""
    from datetime import UTC, datetime

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return f"published_at:[{iso(start_ms)} TO {iso(end_ms)}}}"


_INTERVAL_MS = {"1h": 3_600_000, "6h": 21_600_000, "1d": 86_400_000, "7d": 604_800_000}


def bucket_query(time_ms: int, interval: str) -> str:
    """The search-language range of one histogram bucket starting at ``time_ms``."""
    return window_query(time_ms, time_ms + _INTERVAL_MS[interval])


def spike_group(entity: str | None) -> tuple[str, str]:
    """A listening alert's entity as (group, name): "watchlist:x", "topic:x" or a bare watchlist name."""
    group, _, name = (entity or "").partition(":")
    return (group, name) if name and group in ("watchlist", "topic") else ("watchlist", entity or "")


@cached
def spike_details(range_key: str) -> list[dict[str, Any]]:
    """Each listening alert (spike) of the range, newest first, with what a reader needs to act on
    it: its group and window, the terms that rose (keywords of the window's posts against the
    baseline before it, ``serve.spike_baseline_d`` days), three sample posts (the posts behind
    it first) and the count of its posts."""
    from datetime import timedelta

    s, serve = store(), settings().serve
    clause = _range("@timestamp", *range_bounds(range_key))
    hits = s.search("alerts", {"bool": {"filter": [{"term": {"module": "listening"}}, *([clause] if clause else [])]}},
                    size=PAGE_SIZE, sort=[{"@timestamp": {"order": "desc"}}]).hits
    out = []
    for h in hits:
        src = h.source
        group, name = spike_group(src.get("entity"))
        end = _parse_time(src.get("last_seen") or src.get("@timestamp"))
        start = _parse_time(src.get("first_seen") or src.get("@timestamp"))
        if end is None:
            continue
        if start is None or start >= end:
            start = end - timedelta(hours=serve.spike_window_h)
        base_start = start - timedelta(days=serve.spike_baseline_d)
        field = GROUP_FIELD[group]
        window = {"bool": {"filter": [{"term": {field: name}}, _range("published_at", start.isoformat(),
                                                                       end.isoformat())]}}
        baseline = {"bool": {"filter": [{"term": {field: name}}, _range("published_at", base_start.isoformat(),
                                                                         start.isoformat())]}}
        agg = {"terms": {"terms": {"field": "keywords", "size": 50}}}
        now_terms = dict(_terms(s.aggregate("posts", window, agg), "terms"))
        before = dict(_terms(s.aggregate("posts", baseline, agg), "terms"))
        scale = (end - start) / (start - base_start)
        rose = sorted(((term, n, before.get(term, 0)) for term, n in now_terms.items()
                       if n >= 2 and (n + 1) / (before.get(term, 0) * scale + 1) >= 2),
                      key=lambda x: (-(x[1] + 1) / (x[2] * scale + 1), -x[1], x[0]))[:8]
        samples = [p for p in (s.get("posts", pid) for pid in (src.get("related_ids") or [])[:3]) if p]
        if len(samples) < 3:
            seen = {p.get("id") for p in samples}
            more = s.search("posts", window, size=3 + len(samples), sort=[{"published_at": {"order": "desc"}}]).hits
            samples += [m.source for m in more if m.source.get("id") not in seen][: 3 - len(samples)]
        out.append({"id": h.id, "time": src.get("@timestamp"), "title": src.get("title"), "rule": src.get("rule.name"),
                    "title_doc": title_doc(src),
                    "severity": src.get("severity"), "status": src.get("status"), "group": group, "name": name,
                    "start": start.isoformat(), "end": end.isoformat(), "terms": rose,
                    "samples": [_post_row(p) for p in samples], "posts": s.count("posts", window)})
    return out


GROUP_FIELD = {"watchlist": "watchlists", "topic": "topics"}  # a spike's group -> the posts' field


def _parse_time(value: Any):
    from datetime import UTC, datetime

    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_post(post_id: str) -> dict[str, Any] | None:
    return store().get("posts", post_id)


@cached
def watchlist_labels() -> dict[str, str]:
    """Display names of watchlists by name, from the watchlists file the crawler uses
    (``crawl.watchlists_file`` or the bundled one): a watchlist's ``title`` when it has one,
    else its name."""
    import importlib.util

    path: Path | None = None
    if settings().crawl.watchlists_file:
        path = Path(settings().crawl.watchlists_file)
    else:
        spec = importlib.util.find_spec("crawlers")  # locates the package without importing it
        for folder in (spec.submodule_search_locations or []) if spec else []:
            if (Path(folder) / "watchlists.yaml").is_file():
                path = Path(folder) / "watchlists.yaml"
    if path is None or not path.is_file():
        return {}
    try:
        items = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("watchlists") or []
    except (yaml.YAMLError, OSError, AttributeError) as exc:
        log.warning("cannot read watchlist names from %s: %s", path, exc)
        return {}
    return {str(w["name"]): str(w.get("title") or w["name"]) for w in items if isinstance(w, dict) and w.get("name")}


def iter_posts(query: dict[str, Any], *, batch: int | None = None,
               limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Every post matching ``query``, newest first, paged through the store (exports)."""
    s = store()
    batch = batch or EXPORT_BATCH
    offset = 0
    while True:
        page = s.search("posts", query, size=batch, from_=offset, sort=[{"published_at": {"order": "desc"}}])
        for hit in page.hits:
            yield hit.source
        offset += len(page.hits)
        if not page.hits or offset >= page.total or (limit is not None and offset >= limit):
            return


# ---------------------------------------------------------------- security

@cached
def alert_facets() -> dict[str, Any]:
    """Rules and ATT&CK technique ids offered in the security filters, and each technique's name."""
    res = store().aggregate("alerts", {"term": {"module": "security"}}, {
        "rule": {"terms": {"field": "rule.name", "size": 100}},
        "technique": {"terms": {"field": "threat.technique.id", "size": 100},
                      "aggs": {"name": {"terms": {"field": "threat.technique.name", "size": 1}}}},
    })
    names = {str(b["key"]): str(inner[0]["key"]) for b in _buckets(res, "technique")
             if (inner := b.get("name", {}).get("buckets", []))}
    out: dict[str, Any] = {name: sorted(k for k, _ in _terms(res, name)) for name in ("rule", "technique")}
    out["technique_names"] = names
    return out


def detection_detail(src: dict[str, Any]) -> dict[str, Any]:
    """What a Sigma or intel alert adds: rule id, level and ATT&CK tags; feed, indicator, its type
    and the feed's confidence (older intel alerts kept the confidence only in their explanation)."""
    out = {k: src.get(k) for k in ("rule.id", "rule.level", "threat.feed.name", "threat.indicator.name",
                                   "threat.indicator.type", "threat.indicator.confidence") if src.get(k) is not None}
    if src.get("tags"):
        out["tags"] = list(src["tags"])
    if src.get("rule.ruleset") == "intel" and "threat.indicator.confidence" not in out:
        conf = next((e.get("observed") for e in src.get("explanation") or []
                     if e.get("feature") == "indicator_confidence"), None)
        if conf is not None:
            out["threat.indicator.confidence"] = int(conf)
    if src.get("rule.ruleset") == "intel":
        out.pop("rule.id", None)  # "intel:<feed>": the feed says it
    return out


TITLE_FIELDS = ("title", "title_key", "title_params", "rule.name", "rule.ruleset", "entity", "source.ip",
                "destination.ip", "destination.port", "destination.domain", "user.name", "threat.technique.id",
                "count")


def title_doc(src: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stored alert that :func:`dashboard.i18n.alert_title` reads (rows carry them
    so that pages show titles in the UI language)."""
    return {k: src.get(k) for k in TITLE_FIELDS if src.get(k) is not None}


@cached
def related_alerts(alert_id: str) -> list[dict[str, Any]]:
    """Other alerts on the same entity (its entity or source address) whose time span overlaps this
    one's, riskiest first (one page)."""
    doc = store().get("alerts", alert_id)
    if not doc:
        return []
    who = [v for v in {doc.get("entity"), doc.get("source.ip")} if v]
    start, end = doc.get("first_seen") or doc.get("@timestamp"), doc.get("last_seen") or doc.get("@timestamp")
    if not who or not start or not end:
        return []
    query = {"bool": {"filter": [{"term": {"module": doc.get("module", "security")}},
                                 {"range": {"first_seen": {"lte": end}}}, {"range": {"last_seen": {"gte": start}}}],
                      "should": [{"terms": {f: who}} for f in ("entity", "source.ip")], "minimum_should_match": 1,
                      "must_not": [{"ids": {"values": [alert_id]}}]}}
    hits = store().search("alerts", query, size=PAGE_SIZE, sort=[{"risk_score": {"order": "desc"}}]).hits
    return [{"id": h.id, "time": h.source.get("@timestamp"), "severity": h.source.get("severity"),
             "status": h.source.get("status"), "rule": h.source.get("rule.name"), "title": h.source.get("title"),
             "title_doc": title_doc(h.source), "entity": h.source.get("entity"),
             "risk_score": h.source.get("risk_score")} for h in hits]


RISK_VALUES = 1_001  # distinct risk scores (0-100 in tenths): every one is read, the score needs them all
RISK_TIMELINE = 50  # alerts listed per entity in its timeline (newest kept)


def _risk_parts(bucket: dict[str, Any]) -> tuple[Counter, Counter]:
    """A bucket's alerts as (risk score → alerts, technique → alerts)."""
    risks = Counter({float(b["key"]): int(b["doc_count"]) for b in bucket.get("risk", {}).get("buckets", [])})
    techs = Counter({str(b["key"]): int(b["doc_count"]) for b in bucket.get("tech", {}).get("buckets", [])})
    return risks, techs


def _less(part: tuple[Counter, Counter], *others: tuple[Counter, Counter]) -> tuple[Counter, Counter]:
    risks, techs = Counter(part[0]), Counter(part[1])
    for r, tc in others:
        risks.subtract(r)
        techs.subtract(tc)
    return +risks, +techs


RISK_SLICE_DOCS = 4_000  # alerts per aggregation: each of its 15 bucket levels holds at most one bucket per alert,
# and the embedded index refuses an aggregation of more than 65,000 buckets


def _risk_slices(query: dict[str, Any]) -> list[dict[str, Any]]:
    """``query`` cut into disjoint slices of at most :data:`RISK_SLICE_DOCS` alerts each: runs of whole
    minutes of ``last_seen``, a minute with more alerts cut by risk score (whole points)."""
    from datetime import UTC, datetime

    def iso(ms: float) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    def runs(buckets: list[tuple[float, int]], width: float, field: str, fmt) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start, total = None, 0
        for i, (key, n) in enumerate(buckets):
            if start is None:
                start, total = key, 0
            total += n
            nxt = buckets[i + 1] if i + 1 < len(buckets) else None
            if nxt is None or total + nxt[1] > RISK_SLICE_DOCS:
                out.append({"range": {field: {"gte": fmt(start), "lt": fmt(key + width)}}})
                start = None
        return out

    res = store().aggregate("alerts", query, {"minutes": {"date_histogram": {
        "field": "last_seen", "fixed_interval": "60s", "min_doc_count": 1}}})
    minutes = [(float(b["key"]), int(b["doc_count"])) for b in _buckets(res, "minutes") if b["doc_count"]]
    slices = []
    for clause in runs(minutes, 60_000, "last_seen", iso):
        within = {"bool": {"filter": [query, clause]}}
        bounds = clause["range"]["last_seen"]
        if sum(n for k, n in minutes if iso(k) >= bounds["gte"] and iso(k) < bounds["lt"]) <= RISK_SLICE_DOCS:
            slices.append(within)
            continue
        res = store().aggregate("alerts", within, {"risk": {"histogram": {"field": "risk_score", "interval": 1}}})
        points = [(float(b["key"]), int(b["doc_count"])) for b in _buckets(res, "risk") if b["doc_count"]]
        slices += [{"bool": {"filter": [within, c]}} for c in runs(points, 1.0, "risk_score", float)]
    return slices


def entity_risk_scores(query: dict[str, Any]) -> dict[tuple[str, str], tuple[Counter, Counter]]:
    """Each host's and user's alerts among those ``query`` selects, as risk and technique counts,
    from aggregations (no document read; the alerts cut into slices whose counts add up). Owners as
    :mod:`security.risk` defines them: a host is an alert's source address, and its entity when that
    is an address or when the alert has no source address; a user is its user name, else the name
    in a ``user:<name>`` entity. An alert counted under two fields that name the same owner is
    counted once (the overlap is subtracted)."""
    owners: dict[tuple[str, str], tuple[Counter, Counter]] = {}
    for part in _risk_slices(query):
        for owner, (risks, techs) in _slice_owners(part).items():
            have = owners.setdefault(owner, (Counter(), Counter()))
            have[0].update(risks)
            have[1].update(techs)
    return owners


def _slice_owners(query: dict[str, Any]) -> dict[tuple[str, str], tuple[Counter, Counter]]:
    from core.risk import NOT_HOSTS

    sub = {"risk": {"terms": {"field": "risk_score", "size": RISK_VALUES}},
           "tech": {"terms": {"field": "threat.technique.id", "size": 100}}}
    res = store().aggregate("alerts", query, {
        "src": {"terms": {"field": "source.ip", "size": RISK_SLICE_DOCS}, "aggs": sub},
        "usr": {"terms": {"field": "user.name", "size": RISK_SLICE_DOCS}, "aggs": sub},
        "ent": {"terms": {"field": "entity", "size": RISK_SLICE_DOCS}, "aggs": {
            **sub, "src": {"terms": {"field": "source.ip", "size": RISK_SLICE_DOCS}, "aggs": sub},
            "usr": {"terms": {"field": "user.name", "size": RISK_SLICE_DOCS}, "aggs": sub}}},
    })
    owners: dict[tuple[str, str], tuple[Counter, Counter]] = {}

    def add(owner: tuple[str, str], part: tuple[Counter, Counter]) -> None:
        if sum(part[0].values()) > 0:
            have = owners.setdefault(owner, (Counter(), Counter()))
            have[0].update(part[0])
            have[1].update(part[1])

    for b in _buckets(res, "src"):
        add(("host", str(b["key"])), _risk_parts(b))
    for b in _buckets(res, "usr"):
        add(("user", str(b["key"])), _risk_parts(b))
    for b in _buckets(res, "ent"):
        name, whole = str(b["key"]), _risk_parts(b)
        if name.startswith("user:"):  # a user unless the alert names a user of its own
            add(("user", name[5:]), _less(whole, *(_risk_parts(u) for u in _buckets(b, "usr"))))
        elif is_ip(name):  # a host, counted once when it is also the source address
            add(("host", name), _less(whole, *(_risk_parts(x) for x in _buckets(b, "src") if str(x["key"]) == name)))
        elif not name.startswith(NOT_HOSTS):  # a host name: a host only when the alert has no source address
            add(("host", name), _less(whole, *(_risk_parts(x) for x in _buckets(b, "src"))))
    return owners


def _owner_query(base: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The alerts of one host or user (for its timeline, times and worst severity)."""
    if kind == "user":
        should = [{"term": {"user.name": name}}, {"term": {"entity": f"user:{name}"}}]
    else:
        should = [{"term": {"source.ip": name}}, {"term": {"entity": name}}]
    return {"bool": {"filter": [base], "should": should, "minimum_should_match": 1}}


@cached
def riskiest_entities(hours: float = 24.0, top: int = TOP_N) -> list[dict[str, Any]]:
    """Hosts and users ranked by the entity risk score (:mod:`core.risk`, as :func:`security.risk.entity_risk`
    ranks them) over the ``hours`` up to now, from an aggregation over the security alerts; each of
    the ``top`` with its alert timeline (its newest :data:`RISK_TIMELINE` alerts, oldest first)."""
    from datetime import UTC, datetime, timedelta

    from core.documents import Severity
    from core.risk import DISCOUNTED, score_alerts

    now = datetime.now(UTC)
    base = {"bool": {"filter": [{"term": {"module": "security"}},
                                {"range": {"last_seen": {"gte": (now - timedelta(hours=hours)).isoformat()}}},
                                {"range": {"first_seen": {"lte": now.isoformat()}}}],
                     "must_not": [{"terms": {"close_reason": list(DISCOUNTED)}}]}}
    ranked = []
    for (kind, name), (risks, techs) in entity_risk_scores(base).items():
        values = [r for r, n in risks.items() for _ in range(n)]
        ranked.append({"entity": name, "kind": kind, "score": score_alerts(values, len(techs)),
                       "alerts": len(values), "techniques": sorted(techs)})
    ranked.sort(key=lambda e: (-e["score"], -e["alerts"], e["entity"]))
    out = []
    for e in ranked[:top]:
        query = _owner_query(base, e["kind"], e["entity"])
        res = store().aggregate("alerts", query, {"first": {"min": {"field": "first_seen"}},
                                                  "last": {"max": {"field": "last_seen"}},
                                                  "severity": {"terms": {"field": "severity", "size": 4}}})
        hits = store().search("alerts", query, size=RISK_TIMELINE, sort=[{"last_seen": {"order": "desc"}}]).hits
        severities = [Severity(k) for k, _ in _terms(res, "severity")]
        out.append({**e, "level": Severity.from_score(e["score"]).value,
                    "max_severity": max(severities, key=lambda sv: sv.rank).value if severities else None,
                    "first_seen": _iso(res.get("first", {})), "last_seen": _iso(res.get("last", {})),
                    "timeline": [{"time": h.source.get("last_seen"), "rule": h.source.get("rule.name"),
                                  "technique": h.source.get("threat.technique.id"),
                                  "severity": h.source.get("severity"), "risk": h.source.get("risk_score"),
                                  "title": h.source.get("title"), "title_doc": title_doc(h.source), "id": h.id}
                                 for h in reversed(hits)]})
    return out


def _iso(value: dict[str, Any]) -> str | None:
    """A min/max aggregation's date as ISO-8601 UTC (None when no alert had it)."""
    from datetime import UTC, datetime

    if value.get("value_as_string"):
        return str(value["value_as_string"])
    if value.get("value") is None:
        return None
    v = float(value["value"])
    return datetime.fromtimestamp(v / 1000 if v > 1e11 else v, UTC).isoformat()


@cached
def alert_queue(range_key: str, severities: tuple[str, ...] = (), statuses: tuple[str, ...] = (),
                rules: tuple[str, ...] = (), techniques: tuple[str, ...] = (), entity: str = "",
                page: int = 0, sources: tuple[str, ...] = ()) -> dict[str, Any]:
    """One page of the queue (riskiest first), the timeline by severity and the top talkers."""
    query = alerts_query(range_key, severities=severities, statuses=statuses, rules=rules,
                         techniques=techniques, entity=entity, sources=sources)
    s = store()
    result = s.search("alerts", query, size=PAGE_SIZE, from_=page * PAGE_SIZE,
                      sort=[{"risk_score": {"order": "desc"}}])
    res = s.aggregate("alerts", query, {
        "over_time": _histogram("@timestamp", range_interval(range_key), settings().dashboard.timezone,
                                aggs={"severity": {"terms": {"field": "severity", "size": 4}}}),
        "talkers": {"terms": {"field": "source.ip", "size": TALKER_CANDIDATES},
                    "aggs": {"risk": {"sum": {"field": "risk_score"}},
                             "top_risk": {"max": {"field": "risk_score"}}}},
        "severity": {"terms": {"field": "severity", "size": 4}},
    })
    rows = [{
        "id": h.id, "time": h.source.get("@timestamp"), "severity": h.source.get("severity"),
        "status": h.source.get("status"), "risk_score": h.source.get("risk_score"),
        "rule": h.source.get("rule.name"), "technique": h.source.get("threat.technique.id"),
        "entity": h.source.get("entity") or h.source.get("source.ip"),
        "title": h.source.get("title"), "assignee": h.source.get("assignee"), "title_doc": title_doc(h.source),
        "source": detection_source(h.source), "detail": detection_detail(h.source),
    } for h in result.hits]
    return {"total": result.total, "rows": rows, "timeline": _nested(res, "over_time", "severity"),
            "talkers": rank_talkers(_buckets(res, "talkers")), "severity": dict(_terms(res, "severity"))}


TALKER_CANDIDATES = 1000  # source addresses read per queue: ranked by alerts and risk, the top TOP_N shown


def rank_talkers(buckets: list[dict[str, Any]], size: int = TOP_N) -> list[dict[str, Any]]:
    """Source addresses ranked by their alerts' total risk (alerts weighted by risk), then by alerts
    and worst risk; each marked internal or external against ``security.internal_networks``, so an
    outside attacker with a few high-risk alerts ranks above many low-risk internal ones."""
    import ipaddress

    nets = [ipaddress.ip_network(n, strict=False) for n in settings().security.internal_networks]

    def internal(ip: str) -> bool | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        return any(address in net for net in nets)

    rows = [{"ip": str(b["key"]), "count": int(b["doc_count"]),
             "total_risk": round(float(b.get("risk", {}).get("value") or 0), 1),
             "max_risk": round(float(b.get("top_risk", {}).get("value") or 0), 1),
             "internal": internal(str(b["key"]))} for b in buckets]
    for row in rows:
        row["avg_risk"] = round(row["total_risk"] / row["count"], 1) if row["count"] else 0.0
    rows.sort(key=lambda r: (-r["total_risk"], -r["count"], -r["max_risk"], r["ip"]))
    return rows[:size]


@cached
def open_alerts(module: str = "security") -> dict[str, Any]:
    """Open alerts of ``module`` over :data:`QUEUE_RANGE`: ``{"total", "severity": {sev: n}}``, the
    query the module's queue opens with (An ninh mạng for security, Lắng nghe for listening)."""
    query = alerts_query(QUEUE_RANGE, statuses=OPEN_STATUSES, module=module)
    res = store().aggregate("alerts", query, {"severity": {"terms": {"field": "severity", "size": 4}}})
    severity = dict(_terms(res, "severity"))
    return {"total": sum(severity.values()), "severity": severity}


@cached
def listening_queue(range_key: str = QUEUE_RANGE, statuses: tuple[str, ...] = OPEN_STATUSES) -> list[dict[str, Any]]:
    """Listening alerts (spikes) to triage, newest first (one page)."""
    result = store().search("alerts", alerts_query(range_key, statuses=statuses, module="listening"),
                            size=PAGE_SIZE, sort=[{"@timestamp": {"order": "desc"}}])
    return [{"id": h.id, "time": h.source.get("@timestamp"), "severity": h.source.get("severity"),
             "status": h.source.get("status"), "title": h.source.get("title"), "entity": h.source.get("entity"),
             "assignee": h.source.get("assignee"), "close_reason": h.source.get("close_reason"),
             "title_doc": title_doc(h.source)}
            for h in result.hits]


_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def local_times(text: str, tz: str) -> str:
    """``text`` with every ISO-like timestamp in it (UTC when it names no offset, as the monitor
    writes them) rewritten as wall-clock time in ``tz``: evidence shown in the dashboard's timezone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def shift(m: re.Match[str]) -> str:
        offset = m.group(4) or "+00:00"
        if offset == "Z":
            offset = "+00:00"
        elif ":" not in offset:
            offset = offset[:3] + ":" + offset[3:]
        clock = m.group(2) if m.group(2).count(":") == 2 else m.group(2) + ":00"
        try:
            moment = datetime.fromisoformat(f"{m.group(1)}T{clock}{offset}")
        except ValueError:
            return m.group(0)
        return moment.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M:%S")

    return _STAMP.sub(shift, text)


def decode_payload(line: str) -> str | None:
    """What an evidence line carries once decoded: URL-encoding undone (twice, as the web-attack
    rule reads requests), and an encoded DNS label (base32, base64 or hex) read when it gives
    printable text. None when decoding changes nothing."""
    import base64
    import binascii
    from urllib.parse import unquote_plus

    decoded = unquote_plus(unquote_plus(line)) if "%" in line or "+" in line else line
    for label in re.findall(r"(?<![\w.-])([A-Za-z0-9+/=_-]{16,})(?=\.[A-Za-z0-9-]+\.)", decoded):
        for decode in (lambda x: base64.b32decode(x.upper() + "=" * (-len(x) % 8)),
                       lambda x: base64.b64decode(x + "=" * (-len(x) % 4), altchars=b"-_", validate=True),
                       bytes.fromhex):
            try:
                raw = decode(label)
            except (binascii.Error, ValueError):
                continue
            text = raw.decode("utf-8", errors="replace")
            if text and sum(c.isprintable() for c in text) / len(text) >= 0.9:
                decoded = decoded.replace(label, f"{label} «{text}»")
                break
    return decoded if decoded != line else None


def triagers(module: str) -> dict[str, str]:
    """Users whose role triages ``module``'s alerts (:data:`TRIAGE_ROLES`): name -> display name."""
    from dashboard.auth import list_users

    allowed = TRIAGE_ROLES.get(module, ())
    return {u["name"]: u["display_name"] or u["name"] for u in list_users(settings()) if u["role"] in allowed}


def get_alert(alert_id: str) -> dict[str, Any] | None:
    return store().get("alerts", alert_id)


def triage_alert(alert_id: str, *, by: str, status: str | None = None, assignee: str | None = None,
                 reason: str | None = None, note: str | None = None, role: str | None = None) -> dict[str, Any]:
    """Write a triage action back to the store (who and when go into the history).

    ``role``: the acting user's role; a role not in :data:`TRIAGE_ROLES` for the alert's module
    is refused with :class:`DashboardError`."""
    from core.errors import DashboardError
    from index.triage import triage

    if role is not None:
        doc = store().get("alerts", alert_id)
        module = (doc or {}).get("module", "security")
        if role not in TRIAGE_ROLES.get(module, ()):
            raise DashboardError(f"the {role} role cannot triage {module} alerts",
                                 hint=f"ask one of: {', '.join(TRIAGE_ROLES.get(module, ()))}")
    alert = triage(store(), alert_id, status=status, assignee=assignee, reason=reason, by=by, note=note)
    clear_caches()
    log.info("alert %s triaged by %s: status=%s assignee=%s reason=%s", alert_id, by, status, assignee, reason)
    return alert.to_doc()


# ---------------------------------------------------------------- sources

def sources_file() -> Path | None:
    """The sources YAML the crawler reads: the configured file, else the bundled default list."""
    named = settings().crawl.sources_file
    if named:
        return Path(named)
    import importlib.util

    spec = importlib.util.find_spec("crawlers")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for candidate in ("sources.yaml", "config/sources.yaml", "data/sources.yaml"):
            path = Path(folder) / candidate
            if path.is_file():
                return path
    return None


@cached
def topic_names() -> dict[str, str]:
    """Vietnamese display names of topic ids, from the NLP taxonomy file (empty when absent)."""
    import importlib.util

    spec = importlib.util.find_spec("nlp")  # locates the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "taxonomy.yaml"
        if path.is_file():
            try:
                topics = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("topics") or {}
            except yaml.YAMLError as exc:
                log.warning("cannot read topic names from %s: %s", path, exc)
                return {}
            return {str(k): str(v.get("name")) for k, v in topics.items() if isinstance(v, dict) and v.get("name")}
    return {}


@cached
def configured_sources() -> dict[str, Any]:
    """Sources from the sources YAML: ``{"path", "sources": [...], "error"}`` (absence tolerated)."""
    path = sources_file()
    if path is None or not path.is_file():
        return {"path": str(path) if path else None, "sources": [], "error": None, "missing": True}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return {"path": str(path), "sources": [], "error": str(exc), "missing": False}
    entries = raw.get("sources", raw) if isinstance(raw, dict) else raw
    if isinstance(entries, dict):  # a mapping of name -> settings
        entries = [{"name": k, **(v if isinstance(v, dict) else {})} for k, v in entries.items()]
    if not isinstance(entries, list):
        return {"path": str(path), "sources": [], "error": "expected a list of sources", "missing": False}
    sources = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        urls = entry.get("start_urls") or entry.get("urls") or entry.get("url") or entry.get("feed") or ""
        sources.append({
            "name": str(entry.get("name") or entry.get("id") or "?"),
            "type": str(entry.get("type") or entry.get("kind") or entry.get("spider") or ""),
            "platform": str(entry.get("platform") or ""),
            "url": ", ".join(urls) if isinstance(urls, list) else str(urls),
            "schedule_s": _seconds(entry.get("schedule_s") or entry.get("schedule")),
            "enabled": bool(entry.get("enabled", True)),
        })
    return {"path": str(path), "sources": sources, "error": None, "missing": False}


def _seconds(value: Any) -> int | None:
    """``"30m"``/``"6h"``/``900`` as seconds; anything unreadable is shown as missing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return int(text) if text.isdigit() else None


def sources_that_ran() -> dict[str, Any]:
    """What actually ran, from the run status file (``core.status``): ``sources`` (one row per
    source that ran: last run and success, items and errors of the last run, last error, runs,
    posts stored, schedule, and its type and address when the sources file lists it),
    ``monitors`` (monitor inputs, apart: their items are packets and lines, not posts) and
    ``never_ran`` (sources the file lists that have no run recorded)."""
    status = health()
    conf = {c["name"]: c for c in configured_sources()["sources"]}
    stored = {r["source"]: r for r in posts_per_source()}

    def row(name: str, entry: dict[str, Any], listed: dict[str, Any] | None = None) -> dict[str, Any]:
        listed = listed or {}
        return {"name": name, "ok": bool(entry.get("ok")), "last_run": entry.get("last_run"),
                "last_success": entry.get("last_success"), "items": int(entry.get("items") or 0),
                "errors": int(entry.get("errors") or 0), "last_error": entry.get("last_error") or "",
                "runs": int(entry.get("runs") or 0), "schedule_s": entry.get("schedule_s") or listed.get("schedule_s"),
                "type": listed.get("type", ""), "url": listed.get("url", ""),
                "posts": stored.get(name, {}).get("posts", 0)}

    ran = status.get("sources", {})
    return {"sources": [row(n, e, conf.get(n)) for n, e in sorted(ran.items())],
            "monitors": [row(n, e) for n, e in sorted(status.get("monitors", {}).items())],
            "never_ran": [c for n, c in conf.items() if n not in ran]}


@cached
def posts_per_source() -> list[dict[str, Any]]:
    res = store().aggregate("posts", None, {
        "source": {"terms": {"field": "source", "size": 200},
                   "aggs": {"last": {"max": {"field": "published_at"}}}}})
    return [{"source": str(b["key"]), "posts": int(b["doc_count"]),
             "last": b.get("last", {}).get("value_as_string")} for b in _buckets(res, "source")]
