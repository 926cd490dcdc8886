"""The ``Store`` contract every backend implements, and the registry that picks one by name.

Queries and aggregations are a subset of the Elasticsearch DSL, so the Elasticsearch
backend passes them through and the embedded backend translates them:

Queries
    ``match_all``; ``match`` (``{"text": "can tho"}`` or ``{"text": {"query": ..,
    "operator": "and"|"or"}}``); ``match_phrase``; ``multi_match`` (``query``,
    ``fields``, ``type`` ``best_fields``|``phrase``, ``operator``); ``term``; ``terms``;
    ``range`` (``gte``/``gt``/``lte``/``lt``; dates as ISO-8601 or ``now-24h``-style
    date math); ``exists``; ``ids``; ``bool`` (``must``, ``should``, ``must_not``,
    ``filter``, ``minimum_should_match``).

Full-text fields (``title``, ``text``) are diacritic-insensitive ("can tho" finds
"Cần Thơ", "da nang" finds "Đà Nẵng"); their ``.exact`` sub-fields (``text.exact``)
keep diacritics. Build user queries with :func:`index.querystring.parse_query`.

Aggregations
    ``terms`` (``field``, ``size``), ``date_histogram`` (``field``,
    ``calendar_interval`` or ``fixed_interval`` of minute/hour/day/week or ``Nm``/``Nh``/
    ``Nd``, ``time_zone`` as a fixed offset or IANA name, ``min_doc_count``), metric
    aggregations ``avg``, ``sum``, ``min``, ``max``, ``value_count``, and nested
    ``aggs`` under bucket aggregations. Results are ES-shaped: ``{"name": {"buckets":
    [{"key": .., "key_as_string": .., "doc_count": .., <sub-aggs>}]}}``.

Kinds
    ``posts`` (:class:`core.documents.Post`) and ``alerts`` (:class:`core.documents.Alert`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from core.errors import ConfigError
from core.settings import Settings

KINDS = ("posts", "alerts")


@dataclass
class BulkResult:
    """What a bulk upsert did: ids stored, and ``(id, reason)`` for every rejected document."""

    stored: list[str] = field(default_factory=list)
    rejected: list[tuple[str | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def merge(self, other: BulkResult) -> BulkResult:
        self.stored.extend(other.stored)
        self.rejected.extend(other.rejected)
        return self


@dataclass
class Hit:
    """One search hit: the stored document, its score, and highlighted fragments per field.

    Highlight fragments are HTML-escaped text with matches wrapped in ``<mark>…</mark>``.
    """

    id: str
    source: dict[str, Any]
    score: float | None = None
    highlight: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SearchResult:
    """A page of hits and the total number of matching documents."""

    total: int
    hits: list[Hit]


Doc = BaseModel | dict[str, Any]


class BulkLoad:
    """A bulk load through :meth:`Store.upsert_many`, one call per batch (for backends
    whose writes have no cost per call worth saving). ``result`` sums every batch."""

    def __init__(self, store: Store, kind: str):
        self.store = store
        self.kind = kind
        self.result = BulkResult()

    def add(self, docs: Iterable[Doc]) -> BulkResult:
        """Add a batch; returns what became of its documents."""
        part = self.store.upsert_many(self.kind, docs)
        self.result.merge(part)
        return part


@runtime_checkable
class Store(Protocol):
    """What the rest of iocwatch may ask of an index.

    Every method takes a ``kind`` (``"posts"`` or ``"alerts"``). Writes are visible
    to searches as soon as the call returns.
    """

    def upsert_many(self, kind: str, docs: Iterable[Doc], *, raise_on_error: bool = False) -> BulkResult:
        """Insert or replace documents by their deterministic ``id``.

        Each document is validated against the kind's model first; an invalid one is
        rejected with its id and the field named, and the rest are stored. With
        ``raise_on_error`` a rejection raises :class:`core.errors.ValidationFailed`
        instead (after nothing was written). Loading the same document twice leaves one.
        """
        ...

    def bulk(self, kind: str) -> AbstractContextManager[BulkLoad]:
        """A bulk load: ``with store.bulk("posts") as load: load.add(batch)``, batch after batch.

        Documents are validated, replaced by id and rejected as in :meth:`upsert_many`;
        what was added is durable and searchable once the block ends. The embedded store
        keeps its writers open and commits every ``COMMIT_EVERY`` documents and at the
        end, instead of once per batch (each commit writes new segments that are merged
        later); an exception inside the block discards what was not committed yet.
        """
        ...

    def search(self, kind: str, query: dict[str, Any] | None = None, *, size: int = 20,
               from_: int = 0, sort: list[Any] | None = None,
               highlight: list[str] | None = None) -> SearchResult:
        """Search with an ES-DSL query (``None`` = all). ``sort`` is a list of
        ``{"field": {"order": "asc"|"desc"}}`` or ``"field:desc"``; default is relevance.
        ``highlight`` names the full-text fields to make snippets for."""
        ...

    def aggregate(self, kind: str, query: dict[str, Any] | None, aggs: dict[str, Any]) -> dict[str, Any]:
        """Run ES-DSL aggregations over the documents matching ``query``."""
        ...

    def count(self, kind: str, query: dict[str, Any] | None = None) -> int:
        """How many documents match ``query``."""
        ...

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """The stored document with this id, or ``None``."""
        ...

    def update(self, kind: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change some fields of one document and return the new document.

        The merged document is validated again. For alerts, callers append a
        :class:`core.documents.HistoryEntry` to ``history`` themselves (see
        :func:`index.triage.triage`), so the history is never lost.
        Raises :class:`core.errors.StoreError` when the id does not exist.
        """
        ...

    def delete_all(self, kind: str) -> None:
        """Remove every document of a kind (tests and rebuilds)."""
        ...

    def close(self) -> None:
        """Release writers and connections."""
        ...


_BACKENDS: dict[str, Callable[[Settings], Store]] = {}


def register_store(name: str) -> Callable[[Callable[[Settings], Store]], Callable[[Settings], Store]]:
    """Register a backend factory under ``name`` (the value of the ``store`` setting)."""

    def deco(factory: Callable[[Settings], Store]) -> Callable[[Settings], Store]:
        _BACKENDS[name] = factory
        return factory

    return deco


def open_store(settings: Settings) -> Store:
    """Open the backend named by ``settings.store``."""
    # Backends register themselves on import; import here so heavy clients load lazily.
    if settings.store == "embedded":
        import index.embedded  # noqa: F401
    elif settings.store == "elasticsearch":
        import index.elastic  # noqa: F401
    try:
        factory = _BACKENDS[settings.store]
    except KeyError:
        raise ConfigError(f"unknown store {settings.store!r}",
                          hint=f"set IOCWATCH_STORE to one of {sorted(_BACKENDS)}") from None
    return factory(settings)


def as_doc(kind: str, doc: Doc) -> dict[str, Any]:
    """Validate ``doc`` as the kind's model and return its stored JSON form."""
    from core.documents import Alert, Post

    model = Post if kind == "posts" else Alert
    if isinstance(doc, BaseModel):
        return doc.to_doc()  # type: ignore[attr-defined]
    return model.from_doc(doc).to_doc()


def validate_batch(kind: str, docs: Iterable[Doc], *, raise_on_error: bool = False
                   ) -> tuple[list[dict[str, Any]], list[tuple[str | None, str]]]:
    """Validate every document of a batch: (stored forms of the valid ones, (id, reason) of the rest).

    With ``raise_on_error`` the first invalid document raises :class:`core.errors.ValidationFailed`.
    """
    from core.errors import ValidationFailed

    valid: list[dict[str, Any]] = []
    rejected: list[tuple[str | None, str]] = []
    for doc in docs:
        try:
            valid.append(as_doc(kind, doc))
        except ValidationFailed as exc:
            if raise_on_error:
                raise
            rejected.append((exc.doc_id, str(exc)))
    return valid, rejected
