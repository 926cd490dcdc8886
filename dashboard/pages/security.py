"""An ninh mạng / Security: alert queue with filters, triage, alert detail, timeline and top talkers."""

import pandas as pd
import streamlit as st

from core.documents import CLOSE_REASONS, AlertStatus
from core.errors import IocwatchError
from dashboard import auth, charts, data, ui
from dashboard.i18n import alert_title, evidence_line, feature_name, field_label, t

settings = data.settings()
user = auth.require("security", settings)
tz = settings.dashboard.timezone
STATUSES = [s.value for s in AlertStatus]

st.title(t("security.title"))
flash = st.session_state.pop("sec_flash", None)
if flash:
    st.success(flash)
facets = ui.load(data.alert_facets)
c1, c2, c3, c4, c5, c6, c7 = st.columns(7)
range_key = ui.range_select("sec_range", default=data.QUEUE_RANGE, container=c1)
severities = tuple(ui.pick(c2, t("security.severity"), data.SEVERITIES, format_func=lambda k: t(f"severity.{k}"),
                                  key="sec_sev"))
statuses = tuple(ui.pick(c3, t("security.status"), STATUSES, default=list(data.OPEN_STATUSES),
                                format_func=lambda k: t(f"status.{k}"), key="sec_status"))
rules = tuple(ui.pick(c4, t("security.rule"), facets["rule"], key="sec_rules"))
technique_names = facets.get("technique_names", {})
techniques = tuple(ui.pick(c5, t("security.technique"), facets["technique"], key="sec_tech",
                           format_func=lambda k: f"{k} – {technique_names[k]}" if k in technique_names else k))
sources = tuple(ui.pick(c6, t("security.source"), list(data.DETECTION_SOURCES), key="sec_source",
                        format_func=lambda k: t(f"security.source.{k}")))
entity = c7.text_input(t("security.entity"), key="sec_entity", help=t("security.entity_help"))
try:
    if entity.strip():  # an address, a CIDR block or a prefix
        data.entity_clauses(entity)
except ValueError as exc:
    st.error(t("security.bad_entity", error=ui.safe(exc)))
    entity = ""

page = int(st.session_state.get("sec_page", 1)) - 1  # the page box sits beside the queue, below
res = ui.load(data.alert_queue, range_key, severities, statuses, rules, techniques, entity, page, sources)
cols = st.columns(5)
cols[0].metric(t("security.queue"), ui.num(res["total"]))
for col, sev in zip(cols[1:], data.SEVERITIES, strict=True):
    col.metric(t(f"severity.{sev}"), ui.num(res["severity"].get(sev, 0)))

st.subheader(t("security.queue"))
q1, q2 = st.columns([5, 1])
q1.caption(t("security.queue_count", total=ui.num(res["total"])))
q2.number_input(t("search.page"), min_value=1, value=1, step=1, key="sec_page")


def _detail(d: dict) -> str:
    """A Sigma alert's rule id, level and ATT&CK tags, or an intel alert's feed, indicator (type) and confidence."""
    parts = [str(d["rule.id"])] if d.get("rule.id") else []
    if d.get("rule.level"):
        parts.append(f"{field_label('rule.level')} {t('severity.' + d['rule.level'])}"
                     if d["rule.level"] in data.SEVERITIES else f"{field_label('rule.level')} {d['rule.level']}")
    if d.get("tags"):
        parts.append(", ".join(d["tags"]))
    if d.get("threat.feed.name"):
        parts.append(f"{field_label('threat.feed.name')} {d['threat.feed.name']}")
    if d.get("threat.indicator.name"):
        parts.append(f"{d['threat.indicator.name']} ({d.get('threat.indicator.type') or '?'})")
    if d.get("threat.indicator.confidence") is not None:
        parts.append(f"{field_label('threat.indicator.confidence')} {d['threat.indicator.confidence']}")
    return " · ".join(parts)


queue = pd.DataFrame([{
    t("common.time"): ui.local(r["time"], tz), t("security.severity"): t(f"severity.{r['severity']}"),
    t("security.risk"): r["risk_score"], t("security.status"): t(f"status.{r['status']}"),
    t("security.source"): t(f"security.source.{r['source']}"), t("security.rule"): r["rule"],
    t("security.technique"): " – ".join(x for x in (r["technique"], technique_names.get(r["technique"] or "")) if x),
    t("security.entity"): r["entity"] or "", t("common.title"): alert_title(r["title_doc"]),
    t("security.detection_detail"): _detail(r["detail"]), t("security.assignee"): r["assignee"] or "",
} for r in res["rows"]])
st.dataframe(queue, hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    st.subheader(t("security.timeline"))
    if res["timeline"]:
        st.altair_chart(charts.stacked_time(res["timeline"], tz, group_title=t("security.severity"),
                                            labels=ui.labels("severity", data.SEVERITIES),
                                            colours=charts.SEVERITY_COLOURS, bars=True,
                                            y_title=t("common.count")), width="stretch")
    else:
        st.info(t("common.no_data"))
with right:
    st.subheader(t("security.talkers_ranked"))
    talkers = res["talkers"]  # ranked by total risk, then alerts (data.rank_talkers)
    if talkers:
        where = {True: t("security.internal"), False: t("security.external"), None: ""}
        st.altair_chart(charts.talkers(talkers, internal_label=where[True], external_label=where[False]),
                        width="stretch")
        st.dataframe(pd.DataFrame([{t("security.talker_ip"): r["ip"], t("security.where"): where[r["internal"]],
                                    t("security.alerts"): r["count"], t("security.total_risk"): r["total_risk"],
                                    t("security.avg_risk"): r["avg_risk"], t("security.risk"): r["max_risk"]}
                                   for r in talkers]), hide_index=True, width="stretch")
    else:
        st.info(t("common.no_data"))

st.subheader(t("security.riskiest"))
riskiest = ui.load(data.riskiest_entities)
if riskiest:
    st.dataframe(pd.DataFrame([{
        t("security.entity"): r["entity"], t("security.kind"): t(f"security.kind.{r['kind']}"),
        t("security.entity_score"): r["score"], t("security.severity"): t(f"severity.{r['level']}"),
        t("security.alerts"): r["alerts"], t("security.technique"): ", ".join(r["techniques"]),
        t("security.last_seen"): ui.local(r["last_seen"], tz)} for r in riskiest]), hide_index=True, width="stretch")
    chosen = st.selectbox(t("security.timeline_of"), range(len(riskiest)), key="sec_risky",
                          format_func=lambda i: f"{riskiest[i]['entity']} ({riskiest[i]['score']:g})")
    timeline = [{**r, "title": alert_title(r["title_doc"])} for r in riskiest[chosen]["timeline"]]
    st.altair_chart(charts.alert_timeline(timeline, tz), width="stretch")
else:
    st.info(t("security.no_risky"))

st.subheader(t("security.detail"))
if not res["rows"]:
    st.info(t("common.no_data"))
    st.stop()
# the time tells apart alerts whose titles repeat (one rule, one entity, several windows)
titles = {r["id"]: f"[{t('severity.' + r['severity'])}] {alert_title(r['title_doc'])} – {r['entity'] or ''}"
                   f" · {ui.local(r['time'], tz)}" for r in res["rows"]}
picked = st.selectbox(t("security.pick"), list(titles), format_func=titles.get, key="sec_pick")
alert = ui.load(data.get_alert, picked)
if alert is None:
    st.stop()
st.markdown(f"#### {ui.safe(alert_title(alert))}")
st.caption(" · ".join(ui.safe(x) for x in (
    ui.local(alert.get("@timestamp"), tz), alert.get("rule.name"), alert.get("threat.technique.id"),
    alert.get("threat.technique.name"), f"{t('security.risk')} {alert.get('risk_score')}",
    t(f"status.{alert.get('status')}")) if x))
if alert.get("status") == "closed":  # why it was closed, and what was said then
    closing = next((h for h in reversed(alert.get("history") or []) if h.get("to_status") == "closed"), {})
    reason = alert.get("close_reason")
    said = closing.get("note") if closing.get("note") not in (None, reason) else None
    st.info(t("security.close_reason_is", reason=t(f"reason.{reason}") if reason else "–")
            + (f" · {t('security.note')}: {ui.safe(said)}" if said else "")
            + (f" · {ui.safe(closing.get('by'))}, {ui.local(closing.get('at'), tz)}" if closing else ""))
d1, d2 = st.columns(2)
explanation = alert.get("explanation") or []
names = {e["feature"]: feature_name(e["feature"]) for e in explanation}
# a rule's own figures (kind "rule"), else features far from the entity's baseline (kind "anomaly");
# rows stored before kinds existed: the detector's carried a share of the score, the rule's had none
kinds = [e.get("kind") or ("anomaly" if e.get("contribution") else "rule") for e in explanation]
rule_rows = [e for e, kind in zip(explanation, kinds, strict=True) if kind == "rule"]
anomaly_rows = [e for e, kind in zip(explanation, kinds, strict=True) if kind == "anomaly"]
with d1:
    if not explanation:
        st.markdown(f"**{t('security.explanation')}**")
        st.info(t("security.no_explanation"))
    if rule_rows:
        st.markdown(f"**{t('security.rule_evidence')}**")
        yes_no = {True: t("security.crossed_yes"), False: t("security.crossed_no"), None: ""}
        st.dataframe(pd.DataFrame([{
            t("security.feature"): names[e["feature"]], t("security.observed"): e["observed"],
            t("security.threshold"): "" if e.get("threshold") is None else
            f"{'≤' if e.get('direction') == 'max' else '≥'} {e['threshold']:g}",
            t("security.crossed"): yes_no[None if e.get("threshold") is None else
                                          (e["observed"] <= e["threshold"] if e.get("direction") == "max"
                                           else e["observed"] >= e["threshold"])],
            t("security.baseline"): e.get("baseline")} for e in rule_rows]), hide_index=True, width="stretch")
    if anomaly_rows:
        st.markdown(f"**{t('security.anomaly_evidence')}**")
        st.altair_chart(charts.explanation(anomaly_rows, names), width="stretch")
        st.dataframe(pd.DataFrame([{
            t("security.feature"): names[e["feature"]], t("security.observed"): e["observed"],
            t("security.baseline"): e.get("baseline"),
            t("security.tail_p"): None if e.get("tail_p") is None else round(100 * e["tail_p"], 2)}
            for e in anomaly_rows]), hide_index=True, width="stretch",
            column_config={t("security.tail_p"): st.column_config.NumberColumn(format="%.2f %%")})
with d2:
    st.markdown(f"**{t('security.evidence')}**")
    # the dashboard's timezone; the words the product wrote in the UI language
    evidence = [data.local_times(line, tz) for line in alert.get("evidence") or []]
    st.code("\n".join(evidence_line(line) for line in evidence) or "–", language=None)
    decoded = [d for d in (data.decode_payload(line) for line in evidence) if d]
    if decoded:
        st.markdown(f"**{t('security.payload')}**")
        st.code("\n".join(decoded), language=None)
    fields = {k: alert.get(k) for k in ("source.ip", "destination.ip", "destination.port", "destination.domain",
                                        "user.name", "host.name", "entity", "count") if alert.get(k) is not None}
    fields |= {k: ui.local(alert.get(k), tz, "%d/%m/%Y %H:%M:%S") for k in ("first_seen", "last_seen")
               if alert.get(k)}
    fields |= {k: ", ".join(v) if isinstance(v, list) else v for k, v in data.detection_detail(alert).items()}
    st.dataframe(pd.DataFrame([{t("security.field"): field_label(k), t("security.value"): str(v)}
                               for k, v in fields.items()]), hide_index=True, width="stretch")



def _open_related(alert_id: str, who: str) -> None:
    """Show a related alert: the queue narrowed to its entity, every status, and the alert picked."""
    st.session_state["sec_entity"] = who
    st.session_state["sec_status"] = STATUSES
    st.session_state["sec_pick"] = alert_id
    st.session_state["sec_page"] = 1


related = ui.load(data.related_alerts, picked)
if related:
    st.markdown(f"**{t('security.related')}**")
    for r in related:
        line, go = st.columns([8, 1])
        line.markdown(" · ".join(ui.safe(x) for x in (
            ui.local(r["time"], tz), t(f"severity.{r['severity']}"), t(f"status.{r['status']}"),
            alert_title(r["title_doc"]), f"{t('security.risk')} {r['risk_score']}") if x))
        go.button(t("security.open_related"), key=f"sec_rel_{r['id']}", on_click=_open_related,
                  args=(r["id"], r["entity"] or alert.get("entity") or ""))

st.markdown(f"**{t('security.triage')}**")


def act(**change):
    try:
        done = data.triage_alert(picked, by=user["name"], note=note or None, role=user["role"], **change)
    except IocwatchError as exc:
        st.error(t("security.triage_failed", error=ui.safe(exc)))
        return
    st.session_state["sec_flash"] = t("security.done", status=t(f"status.{done['status']}"))
    st.rerun()


note = st.text_input(t("security.note"), key=f"sec_note_{picked}")  # saved with the action it goes with
b1, b2, b3, b4 = st.columns(4)
status = alert.get("status")
if b1.button(t("security.ack"), disabled=status != "open"):
    act(status="acknowledged")
if b2.button(t("security.start"), disabled=status not in ("open", "acknowledged")):
    act(status="in_progress")
people = data.triagers(alert.get("module") or "security")  # users whose role triages this module
choices = ["", *people] if not alert.get("assignee") or alert.get("assignee") in people \
    else ["", alert["assignee"], *people]
current = alert.get("assignee") or (user["name"] if user["name"] in people else "")
assignee = b3.selectbox(t("security.assignee"), choices, index=choices.index(current),
                        format_func=lambda k: people.get(k, k) if k else t("security.unassigned"),
                        key=f"sec_assignee_{picked}")
if b3.button(t("security.assign"), disabled=assignee == (alert.get("assignee") or "")):
    act(assignee=assignee)
if status == "closed":
    stored = alert.get("close_reason")
    b4.selectbox(t("security.reason"), CLOSE_REASONS, format_func=lambda k: t(f"reason.{k}"), disabled=True,
                 index=CLOSE_REASONS.index(stored) if stored in CLOSE_REASONS else 0, key=f"sec_reason_{picked}")
    if b4.button(t("security.reopen")):
        act(status="open")
else:
    reason = b4.selectbox(t("security.reason"), CLOSE_REASONS, format_func=lambda k: t(f"reason.{k}"),
                          key=f"sec_reason_{picked}")
    if b4.button(t("security.close"), type="primary"):
        act(status="closed", reason=reason)


def _history_row(h: dict) -> dict:
    """One history entry in the UI language (entries written before reasons and assignees had
    fields of their own kept them in the note)."""
    action = h.get("action") or ""
    reason = h.get("reason") or (h.get("note") if h.get("to_status") == "closed" and h.get("note") in CLOSE_REASONS
                                 else None)
    note = h.get("note") if h.get("note") != reason else None
    if action == "assign" and h.get("assignee") is None:  # the note held the assignee
        who, note = h.get("note"), None
    else:
        who = h.get("assignee")
    change = " → ".join(t(f"status.{s}") for s in (h.get("from_status"), h.get("to_status")) if s)
    if action == "assign":
        change = t("security.assignee") + ": " + (people.get(who, who) if who and who != "unassigned"
                                                  else t("security.unassigned"))
    return {t("common.time"): ui.local(h.get("at"), tz), t("security.by"): h.get("by"),
            t("security.action"): t(f"history.{action}") if action in ("status", "assign", "comment") else action,
            t("security.status"): change, t("security.reason_col"): t(f"reason.{reason}") if reason else "",
            t("security.note"): note or ""}


if alert.get("history"):
    st.markdown(f"**{t('security.history')}**")
    st.dataframe(pd.DataFrame([_history_row(h) for h in alert["history"]]), hide_index=True, width="stretch")
