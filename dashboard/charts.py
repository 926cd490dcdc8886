"""Altair charts built from aggregation results, labelled in the session's language.

Times arrive as epoch milliseconds; they are shifted to local wall-clock time
(``dashboard.timezone``) and drawn on a UTC scale, so every browser shows Vietnam time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd

from dashboard.i18n import t

SENTIMENT_COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c", "none": "#c7c7c7"}
SEVERITY_COLOURS = {"critical": "#7b0000", "high": "#d62728", "medium": "#ff7f0e", "low": "#1f77b4"}
TIME_FORMAT = "%d/%m %H:%M"


def local_time(ms: int, tz: str) -> datetime:
    """Epoch milliseconds as a naive local wall-clock datetime (for a UTC-scaled axis)."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def to_ms(value: str | int) -> int:
    """An ISO timestamp (or epoch ms) as epoch milliseconds."""
    if isinstance(value, int | float):
        return int(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def count_axis() -> alt.Axis:
    """An axis for counts: whole-number ticks only (no 0.5 alerts)."""
    return alt.Axis(format="d", tickMinStep=1)


def _time_axis(title: str) -> alt.X:
    return alt.X("time:T", title=title, scale=alt.Scale(type="utc"),
                 axis=alt.Axis(format=TIME_FORMAT, labelAngle=-30))


def _label_col(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["time"] = pd.to_datetime(df["time"])
    df["time_label"] = df["time"].dt.strftime("%d/%m/%Y %H:%M")
    return df


def _complete(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Every group at every time (0 where absent), so areas and lines do not slope across gaps."""
    if df.empty:
        return df
    full = pd.MultiIndex.from_product([sorted(set(df["ms"])), sorted(set(df[key]))], names=["ms", key])
    return df.groupby(["ms", key])["count"].sum().reindex(full, fill_value=0).reset_index()


def stacked_time(rows: Iterable[tuple[int, str, int]], tz: str, *, group_title: str,
                 labels: dict[str, str], colours: dict[str, str] | None = None,
                 marks: Iterable[int] = (), bars: bool = False,
                 y_title: str | None = None) -> alt.Chart | alt.LayerChart:
    """Stacked areas of counts over time per group, with optional vertical marks (spikes)."""
    df = _complete(pd.DataFrame(list(rows), columns=["ms", "key", "count"]), "key")
    df["time"] = [local_time(ms, tz) for ms in df["ms"]]
    df["group"] = [labels.get(k, k) for k in df["key"]]
    df = _label_col(df)
    colour = alt.Color("group:N", title=group_title)
    if colours:
        domain = [labels.get(k, k) for k in colours]
        colour = alt.Color("group:N", title=group_title,
                           scale=alt.Scale(domain=domain, range=list(colours.values())))
    if bars or df["ms"].nunique() < 3:  # an area needs several points; a few buckets read better as bars
        step = int(pd.Series(sorted(set(df["ms"]))).diff().min()) if df["ms"].nunique() > 1 else 86_400_000
        df["label"] = df["time"].dt.strftime("%d/%m %Hh" if step < 86_400_000 else "%d/%m")
        return alt.Chart(df).mark_bar().encode(
            x=alt.X("label:O", title=t("common.time"), sort=None, axis=alt.Axis(labelAngle=-30, labelOverlap=True)),
            y=alt.Y("count:Q", stack="zero", title=y_title or t("common.mentions"), axis=count_axis()),
            color=colour,
            tooltip=[alt.Tooltip("time_label:N", title=t("common.time")),
                     alt.Tooltip("group:N", title=group_title),
                     alt.Tooltip("count:Q", title=t("common.count"))],
        )
    chart = alt.Chart(df).mark_area(opacity=0.85).encode(
        x=_time_axis(t("common.time")),
        y=alt.Y("count:Q", stack="zero", title=y_title or t("common.mentions"), axis=count_axis()),
        color=colour,
        tooltip=[alt.Tooltip("time_label:N", title=t("common.time")),
                 alt.Tooltip("group:N", title=group_title),
                 alt.Tooltip("count:Q", title=t("common.count"))],
    )
    return _with_marks(chart, marks, tz)


SPIKE_COLOURS = ("#000000", "#7f3fbf")  # spike alerts, then spikes seen on the chart only


def _with_marks(chart: alt.Chart, marks: Iterable[int | dict], tz: str) -> alt.Chart | alt.LayerChart:
    """Vertical rules at spikes, coloured by kind with a legend; a click selects one (``spike``
    selection on its ``id``). A mark is epoch ms or a dict with ``ms``, ``kind`` (legend label),
    ``id`` and optional ``group``, ``terms``, ``samples`` (shown in the tooltip)."""
    rows = [m if isinstance(m, dict) else {"ms": int(m), "kind": t("listening.spikes"), "id": str(m)} for m in marks]
    if not rows:
        return chart
    spikes = pd.DataFrame([{"time": local_time(int(m["ms"]), tz), "kind": m["kind"], "id": str(m["id"]),
                            "group": m.get("group", ""), "terms": m.get("terms", ""),
                            **{f"sample{i + 1}": (list(m.get("samples") or []) + ["", "", ""])[i] for i in range(3)}}
                           for m in rows])
    spikes = _label_col(spikes)
    kinds = list(dict.fromkeys(spikes["kind"]))
    pick = alt.selection_point(name="spike", fields=["id"], on="click")
    tooltip = [alt.Tooltip("kind:N", title=""), alt.Tooltip("group:N", title=t("common.watchlist")),
               alt.Tooltip("time_label:N", title=t("common.time")),
               alt.Tooltip("terms:N", title=t("listening.terms"))]
    tooltip += [alt.Tooltip(f"sample{i}:N", title=f"{t('listening.sample')} {i}") for i in (1, 2, 3)]
    rule = alt.Chart(spikes).mark_rule(strokeDash=[4, 3], size=3).encode(
        x="time:T", color=alt.Color("kind:N", title=t("listening.spikes"),
                                    scale=alt.Scale(domain=kinds, range=list(SPIKE_COLOURS[:len(kinds)]))),
        tooltip=tooltip).add_params(pick)
    return alt.layer(chart, rule).resolve_scale(color="independent")


def lines_time(rows: Iterable[tuple[int, str, int]], tz: str, *, group_title: str) -> alt.Chart:
    df = _complete(pd.DataFrame(list(rows), columns=["ms", "group", "count"]), "group")
    df["time"] = [local_time(ms, tz) for ms in df["ms"]]
    df = _label_col(df)
    return alt.Chart(df).mark_line(point=True).encode(
        x=_time_axis(t("common.time")),
        y=alt.Y("count:Q", title=t("common.mentions"), axis=count_axis()),
        color=alt.Color("group:N", title=group_title),
        tooltip=[alt.Tooltip("time_label:N", title=t("common.time")),
                 alt.Tooltip("group:N", title=group_title),
                 alt.Tooltip("count:Q", title=t("common.count"))],
    )


def bars_time(series: Iterable[tuple[int, int]], tz: str, *, y_title: str, select: str | None = None) -> alt.Chart:
    """Counts per time bucket as bars on a band axis (one bar per bucket, labelled in local time);
    ``select``: the name of a click selection on the bucket's start (``ms``)."""
    df = pd.DataFrame(list(series), columns=["ms", "count"])
    df["time"] = pd.to_datetime([local_time(ms, tz) for ms in df["ms"]])
    step = int(df["ms"].diff().min()) if len(df) > 1 else 86_400_000
    fmt = "%d/%m %Hh" if step < 86_400_000 else "%d/%m/%y" if step >= 7 * 86_400_000 else "%d/%m"
    df["label"] = df["time"].dt.strftime(fmt)
    df["time_label"] = df["time"].dt.strftime("%d/%m/%Y %H:%M")
    chart = alt.Chart(df).mark_bar(cursor="pointer" if select else "default").encode(
        x=alt.X("label:O", title=t("common.time"), sort=None, axis=alt.Axis(labelAngle=-30, labelOverlap=True)),
        y=alt.Y("count:Q", title=y_title, axis=count_axis()),
        tooltip=[alt.Tooltip("time_label:N", title=t("common.time")),
                 alt.Tooltip("count:Q", title=y_title)],
    )
    return chart.add_params(alt.selection_point(name=select, fields=["ms"], on="click")) if select else chart


def bars(items: Iterable[tuple[str, float]], *, label_title: str, value_title: str,
         colours: dict[str, str] | None = None, labels: dict[str, str] | None = None,
         share: bool = False, counts: bool = True, select: str | None = None) -> alt.Chart:
    """Horizontal bars, largest first; ``share`` adds each bar's percentage to the tooltip;
    ``counts``: the values are counts, drawn on a whole-number axis; ``select``: the name of a
    click selection on the bar's ``key`` (a drill-down to its posts)."""
    df = pd.DataFrame(list(items), columns=["key", "value"])
    labels = labels or {}
    df["label"] = [labels.get(k, k) for k in df["key"]]
    total = float(df["value"].sum()) or 1.0
    df["share"] = df["value"] / total
    colour: alt.Color | alt.value = alt.value("#1f77b4")
    if colours:
        colour = alt.Color("label:N", legend=None, scale=alt.Scale(
            domain=[labels.get(k, k) for k in colours], range=list(colours.values())))
    tooltip = [alt.Tooltip("label:N", title=label_title), alt.Tooltip("value:Q", title=value_title)]
    if share:
        tooltip.append(alt.Tooltip("share:Q", title=t("common.share"), format=".1%"))
    chart = alt.Chart(df).mark_bar(cursor="pointer" if select else "default").encode(
        y=alt.Y("label:N", title=label_title, sort="-x"),
        x=alt.X("value:Q", title=value_title, axis=count_axis() if counts else alt.Axis()),
        color=colour,
        tooltip=tooltip,
    )
    return chart.add_params(alt.selection_point(name=select, fields=["key"], on="click")) if select else chart


def talkers(rows: list[dict], *, internal_label: str, external_label: str) -> alt.Chart:
    """Source addresses in the order given (riskiest first): alerts per address on a whole-number
    axis, coloured internal or external, with total and worst risk in the tooltip."""
    df = pd.DataFrame(rows, columns=["ip", "count", "total_risk", "max_risk", "internal"])
    df["where"] = [internal_label if v else external_label for v in df["internal"]]
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("ip:N", title=t("security.talker_ip"), sort=list(df["ip"])),
        x=alt.X("count:Q", title=t("security.alerts"), axis=count_axis()),
        color=alt.Color("where:N", title=t("security.where"),
                        scale=alt.Scale(domain=[external_label, internal_label], range=["#d62728", "#1f77b4"])),
        tooltip=[alt.Tooltip("ip:N", title=t("security.talker_ip")),
                 alt.Tooltip("where:N", title=t("security.where")),
                 alt.Tooltip("count:Q", title=t("security.alerts")),
                 alt.Tooltip("total_risk:Q", title=t("security.total_risk"), format=",.1f"),
                 alt.Tooltip("max_risk:Q", title=t("security.risk"), format=",.1f")],
    )


def topic_change(current: list[tuple[str, int]], previous: dict[str, int], *,
                 keys: list[str] | None = None, select: str | None = None) -> alt.Chart:
    """Grouped bars: this period against the previous one, per topic (``current`` and ``previous``
    by label; ``keys``: the topic ids in the same order, for a click selection named ``select``)."""
    rows = []
    for i, (label, count) in enumerate(current):
        key = keys[i] if keys else label
        rows.append({"topic": label, "key": key, "period": t("common.current"), "count": count})
        rows.append({"topic": label, "key": key, "period": t("common.previous"), "count": previous.get(label, 0)})
    df = pd.DataFrame(rows, columns=["topic", "key", "period", "count"])
    chart = alt.Chart(df).mark_bar(cursor="pointer" if select else "default").encode(
        y=alt.Y("topic:N", title=t("common.topic"), sort=[k for k, _ in current]),
        yOffset=alt.YOffset("period:N", sort=[t("common.current"), t("common.previous")]),
        x=alt.X("count:Q", title=t("common.mentions"), axis=count_axis()),
        color=alt.Color("period:N", title="", sort=[t("common.current"), t("common.previous")]),
        tooltip=[alt.Tooltip("topic:N", title=t("common.topic")),
                 alt.Tooltip("period:N", title=""), alt.Tooltip("count:Q", title=t("common.mentions"))],
    )
    return chart.add_params(alt.selection_point(name=select, fields=["key"], on="click")) if select else chart


def explanation(rows: list[dict], names: dict[str, str]) -> alt.Chart:
    """An anomaly's features in the order given (furthest from the baseline first): bar length is
    rarity, -log10 of the baseline's tail probability, so a feature seen in 1 baseline window in
    1000 draws three units; the tooltip gives observed, baseline, tail probability and distance.
    Rows written before tail probabilities were kept fall back to their share of the score."""
    df = pd.DataFrame(rows)
    for col in ("observed", "baseline", "tail_p", "distance", "contribution"):
        if col not in df:
            df[col] = None
    df["label"] = [names.get(f, f) for f in df["feature"]]
    if df["tail_p"].notna().all():
        df["value"] = [-math.log10(max(float(p), 1e-12)) for p in df["tail_p"]]
        title, fmt = t("security.rarity"), ".2f"
    else:
        df["value"] = df["contribution"].astype(float)
        title, fmt = t("security.contribution"), ".0%"
    return alt.Chart(df).mark_bar(color="#d62728").encode(
        y=alt.Y("label:N", title=t("security.feature"), sort=list(df["label"])),
        x=alt.X("value:Q", title=title, axis=alt.Axis(format=fmt)),
        tooltip=[alt.Tooltip("label:N", title=t("security.feature")),
                 alt.Tooltip("observed:Q", title=t("security.observed"), format=",.2f"),
                 alt.Tooltip("baseline:Q", title=t("security.baseline"), format=",.2f"),
                 alt.Tooltip("tail_p:Q", title=t("security.tail_p"), format=".2%"),
                 alt.Tooltip("value:Q", title=title, format=fmt)],
    )


def alert_timeline(rows: list[dict], tz: str) -> alt.Chart:
    """An entity's alerts over time (``security.risk`` timeline rows): one point per alert at its
    risk, coloured by severity, with rule and title in the tooltip."""
    df = pd.DataFrame(rows, columns=["time", "rule", "technique", "severity", "risk", "title", "id"])
    df["time"] = [local_time(to_ms(v), tz) for v in df["time"]]
    df = _label_col(df)
    df["sev"] = [t(f"severity.{v}") for v in df["severity"]]
    return alt.Chart(df).mark_circle(size=120, opacity=0.9).encode(
        x=_time_axis(t("common.time")),
        y=alt.Y("risk:Q", title=t("security.risk"), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("sev:N", title=t("security.severity"),
                        scale=alt.Scale(domain=[t(f"severity.{k}") for k in SEVERITY_COLOURS],
                                        range=list(SEVERITY_COLOURS.values()))),
        tooltip=[alt.Tooltip("time_label:N", title=t("common.time")), alt.Tooltip("rule:N", title=t("security.rule")),
                 alt.Tooltip("title:N", title=t("common.title")), alt.Tooltip("risk:Q", title=t("security.risk"))],
    )


def grouped_bars(rows: Iterable[tuple[str, str, float]], *, label_title: str, value_title: str) -> alt.Chart:
    """Bars per label, side by side per series (e.g. items and errors per source)."""
    df = pd.DataFrame(list(rows), columns=["label", "series", "value"])
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("label:N", title=label_title),
        yOffset=alt.YOffset("series:N"),
        x=alt.X("value:Q", title=value_title, axis=count_axis()),
        color=alt.Color("series:N", title=""),
        tooltip=[alt.Tooltip("label:N", title=label_title), alt.Tooltip("series:N", title=""),
                 alt.Tooltip("value:Q", title=value_title)],
    )
