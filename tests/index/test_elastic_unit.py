"""Elasticsearch backend pieces that need no cluster: mappings, and a refused connection."""

from __future__ import annotations

import socket

import pytest

from core.errors import StoreError, StoreUnavailableError
from index import open_store
from index.mappings import template


def test_elastic_template_folds_d_stroke_and_keeps_an_exact_subfield():
    body = template("iocwatch", "posts", icu=False, shards=1, replicas=0)
    settings = body["template"]["settings"]
    assert "đ => d" in settings["analysis"]["char_filter"]["vi_dd"]["mappings"]
    assert settings["analysis"]["analyzer"]["vi_folded"]["filter"] == ["lowercase", "asciifolding"]
    props = body["template"]["mappings"]["properties"]
    assert props["text"]["analyzer"] == "vi_folded"
    assert props["text"]["fields"]["exact"]["analyzer"] == "vi_exact"
    assert props["author"]["properties"]["id"]["type"] == "keyword"
    assert props["published_at"]["type"] == "date"
    assert body["index_patterns"] == ["iocwatch-posts-*"]
    assert body["template"]["aliases"] == {"iocwatch-posts": {}}
    alerts = template("iocwatch", "alerts", icu=True, shards=2, replicas=1)["template"]
    assert alerts["mappings"]["properties"]["source"]["properties"]["ip"]["type"] == "keyword"
    assert alerts["settings"]["analysis"]["analyzer"]["vi_folded"]["filter"][-1] == "icu_folding"


def test_elastic_unreachable_cluster_raises_store_unavailable(settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = open_store(settings.model_copy(update={"store": "elasticsearch", "es_url": f"http://127.0.0.1:{port}"}))
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        store.count("posts")


def test_elastic_needs_a_url(settings):
    with pytest.raises(StoreError, match="IOCWATCH_ES_URL"):
        open_store(settings.model_copy(update={"store": "elasticsearch", "es_url": None}))
