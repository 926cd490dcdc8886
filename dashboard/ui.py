"""Small widgets and formatters the pages share (time ranges, local times, deltas, health table),
and :func:`safe`, the one way collected text reaches Markdown."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.errors import IocwatchError
from dashboard.i18n import t

log = logging.getLogger(__name__)
T = TypeVar("T")
RANGE_KEYS = ("24h", "7d", "30d", "90d", "all")
# Every ASCII sign Markdown, GitHub's extensions or Streamlit's own directives give a meaning to
# (links, images, emphasis, code, headings, lists, tables, :colour[...] and :icon: directives,
# $math$, autolinked www. and scheme:// and e-mail text). ``&`` and ``;`` stay, as they carry the
# HTML escapes made first.
_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:=$^\"'/@%?,])")
_BLANKS = re.compile(r"\s+")
# GitHub's autolink literals are found in the text *after* escapes are resolved, so escaping
# cannot stop them: an invisible WORD JOINER breaks "www.", "scheme://", "mailto:" and "x@y".
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<![^\W_])(www)(?=\.)|(:)(?=/)|\b((?:mailto|xmpp):)|(?<=[\w.+-])(@)")
_MARK = re.compile(r"(</?mark>)")


def safe(value: Any, *, block: bool = False) -> str:
    """Collected text (a title, a post, a source or author name, a URL shown as text) as inert
    Markdown: it displays as the very characters it holds and never becomes markup.

    HTML special characters become entities and every Markdown sign is escaped with a
    backslash, so links, images, emphasis, headings, HTML tags and Streamlit directives show
    as plain text, with or without ``unsafe_allow_html``; a word joiner (U+2060, invisible)
    goes into "www.", "://", "mailto:" and "x@y", which would otherwise become links.

    Args:
        value: anything; ``None`` gives "".
        block: keep line breaks (as hard breaks) for a body of text; otherwise every run of
            blanks, line breaks included, becomes one space.
    """
    if value is None:
        return ""
    if not block:
        return _inert(str(value)).strip()
    lines = [_inert(line).strip() for line in str(value).splitlines()]
    return "  \n".join(line for line in lines if line)


def _inert(text: str) -> str:
    text = _AUTOLINK.sub(_break_autolink, text)
    return _BLANKS.sub(" ", _MARKDOWN_SIGNS.sub(r"\\\1", html.escape(text, quote=False)))


def _break_autolink(match: re.Match[str]) -> str:
    www, colon, scheme, at = match.groups()
    if at:
        return _JOINER + at
    return (www or colon or scheme) + _JOINER


def safe_marked(fragment: str) -> str:
    """A highlighted fragment (HTML-escaped text with ``<mark>`` around matches, as the store
    returns it) as inert Markdown that keeps only its ``<mark>`` tags; render it with
    ``unsafe_allow_html=True``."""
    parts = _MARK.split(fragment or "")
    return "".join(part if _MARK.fullmatch(part) else _inert(html.unescape(part)) for part in parts)


def safe_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL that can be a link, else None.

    Only the product's own URL fields (a post's ``url``, a source's address) may become links,
    and only through this check: ``javascript:``, ``data:`` and relative addresses never do.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not re.match(r"(?i)^https?://[^\s/?#@]+", url) or any(c in url for c in "\x00\r\n\t <>\"'`\\"):
        return None
    return url


def md_link(label: str, url: Any) -> str:
    """A Markdown link to a product URL field with an already-safe ``label`` ("" when the URL
    is not http(s)). The URL goes in angle brackets, so parentheses inside it cannot end it."""
    target = safe_url(url)
    if target is None:
        return ""
    return f"[{label}](<{target.replace('>', '%3E').replace('<', '%3C')}>)"


def download(container: Any, label: str, payload: bytes, file_name: str, mime: str) -> None:
    """A download button for ``payload`` that only this browser session can use.

    The bytes stay in this server process, bound to the session that prepared them, and the
    button links to the server's export route, which checks the session cookie; Streamlit's own
    download button would serve them from a ``/media`` address to anyone holding it.
    """
    from dashboard import auth

    path = auth.session_export(file_name, payload, file_name, mime)
    if path is None:
        container.warning(t("export.no_session"))
        return
    container.link_button(label, path, icon=":material/download:")


def load(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a data function; a store failure becomes one clear message and stops the page (an
    OSError too: index files removed while a query reads them)."""
    try:
        return fn(*args, **kwargs)
    except (IocwatchError, OSError) as exc:
        log.error("dashboard query %s failed: %s", getattr(fn, "__name__", fn), exc)
        st.error(t("common.store_error", error=safe(exc)))
        st.stop()
        raise  # st.stop raises; this line only satisfies type checkers


def range_select(key: str, default: str = "7d", *, container: Any = st) -> str:
    return container.selectbox(t("common.range"), RANGE_KEYS, index=RANGE_KEYS.index(default),
                               format_func=lambda k: t(f"range.{k}"), key=key)


def pick(container: Any, label: str, options: Any, *, key: str, **kwargs: Any) -> list[Any]:
    """A multiselect filter with a translated placeholder (empty = no filter)."""
    return container.multiselect(label, options, key=key, placeholder=t("common.choose"), **kwargs)


def topic_label(key: str) -> str:
    """A topic id as shown: the taxonomy's Vietnamese name, or the English name."""
    from dashboard import data
    from dashboard.i18n import TOPICS_EN, current_language

    if current_language() == "en":
        return TOPICS_EN.get(key, key.replace("_", " "))
    return data.topic_names().get(key, key.replace("_", " "))


def local(value: Any, tz: str, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An ISO string, epoch ms or datetime shown as local wall-clock time ("" when missing)."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value / 1000, UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def num(value: int | float) -> str:
    """A count with the session language's thousands separator (1.234 in Vietnamese, 1,234 in English)."""
    from dashboard.i18n import current_language

    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if current_language() == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def delta(current: int, previous: int) -> str | None:
    """Change against the previous period, as a signed percentage (or count when it was 0)."""
    if previous == 0:
        return f"+{current}" if current else None
    return f"{(current - previous) / previous:+.0%}"


def labels(prefix: str, keys: list[str] | tuple[str, ...]) -> dict[str, str]:
    return {k: t(f"{prefix}.{k}") for k in keys}


def health_frame(status: dict[str, Any], tz: str) -> pd.DataFrame:
    """One row per source and monitor input from ``status.json``."""
    rows = []
    for section, kind in (("sources", "source"), ("monitors", "monitor")):
        for name, entry in sorted(status.get(section, {}).items()):
            rows.append({
                t("health.name"): name,
                t("health.kind"): t(f"health.kind.{kind}"),
                t("health.ok"): t("health.yes") if entry.get("ok") else t("health.no"),
                t("health.last_run"): local(entry.get("last_run"), tz),
                t("health.last_success"): local(entry.get("last_success"), tz),
                t("health.items"): int(entry.get("items") or 0),
                t("health.errors"): int(entry.get("errors") or 0),
                t("health.last_error"): entry.get("last_error") or "",
                t("health.runs"): int(entry.get("runs") or 0),
                t("health.schedule"): entry.get("schedule_s"),
            })
    return pd.DataFrame(rows)


def posts_frame(rows: list[dict[str, Any]], tz: str, *, score: bool = False,
                toxicity: bool = False, probability: str | None = None) -> pd.DataFrame:
    """A table of posts with a link column to the original (``toxicity``: its label and score;
    ``probability`` ("negative", "positive" or "toxic"): the model's probability of that label as a
    whole percentage, in the column :func:`probability_column` formats)."""
    out = []
    # toxic posts: what was said matters more than the thread's title
    said = t("common.content") if toxicity else t("common.title")
    for r in rows:
        row = {}
        if probability:  # first: what the list is ordered by
            row[t(f"notable.p_{probability}")] = round(100 * float(r.get("probability") or 0))
        row |= {
            said: (r.get("text") or r.get("title")) if toxicity else r.get("title"),
            t("common.published"): local(r.get("published_at"), tz),
            t("common.source"): r.get("source"),
            t("common.sentiment"): t(f"sentiment.{r['sentiment']}") if r.get("sentiment") else "",
            t("common.engagement"): r.get("engagement", 0),
            t("common.link"): safe_url(r.get("url")) or "",  # only http(s) becomes a link
        }
        if score:
            row[t("common.sentiment") + " (%)"] = round(100 * float(r.get("sentiment_score") or 0))
        if toxicity:
            row[t("common.toxicity")] = t(f"toxicity.{r['toxicity']}") if r.get("toxicity") else ""
            if not probability:
                row[t("common.toxicity") + " (%)"] = round(100 * float(r.get("toxicity_score") or 0))
        out.append(row)
    return pd.DataFrame(out)


def probability_column(label: str) -> dict[str, Any]:
    """Column settings showing :func:`posts_frame`'s probability as "93 %" while it sorts as a number."""
    name = t(f"notable.p_{label}")
    return {name: st.column_config.NumberColumn(name, format="%d %%")}


def link_column() -> dict[str, Any]:
    return {t("common.link"): st.column_config.LinkColumn(t("common.link"), display_text="↗")}
