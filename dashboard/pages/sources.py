"""Nguồn / Sources (admins): configured sources, schedules, last runs and errors."""

import pandas as pd
import streamlit as st

from dashboard import auth, charts, data, ui
from dashboard.i18n import t

settings = data.settings()
auth.require("sources", settings)
tz = settings.dashboard.timezone

st.title(t("sources.title"))
status = ui.load(data.health)
per_source = {r["source"]: r for r in ui.load(data.posts_per_source)}

st.subheader(t("sources.status"))
frame = ui.health_frame(status, tz)
if frame.empty:
    st.info(t("overview.no_status"))
else:
    st.dataframe(frame, hide_index=True, width="stretch")
    runs = [(name, int(e.get("items") or 0), int(e.get("errors") or 0))
            for section in ("sources", "monitors") for name, e in status.get(section, {}).items()]
    long = [(name, t("health.items"), items) for name, items, _ in runs] + \
           [(name, t("health.errors"), errors) for name, _, errors in runs]
    st.subheader(t("sources.items_errors"))
    st.altair_chart(charts.grouped_bars(long, label_title=t("health.name"), value_title=t("common.count")),
                    width="stretch")

st.subheader(t("sources.configured"))
conf = ui.load(data.configured_sources)
if conf["error"]:
    st.error(t("sources.bad_file", error=ui.safe(conf["error"])))
elif conf["missing"]:
    st.info(t("sources.no_file", path=conf["path"] or "crawl.sources_file"))
else:
    st.caption(conf["path"])
if conf["sources"]:
    st.dataframe(pd.DataFrame([{
        t("sources.name"): s["name"], t("sources.type"): s["type"], t("common.platform"): s["platform"],
        t("sources.url"): s["url"], t("health.schedule"): s["schedule_s"] or settings.serve.default_schedule_s,
        t("sources.enabled"): s["enabled"],
        t("health.last_run"): ui.local(status["sources"].get(s["name"], {}).get("last_run"), tz),
        t("sources.posts"): per_source.get(s["name"], {}).get("posts", 0),
    } for s in conf["sources"]]), hide_index=True, width="stretch")

st.subheader(t("sources.posts"))
if per_source:
    st.altair_chart(charts.bars([(k, v["posts"]) for k, v in per_source.items()], label_title=t("common.source"),
                                value_title=t("common.count"), share=True), width="stretch")
    st.dataframe(pd.DataFrame([{t("common.source"): k, t("common.count"): v["posts"],
                                t("common.published"): ui.local(v["last"], tz)} for k, v in per_source.items()]),
                 hide_index=True, width="stretch")
else:
    st.info(t("common.no_data"))
