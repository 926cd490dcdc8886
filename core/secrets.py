"""One masking function for every value that can carry a credential.

Used by ``config show``, log records and error messages, so that a password inside a URL
(``https://user:pass@host``), a token or key in a query string (``?token=...``,
``api_key=...``), a Telegram bot token (``bot123456:AA...``) or an ``Authorization``
header value never reaches a terminal, a log file or the dashboard.

    >>> mask_secrets("cannot reach https://ops:hunter2@es.local:9200/_bulk?api_key=XYZ")
    'cannot reach https://ops:********@es.local:9200/_bulk?api_key=********'
"""

from __future__ import annotations

import logging
import re

MASK = "********"

# user:password@ inside any scheme://authority (the user name stays: it helps to debug)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^\s:/@]*):"
                              r"(?P<password>[^\s/@]+)@")
# a credential as a query or form parameter, or as key=value / key: value in free text
_SECRET_NAMES = (r"(?:access_?token|refresh_?token|token|api[_-]?key|apikey|key|secret|"
                 r"client_secret|password|passwd|pwd|pass|auth|signature|sig)")
_PARAM = re.compile(r"(?P<name>(?<![A-Za-z0-9_])" + _SECRET_NAMES + r")(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
                    r"(?P<value>[^\s&\"',;)}\]]+)", re.IGNORECASE)
# Telegram bot tokens (in the Bot API path or bare): digits, a colon, 30+ url-safe characters
_BOT_TOKEN = re.compile(r"(?P<prefix>bot)?\d{6,12}:[A-Za-z0-9_-]{30,}")
# Authorization header values
_AUTH_HEADER = re.compile(r"(?P<kind>\b(?:Bearer|Basic|ApiKey|Token)\s+)[A-Za-z0-9._~+/=-]{8,}",
                          re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with every credential-looking value replaced by ``********``.

    Masks passwords in URLs, credential query/form parameters and ``key=value`` pairs,
    Telegram bot tokens and ``Authorization`` header values. Idempotent.
    """
    if not text:
        return text
    out = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _PARAM.sub(lambda m: m["name"] + m["sep"] + (m["value"] if m["value"] == MASK else MASK),
                     out)
    out = _BOT_TOKEN.sub(lambda m: (m["prefix"] or "") + MASK, out)
    out = _AUTH_HEADER.sub(lambda m: m["kind"] + MASK, out)
    return out


def mask_url(url: str | None) -> str | None:
    """A URL with its password and credential query parameters masked (None stays None)."""
    return None if url is None else mask_secrets(url)


class MaskingFilter(logging.Filter):
    """A logging filter that masks credentials in every record's final message.

    Installed on the root handlers by the CLI and the dashboard, so library messages
    (urllib3, elastic_transport) are masked as well as ours.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed %-format: leave the record as it is
            return True
        masked = mask_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True
