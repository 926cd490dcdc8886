"""The end-to-end demo job behind ``make demo``: every step runs on bundled, offline data.

Each part of the product contributes one step, ``module:function`` taking
``(settings, report)`` where ``report`` is a dict the step adds its figures to. A
step whose module is not part of this build is skipped and said so.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)

# In order: collect and analyse posts, monitor the network, prepare the dashboard.
DEMO_STEPS: list[tuple[str, str]] = [
    ("listen", "iocwatch.flows.listen:demo_step"),
    ("monitor", "iocwatch.flows.monitor:demo_step"),
    ("spikes", "iocwatch.ops.spikes:demo_step"),
    ("users", "dashboard.auth:demo_step"),
]


def run_demo(settings: Settings, *, only: list[str] | None = None) -> dict[str, Any]:
    """Run the demo steps and return what each reported."""
    report: dict[str, Any] = {"steps": {}}
    for name, target in DEMO_STEPS:
        if only and name not in only:
            continue
        module_name, attr = target.split(":")
        if importlib.util.find_spec(module_name) is None:
            log.warning("demo step %s skipped: %s is not part of this build", name, module_name)
            report["steps"][name] = {"skipped": True}
            continue
        step: Callable[[Settings, dict[str, Any]], None] = getattr(importlib.import_module(module_name), attr)
        log.info("demo step %s ...", name)
        out: dict[str, Any] = {}
        step(settings, out)
        report["steps"][name] = out
        log.info("demo step %s done: %s", name, out)
    return report
