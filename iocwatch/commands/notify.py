"""``iocwatch notify``: check the sinks, send pending alerts, build or send the daily digest."""

from __future__ import annotations

import json

import click


@click.group()
def notify() -> None:
    """Notifications: webhook, Telegram and e-mail sinks configured under [notify]."""


@notify.command()
def sinks() -> None:
    """List the configured sinks (secrets are never shown)."""
    from core.settings import get_settings
    from iocwatch.ops.notify import safe_url, sinks_from_settings

    settings = get_settings()
    found = sinks_from_settings(settings)
    if not found:
        click.echo("no sink configured (set notify.webhook_url, notify.telegram_* or notify.smtp_*)")
    for sink in found:
        detail = {"webhook": lambda s: safe_url(s.url),
                  "telegram": lambda s: f"chat {s.chat_id} via {s.api_base}",
                  "email": lambda s: f"{s.host}:{s.port} -> {', '.join(s.to) or '(digest only)'}",
                  }[sink.name](sink)
        click.echo(f"  {sink.name:<9} {detail}")
    click.echo(f"  min_severity={settings.notify.min_severity} spikes={settings.notify.spikes}")


@notify.command()
def test() -> None:
    """Send a test message to every sink; exit 1 if one fails."""
    from core.settings import get_settings
    from iocwatch.ops.notify import Notification, Notifier

    notifier = Notifier(get_settings())
    if not notifier.sinks:
        raise click.ClickException("no sink configured")
    outcome = notifier.send(Notification(kind="test", title="[iocwatch] Thử kênh cảnh báo",
                                         text="Tin nhắn thử từ iocwatch: kênh này nhận được cảnh báo."))
    for name, result in outcome.items():
        click.echo(f"  {name:<9} {result}")
    if any(r != "ok" for r in outcome.values()):
        raise SystemExit(1)


@notify.command()
@click.option("--hours", default=24, show_default=True, help="Alerts seen within this many hours.")
def alerts(hours: int) -> None:
    """Send security alerts at or above notify.min_severity and spikes not sent yet."""
    from core.settings import get_settings
    from index import open_store
    from iocwatch.ops.notify import Notifier

    settings = get_settings()
    store = open_store(settings)
    try:
        query = {"range": {"last_seen": {"gte": f"now-{int(hours)}h"}}}
        hits = store.search("alerts", query, size=1000, sort=[{"risk_score": {"order": "desc"}}]).hits
        report = Notifier(settings).notify_alerts([h.source for h in hits])
    finally:
        store.close()
    click.echo(f"considered {report.considered}, sent {report.sent}, already sent "
               f"{report.already_sent}, below severity {report.skipped_severity}, failed {report.failed}")
    for err in report.errors:
        click.echo(f"  {err}", err=True)


@notify.command()
@click.option("--send", "do_send", is_flag=True, help="Send it now (default: print it).")
@click.option("--json", "as_json", is_flag=True, help="Print the digest's figures as JSON.")
def digest(do_send: bool, as_json: bool) -> None:
    """The daily digest for communications staff (the service sends it after notify.digest_hour)."""
    from core.settings import get_settings
    from index import open_store
    from iocwatch.ops.notify import build_digest, send_digest

    settings = get_settings()
    store = open_store(settings)
    try:
        if do_send:
            out = send_digest(store, settings, force=True)
            if out is None:
                raise click.ClickException("no sink configured")
            click.echo(json.dumps(out, ensure_ascii=False))
            return
        note = build_digest(store, settings)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(note.data, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(note.title)
        click.echo(note.text)
