"""``iocwatch dashboard``: serve the Streamlit dashboard on this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import subprocess


def app_path() -> Path:
    import dashboard

    return Path(dashboard.__file__).parent / "server.py"  # app.py behind the HTTP guard and session routes


def streamlit_command(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line for the dashboard (also used by the browser test)."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path()),
            "--server.address", address, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--theme.base", "light", "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "type"]


def wait_until_healthy(url: str, proc: subprocess.Popen, timeout_s: float, log_path: Path) -> None:
    """Wait until the dashboard at ``url`` answers its health check with ``ok``; raise
    :class:`RuntimeError` with the end of ``log_path`` if ``proc`` exits or ``timeout_s``
    passes first (used by the browser tests and the screenshot bench)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass  # not listening yet: asked again below until the deadline
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the dashboard did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)


@click.command()
@click.option("--port", default=8501, show_default=True, help="TCP port to serve on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Interface to listen on (put a TLS reverse proxy in front before exposing it).")
def dashboard(port: int, address: str) -> None:
    """Serve the dashboard (login required; users come from `iocwatch users`)."""
    from core.settings import get_settings
    from dashboard.auth import users_path

    settings = get_settings()
    if not users_path(settings).exists() and not settings.dashboard.oidc:
        click.echo(f"warning: no users yet ({users_path(settings)}); "
                   "create one with `iocwatch users add NAME --role admin`", err=True)
    env = dict(os.environ, IOCWATCH_DATA_DIR=str(Path(settings.data_dir).resolve()))
    click.echo(f"Dashboard: http://{address}:{port}  (Ctrl+C to stop)")
    command = streamlit_command(port, address)
    sys.stdout.flush()
    os.execve(command[0], command, env)  # streamlit takes over this process: signals reach it directly
