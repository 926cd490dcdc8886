"""The analytics engine: feeds records to every enabled analytic, collects findings, keeps state across runs.

``AnalyticsEngine(config)`` builds the analytics named in :data:`~security.analytics.base.REGISTRY`
with ``DEFAULTS`` overridden by ``security.analytics.<name>``. In learning mode
(:meth:`learn`) records build the baseline: the graph of who talks to whom, each host's
busiest upload hour, its failed logins, served scripts. Otherwise (:meth:`observe`) they
feed the running state, and :meth:`detect` returns findings for the horizon ending at
the newest record seen. A behaviour (analytic and key) is raised once per
``analytics_realert_s``: while it goes on within that period, later findings keep the
first one's start time, so they update the same alert (its count and last time) instead
of raising new ones. :meth:`save` / :meth:`open` keep everything in one state file.

Replays: per record type the engine remembers up to when it has seen records; an older
record (the same file scored again) is not folded in twice. Instead, the findings raised
earlier whose time range the replayed records cover are returned again, unchanged, so a
re-run gives the same alerts with the same counts. An input older than what the engine
already saw of its kind is judged by the rules and the detector only.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.settings import SecuritySettings
from security.analytics import (  # noqa: F401  (each module registers its analytic)
    beacons,
    bruteforce,
    dnstunnel,
    exfil,
    lateral,
    logon,
    longconn,
    scans,
    stuffing,
    webattack,
)
from security.analytics.base import REGISTRY, Analytic, Context, Finding
from security.analytics.state import load_state, save_state
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest

log = logging.getLogger(__name__)

_NAMES = {t: t.__name__ for t in (Connection, AuthEvent, DnsQuery, HttpRequest)}


def analytics_config(overrides: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Each analytic's defaults with the settings' overrides applied (an unknown name or key is an error)."""
    cfg = {name: copy.deepcopy(cls.DEFAULTS) for name, cls in REGISTRY.items()}
    for name, values in (overrides or {}).items():
        if name not in cfg:
            raise ConfigError(f"unknown analytic {name!r} in security.analytics", hint=f"analytics are {sorted(cfg)}")
        unknown = set(values) - set(cfg[name])
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)} for security.analytics.{name}",
                              hint=f"keys are {sorted(cfg[name])}")
        cfg[name].update(values)
    return cfg


class AnalyticsEngine:
    """Every enabled analytic behind one ``learn`` / ``observe`` / ``detect`` / ``save`` surface.

    Args:
        config: the ``security`` settings section (``analytics`` overrides,
            ``internal_networks``, ``analytics_realert_s``, ``max_evidence``).
        state: a dict from :meth:`state` (e.g. read by :meth:`open`) to carry on from.
    """

    def __init__(self, config: SecuritySettings, state: dict[str, Any] | None = None):
        self.config = config
        self.cfg = analytics_config(config.analytics)
        self.ctx = Context(config.internal_networks)
        self.analytics: list[Analytic] = [cls(self.cfg[name], self.ctx, config.max_evidence)
                                          for name, cls in REGISTRY.items() if self.cfg[name].get("enabled", True)]
        self.realert_s = float(config.analytics_realert_s)
        self.raised: dict[str, float] = {}  # "analytic|key" -> data time it was last raised
        self.now = float("-inf")
        self.learnt = False
        self.problems: list[str] = []  # state that could not be used, with the reason
        self.until: dict[str, float] = {}  # record type -> newest time folded in by earlier runs
        self._run_max: dict[str, float] = {}
        self._replay: list[float] = []  # [first, last] time of the replayed records in this run
        self.findings: dict[str, dict[str, Any]] = {}  # "analytic|key" -> the finding raised (for replays)
        self._route: dict[type, list[Analytic]] = {}
        for a in self.analytics:
            for t in a.records:
                self._route.setdefault(t, []).append(a)
        if state:
            self.load(state)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.analytics]

    # records -----------------------------------------------------------------------
    def learn(self, rec: Any) -> None:
        """A baseline record."""
        if isinstance(rec, Connection) and self.ctx.internal(rec.src):
            self.ctx.seen(rec.src, rec.dst, learning=True)
        for a in self._route.get(type(rec), ()):
            a.learn(rec)

    def learn_many(self, records: Iterable[Any]) -> None:
        for rec in records:
            self.learn(rec)
        self.finish_learning()

    def finish_learning(self) -> None:
        for a in self.analytics:
            a.finish_learning()
        self.learnt = True

    def observe(self, rec: Any) -> None:
        """A monitored record (one already folded in by an earlier run is a replay, see above)."""
        t = type(rec)
        kind = _NAMES.get(t) or t.__name__
        ts = rec.ts
        until = self.until.get(kind)
        if until is not None and ts <= until:
            if self._replay:
                self._replay = [min(self._replay[0], ts), max(self._replay[1], ts)]
            else:
                self._replay = [ts, ts]
            return
        if ts > self._run_max.get(kind, -math.inf):
            self._run_max[kind] = ts
            if ts > self.now:
                self.now = ts
        if t is Connection and self.ctx.internal(rec.src):
            self.ctx.seen(rec.src, rec.dst, learning=False)
        for a in self._route.get(t, ()):
            a.observe(rec)

    def detect(self, covered: set[tuple[str, str | None]] = frozenset()) -> list[Finding]:
        """Findings over each analytic's horizon ending at the newest record seen.

        ``covered`` holds (entity, technique) pairs the per-window rules already raised in
        this run; findings for them are dropped (the rule's alert says it first).
        """
        out: list[Finding] = []
        if self._replay:
            lo, hi = self._replay
            for doc in self.findings.values():
                if doc["first_seen"] <= hi and doc["last_seen"] >= lo:
                    out.append(Finding(**doc))
            self._replay = []
        if self.now == float("-inf"):
            return out
        for a in self.analytics:
            for f in a.detect(self.now):
                if (f.entity, f.technique) in covered:
                    continue
                key = f"{a.name}|{f.key or f.entity}"
                last = self.raised.get(key)
                prev = self.findings.get(key)
                if last is not None and self.now - last < self.realert_s:
                    if prev is None:
                        continue
                    # still going on: the same alert (same first time, so the same id) grows
                    f.first_seen = prev["first_seen"]
                    f.count = max(f.count, prev["count"])
                else:
                    self.raised[key] = self.now
                self.findings[key] = asdict(f)
                out.append(f)
        cutoff = self.now - self.realert_s
        self.raised = {k: t for k, t in self.raised.items() if t >= cutoff}
        self.findings = {k: v for k, v in self.findings.items() if k in self.raised}
        for kind, t in self._run_max.items():
            self.until[kind] = max(t, self.until.get(kind, float("-inf")))
        self._run_max = {}
        return out

    # state ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"learnt": self.learnt, "now": self.now if self.now != float("-inf") else None,
                "raised": self.raised, "findings": self.findings, "until": self.until,
                "context": self.ctx.state(),
                "analytics": {a.name: a.state() for a in self.analytics}}

    def load(self, state: dict[str, Any]) -> None:
        """Restore a saved state; an analytic whose part is malformed starts afresh (reported in ``problems``)."""
        try:
            self.ctx.load(state.get("context", {}))
            self.raised = {str(k): float(v) for k, v in state.get("raised", {}).items()}
            self.findings = {str(k): dict(v) for k, v in state.get("findings", {}).items()}
            self.until = {str(k): float(v) for k, v in state.get("until", {}).items()}
            self.learnt = bool(state.get("learnt", False))
            self.now = float(state["now"]) if state.get("now") is not None else float("-inf")
        except (TypeError, ValueError, AttributeError) as exc:
            self.problems.append(f"context: {exc}")
            log.warning("analytics context state unusable, starting afresh: %s", exc)
        parts = state.get("analytics", {})
        for a in self.analytics:
            part = parts.get(a.name) if isinstance(parts, dict) else None
            if part is None:
                continue
            try:
                a.load(part)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                self.problems.append(f"{a.name}: {exc}")
                log.warning("analytics state of %s unusable, starting it afresh: %s", a.name, exc)
                fresh = type(a)(a.cfg, self.ctx, a.max_evidence)
                a.__dict__.update(fresh.__dict__)

    def save(self, path: str | Path) -> Path:
        """Write the state atomically (see :mod:`security.analytics.state`)."""
        return save_state(path, self.state())

    @classmethod
    def open(cls, path: str | Path, config: SecuritySettings) -> AnalyticsEngine:
        """An engine carrying on from ``path`` (fresh, with the reason in ``problems``, when it cannot)."""
        state, reason = load_state(path)
        engine = cls(config, state)
        if reason:
            engine.problems.append(reason)
        if not engine.learnt:
            log.info("no learnt analytics baseline in %s: run `iocwatch monitor learn` for per-host baselines", path)
        return engine
