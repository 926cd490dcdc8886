"""The ``iocwatch`` command: a thin click shell over plain functions.

Command groups live in :mod:`iocwatch.commands` and are imported only when used, so
``iocwatch --help`` stays fast and a command's heavy libraries load with it alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys

import click

from core.errors import IocwatchError
from core.secrets import mask_secrets

# name -> "module:attribute"; a command appears once its module exists.
COMMANDS: dict[str, str] = {
    "config": "iocwatch.commands.config:config",
    "index": "iocwatch.commands.index:index",
    "search": "iocwatch.commands.index:search",
    "demo": "iocwatch.commands.demo:demo",
    "crawl": "iocwatch.commands.crawl:crawl",
    "nlp": "iocwatch.commands.nlp:nlp",
    "monitor": "iocwatch.commands.monitor:monitor",
    "alerts": "iocwatch.commands.alerts:alerts",
    "security": "iocwatch.commands.security:security",
    "serve": "iocwatch.commands.serve:serve",
    "dashboard": "iocwatch.commands.dashboard:dashboard",
    "users": "iocwatch.commands.users:users",
    "notify": "iocwatch.commands.notify:notify",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items()
                      if importlib.util.find_spec(target.split(":")[0]) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        if importlib.util.find_spec(module_name) is None:
            return None
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="iocwatch")
def cli(verbose: int, quiet: bool) -> None:
    """iocwatch: social listening and cyber-security monitoring for city operation centres.

    Settings come from IOCWATCH_* variables, .env and iocwatch.toml;
    see `iocwatch config show`.
    """
    from core.settings import get_settings
    from iocwatch.logs import configure_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on model hubs
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    level = "WARNING" if quiet else ("DEBUG" if verbose > 1 else None)
    configure_logging(level or "INFO")
    settings = get_settings()  # validated now: a bad setting stops every command with its name
    if level is None:
        configure_logging("INFO" if verbose else settings.log_level)
    from security.rules import rule_config

    rule_config(settings.security.rules)  # per-rule overrides checked before any work starts


def main() -> None:
    """Console entry point: our errors become one clear line and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except IocwatchError as exc:
        logging.getLogger("iocwatch").debug("error detail", exc_info=True)
        click.echo(f"error: {mask_secrets(str(exc))}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
