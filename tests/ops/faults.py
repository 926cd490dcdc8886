"""Fault injection around a real store: a switch that makes it unreachable, as a stopped server is."""

from __future__ import annotations

from typing import Any

from core.errors import StoreUnavailableError


class SwitchableStore:
    """Wraps a real :class:`index.base.Store`; while ``down`` every call raises like a dead server.

    ``writes`` records the ids of each successful ``upsert_many`` call in arrival order.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.down = False
        self.writes: list[list[str]] = []
        self.refused = 0

    def _check(self) -> None:
        if self.down:
            self.refused += 1
            raise StoreUnavailableError("connection refused (store stopped by the test)")

    def upsert_many(self, kind, docs, *, raise_on_error=False):
        self._check()
        docs = list(docs)
        result = self.inner.upsert_many(kind, docs, raise_on_error=raise_on_error)
        self.writes.append([d["id"] if isinstance(d, dict) else d.id for d in docs])
        return result

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if callable(attr) and name != "close":
            def call(*a, **kw):
                self._check()
                return attr(*a, **kw)
            return call
        return attr
