"""The analytics state file: versioned JSON written atomically, read back or started afresh with a reason.

``<data_dir>/security/analytics.json`` holds each analytic's learnt baseline and running
state (bounded by its horizon), the shared context and when each behaviour was last
raised. It is replaced atomically (:func:`core.state.atomic_write_json`), so a kill
mid-run leaves the previous version. A file from another version, or one that cannot
be read, is reported and set aside: the monitor carries on with fresh state (and, for
a missing baseline, asks for ``monitor learn``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core.errors import IocwatchError
from core.state import atomic_write_json, read_json

log = logging.getLogger(__name__)

STATE_VERSION = 1
STATE_FILE = "analytics.json"


def save_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (with its version) atomically."""
    return atomic_write_json(path, {"version": STATE_VERSION, **state})


def load_state(path: str | Path) -> tuple[dict[str, Any] | None, str | None]:
    """The saved state, or ``(None, reason)`` when there is none usable (missing, corrupt, other version)."""
    p = Path(path)
    try:
        raw = read_json(p)
    except IocwatchError as exc:
        log.warning("analytics state set aside, starting afresh: %s", exc)
        return None, str(exc)
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        got = raw.get("version") if isinstance(raw, dict) else type(raw).__name__
        reason = (f"{p}: analytics state version {got!r}, this release reads {STATE_VERSION}; starting afresh "
                  "(run `iocwatch monitor learn` to rebuild the baseline)")
        log.warning(reason)
        return None, reason
    return raw, None
