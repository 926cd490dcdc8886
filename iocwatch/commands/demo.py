"""``iocwatch demo``: run the end-to-end job on the bundled offline data."""

from __future__ import annotations

import json

import click

from iocwatch.commands._writer import MODEL, POSTS, SECURITY, data_writer, wait_option


@click.command()
@click.option("--only", multiple=True, help="Run only these steps (listen, monitor, spikes, users).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@wait_option
def demo(only: tuple[str, ...], as_json: bool, wait_s: float) -> None:
    """Run the whole product once on the bundled demo data (no services needed)."""
    from core.settings import get_settings
    from iocwatch.demo import run_demo

    settings = get_settings()
    with data_writer(settings, wait_s, scopes=[POSTS, SECURITY, MODEL]):
        report = run_demo(settings, only=list(only) or None)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    for name, out in report["steps"].items():
        if out.get("skipped"):
            click.echo(f"  {name:<8} skipped")
        else:
            figures = ", ".join(f"{k}={v}" for k, v in out.items() if not isinstance(v, dict | list))
            click.echo(f"  {name:<8} {figures}")
