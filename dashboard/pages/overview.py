"""Tổng quan / Overview: mentions with their change, negative share, open alerts, collection health."""

import streamlit as st

from dashboard import auth, charts, data, ui
from dashboard.i18n import t

settings = data.settings()
auth.require("overview", settings)
tz = settings.dashboard.timezone

st.title(t("overview.title"))
fig = ui.load(data.overview)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(t("overview.m24"), ui.num(fig["m24"]), ui.delta(fig["m24"], fig["m24_prev"]))
c2.metric(t("overview.m7d"), ui.num(fig["m7d"]), ui.delta(fig["m7d"], fig["m7d_prev"]))
c3.metric(t("overview.neg"), "–" if fig["negative_share"] is None else f"{fig['negative_share']:.0%}")
# the counts An ninh mạng and Lắng nghe's spike queue open with (data.open_alerts)
queue_help = t("overview.open_help", range=t(f"range.{data.QUEUE_RANGE}"))
c4.metric(t("overview.open_security"), ui.num(fig["open_security"]), help=queue_help)
c5.metric(t("overview.open_listening"), ui.num(fig["open_listening"]), help=queue_help)

left, right = st.columns(2)
with left:
    st.subheader(t("overview.per_day"))
    event = st.altair_chart(charts.bars_time(fig["per_day"], tz, y_title=t("common.mentions"), select="pick"),
                            width="stretch", on_select="rerun", key="o_day_chart")
    if event.selection.get("pick"):  # a day's bar: its posts on the search page
        data.hand_over_search(**data.drill_filters("day", event.selection["pick"][0]["ms"], "7d", interval="1d"))
    st.caption(t("listening.drill_help"))
with right:
    st.subheader(t("overview.alerts_by_sev"))
    sev = [(k, fig["open_alerts"].get(k, 0)) for k in data.SEVERITIES]
    st.altair_chart(charts.bars(sev, label_title=t("security.severity"), value_title=t("common.count"),
                                colours=charts.SEVERITY_COLOURS, labels=ui.labels("severity", data.SEVERITIES)),
                    width="stretch")

st.subheader(t("overview.health"))
frame = ui.health_frame(ui.load(data.health), tz)
if frame.empty:
    st.info(t("overview.no_status"))
else:
    st.dataframe(frame, hide_index=True, width="stretch")
