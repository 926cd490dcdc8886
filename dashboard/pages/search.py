"""Tìm kiếm / Search: boolean, diacritic-insensitive search with filters, snippets, detail and exports."""

import hashlib
import json

import streamlit as st

from core.documents import SENTIMENTS
from core.errors import IocwatchError, QuerySyntaxError
from dashboard import auth, charts, data, export, ui
from dashboard.i18n import t

settings = data.settings()
user = auth.require("search", settings)
tz = settings.dashboard.timezone

st.title(t("search.title"))
facets = ui.load(data.post_facets)
text = st.text_input(t("search.query"), placeholder=t("search.placeholder"), key="s_text")
c1, c2, c3, c4, c5, c6 = st.columns(6)
range_key = ui.range_select("s_range", default="all", container=c1)
platforms = tuple(ui.pick(c2, t("common.platform"), facets.get("platform", []), key="s_platforms"))
sources = tuple(ui.pick(c3, t("common.source"), facets.get("source", []), key="s_sources"))
topics = tuple(ui.pick(c4, t("common.topic"), facets.get("topics", []), key="s_topics",
                       format_func=ui.topic_label))
sentiments = tuple(ui.pick(c5, t("common.sentiment"), SENTIMENTS, format_func=lambda k: t(f"sentiment.{k}"),
                                  key="s_sentiments"))
page = int(c6.number_input(t("search.page"), min_value=1, value=1, step=1, key="s_page")) - 1

try:
    res = data.search_posts(text, range_key, platforms, sources, topics, sentiments, page)
except QuerySyntaxError as exc:
    st.error(t("search.bad_query", error=exc))
    st.stop()
except IocwatchError as exc:
    st.error(t("common.store_error", error=exc))
    st.stop()

pages = max(1, -(-res["total"] // data.PAGE_SIZE))
st.markdown(f"**{t('search.results', total=ui.num(res['total']))}** · {t('search.page')} {page + 1}/{pages}")
if res["total"]:
    st.subheader(t("search.over_time"))
    st.altair_chart(charts.bars_time(res["over_time"], tz, y_title=t("common.mentions")), width="stretch")

for hit in res["hits"]:
    meta = " · ".join(x for x in (ui.local(hit["published_at"], tz), hit["source"], hit["platform"],
                                  t(f"sentiment.{hit['sentiment']}") if hit["sentiment"] else "") if x)
    link = f" [↗]({hit['url']})" if hit.get("url") else ""
    st.markdown(f"**{hit['title_hl']}**{link}  \n<small>{meta}</small>  \n{hit['snippet']}",
                unsafe_allow_html=True)
if res["hits"]:
    st.dataframe(ui.posts_frame(res["hits"], tz), hide_index=True, width="stretch",
                 column_config=ui.link_column())

    st.subheader(t("search.detail"))
    titles = {h["id"]: h["title"] for h in res["hits"]}
    picked = st.selectbox(t("search.pick"), list(titles), format_func=titles.get, key="s_detail")
    post = ui.load(data.get_post, picked) if picked else None
    if post:
        st.markdown(f"### {post.get('title') or ''}")
        st.caption(" · ".join(x for x in (ui.local(post.get("published_at"), tz), post.get("source"),
                                          (post.get("author") or {}).get("name")) if x))
        st.write(post.get("text") or "")
        st.json({k: post.get(k) for k in ("sentiment", "sentiment_score", "toxicity", "topics", "places",
                                          "keywords", "watchlists", "engagement", "entities")},
                expanded=False)
        if post.get("url"):
            st.link_button(t("search.original"), post["url"])

st.subheader(t("search.export"))
signature = hashlib.sha1(json.dumps([text, range_key, platforms, sources, topics, sentiments],
                                    ensure_ascii=False).encode()).hexdigest()
if st.button(t("search.prepare"), disabled=not res["total"]):
    query = data.build_search_query(text, range_key, platforms=platforms, sources=sources, topics=topics,
                                    sentiments=sentiments)
    with st.spinner(t("search.prepare")):
        rows = [export.flatten(src, tz) for src in data.iter_posts(query)]
        st.session_state["s_export"] = {"sig": signature, "rows": len(rows), "csv": export.to_csv(rows),
                                        "xlsx": export.to_xlsx(rows)}
    auth.audit(settings, "export", user["name"], rows=len(rows), query=text)
ready = st.session_state.get("s_export")
if ready and ready["sig"] == signature:
    st.success(t("search.exported", rows=ui.num(ready["rows"])))
    d1, d2 = st.columns(2)
    d1.download_button(t("search.csv"), ready["csv"], file_name="iocwatch-posts.csv", mime="text/csv")
    d2.download_button(t("search.xlsx"), ready["xlsx"], file_name="iocwatch-posts.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
