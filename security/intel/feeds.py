"""Feed readers: STIX 2.1 bundles, MISP feeds (manifest + events, or one event), MISP CSV exports, CSV and text lists.

Every reader yields :class:`Indicator` rows whose value is already normalised
(:func:`normalise`) and counts what it skipped in :class:`FeedStats` by reason
(``bad_value``, ``unsupported_pattern``, ``unsupported_type``, ``revoked``, ``expired``,
``over_limit``). A file that cannot be read at all raises :class:`IntelError` naming it.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import logging
import re
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import SecurityMonitorError

log = logging.getLogger(__name__)

TYPES = ("ip", "cidr", "domain", "url", "hash")
FORMATS = ("stix", "misp", "misp-csv", "csv", "text")
_HASH_LEN = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = re.compile(r"^[0-9a-f]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class IntelError(SecurityMonitorError):
    """A feed that cannot be read or used (the message names the file and what to do)."""


@dataclass(slots=True)
class Indicator:
    """One indicator: normalised value, type, confidence 0-100, expiry (epoch s, None = never), label."""

    type: str
    value: str
    confidence: int
    expires: float | None = None
    label: str = ""


@dataclass
class FeedStats:
    source: str
    format: str = ""
    indicators: int = 0
    by_type: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    latest_expired: float = 0.0  # the latest expiry among the indicators left out as expired

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "format": self.format, "indicators": self.indicators,
                "by_type": dict(self.by_type), "skipped": dict(self.skipped)}


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")  # canonical dotted quad (no leading zeros)
_IPV4_NET = re.compile(rf"^({_OCTET}(?:\.{_OCTET}){{3}})/(3[0-2]|[12]?\d)$")
_DEFANGED = re.compile(r"\[|\(\.\)|^hxxp|^\s|\s$|^[\"']", re.I)


def refang(text: str) -> str:
    """Undo the usual defanging: ``hxxp``, ``[.]``, ``(.)``, ``[:]``, ``[dot]``."""
    if not _DEFANGED.search(text):
        return text
    t = text.strip().strip('"').strip("'")
    t = re.sub(r"^hxxp", "http", t, flags=re.I)
    return t.replace("[.]", ".").replace("(.)", ".").replace("[:]", ":").replace("[dot]", ".")


def normalise_url(url: str) -> str | None:
    """Scheme and host lower-cased, default port and fragment dropped, ``/`` for an empty path."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    scheme = parts.scheme.lower()
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def normalise(kind: str, value: str) -> tuple[str, str] | None:
    """``(type, normalised value)`` for a typed indicator, or ``None`` when the value is not one."""
    v = refang(value)
    if not v:
        return None
    if kind in ("ip", "cidr"):
        if _IPV4.match(v):  # the common case, without ipaddress objects (1M indicators load in seconds)
            return "ip", v
        m = _IPV4_NET.match(v)
        if m is not None:
            plen = int(m[2])
            if plen == 32:
                return "ip", m[1]
            num = int.from_bytes(socket.inet_aton(m[1]), "big") & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
            return "cidr", f"{socket.inet_ntoa(num.to_bytes(4, 'big'))}/{plen}"
        try:
            if "/" in v:
                net = ipaddress.ip_network(v, strict=False)
                if net.prefixlen == net.max_prefixlen:
                    return "ip", str(net.network_address)
                return "cidr", str(net)
            return "ip", str(ipaddress.ip_address(v))
        except ValueError:
            return None
    if kind == "domain":
        d = v.lower().rstrip(".")
        if d.startswith("*."):
            d = d[2:]
        return ("domain", d) if _DOMAIN.match(d) else None
    if kind == "url":
        u = normalise_url(v if "://" in v else "http://" + v)
        return ("url", u) if u else None
    if kind == "hash":
        h = v.lower()
        return ("hash", h) if len(h) in _HASH_LEN and _HEX.match(h) else None
    return None


def guess(value: str) -> tuple[str, str] | None:
    """The type of an untyped value (text lists): IP or CIDR, URL, hash, then domain."""
    v = refang(value)
    for kind in ("ip", "url", "hash", "domain"):
        if kind == "url" and "://" not in v:
            continue
        if kind == "hash" and not _HEX.match(v.lower()):
            continue
        got = normalise(kind, v)
        if got:
            return got
    return None


def _epoch(text: Any) -> float | None:
    if text in (None, ""):
        return None
    if isinstance(text, int | float):
        return float(text)
    t = str(text).strip()
    try:
        if t.isdigit():
            return float(t)
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        return None


def _conf(value: Any, default: int) -> int:
    try:
        c = int(float(value))
    except (TypeError, ValueError):
        return default
    return max(0, min(100, c))


# -- STIX 2.1 -------------------------------------------------------------------------
_STIX_CMP = re.compile(
    r"(?P<obj>[a-z0-9-]+):(?P<path>[A-Za-z0-9_.'\-]+)\s*(?P<op>=|ISSUBSET)\s*'(?P<val>(?:[^'\\]|\\.)*)'")
_STIX_TYPES = {("ipv4-addr", "value"): "ip", ("ipv6-addr", "value"): "ip", ("domain-name", "value"): "domain",
               ("url", "value"): "url"}


def stix_pattern(pattern: str) -> list[tuple[str, str]] | None:
    """Typed values of a STIX pattern made of ``=``/``ISSUBSET`` comparisons joined by OR; None otherwise."""
    body = pattern.strip()
    comps = list(_STIX_CMP.finditer(body))
    if not comps:
        return None
    rest = _STIX_CMP.sub("", body)
    if re.search(r"\b(AND|FOLLOWEDBY|NOT|LIKE|MATCHES|WITHIN|REPEATS)\b|[<>!]", rest):
        return None
    out = []
    for m in comps:
        obj, path, val = m["obj"], m["path"], m["val"].replace("\\'", "'")
        if obj == "file" and path.startswith("hashes."):
            kind = "hash"
        else:
            kind = _STIX_TYPES.get((obj, path))
        if kind is None:
            return None
        got = normalise("cidr" if kind == "ip" else kind, val)
        if got is None:
            return []
        out.append(got)
    return out


def read_stix(doc: dict[str, Any], stats: FeedStats, default_conf: int) -> Iterator[Indicator]:
    objects = doc.get("objects") if isinstance(doc, dict) else None
    if not isinstance(objects, list):
        raise IntelError(f"{stats.source}: a STIX bundle needs an 'objects' list")
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        if obj.get("revoked") is True:
            stats.skipped["revoked"] += 1
            continue
        if obj.get("pattern_type", "stix") != "stix" or not isinstance(obj.get("pattern"), str):
            stats.skipped["unsupported_pattern"] += 1
            continue
        values = stix_pattern(obj["pattern"])
        if values is None:
            stats.skipped["unsupported_pattern"] += 1
            continue
        if not values:
            stats.skipped["bad_value"] += 1
            continue
        conf = _conf(obj.get("confidence"), default_conf)
        expires = _epoch(obj.get("valid_until"))
        label = str(obj.get("name") or ", ".join(obj.get("indicator_types") or obj.get("labels") or []))[:200]
        for kind, value in values:
            yield Indicator(kind, value, conf, expires, label)


# -- MISP -----------------------------------------------------------------------------
_MISP_TYPES = {"ip-dst": "ip", "ip-src": "ip", "ip-dst|port": "ip", "ip-src|port": "ip", "domain": "domain",
               "hostname": "domain", "domain|ip": "domain", "url": "url", "uri": None, "link": None,
               "md5": "hash", "sha1": "hash", "sha256": "hash", "sha512": "hash", "filename|md5": "hash",
               "filename|sha1": "hash", "filename|sha256": "hash"}
_MISP_LEVEL_CONF = {"1": 90, "2": 70, "3": 50, "4": 50}  # threat_level_id: high, medium, low, undefined


def _misp_attr(attr: dict[str, Any], conf: int, label: str, stats: FeedStats) -> Iterator[Indicator]:
    atype = str(attr.get("type", ""))
    value = str(attr.get("value", ""))
    if attr.get("deleted") in (True, "1", 1):
        stats.skipped["revoked"] += 1
        return
    kind = _MISP_TYPES.get(atype)
    if kind is None:
        stats.skipped["unsupported_type"] += 1
        return
    if "|" in atype:  # composite: filename|md5 -> the hash; ip|port and domain|ip -> the first part
        parts = value.split("|")
        value = parts[-1] if atype.startswith("filename|") else parts[0]
    got = normalise("cidr" if kind == "ip" else kind, value)
    if got is None:
        stats.skipped["bad_value"] += 1
        return
    yield Indicator(got[0], got[1], conf, None, label)
    if atype == "domain|ip" and len(value.split("|")) > 1:
        ip = normalise("ip", str(attr.get("value", "")).split("|")[1])
        if ip:
            yield Indicator(ip[0], ip[1], conf, None, label)


def read_misp_event(doc: dict[str, Any], stats: FeedStats, default_conf: int) -> Iterator[Indicator]:
    event = doc.get("Event", doc) if isinstance(doc, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("Attribute", []), list):
        raise IntelError(f"{stats.source}: not a MISP event (no 'Event' with 'Attribute' list)")
    conf = _MISP_LEVEL_CONF.get(str(event.get("threat_level_id")), default_conf)
    label = str(event.get("info", ""))[:200]
    attrs = list(event.get("Attribute") or [])
    for obj in event.get("Object") or []:
        if isinstance(obj, dict):
            attrs.extend(a for a in obj.get("Attribute") or [] if isinstance(a, dict))
    for attr in attrs:
        if isinstance(attr, dict):
            yield from _misp_attr(attr, conf, label, stats)


def read_misp_feed(folder: Path, stats: FeedStats, default_conf: int) -> Iterator[Indicator]:
    manifest = folder / "manifest.json"
    try:
        events = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntelError(f"{manifest}: unreadable MISP manifest: {exc}") from None
    if not isinstance(events, dict):
        raise IntelError(f"{manifest}: a MISP manifest maps event uuids to event summaries")
    for uuid in events:
        path = folder / f"{uuid}.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            yield from read_misp_event(doc, stats, default_conf)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, IntelError) as exc:
            stats.skipped["bad_event_file"] += 1
            log.warning("%s: MISP event skipped: %s", path, exc)


# -- CSV and text ---------------------------------------------------------------------
_CSV_TYPES = {"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain", "ip": "ip", "cidr": "cidr",
              "domain": "domain", "url": "url", "hash": "hash"}
_VALUE_COLS = ("value", "indicator", "ioc", "observable", "ip", "domain", "url", "hash")


def read_csv(path: Path, stats: FeedStats, default_conf: int) -> Iterator[Indicator]:
    """A CSV with a header (MISP CSV export: ``type``/``value``; or ``value``/``indicator`` with optional
    ``type``, ``confidence``, ``expires``/``valid_until``, ``description``/``comment``)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(line for line in fh if not line.startswith("#"))
        header = next(rows, None)
        if not header:
            return
        cols = [h.strip().lower() for h in header]
        vcol = next((cols.index(c) for c in _VALUE_COLS if c in cols), None)
        if vcol is None:
            raise IntelError(f"{path}: CSV header has no value column",
                             hint=f"name it one of {', '.join(_VALUE_COLS)}")

        def col(*names: str) -> int | None:
            return next((cols.index(n) for n in names if n in cols), None)

        tcol, ccol = col("type", "indicator_type"), col("confidence", "score")
        ecol, lcol = col("expires", "valid_until", "expiration"), col("description", "comment", "info", "label")
        for row in rows:
            if len(row) <= vcol or not row[vcol].strip():
                stats.skipped["bad_value"] += 1
                continue
            value = row[vcol]
            kind = row[tcol].strip().lower() if tcol is not None and tcol < len(row) else ""
            mapped = _MISP_TYPES.get(kind) or _CSV_TYPES.get(kind)
            if kind and mapped is None:
                stats.skipped["unsupported_type"] += 1
                continue
            if mapped and "|" in kind:
                parts = value.split("|")
                value = parts[-1] if kind.startswith("filename|") else parts[0]
            got = normalise("cidr" if mapped == "ip" else mapped, value) if mapped else guess(value)
            if got is None:
                stats.skipped["bad_value"] += 1
                continue
            conf = _conf(row[ccol], default_conf) if ccol is not None and ccol < len(row) else default_conf
            exp = _epoch(row[ecol]) if ecol is not None and ecol < len(row) else None
            label = row[lcol][:200] if lcol is not None and lcol < len(row) else ""
            yield Indicator(got[0], got[1], conf, exp, label)


def read_text(path: Path, stats: FeedStats, default_conf: int) -> Iterator[Indicator]:
    """One indicator per line (MISP freetext style); ``#`` comments; the type is guessed."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            token = text.split()[0].rstrip(",;")
            got = guess(token)
            if got is None:
                stats.skipped["bad_value"] += 1
                continue
            yield Indicator(got[0], got[1], default_conf, None, "")


def sniff(path: Path) -> str:
    """The format of a feed file or folder."""
    if path.is_dir():
        if (path / "manifest.json").exists():
            return "misp"
        raise IntelError(f"{path}: a folder feed must be a MISP feed with manifest.json")
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        if '"Event"' in head or '"Attribute"' in head:
            return "misp"
        return "stix"
    first = head.splitlines()[0].lower() if head else ""
    if "," in first and any(c in first.split(",") for c in ("value", "indicator", "ioc", "observable", "type")):
        return "misp-csv" if "event_id" in first or "to_ids" in first else "csv"
    return "text"


def read(path: str | Path, fmt: str | None = None, *, default_conf: int = 70,
         stats: FeedStats | None = None) -> Iterator[Indicator]:
    """Indicators of a feed file or MISP feed folder (format detected unless given)."""
    path = Path(path)
    stats = stats if stats is not None else FeedStats(str(path))
    if not path.exists():
        raise IntelError(f"{path}: no such file or folder")
    fmt = fmt or sniff(path)
    if fmt not in FORMATS:
        raise IntelError(f"unknown feed format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    stats.format = fmt
    if fmt in ("stix", "misp") and path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IntelError(f"{path}: corrupt JSON ({exc})",
                             hint="check the file is a complete STIX or MISP export") from None
        if fmt == "stix":
            yield from read_stix(doc, stats, default_conf)
        else:
            yield from read_misp_event(doc, stats, default_conf)
    elif fmt == "misp":
        yield from read_misp_feed(path, stats, default_conf)
    elif fmt in ("csv", "misp-csv"):
        yield from read_csv(path, stats, default_conf)
    else:
        yield from read_text(path, stats, default_conf)
