"""One exception tree for iocwatch.

Every error says what went wrong, where (file:line, URL, document id) when that is
known, and what to do next. The CLI prints the message and exits non-zero; library
code raises and never prints.
"""

from __future__ import annotations


class IocwatchError(Exception):
    """Root of every error raised on purpose by iocwatch.

    Args:
        message: what went wrong, in one sentence.
        hint: what the operator should do next (printed after the message).
        where: a location such as ``sources.yaml:12``, a URL or a document id.
    """

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None):
        self.message = message
        self.hint = hint
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(IocwatchError):
    """Settings, source lists, watchlists or user files are missing or malformed."""


class MissingDependencyError(IocwatchError):
    """An optional library or system package a backend needs is not installed."""


class StoreError(IocwatchError):
    """The index (embedded tantivy or Elasticsearch) failed."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached right now; callers may spool and retry."""


class CorruptIndexError(StoreError):
    """The embedded index directory cannot be opened."""


class ValidationFailed(StoreError):
    """A document failed validation; carries its id and the offending field."""

    def __init__(self, doc_id: str | None, field: str, reason: str):
        self.doc_id = doc_id
        self.field = field
        self.reason = reason
        super().__init__(f"field {field!r}: {reason}", where=f"document {doc_id or '<no id>'}")


class QuerySyntaxError(StoreError):
    """A search query could not be parsed.

    Errors of the search-box language also carry ``code`` (what is wrong, e.g.
    ``unclosed_group``), ``position`` (0-based offset into the query) and ``params``
    (the values the message names), so a UI can point at the place and translate.
    """

    code: str | None = None
    position: int | None = None
    params: dict | None = None


class CrawlError(IocwatchError):
    """Collection failed (sources, spiders, extraction)."""


class NlpError(IocwatchError):
    """The Vietnamese NLP pipeline failed (models, stages, training data)."""


class SecurityMonitorError(IocwatchError):
    """The security monitor failed (captures, logs, detectors, rules)."""


class DashboardError(IocwatchError):
    """The dashboard failed (users, roles, login)."""


class OperationsError(IocwatchError):
    """The continuous service failed (scheduler, spool, notifications)."""
