"""Deterministic document ids and canonical URLs, so collecting twice updates instead of duplicating."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the visitor and never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "utm_source", "utm_medium", "utm_campaign", "utm_term",
        "utm_content", "zarsrc", "gidzl", "ref", "refsrc", "vn_source", "vn_medium",
        "vn_campaign", "cmpid",
    }
)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop fragments, default ports and tracking parameters, sort the rest."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def make_id(*parts: str) -> str:
    """A stable 20-byte hex id from the given parts (platform + native id, or a canonical URL)."""
    joined = "\x1f".join(p.strip() for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def post_id(platform: str, *, native_id: str | None = None, url: str | None = None) -> str:
    """Id of a post: platform + native id when the platform gives one, else its canonical URL."""
    if native_id:
        return make_id(platform, native_id)
    if url:
        return make_id(canonical_url(url))
    raise ValueError("a post needs a native id or a URL to get an id")


def pseudonymise(platform: str, author_id: str, salt: str = "") -> str:
    """Pseudonymous author id: the same person keeps one id, the real account id is not stored."""
    return "u_" + hashlib.sha256(f"{salt}\x1f{platform}\x1f{author_id}".encode()).hexdigest()[:16]
