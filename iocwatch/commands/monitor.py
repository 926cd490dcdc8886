"""``iocwatch monitor``: learn a baseline, then score captures, logs or a live interface."""

from __future__ import annotations

import json
import sys

import click

from iocwatch.commands._writer import MODEL, SECURITY, data_writer, wait_option
from security.logs import FORMATS


def _echo_report(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, default=str))
        return
    click.echo(f"alerts: {report['alerts']}  by rule: {report['by_rule']}  by severity: {report['by_severity']}")
    click.echo(f"stored: {report['stored']}  spooled: {report.get('spooled', 0)}  "
               f"rejected: {len(report['rejected'])}  "
               f"allow-listed: {report['suppressed']}  windows: {report['windows']}")
    if report.get("spooled"):
        click.echo(f"warning: {report['spooled']} alerts are waiting in the spool (the store is "
                   "unavailable); they reach the index when it is back", err=True)
    for inp in report["inputs"]:
        skipped = ", ".join(f"{k}={v}" for k, v in inp["skipped"].items()) or "none"
        click.echo(f"  {inp['source']}: {inp['records']} records, skipped: {skipped}"
                   + (f", errors: {inp['errors']}" if inp["errors"] else ""))


@click.group(invoke_without_command=True)
@click.option("--pcap", "pcaps", multiple=True, type=click.Path(dir_okay=False), help="pcap/pcapng file (repeat).")
@click.option("--log", "logs", multiple=True, type=click.Path(dir_okay=False), help="Log file (repeat).")
@click.option("--log-format", type=click.Choice(FORMATS), help="Log format (default: detected).")
@click.option("--iface", help="Capture live from this interface (needs root / CAP_NET_RAW).")
@click.option("--bpf", help="BPF filter for --iface (needs libpcap), e.g. 'not port 22'.")
@click.option("--follow", is_flag=True, help="Keep following the logs (tail -F) and store alerts per batch.")
@click.option("--interval", type=float,
              help="Seconds per batch with --follow/--iface (default serve.monitor_interval_s).")
@click.option("--batches", type=int, help="Stop after this many batches (default: run until interrupted).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@wait_option
@click.pass_context
def monitor(ctx, pcaps, logs, log_format, iface, bpf, follow, interval, batches, as_json, wait_s) -> None:
    """Score captures and logs with the rules and the learnt detector; store the alerts.

    \b
    iocwatch monitor learn --pcap baseline.pcap --log auth.log
    iocwatch monitor --pcap today.pcap --log /var/log/auth.log --log /var/log/nginx/access.log
    iocwatch monitor --log /var/log/auth.log --follow --interval 60
    iocwatch monitor --iface eth0 --bpf 'not port 22'
    """
    if ctx.invoked_subcommand is not None:
        return
    from core.settings import get_settings
    from iocwatch.ops.spool import open_spooled_store

    if not (pcaps or logs or iface):
        raise click.UsageError("give --pcap, --log or --iface (or use `monitor learn`)")
    if follow and not logs:
        raise click.UsageError("--follow follows log files: give at least one --log")
    settings = get_settings()
    with data_writer(settings, wait_s, scopes=[SECURITY]):
        store = open_spooled_store(settings, "monitor")  # alerts survive a store outage
        try:
            _run(settings, store, pcaps, logs, log_format, iface, bpf, follow, interval, batches, as_json)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        finally:
            store.close()


def unread_inputs(report: dict) -> list[dict]:
    """Inputs that could not be read at all (errors and no record)."""
    return [i for i in report["inputs"] if i["errors"] and not i["records"]]


def _check_read(report: dict) -> None:
    """No input read: an error (exit 2); some inputs unread: a warning and exit status 1."""
    from core.errors import SecurityMonitorError

    unread = unread_inputs(report)
    if not unread:
        return
    reasons = "; ".join(i["errors"][-1] for i in unread)
    if len(unread) == len(report["inputs"]):
        raise SecurityMonitorError(f"no input could be read: {reasons}",
                                   hint="check the paths and formats (--log-format)")
    click.echo(f"warning: {len(unread)} of {len(report['inputs'])} inputs could not be read: {reasons}",
               err=True)
    sys.exit(1)


def _run(settings, store, pcaps, logs, log_format, iface, bpf, follow, interval, batches, as_json) -> None:
    from iocwatch.flows.monitor import follow_monitor, run_monitor

    if not (follow or iface):
        report = run_monitor(settings, store, pcaps=pcaps, logs=logs, log_format=log_format)
        _echo_report(report, as_json)
        _check_read(report)
        return
    if pcaps:
        run = run_monitor(settings, store, pcaps=pcaps, log_format=log_format)
        _echo_report(run, as_json)
    for report in follow_monitor(settings, store, logs=list(logs) if follow else [], iface=iface,
                                 bpf=bpf, log_format=log_format, interval_s=interval, max_batches=batches):
        _echo_report(report, as_json)
        if report["interrupted"]:
            click.echo("stopped; the lines read so far are stored", err=True)
        if follow and not iface and report["failed"] and len(report["failed"]) == len(logs):
            from core.errors import SecurityMonitorError

            raise SecurityMonitorError("no followed log could be read: " + "; ".join(report["failed"].values()),
                                       hint="check the paths and formats (--log-format)")


@monitor.command()
@click.option("--pcap", "pcaps", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Baseline pcap/pcapng file (repeat).")
@click.option("--log", "logs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Baseline log file (repeat).")
@click.option("--log-format", type=click.Choice(FORMATS), help="Log format (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print what was learnt as JSON.")
@wait_option
def learn(pcaps, logs, log_format, as_json, wait_s) -> None:
    """Fit the anomaly detector on a baseline period (benign captures and logs) and save it."""
    from core.settings import get_settings
    from iocwatch.flows.monitor import run_learn

    settings = get_settings()
    with data_writer(settings, wait_s, scopes=[MODEL]):
        meta = run_learn(settings, pcaps=pcaps, logs=logs, log_format=log_format)
    if as_json:
        click.echo(json.dumps(meta, ensure_ascii=False, default=str))
        return
    click.echo(f"detector {meta['detector']} fitted on {meta['windows']} entity windows; "
               f"threshold {meta['threshold']:.3f} (contamination {meta['contamination']})")
    click.echo(f"features: {', '.join(meta['features'])}")
    for inp in meta["inputs"]:
        click.echo(f"  {inp['source']}: {inp['records']} records, skipped {inp['skipped'] or 'none'}")
