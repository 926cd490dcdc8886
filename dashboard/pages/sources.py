"""Nguồn / Sources (admins): the sources and monitor inputs that actually ran (run status), with
last run, items and errors; the sources file's other entries; stored posts per source."""

import pandas as pd
import streamlit as st

from dashboard import auth, charts, data, ui
from dashboard.i18n import t

settings = data.settings()
auth.require("sources", settings)
tz = settings.dashboard.timezone

st.title(t("sources.title"))
ran = ui.load(data.sources_that_ran)
per_source = {r["source"]: r for r in ui.load(data.posts_per_source)}


def _table(rows: list[dict], *, posts: bool) -> pd.DataFrame:
    out = []
    for r in rows:
        row = {t("sources.name"): r["name"], t("health.ok"): t("health.yes") if r["ok"] else t("health.no"),
               t("health.last_run"): ui.local(r["last_run"], tz),
               t("health.last_success"): ui.local(r["last_success"], tz),
               t("health.items"): r["items"], t("health.errors"): r["errors"],
               t("health.last_error"): r["last_error"], t("health.runs"): r["runs"],
               t("health.schedule"): r["schedule_s"]}
        if posts:
            row |= {t("sources.posts_stored"): r["posts"], t("sources.type"): r["type"], t("sources.url"): r["url"]}
        out.append(row)
    return pd.DataFrame(out)


def _items_errors(rows: list[dict]) -> None:
    long = [(r["name"], t("health.items"), r["items"]) for r in rows] + \
           [(r["name"], t("health.errors"), r["errors"]) for r in rows]
    st.altair_chart(charts.grouped_bars(long, label_title=t("health.name"), value_title=t("common.count")),
                    width="stretch")


st.subheader(t("sources.ran"))
if ran["sources"]:
    st.dataframe(_table(ran["sources"], posts=True), hide_index=True, width="stretch")
    st.subheader(t("sources.items_errors"))
    _items_errors(ran["sources"])
else:
    st.info(t("sources.none_ran"))

st.subheader(t("sources.monitors"))
if ran["monitors"]:  # packets and log lines: a chart of their own, not beside posts
    st.dataframe(_table(ran["monitors"], posts=False), hide_index=True, width="stretch")
    _items_errors(ran["monitors"])
else:
    st.info(t("sources.no_monitors"))

conf = ui.load(data.configured_sources)
with st.expander(t("sources.never_ran", n=len(ran["never_ran"])), expanded=False):
    if conf["error"]:
        st.error(t("sources.bad_file", error=ui.safe(conf["error"])))
    elif conf["missing"]:
        st.info(t("sources.no_file", path=conf["path"] or "crawl.sources_file"))
    else:
        st.caption(conf["path"])
    if ran["never_ran"]:
        st.dataframe(pd.DataFrame([{
            t("sources.name"): s["name"], t("sources.type"): s["type"], t("common.platform"): s["platform"],
            t("sources.url"): s["url"], t("health.schedule"): s["schedule_s"] or settings.serve.default_schedule_s,
            t("sources.enabled"): s["enabled"]} for s in ran["never_ran"]]), hide_index=True, width="stretch")

st.subheader(t("sources.posts"))
if per_source:
    st.altair_chart(charts.bars([(k, v["posts"]) for k, v in per_source.items()], label_title=t("common.source"),
                                value_title=t("common.count"), share=True), width="stretch")
    st.dataframe(pd.DataFrame([{t("common.source"): k, t("common.count"): v["posts"],
                                t("common.published"): ui.local(v["last"], tz)} for k, v in per_source.items()]),
                 hide_index=True, width="stretch")
else:
    st.info(t("common.no_data"))
