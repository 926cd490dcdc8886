"""The index: a small :class:`~index.base.Store` contract with an embedded tantivy backend
(the default, no server) and an Elasticsearch backend, chosen by the ``store`` setting."""

from index.base import BulkResult, Hit, SearchResult, Store, open_store, register_store

__all__ = ["BulkResult", "Hit", "SearchResult", "Store", "open_store", "register_store"]
