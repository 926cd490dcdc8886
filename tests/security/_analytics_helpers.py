"""Shared helpers for the analytics tests: an engine over crafted records."""

from __future__ import annotations

import random

from core.settings import SecuritySettings
from security.analytics.engine import AnalyticsEngine
from security.records import Connection

T0 = 1_764_000_000.0  # 2025-11-24 16:00 UTC (23:00 in Vietnam)
DAY = T0 + 10 * 3600  # 02:00 UTC, 09:00 local


def engine(baseline=(), **overrides) -> AnalyticsEngine:
    eng = AnalyticsEngine(SecuritySettings(**overrides))
    eng.learn_many(baseline)
    return eng


def run(eng: AnalyticsEngine, records) -> list:
    for r in sorted(records, key=lambda r: r.ts):
        eng.observe(r)
    return eng.detect()


def conn(ts, src, dst, dport, *, out_b=400, in_b=800, state="SF", duration=0.5, sport=None, rng=None):
    sport = sport or (rng or random).randint(32768, 60999)
    return Connection(ts, src, dst, sport, dport, "tcp", duration, out_b, in_b, 3, 3, state)
