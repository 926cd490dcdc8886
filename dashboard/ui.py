"""Small widgets and formatters the pages share (time ranges, local times, deltas, health table)."""

from __future__ import annotations

import logging
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


def load(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a data function; a store failure becomes one clear message and stops the page."""
    try:
        return fn(*args, **kwargs)
    except IocwatchError as exc:
        log.error("dashboard query %s failed: %s", getattr(fn, "__name__", fn), exc)
        st.error(t("common.store_error", error=exc))
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
                toxicity: bool = False) -> pd.DataFrame:
    """A table of posts with a link column to the original (``toxicity``: its label and score)."""
    out = []
    # toxic posts: what was said matters more than the thread's title
    said = t("common.content") if toxicity else t("common.title")
    for r in rows:
        row = {
            t("common.published"): local(r.get("published_at"), tz),
            said: (r.get("text") or r.get("title")) if toxicity else r.get("title"),
            t("common.source"): r.get("source"),
            t("common.sentiment"): t(f"sentiment.{r['sentiment']}") if r.get("sentiment") else "",
            t("common.engagement"): r.get("engagement", 0),
            t("common.link"): r.get("url") or "",
        }
        if score:
            row[t("common.sentiment") + " (%)"] = round(100 * float(r.get("sentiment_score") or 0))
        if toxicity:
            row[t("common.toxicity")] = t(f"toxicity.{r['toxicity']}") if r.get("toxicity") else ""
            row[t("common.toxicity") + " (%)"] = round(100 * float(r.get("toxicity_score") or 0))
        out.append(row)
    return pd.DataFrame(out)


def link_column() -> dict[str, Any]:
    return {t("common.link"): st.column_config.LinkColumn(t("common.link"), display_text="↗")}
