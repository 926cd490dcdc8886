"""Lắng nghe / Listening: sentiment and topics over time, watchlists, share of voice, spikes,
toxic content, top posts."""

import pandas as pd
import streamlit as st

from core.documents import CLOSE_REASONS, SENTIMENTS, TOXICITIES
from core.errors import IocwatchError
from dashboard import auth, charts, corrections, data, ui
from dashboard.i18n import t

settings = data.settings()
user = auth.require("listening", settings)
tz = settings.dashboard.timezone

st.title(t("listening.title"))
facets = ui.load(data.post_facets)
with st.expander(t("listening.filters"), expanded=True):
    c1, c2, c3, c4, c5 = st.columns(5)
    range_key = ui.range_select("l_range", container=c1)
    topics = ui.pick(c2, t("common.topic"), facets.get("topics", []), key="l_topics", format_func=ui.topic_label)
    sources = ui.pick(c3, t("common.source"), facets.get("source", []), key="l_sources")
    platforms = ui.pick(c4, t("common.platform"), facets.get("platform", []), key="l_platforms")
    watchlists = ui.pick(c5, t("common.watchlist"), facets.get("watchlists", []), key="l_watchlists")

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
m4.metric(t("listening.spike_count"), len(res["spikes"]) + len(res["spike_alerts"]))

st.subheader(t("listening.sentiment_time"))
if res["total"]:
    marks = res["spikes"] + [charts.to_ms(a["time"]) for a in res["spike_alerts"] if a.get("time")]
    st.altair_chart(charts.stacked_time(res["sentiment_time"], tz, group_title=t("common.sentiment"),
                                        labels=ui.labels("sentiment", SENTIMENTS),
                                        colours={k: charts.SENTIMENT_COLOURS[k] for k in SENTIMENTS},
                                        marks=marks), width="stretch")
else:
    st.info(t("common.no_data"))
if res["spike_alerts"]:
    st.caption(t("listening.spikes"))
    st.dataframe(pd.DataFrame([{t("common.time"): ui.local(a["time"], tz), t("common.title"): a["title"],
                                t("common.watchlist"): a["entity"],
                                t("security.severity"): t(f"severity.{a['severity']}")}
                               for a in res["spike_alerts"]]), hide_index=True, width="stretch")



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
    names = ui.load(data.watchlist_labels)
    st.dataframe(pd.DataFrame([{
        t("common.time"): ui.local(a["time"], tz), t("security.severity"): t(f"severity.{a['severity']}"),
        t("security.status"): t(f"status.{a['status']}"), t("common.title"): a["title"],
        t("common.watchlist"): names.get(a["entity"] or "", a["entity"] or ""),
        t("security.assignee"): a["assignee"] or ""} for a in queue]), hide_index=True, width="stretch")
    titles = {a["id"]: f"[{t('severity.' + a['severity'])}] {a['title']} – {ui.local(a['time'], tz)}" for a in queue}
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
        st.altair_chart(charts.topic_change(labelled, previous), width="stretch")
        # the change is a number (sorts as one), shown as "+683 %"; empty for a topic new this period
        st.dataframe(pd.DataFrame([{t("common.topic"): ui.topic_label(k), t("common.current"): v,
                                    t("common.previous"): res["topics_prev"].get(k, 0),
                                    t("common.change"): data.change_percent(v, res["topics_prev"].get(k, 0))}
                                   for k, v in res["topics"]]), hide_index=True, width="stretch",
                     column_config={t("common.change"): st.column_config.NumberColumn(format="%+d %%")})
with right:
    st.subheader(t("listening.watchlists"))
    if res["watchlist_time"]:
        st.altair_chart(charts.lines_time(res["watchlist_time"], tz, group_title=t("common.watchlist")),
                        width="stretch")
    else:
        st.info(t("common.no_data"))

left, right = st.columns(2)
with left:
    st.subheader(t("listening.sov_source"))
    st.altair_chart(charts.bars(res["source"], label_title=t("common.source"),
                                value_title=t("common.mentions"), share=True), width="stretch")
with right:
    st.subheader(t("listening.sov_platform"))
    st.altair_chart(charts.bars(res["platform"], label_title=t("common.platform"),
                                value_title=t("common.mentions"), share=True), width="stretch")

st.subheader(t("listening.places"))
st.altair_chart(charts.bars(res["places"], label_title=t("common.place"), value_title=t("common.mentions"),
                            share=True), width="stretch")

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
