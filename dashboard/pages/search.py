"""Tìm kiếm / Search: boolean, diacritic-insensitive search with filters, sort, paging, a post card
opened in place, and exports. A malformed query is refused with the column and the problem."""

import hashlib
import json

import streamlit as st

from core.documents import SENTIMENTS
from core.errors import IocwatchError, QuerySyntaxError
from dashboard import auth, charts, corrections, data, export, ui
from dashboard.i18n import t
from index.querystring import searchable_fields

settings = data.settings()
user = auth.require("search", settings)
tz = settings.dashboard.timezone


def _help() -> None:
    """The syntax and every searchable field, with its type and meaning."""
    st.markdown(t("search.help.syntax"))
    rows = [f"| {t('search.help.field')} | {t('search.help.type')} | {t('search.help.about')} |", "|---|---|---|",
            f"| `exact:` | {t('search.ftype.text')} | {t('search.field.exact')} |"]
    for name, stored, ftype in searchable_fields("posts"):
        about = t(f"search.field.{name}")
        if about == f"search.field.{name}":  # no description: the stored name says it
            about = stored
        rows.append(f"| `{name}:` | {t(f'search.ftype.{ftype}')} | {about} |")
    st.markdown("\n".join(rows))


def _refused(query: str, exc: QuerySyntaxError) -> None:
    """The error in the UI language, and the query with a caret under the place."""
    params = {k: ui.safe(v) for k, v in (exc.params or {}).items() if k != "known"}
    if "ftype" in params:
        params["ftype"] = t(f"search.ftype.{exc.params['ftype']}")
    if exc.code is None or exc.position is None:
        st.error(t("search.bad_query", error=ui.safe(exc)))
        return
    st.error(t("search.bad_query_at", column=exc.position + 1, problem=t(f"query.{exc.code}", **params)))
    if "\n" not in query and len(query) <= 300:
        st.code(f"{query}\n{' ' * exc.position}^", language=None)


def _toggle(post_id: str) -> None:
    st.session_state["s_open"] = None if st.session_state.get("s_open") == post_id else post_id


_COLORS = {"negative": "red", "neutral": "gray", "positive": "green", "clean": "gray"}  # other toxicity: red


def _chip(label: str, color: str = "blue") -> str:
    return f":{color}-badge[{ui.safe(label)}]"


def _percent(value: float | None) -> str:
    return f" · {round(100 * float(value))} %" if value is not None else ""


def _card(post: dict) -> None:
    """One post as a readable card: labels with their confidence, places, keywords, watchlists."""
    confidence = post.get("label_confidence") or {}
    unsure = set(post.get("unsure") or [])
    st.markdown(f"#### {ui.safe(post.get('title') or (post.get('text') or '')[:120])}")
    st.caption(" · ".join(ui.safe(x) for x in (ui.local(post.get("published_at"), tz), post.get("source"),
                                               post.get("platform"), (post.get("author") or {}).get("name")) if x))
    labels = []
    for i, topic in enumerate(post.get("topics") or []):
        note = _percent(confidence.get("topic")) if i == 0 else ""
        labels.append(_chip(ui.topic_label(topic) + note, "violet"))
    for task in ("sentiment", "toxicity"):
        if post.get(task):
            note = _percent(confidence.get(task)) + (f" ({t('search.card.unsure')})" if task in unsure else "")
            labels.append(_chip(t(f"{task}.{post[task]}") + note, _COLORS.get(post[task], "red")))
    rows = [(t("search.card.labels"), labels),
            (t("search.card.places"), [_chip(p, "green") for p in
                                       [*(post.get("place_areas") or []), *(post.get("places") or [])]]),
            (t("search.card.keywords"), [_chip(k, "gray") for k in post.get("keywords") or []]),
            (t("common.watchlist"), [_chip(labels_of_watchlists.get(w, w), "blue")
                                     for w in post.get("watchlists") or []])]
    st.markdown("  \n".join(f"**{name}:** {' '.join(chips)}" for name, chips in rows if chips))
    st.markdown(ui.safe(post.get("text"), block=True))
    eng = post.get("engagement") or {}
    st.caption(t("search.card.engagement", likes=ui.num(int(eng.get("likes") or 0)),
                 comments=ui.num(int(eng.get("comments") or 0)), shares=ui.num(int(eng.get("shares") or 0))))
    if ui.safe_url(post.get("url")):
        st.link_button(t("search.original"), ui.safe_url(post.get("url")))


st.title(t("search.title"))
facets = ui.load(data.post_facets)
labels_of_watchlists = ui.load(data.watchlist_labels)
data.take_search_handover()  # filters handed over by a chart's bar or a spike on another page
text = st.text_input(t("search.query"), placeholder=t("search.placeholder"), key="s_text")
with st.expander(t("search.help")):
    _help()
c1, c2, c3, c4, c5, c6 = st.columns(6)
range_key = ui.range_select("s_range", default="all", container=c1)
platforms = tuple(ui.pick(c2, t("common.platform"), facets.get("platform", []), key="s_platforms"))
sources = tuple(ui.pick(c3, t("common.source"), facets.get("source", []), key="s_sources"))
topics = tuple(ui.pick(c4, t("common.topic"), facets.get("topics", []), key="s_topics",
                       format_func=ui.topic_label))
sentiments = tuple(ui.pick(c5, t("common.sentiment"), SENTIMENTS, format_func=lambda k: t(f"sentiment.{k}"),
                           key="s_sentiments"))
watchlists = tuple(ui.pick(c6, t("common.watchlist"), facets.get("watchlists", []), key="s_watchlists",
                           format_func=lambda k: labels_of_watchlists.get(k, k)))
order = st.radio(t("search.sort"), data.SEARCH_ORDERS, format_func=lambda k: t(f"search.sort.{k}"),
                 horizontal=True, key="s_order")

# A new query, filter or order starts again at page 1 with no post open.
signature = json.dumps([text, range_key, platforms, sources, topics, sentiments, watchlists, order],
                       ensure_ascii=False)
if st.session_state.get("s_sig") != signature:
    st.session_state["s_sig"] = signature
    st.session_state["s_page"] = 1
    st.session_state["s_open"] = None


def _search(page: int) -> dict:
    try:
        return data.search_posts(text, range_key, platforms, sources, topics, sentiments, page - 1, order=order,
                                 watchlists=watchlists)
    except QuerySyntaxError as exc:
        _refused(text, exc)
        st.stop()
    except IocwatchError as exc:
        st.error(t("common.store_error", error=ui.safe(exc)))
        st.stop()
    raise AssertionError("st.stop() ends the run")  # for type checkers


res = _search(int(st.session_state.get("s_page") or 1))
pages = max(1, -(-res["total"] // data.PAGE_SIZE))
if int(st.session_state.get("s_page") or 1) > pages:  # fewer results since (new posts, a refresh)
    st.session_state["s_page"] = pages
    res = _search(pages)

head, pager = st.columns([4, 1])
pager.number_input(t("search.page"), min_value=1, max_value=pages, step=1, key="s_page")
head.markdown(f"**{t('search.results', total=ui.num(res['total']))}** · "
              f"{t('search.page')} {st.session_state['s_page']}/{pages}")
if res["total"]:
    st.subheader(t("search.over_time"))
    st.altair_chart(charts.bars_time(res["over_time"], tz, y_title=t("common.mentions")), width="stretch")
else:
    st.info(t("search.no_results"))

for hit in res["hits"]:
    with st.container(border=True):
        body, action = st.columns([12, 1])
        meta = " · ".join(ui.safe(x) for x in (ui.local(hit["published_at"], tz), hit["source"], hit["platform"],
                                               t(f"sentiment.{hit['sentiment']}") if hit["sentiment"] else "") if x)
        link = " " + ui.md_link("↗", hit.get("url")) if ui.safe_url(hit.get("url")) else ""
        body.markdown(f"**{ui.safe_marked(hit['title_hl'])}**{link}  \n<small>{meta}</small>  \n"
                      f"{ui.safe_marked(hit['snippet'])}", unsafe_allow_html=True)
        is_open = st.session_state.get("s_open") == hit["id"]
        action.button(t("search.close") if is_open else t("search.open"), key=f"s_open_{hit['id']}",
                      on_click=_toggle, args=(hit["id"],))
        if is_open:
            post = ui.load(data.get_post, hit["id"])
            if post:
                _card(post)
                corrections.show_message()
                corrections.widget(post, user, key="s_fix")

st.subheader(t("search.export"))
export_sig = hashlib.sha1(json.dumps([text, range_key, platforms, sources, topics, sentiments, watchlists],
                                     ensure_ascii=False).encode()).hexdigest()
if st.button(t("search.prepare"), disabled=not res["total"]):
    query = data.build_search_query(text, range_key, platforms=platforms, sources=sources, topics=topics,
                                    sentiments=sentiments, watchlists=watchlists)
    with st.spinner(t("search.prepare")):
        rows = [export.flatten(src, tz) for src in data.iter_posts(query)]
        st.session_state["s_export"] = {"sig": export_sig, "rows": len(rows), "csv": export.to_csv(rows),
                                        "xlsx": export.to_xlsx(rows)}
    auth.audit(settings, "export", user["name"], rows=len(rows), query=text)
ready = st.session_state.get("s_export")
if ready and ready["sig"] == export_sig:
    st.success(t("search.exported", rows=ui.num(ready["rows"])))
    d1, d2 = st.columns(2)
    ui.download(d1, t("search.csv"), ready["csv"], "iocwatch-posts.csv", "text/csv")
    ui.download(d2, t("search.xlsx"), ready["xlsx"], "iocwatch-posts.xlsx", export.XLSX_MIME)
