"""Lắng nghe / Listening: sentiment and topics over time, watchlists, share of voice, spikes,
toxic content, top posts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.documents import CLOSE_REASONS, SENTIMENTS, TOXICITIES
from core.errors import IocwatchError
from dashboard import auth, charts, corrections, data, ui
from dashboard.i18n import alert_title, t

settings = data.settings()
user = auth.require("listening", settings)
tz = settings.dashboard.timezone

st.title(t("listening.title"))
facets = ui.load(data.post_facets)
with st.expander(t("listening.filters"), expanded=True):
    c1, c2, c3, c4, c5 = st.columns(5)
    range_key = c1.selectbox(t("common.range"), [*ui.RANGE_KEYS, data.CUSTOM], index=ui.RANGE_KEYS.index("7d"),
                             format_func=lambda k: t(f"range.{k}"), key="l_range")
    if range_key == data.CUSTOM:  # a custom date range beside the presets
        today = datetime.now(ZoneInfo(tz)).date()
        days = c1.date_input(t("range.custom_days"), value=(today - timedelta(days=6), today), key="l_days",
                             format="DD/MM/YYYY")
        days = tuple(days) if isinstance(days, list | tuple) else (days,)
        range_key = data.custom_range(days[0], days[-1]) if days else "7d"
    topics = ui.pick(c2, t("common.topic"), facets.get("topics", []), key="l_topics", format_func=ui.topic_label)
    sources = ui.pick(c3, t("common.source"), facets.get("source", []), key="l_sources")
    platforms = ui.pick(c4, t("common.platform"), facets.get("platform", []), key="l_platforms")
    watchlist_names = ui.load(data.watchlist_labels)
    watchlists = ui.pick(c5, t("common.watchlist"), facets.get("watchlists", []), key="l_watchlists",
                         format_func=lambda k: watchlist_names.get(k, k))

res = ui.load(data.listening, range_key, tuple(topics), tuple(sources), tuple(platforms), tuple(watchlists))
sentiments = dict(res["sentiment"])
analysed = sum(sentiments.values())
toxicity = dict(res["toxicity"])
judged = sum(toxicity.values())
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("listening.total"), ui.num(res["total"]))
m2.metric(t("listening.neg"),
          f"{sentiments.get('negative', 0) / analysed:.0%}" if analysed else "–")
m3.metric(t("listening.toxic_share"),
          f"{(judged - toxicity.get('clean', 0)) / judged:.1%}" if judged else "–")
names = ui.load(data.watchlist_labels)  # watchlists by display name everywhere
spikes = ui.load(data.spike_details, range_key)
page_filters = {"topics": topics, "sources": sources, "platforms": platforms, "watchlists": watchlists}


def _group_label(spike: dict) -> str:
    return names.get(spike["name"], spike["name"]) if spike["group"] == "watchlist" else ui.topic_label(spike["name"])


def _spike_posts(spike: dict) -> None:
    """The posts behind a spike: its watchlist (or topic) over its window."""
    window = data.window_query(charts.to_ms(spike["start"]), charts.to_ms(spike["end"]))
    data.hand_over_search(text=window, range_key="all", **{data.GROUP_FIELD[spike["group"]]: [spike["name"]]})


# Each spike once: the spike alerts, and buckets the chart shows as outstanding outside every alert's window.
windows = [(charts.to_ms(a["start"]), charts.to_ms(a["end"])) for a in spikes]
interval_ms = {"1h": 3_600_000, "6h": 21_600_000, "1d": 86_400_000, "7d": 604_800_000}[res["interval"]]
chart_only = [ms for ms in res["spikes"] if not any(a <= ms + interval_ms and ms <= b for a, b in windows)]
m4.metric(t("listening.spike_count"), len(spikes) + len(chart_only))

st.subheader(t("listening.sentiment_time"))
if res["total"]:
    marks = [{"ms": charts.to_ms(a["end"]), "kind": t("listening.spike_alert"), "id": a["id"],
              "group": _group_label(a), "terms": ", ".join(term for term, _, _ in a["terms"]),
              "samples": [p["title"] for p in a["samples"]]} for a in spikes]
    marks += [{"ms": ms, "kind": t("listening.spike_chart"), "id": f"bucket:{ms}"} for ms in chart_only]
    event = st.altair_chart(charts.stacked_time(res["sentiment_time"], tz, group_title=t("common.sentiment"),
                                                labels=ui.labels("sentiment", SENTIMENTS),
                                                colours={k: charts.SENTIMENT_COLOURS[k] for k in SENTIMENTS},
                                                marks=marks), width="stretch",
                            on_select="rerun", selection_mode="spike" if marks else None, key="l_sentiment_chart")
    clicked = [p.get("id") for p in (event.selection.get("spike") or [])] if marks else []
    if clicked and str(clicked[0]).startswith("bucket:"):
        data.hand_over_search(**data.drill_filters("day", int(str(clicked[0])[7:]), range_key,
                                                   interval=res["interval"], **page_filters))
    elif clicked:
        _spike_posts(next(a for a in spikes if a["id"] == clicked[0]))
    st.caption(t("listening.marks_help"))
else:
    st.info(t("common.no_data"))
if spikes:
    st.caption(t("listening.spikes"))
for spike in spikes:
    with st.container(border=True):
        body, action = st.columns([5, 1])
        body.markdown(f"**{ui.safe(_group_label(spike))}** · {ui.local(spike['start'], tz)} – "
                      f"{ui.local(spike['end'], tz)} · {t('severity.' + spike['severity'])}  \n"
                      f"{ui.safe(alert_title(spike['title_doc']))}")
        if spike["terms"]:
            body.markdown(f"{t('listening.terms')}: " + " ".join(
                f":orange-badge[{ui.safe(term)} ({n} ← {before})]" for term, n, before in spike["terms"]))
        for post in spike["samples"]:
            body.caption(f"{ui.local(post['published_at'], tz)} · {ui.safe(post['source'])} · {ui.safe(post['title'])}")
        if action.button(t("listening.spike_posts", n=ui.num(spike["posts"])), key=f"l_spike_{spike['id']}",
                         type="primary"):
            _spike_posts(spike)

def _triage(alert_id: str, note: str, **change) -> None:
    try:
        done = data.triage_alert(alert_id, by=user["name"], note=note or None, role=user["role"], **change)
    except IocwatchError as exc:
        st.error(t("security.triage_failed", error=ui.safe(exc)))
        return
    st.session_state["l_flash"] = t("security.done", status=t(f"status.{done['status']}"))
    st.rerun()


def _spike_queue() -> None:
    """Open listening alerts (spikes), triaged here by the roles of data.TRIAGE_ROLES["listening"]."""
    st.subheader(t("listening.queue"))
    flash = st.session_state.pop("l_flash", None)
    if flash:
        st.success(flash)
    queue = ui.load(data.listening_queue)
    if not queue:
        st.info(t("listening.queue_empty"))
        return
    st.dataframe(pd.DataFrame([{
        t("common.time"): ui.local(a["time"], tz), t("security.severity"): t(f"severity.{a['severity']}"),
        t("security.status"): t(f"status.{a['status']}"), t("common.title"): alert_title(a["title_doc"]),
        t("common.watchlist"): names.get(data.spike_group(a["entity"])[1], data.spike_group(a["entity"])[1]),
        t("security.assignee"): a["assignee"] or ""} for a in queue]), hide_index=True, width="stretch")
    titles = {a["id"]: f"[{t('severity.' + a['severity'])}] {alert_title(a['title_doc'])} – {ui.local(a['time'], tz)}"
              for a in queue}
    picked = st.selectbox(t("listening.pick_alert"), list(titles), format_func=titles.get, key="l_alert")
    status = next(a["status"] for a in queue if a["id"] == picked)
    note = st.text_input(t("security.note"), key=f"l_note_{picked}")
    b1, b2, b3 = st.columns(3)
    if b1.button(t("security.ack"), disabled=status != "open", key="l_ack"):
        _triage(picked, note, status="acknowledged")
    reason = b2.selectbox(t("security.reason"), CLOSE_REASONS, format_func=lambda k: t(f"reason.{k}"),
                          key=f"l_reason_{picked}")
    if b3.button(t("security.close"), type="primary", key="l_close"):
        _triage(picked, note, status="closed", reason=reason)


if user["role"] in data.TRIAGE_ROLES["listening"]:
    _spike_queue()

left, right = st.columns(2)
with left:
    st.subheader(t("listening.topics"))
    if res["topics"]:
        labelled = [(ui.topic_label(k), v) for k, v in res["topics"]]
        previous = {ui.topic_label(k): v for k, v in res["topics_prev"].items()}
        event = st.altair_chart(charts.topic_change(labelled, previous, keys=[k for k, _ in res["topics"]],
                                                   select="pick"), width="stretch", on_select="rerun",
                                key="l_topic_chart")
        if event.selection.get("pick"):
            data.hand_over_search(**data.drill_filters("topic", event.selection["pick"][0]["key"], range_key,
                                                       **page_filters))
        # the change is a number (sorts as one), shown as "+683 %"; empty for a topic new this period
        st.dataframe(pd.DataFrame([{t("common.topic"): ui.topic_label(k), t("common.current"): v,
                                    t("common.previous"): res["topics_prev"].get(k, 0),
                                    t("common.change"): data.change_percent(v, res["topics_prev"].get(k, 0))}
                                   for k, v in res["topics"]]), hide_index=True, width="stretch",
                     column_config={t("common.change"): st.column_config.NumberColumn(format="%+d %%")})
with right:
    st.subheader(t("listening.watchlists"))
    if res["watchlist_time"]:
        st.altair_chart(charts.lines_time([(ms, names.get(w, w), n) for ms, w, n in res["watchlist_time"]], tz,
                                          group_title=t("common.watchlist")), width="stretch")
    else:
        st.info(t("common.no_data"))



def _drill_bars(kind: str, items: list, label_title: str, key: str) -> None:
    """Share-of-voice bars; a click on one opens its posts on the search page."""
    event = st.altair_chart(charts.bars(items, label_title=label_title, value_title=t("common.mentions"),
                                        share=True, select="pick"), width="stretch", on_select="rerun", key=key)
    if event.selection.get("pick"):
        data.hand_over_search(**data.drill_filters(kind, event.selection["pick"][0]["key"], range_key,
                                                   **page_filters))


left, right = st.columns(2)
with left:
    st.subheader(t("listening.sov_source"))
    _drill_bars("source", res["source"], t("common.source"), "l_source_chart")
with right:
    st.subheader(t("listening.sov_platform"))
    _drill_bars("platform", res["platform"], t("common.platform"), "l_platform_chart")

st.subheader(t("listening.places"))
_drill_bars("place", res["places"], t("common.place"), "l_place_chart")
st.caption(t("listening.drill_help"))

st.subheader(t("listening.toxic"))
if res["top_toxic"]:
    left, right = st.columns(2)
    with left:
        st.altair_chart(charts.stacked_time(res["toxicity_time"], tz, group_title=t("common.toxicity"),
                                            labels=ui.labels("toxicity", TOXICITIES[1:]),
                                            colours={"offensive": "#ff7f0e", "hate": "#7b0000"},
                                            bars=True, y_title=t("common.mentions")), width="stretch")
    with right:
        st.caption(t("listening.top_toxic"))
        st.dataframe(ui.posts_frame(res["top_toxic"], tz, toxicity=True, probability="toxic"), hide_index=True,
                     width="stretch", column_config=ui.link_column() | ui.probability_column("toxic"))
else:
    st.info(t("listening.no_toxic"))

left, right = st.columns(2)
with left:
    st.subheader(t("listening.top_negative"))
    st.dataframe(ui.posts_frame(res["top_negative"], tz, probability="negative"), hide_index=True, width="stretch",
                 column_config=ui.link_column() | ui.probability_column("negative"))
with right:
    st.subheader(t("listening.top_positive"))
    st.dataframe(ui.posts_frame(res["top_positive"], tz, probability="positive"), hide_index=True, width="stretch",
                 column_config=ui.link_column() | ui.probability_column("positive"))
left, right = st.columns(2)
with left:
    st.subheader(t("listening.top_engaged"))
    st.dataframe(ui.posts_frame(res["top_engaged"], tz), hide_index=True, width="stretch",
                 column_config=ui.link_column())

# Operators' corrections: one click on a listed post, the review queue, the retrain button.
corrections.show_message()
corrections.pick_and_correct(user, res["top_negative"] + res["top_toxic"] + res["top_engaged"], key="l_fix")
corrections.review_section(user, range_key, topics=tuple(topics), sources=tuple(sources),
                           platforms=tuple(platforms), watchlists=tuple(watchlists))
corrections.retrain_section(user)
