"""The writers of a data directory, as the commands that change it take them.

Every command that writes shared state in the data directory runs inside
:func:`data_writer`: a second command writing the same *scope* started meanwhile is
refused with the holder named, or waits up to ``--wait`` seconds for it. Scopes let the
two halves of the product run side by side on one data directory (the collector and the
monitor containers of docker-compose), while two writers of one half cannot:

* ``posts``: imports, rebuilds, crawls, re-analysis, the collecting service;
* ``security``: the monitor (its alerts and its followed-log registry), the monitoring service;
* ``model``: learning the detector and the log templates.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import click

from core.secrets import mask_secrets
from core.state import WriterLock

POSTS, SECURITY, MODEL = "posts", "security", "model"


def wait_option(func: Any) -> Any:
    """The ``--wait SECONDS`` option of a writing command."""
    return click.option(
        "--wait", "wait_s", type=click.FloatRange(min=0), default=0.0, show_default=True,
        help="If another iocwatch run is writing to this data directory, wait up to this many "
             "seconds for it to finish instead of refusing at once.")(func)


@contextlib.contextmanager
def data_writer(settings: Any, wait_s: float = 0.0, purpose: str | None = None,
                scopes: Iterable[str] = (POSTS,)) -> Iterator[None]:
    """Hold the writer locks of ``settings.data_dir`` for ``scopes`` (taken in a fixed order,
    so two commands never wait on each other), named after the running command line."""
    if purpose is None:  # the command line, as the operator who meets the lock would recognise it
        purpose = mask_secrets(" ".join(["iocwatch", *sys.argv[1:]]))  # the lock file is readable
        purpose = purpose if len(purpose) <= 160 else purpose[:157] + "..."
    deadline = time.monotonic() + wait_s
    with contextlib.ExitStack() as stack:
        for scope in sorted(set(scopes)):
            left = max(0.0, deadline - time.monotonic())
            stack.enter_context(WriterLock(settings.data_dir, purpose, wait_s=left, scope=scope))
        yield
