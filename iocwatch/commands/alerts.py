"""``iocwatch alerts``: list stored security alerts and triage them."""

from __future__ import annotations

import json

import click

SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "acknowledged", "in_progress", "closed")


def list_alerts(store, *, min_severity: str | None = None, status: str | None = None, rule: str | None = None,
                size: int = 100) -> dict:
    """``{"total": N, "alerts": [...]}`` for alerts at or above a severity, highest risk first."""
    filters: list[dict] = [{"term": {"module": "security"}}]
    if min_severity:
        allowed = list(SEVERITIES[SEVERITIES.index(min_severity):])
        filters.append({"terms": {"severity": allowed}})
    if status:
        filters.append({"term": {"status": status}})
    if rule:
        filters.append({"term": {"rule.name": rule}})
    query = {"bool": {"filter": filters}}
    result = store.search("alerts", query, size=size,
                          sort=[{"risk_score": {"order": "desc"}}, {"last_seen": {"order": "desc"}}])
    alerts = []
    for hit in result.hits:
        doc = hit.source
        alerts.append({
            "id": doc["id"], "rule": doc.get("rule.name"), "technique": doc.get("threat.technique.id"),
            "technique_name": doc.get("threat.technique.name"), "severity": doc.get("severity"),
            "risk_score": doc.get("risk_score"), "status": doc.get("status"), "assignee": doc.get("assignee"),
            "source_ip": doc.get("source.ip"), "destination_ip": doc.get("destination.ip"),
            "destination_port": doc.get("destination.port"), "destination_domain": doc.get("destination.domain"),
            "user": doc.get("user.name"), "host": doc.get("host.name"), "entity": doc.get("entity"),
            "first_seen": doc.get("first_seen"), "last_seen": doc.get("last_seen"), "count": doc.get("count"),
            "title": doc.get("title"), "explanation": doc.get("explanation", []),
            "evidence": doc.get("evidence", []),
        })
    return {"total": result.total, "alerts": alerts}


@click.group()
def alerts() -> None:
    """Security alerts: list and triage."""


@alerts.command("list")
@click.option("--min-severity", type=click.Choice(SEVERITIES), help="Only alerts at or above this severity.")
@click.option("--status", type=click.Choice(STATUSES), help="Only alerts in this state.")
@click.option("--rule", help="Only alerts of this rule (e.g. port_scan).")
@click.option("--size", type=int, default=100, show_default=True, help="At most this many alerts.")
@click.option("--json", "as_json", is_flag=True, help='One JSON object {"total": N, "alerts": [...]}.')
def list_cmd(min_severity, status, rule, size, as_json) -> None:
    """List alerts, highest risk first."""
    from core.settings import get_settings
    from index import open_store

    store = open_store(get_settings())
    try:
        out = list_alerts(store, min_severity=min_severity, status=status, rule=rule, size=size)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    click.echo(f"{out['total']} alert(s)")
    for a in out["alerts"]:
        why = "; ".join(f"{e['feature']}={e['observed']:g}" + (f" (baseline {e['baseline']:g})"
                                                              if e.get("baseline") is not None else "")
                        for e in a["explanation"][:3])
        click.echo(f"{a['id'][:12]}  {a['severity']:<8} {a['risk_score']:>5.1f}  {a['status']:<12} "
                   f"{a['rule']:<18} {a['technique'] or '-':<10} x{a['count']:<5} {a['title']}")
        if why:
            click.echo(f"{'':14}why: {why}")


@alerts.command()
@click.argument("alert_id")
@click.option("--status", type=click.Choice(STATUSES), help="New state.")
@click.option("--assignee", help="Assign to this person ('' to unassign).")
@click.option("--reason", type=click.Choice(("true_positive", "false_positive", "benign")),
              help="Closing reason (needed with --status closed).")
@click.option("--note", help="A comment kept in the history.")
@click.option("--by", default="cli", show_default=True, help="Who makes the change.")
@click.option("--json", "as_json", is_flag=True, help="Print the updated alert as JSON.")
def triage(alert_id, status, assignee, reason, note, by, as_json) -> None:
    """Change an alert's state (open -> acknowledged -> in_progress -> closed), assignee or notes.

    ALERT_ID may be the full id or a unique prefix of at least 8 characters.
    """
    from core.errors import StoreError
    from core.settings import get_settings
    from index import open_store
    from index.triage import triage as do_triage

    store = open_store(get_settings())
    try:
        full = alert_id
        if store.get("alerts", alert_id) is None and len(alert_id) >= 8:
            ids = [h.id for h in store.search("alerts", None, size=10_000).hits if h.id.startswith(alert_id)]
            if len(ids) > 1:
                raise StoreError(f"alert id prefix {alert_id} is ambiguous ({len(ids)} alerts)",
                                 hint="give more characters")
            if ids:
                full = ids[0]
        alert = do_triage(store, full, status=status, assignee=assignee, reason=reason, by=by, note=note)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(alert.to_doc(), ensure_ascii=False, default=str))
    else:
        click.echo(f"{alert.id}: {alert.status.value}, assignee {alert.assignee or '-'}"
                   + (f", closed as {alert.close_reason}" if alert.close_reason else "")
                   + f" ({len(alert.history)} history entries)")
