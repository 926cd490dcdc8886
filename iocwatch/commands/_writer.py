"""The single writer of a data directory, as the commands that change it take it.

Every command that writes shared state in the data directory (imports, rebuilds, crawls,
the monitor, learning, the service and spool replay) runs inside :func:`data_writer`: a
second such command started meanwhile is refused with the holder named, or waits up to
``--wait`` seconds for it.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from core.state import WriterLock


def wait_option(func: Any) -> Any:
    """The ``--wait SECONDS`` option of a writing command."""
    return click.option(
        "--wait", "wait_s", type=click.FloatRange(min=0), default=0.0, show_default=True,
        help="If another iocwatch run is writing to this data directory, wait up to this many "
             "seconds for it to finish instead of refusing at once.")(func)


def data_writer(settings: Any, wait_s: float = 0.0, purpose: str | None = None) -> WriterLock:
    """The writer lock of ``settings.data_dir``, named after the running command line."""
    if purpose is None:
        purpose = " ".join(["iocwatch", *sys.argv[1:4]])
    return WriterLock(settings.data_dir, purpose, wait_s=wait_s)
