"""The Elasticsearch backend: the official client (8.x, matching the cluster in docker-compose).

Queries and aggregations pass through unchanged. Writes use ``helpers.streaming_bulk``
and report every document; monthly indices sit behind one alias per kind, and a
document that already exists stays in its index when it is updated, so loading it
again never duplicates it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from core.errors import MissingDependencyError, StoreError, StoreUnavailableError, ValidationFailed
from core.secrets import mask_secrets
from core.settings import Settings
from index.base import KINDS, BulkLoad, BulkResult, Doc, Hit, SearchResult, as_doc, register_store, validate_batch
from index.datemath import parse_date
from index.fields import TIME_FIELD
from index.mappings import template

log = logging.getLogger(__name__)


def _client(settings: Settings):
    try:
        from elasticsearch import Elasticsearch
    except ImportError:
        raise MissingDependencyError(
            "the elasticsearch client is not installed",
            hint="pip install 'elasticsearch>=8.15,<9', or set IOCWATCH_STORE=embedded") from None
    if not settings.es_url:
        raise StoreError("store=elasticsearch needs a cluster URL",
                         hint="set IOCWATCH_ES_URL (e.g. http://localhost:9200) or IOCWATCH_STORE=embedded")
    opts: dict[str, Any] = {"request_timeout": settings.index.es_timeout_s,
                            "verify_certs": settings.index.es_verify_certs}
    if settings.index.es_api_key:
        opts["api_key"] = settings.index.es_api_key.get_secret_value()
    elif settings.index.es_username:
        password = settings.index.es_password.get_secret_value() if settings.index.es_password else ""
        opts["basic_auth"] = (settings.index.es_username, password)
    if settings.index.es_ca_certs:
        opts["ca_certs"] = settings.index.es_ca_certs
    return Elasticsearch(settings.es_url, **opts)


class ElasticStore:
    """:class:`index.base.Store` on an Elasticsearch 8.x cluster."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.prefix = settings.index.prefix
        self.client = _client(settings)
        self._ready: set[str] = set()

    def alias(self, kind: str) -> str:
        if kind not in KINDS:
            raise StoreError(f"unknown kind {kind!r}", hint=f"use one of {KINDS}")
        return f"{self.prefix}-{kind}"

    def _call(self, fn, *args, **kwargs):
        """Run a client call, turning transport failures into StoreUnavailableError."""
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout
        from elasticsearch import ApiError

        try:
            return fn(*args, **kwargs)
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise StoreUnavailableError(mask_secrets(f"Elasticsearch at {self.settings.es_url} is unreachable: {exc}"),
                                        hint="check the cluster; collected documents are kept and retried") from None
        except ApiError as exc:
            status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", None)
            if status in (429, 502, 503, 504):
                raise StoreUnavailableError(f"Elasticsearch is overloaded or starting ({status})",
                                            hint="it will be retried") from None
            raise StoreError(mask_secrets(f"Elasticsearch refused the request: {exc}")) from None

    # -- set-up -----------------------------------------------------------------
    def init(self) -> list[str]:
        """Create index templates (and the first index of each kind so the aliases exist)."""
        plugins = self._call(self.client.cat.plugins, format="json") or []
        icu = any(p.get("component") == "analysis-icu" for p in plugins)
        created = []
        for kind in KINDS:
            body = template(self.prefix, kind, icu=icu, shards=self.settings.index.es_shards,
                            replicas=self.settings.index.es_replicas)
            self._call(self.client.indices.put_index_template, name=f"{self.prefix}-{kind}", **body)
            first = self._index_name(kind, datetime.now(UTC))
            if not self._call(self.client.indices.exists, index=first):
                self._call(self.client.options(ignore_status=400).indices.create, index=first)
            created.append(self.alias(kind))
            self._ready.add(kind)
        log.info("Elasticsearch templates ready (%s folding)", "icu" if icu else "ascii")
        return created

    def _ensure(self, kind: str) -> None:
        if kind not in self._ready:
            if not self._call(self.client.indices.exists_index_template, name=f"{self.prefix}-{kind}"):
                self.init()
            self._ready.add(kind)

    def _index_name(self, kind: str, moment: datetime) -> str:
        return f"{self.prefix}-{kind}-{moment:%Y.%m}"

    # -- writes -----------------------------------------------------------------
    def _existing(self, kind: str, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        resp = self._call(self.client.search, index=self.alias(kind), query={"ids": {"values": ids}},
                          size=len(ids), source=False, ignore_unavailable=True)
        return {h["_id"]: h["_index"] for h in resp["hits"]["hits"]}

    @contextmanager
    def bulk(self, kind: str) -> Iterator[BulkLoad]:
        """Batches go to ``streaming_bulk`` as they come (each refreshes the index once)."""
        yield BulkLoad(self, kind)

    def upsert_many(self, kind: str, docs: Iterable[Doc], *, raise_on_error: bool = False) -> BulkResult:
        from elasticsearch import helpers

        self._ensure(kind)
        valid, rejected = validate_batch(kind, docs, raise_on_error=raise_on_error)
        result = BulkResult(rejected=rejected)
        chunk = max(1, self.settings.index.bulk_chunk)
        for start in range(0, len(valid), chunk):
            batch = valid[start:start + chunk]
            where = self._existing(kind, [d["id"] for d in batch])

            def actions(batch=batch, where=where) -> Iterator[dict[str, Any]]:
                for doc in batch:
                    moment = doc.get(TIME_FIELD[kind]) or doc.get("collected_at") or datetime.now(UTC)
                    index = where.get(doc["id"]) or self._index_name(kind, parse_date(moment))
                    yield {"_op_type": "index", "_index": index, "_id": doc["id"], "_source": doc}

            stream = helpers.streaming_bulk(self.client, actions(), chunk_size=chunk, max_retries=3,
                                            raise_on_error=False, raise_on_exception=False, yield_ok=True)
            for ok, item in self._call(lambda s=stream: list(s)):
                info = next(iter(item.values()))
                if ok:
                    result.stored.append(info["_id"])
                else:
                    result.rejected.append((info.get("_id"), str(info.get("error") or info.get("status"))))
        if result.stored:
            self._call(self.client.indices.refresh, index=self.alias(kind))
        if raise_on_error and result.rejected:
            doc_id, reason = result.rejected[0]
            raise ValidationFailed(doc_id, "<document>", reason)
        return result

    def update(self, kind: str, doc_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._ensure(kind)
        resp = self._call(self.client.search, index=self.alias(kind), query={"ids": {"values": [doc_id]}}, size=1)
        hits = resp["hits"]["hits"]
        if not hits:
            raise StoreError(f"no {kind[:-1]} with id {doc_id}", hint="check the id with `iocwatch search`")
        merged = as_doc(kind, {**hits[0]["_source"], **fields})
        self._call(self.client.index, index=hits[0]["_index"], id=doc_id, document=merged, refresh="wait_for")
        return merged

    def delete_all(self, kind: str) -> None:
        self._ensure(kind)
        self._call(self.client.delete_by_query, index=self.alias(kind), query={"match_all": {}},
                   refresh=True, conflicts="proceed")

    # -- reads ------------------------------------------------------------------
    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        self._ensure(kind)
        resp = self._call(self.client.search, index=self.alias(kind), query={"ids": {"values": [doc_id]}}, size=1)
        hits = resp["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    def count(self, kind: str, query: dict[str, Any] | None = None) -> int:
        self._ensure(kind)
        return int(self._call(self.client.count, index=self.alias(kind), query=query or {"match_all": {}})["count"])

    def search(self, kind: str, query: dict[str, Any] | None = None, *, size: int = 20, from_: int = 0,
               sort: list[Any] | None = None, highlight: list[str] | None = None) -> SearchResult:
        self._ensure(kind)
        body: dict[str, Any] = {"query": query or {"match_all": {}}, "size": size, "from_": from_,
                                "track_total_hits": True}
        if sort:
            body["sort"] = [
                {s.partition(":")[0]: {"order": s.partition(":")[2] or "asc"}} if isinstance(s, str) else s
                for s in sort]
        if highlight:
            body["highlight"] = {"fields": {f: {"number_of_fragments": 2, "fragment_size": 200} for f in highlight},
                                 "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
                                "require_field_match": False}
        resp = self._call(self.client.search, index=self.alias(kind), **body)
        hits = [Hit(id=h["_id"], source=h["_source"], score=h.get("_score"),
                    highlight={k: v for k, v in (h.get("highlight") or {}).items()})
                for h in resp["hits"]["hits"]]
        return SearchResult(total=int(resp["hits"]["total"]["value"]), hits=hits)

    def aggregate(self, kind: str, query: dict[str, Any] | None, aggs: dict[str, Any]) -> dict[str, Any]:
        self._ensure(kind)
        resp = self._call(self.client.search, index=self.alias(kind), query=query or {"match_all": {}},
                          aggs=aggs, size=0)
        return dict(resp.get("aggregations") or {})

    def close(self) -> None:
        self.client.close()


@register_store("elasticsearch")
def _factory(settings: Settings) -> ElasticStore:
    return ElasticStore(settings)
