"""Logging, configured once by the CLI (and the dashboard); libraries only get loggers."""

from __future__ import annotations

import logging
import sys

from core.secrets import MaskingFilter

_CONFIGURED = False


def configure_logging(level: str = "INFO") -> None:
    """Send log records to stderr (stdout stays clean for ``--json`` output)."""
    global _CONFIGURED
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not _CONFIGURED:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                               "%H:%M:%S"))
        handler.addFilter(MaskingFilter())  # no credential reaches the log, ours or a library's
        root.addHandler(handler)
        _CONFIGURED = True
    quiet_level = logging.WARNING if root.level > logging.DEBUG else logging.DEBUG
    for noisy in ("elastic_transport", "urllib3", "filelock", "h5py", "matplotlib", "drain3"):
        logging.getLogger(noisy).setLevel(quiet_level)
