"""``iocwatch users add|list|remove``: dashboard users with bcrypt-hashed passwords and roles."""

from __future__ import annotations

import json
import sys

import click

from dashboard.auth import ROLES


@click.group()
def users() -> None:
    """Manage dashboard users (stored in dashboard.users_file, default <data_dir>/users.yaml)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may see.")
@click.option("--email", help="E-mail of a single sign-on (OIDC) user; such users need no password.")
@click.option("--display-name", default="", help="Name shown in the dashboard.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (default when stdin is not a terminal).")
@click.option("--no-password", is_flag=True, help="OIDC-only user (requires --email).")
def add_cmd(name: str, role: str, email: str | None, display_name: str, password_stdin: bool,
            no_password: bool) -> None:
    """Create a user or replace its role and password; the password is prompted or read from stdin."""
    from core.settings import get_settings
    from dashboard.auth import add_user

    password: str | None = None
    if not no_password:
        if password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_user(get_settings(), name, role, password, email=email, display_name=display_name)
    click.echo(f"user {user.name} saved with role {user.role}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """Users, roles and how they sign in (hashes are never shown)."""
    from core.settings import get_settings
    from dashboard.auth import list_users, users_path

    rows = list_users(get_settings())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no users in {users_path(get_settings())}")
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<9} {row['login']:<8} {row['display_name'] or ''}")


@users.command("remove")
@click.argument("name")
def remove_cmd(name: str) -> None:
    """Delete a user; their open dashboard sessions end at the next click."""
    from core.settings import get_settings
    from dashboard.auth import remove_user

    remove_user(get_settings(), name)
    click.echo(f"user {name} removed")
