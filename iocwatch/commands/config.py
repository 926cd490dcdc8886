"""``iocwatch config``: show the effective settings."""

from __future__ import annotations

import json

import click


@click.group()
def config() -> None:
    """Inspect settings (IOCWATCH_* variables, .env, iocwatch.toml)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of TOML-like text.")
def show(as_json: bool) -> None:
    """Print the effective settings, secrets masked."""
    from core.settings import get_settings, masked

    data = masked(get_settings())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for key, value in top.items():
        click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for section, values in data.items():
        if isinstance(values, dict):
            click.echo(f"\n[{section}]")
            for key, value in values.items():
                click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")
