"""Indicator look-ups at line rate, and the monitor observer that turns matches into alerts.

:class:`IntelMatcher` keeps one hash table per indicator type: IPs exact; CIDRs as one
table per prefix length keyed by the network's leading bits, searched longest prefix
first (a level-compressed radix look-up: at most one probe per distinct prefix length);
domains by suffix (``a.b.evil.example`` matches ``evil.example``); URLs normalised
without their scheme; hashes exact. :class:`IntelObserver` matches connections (both
ends), DNS questions, web requests (client, Host, absolute URL, Referer) and login
sources, and raises one alert per feed, indicator, entity and de-duplication window.
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from core.documents import Alert, Explanation, Severity
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, Record

RULE = "threat_intel"


class Hit(NamedTuple):
    """A matched indicator: the feed, the indicator as stored, its type, confidence and label."""

    feed: str
    indicator: str
    type: str
    confidence: int
    label: str = ""


@lru_cache(maxsize=1 << 16)
def _canonical_ip(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an IP string, or ``None``."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0]), "big")
        if text.count(".") != 3:  # inet_aton also takes "10.1" and "10"
            return None
        return 4, int.from_bytes(socket.inet_aton(text), "big")
    except OSError:
        return None


def _url_key(url: str) -> str | None:
    from security.intel.feeds import normalise_url

    u = normalise_url(url)
    return u.split("://", 1)[1] if u else None


class IntelMatcher:
    """Look-ups over the indicators of every loaded feed (the highest confidence wins on duplicates)."""

    def __init__(self) -> None:
        self.ips: dict[str, Hit] = {}
        self.nets: dict[int, dict[int, dict[int, Hit]]] = {4: {}, 6: {}}  # version -> prefix -> key -> hit
        self.prefixes: dict[int, list[int]] = {4: [], 6: []}  # longest first
        self.domains: dict[str, Hit] = {}
        self.urls: dict[str, Hit] = {}
        self.hashes: dict[str, Hit] = {}
        self.feeds: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ips) + sum(len(t) for v in self.nets.values() for t in v.values()) + len(self.domains) \
            + len(self.urls) + len(self.hashes)

    @staticmethod
    def _keep(table: dict, key: Any, hit: Hit) -> None:
        old = table.get(key)
        if old is None or hit.confidence > old.confidence:
            table[key] = hit

    def add_rows(self, feed: str, rows: Iterable[list[Any]]) -> None:
        """Add stored rows ``[type, value, confidence, expires, label]`` of one feed (values normalised)."""
        n = 0
        ips, keep = self.ips, self._keep
        for kind, value, conf, _exp, label in rows:
            hit = Hit(feed, value, kind, conf, label or "")
            n += 1
            if kind == "ip":
                old = ips.get(value)
                if old is None or conf > old.confidence:
                    ips[value] = hit
            elif kind == "cidr":
                addr, _, plen_s = value.partition("/")
                plen = int(plen_s)
                if ":" in addr:
                    version, bits = 6, 128
                    num = int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big")
                else:
                    version, bits, num = 4, 32, int.from_bytes(socket.inet_aton(addr), "big")
                keep(self.nets[version].setdefault(plen, {}), num >> (bits - plen), hit)
            elif kind == "domain":
                self._keep(self.domains, value, hit)
            elif kind == "url":
                key = value.split("://", 1)[1] if "://" in value else value
                self._keep(self.urls, key, hit)
            elif kind == "hash":
                self._keep(self.hashes, value, hit)
        for v in (4, 6):
            self.prefixes[v] = sorted(self.nets[v], reverse=True)
        self.feeds[feed] = self.feeds.get(feed, 0) + n

    def match_ip(self, ip: str | None) -> Hit | None:
        if not ip:
            return None
        hit = self.ips.get(ip)
        if hit is not None:
            return hit
        if ":" in ip and not self.prefixes[6] and not self.ips:
            return None
        parsed = _canonical_ip(ip)
        if parsed is None:
            return None
        version, num = parsed
        if version == 6 and self.ips:  # the stored form is the compressed one
            hit = self.ips.get(str(ipaddress.IPv6Address(num)))
            if hit is not None:
                return hit
        bits = 32 if version == 4 else 128
        nets = self.nets[version]
        for plen in self.prefixes[version]:
            hit = nets[plen].get(num >> (bits - plen))
            if hit is not None:
                return hit
        return None

    def match_domain(self, name: str | None) -> Hit | None:
        if not name or not self.domains:
            return None
        d = name.lower().rstrip(".")
        while True:
            hit = self.domains.get(d)
            if hit is not None:
                return hit
            dot = d.find(".")
            if dot < 0:
                return None
            d = d[dot + 1:]

    def match_url(self, url: str | None) -> Hit | None:
        if not url or not self.urls:
            return None
        key = _url_key(url)
        return self.urls.get(key) if key else None

    def match_hash(self, digest: str | None) -> Hit | None:
        return self.hashes.get(digest.strip().lower()) if digest else None

    def match_any(self, value: str) -> Hit | None:
        """Whatever ``value`` is: an IP, URL, hash or domain (for ``intel`` look-ups by hand)."""
        v = value.strip()
        return (self.match_ip(v) or (self.match_url(v) if "://" in v else None) or self.match_hash(v)
                or self.match_domain(v))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class _Acc:
    hit: Hit
    entity: str
    context: str
    technique: str | None
    first: float
    last: float
    count: int = 0
    evidence: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


class IntelObserver:
    """Monitor observer: matches each record against an :class:`IntelMatcher`; ``finish()`` gives alerts."""

    def __init__(self, matcher: IntelMatcher, config) -> None:
        self.m = matcher
        self.dedup = float(config.dedup_window_s) or 3600.0
        self.max_evidence = config.max_evidence
        self.risk_min, self.risk_max = config.intel_risk_min, config.intel_risk_max
        self.acc: dict[tuple[str, str, str, float], _Acc] = {}
        self.matches = 0

    def observe(self, rec: Record) -> None:
        m = self.m
        if isinstance(rec, Connection):
            if (hit := m.match_ip(rec.dst)) is not None:
                self._add(hit, rec.src, rec.ts, "connection to", "T1071",
                          f"{rec.proto} {rec.src}:{rec.sport} -> {rec.dst}:{rec.dport} {rec.state or ''}",
                          source_ip=rec.src, destination_ip=rec.dst, destination_port=rec.dport)
            if (hit := m.match_ip(rec.src)) is not None:
                self._add(hit, rec.src, rec.ts, "connection from", None,
                          f"{rec.proto} {rec.src}:{rec.sport} -> {rec.dst}:{rec.dport} {rec.state or ''}",
                          source_ip=rec.src, destination_ip=rec.dst, destination_port=rec.dport)
        elif isinstance(rec, DnsQuery):
            if (hit := m.match_domain(rec.query)) is not None:
                self._add(hit, rec.src, rec.ts, "DNS query for", "T1071.004",
                          f"{rec.src} -> {rec.dst} {rec.qtype or ''} {rec.query}",
                          source_ip=rec.src, destination_domain=rec.query)
        elif isinstance(rec, HttpRequest):
            line = (rec.raw or f"{rec.src} {rec.method} {rec.target}")[:400]
            if (hit := m.match_ip(rec.src)) is not None:
                self._add(hit, rec.src, rec.ts, "web request from", "T1190", line, source_ip=rec.src)
            url = rec.target if "://" in rec.target[:12] else (f"http://{rec.host}{rec.target}" if rec.host else None)
            host = rec.host or (urlsplit(url).hostname if url else None)
            hit = m.match_url(url) or m.match_domain(host)
            if hit is None and rec.referrer and rec.referrer != "-":
                hit = m.match_url(rec.referrer) or m.match_domain(urlsplit(rec.referrer).hostname)
            if hit is not None:
                self._add(hit, rec.src, rec.ts, "web request involving", None, line, source_ip=rec.src,
                          destination_domain=host)
        elif isinstance(rec, AuthEvent):
            if rec.src and (hit := m.match_ip(rec.src)) is not None:
                self._add(hit, rec.src, rec.ts, f"{rec.service} login ({rec.outcome}) from", None,
                          f"{rec.host} {rec.service}: {rec.message[:300]}", source_ip=rec.src,
                          user_name=rec.user, host_name=rec.host)

    def _add(self, hit: Hit, entity: str, ts: float, context: str, technique: str | None, line: str,
             **fields: Any) -> None:
        self.matches += 1
        start = math.floor(ts / self.dedup) * self.dedup
        key = (hit.feed, hit.indicator, entity, start)
        a = self.acc.get(key)
        if a is None:
            a = self.acc[key] = _Acc(hit, entity, context, technique, ts, ts,
                                     fields={k: v for k, v in fields.items() if v not in (None, "")})
        a.count += 1
        a.first, a.last = min(a.first, ts), max(a.last, ts)
        if len(a.evidence) < self.max_evidence:
            a.evidence.append(f"{_dt(ts):%Y-%m-%d %H:%M:%S} {line}")

    def finish(self) -> list[Alert]:
        return [self._alert(a) for a in self.acc.values()]

    def _alert(self, a: _Acc) -> Alert:
        h = a.hit
        risk = round(self.risk_min + (self.risk_max - self.risk_min) * h.confidence / 100.0, 1)
        start = math.floor(a.first / self.dedup) * self.dedup
        label = f" ({h.label})" if h.label else ""
        return Alert(
            id=Alert.make_id(f"intel:{h.feed}:{h.indicator}", a.entity, _dt(start).isoformat()),
            timestamp=_dt(a.last), rule_name=RULE, rule_id=f"intel:{h.feed}", rule_ruleset="intel",
            threat_feed_name=h.feed, threat_indicator_name=h.indicator, threat_indicator_type=h.type,
            threat_indicator_confidence=int(h.confidence),
            threat_technique_id=a.technique,
            title=f"{a.context} {h.indicator} listed by feed {h.feed}{label}: {a.entity}",
            title_key="threat_intel", title_params={"context": a.context, "indicator": h.indicator, "feed": h.feed,
                                                    "label": h.label or "", "entity": a.entity},
            risk_score=risk, severity=Severity.from_score(risk), first_seen=_dt(a.first), last_seen=_dt(a.last),
            count=a.count, evidence=a.evidence, entity=a.entity, event_category=["threat"],
            explanation=[Explanation(feature="indicator_confidence", observed=float(h.confidence))], **a.fields)


def url_alerts(matcher: IntelMatcher, urls: Iterable[tuple[str, str, float]], config) -> list[Alert]:
    """Alerts for crawled URLs ``(url, where it was found, epoch s)`` that match a URL or domain indicator."""
    obs = IntelObserver(matcher, config)
    for url, where, ts in urls:
        hit = matcher.match_url(url) or matcher.match_domain(urlsplit(url).hostname)
        if hit is not None:
            obs._add(hit, where, ts, "crawled URL", None, url[:400], destination_domain=urlsplit(url).hostname)
    return obs.finish()
