"""Elasticsearch index templates built from :mod:`index.fields`.

Full-text fields get a folding analyser (a char filter maps đ/Đ to d/D, then
``asciifolding`` — or ``icu_folding`` when the analysis-icu plugin is installed) and an
``exact`` sub-field that only lower-cases. Indices are monthly (``<prefix>-posts-2026.11``)
behind one alias per kind (``<prefix>-posts``) that every read goes through.
"""

from __future__ import annotations

from typing import Any

from index.fields import FIELDS


def analysis(icu: bool) -> dict[str, Any]:
    folding = "icu_folding" if icu else "asciifolding"
    return {
        "char_filter": {"vi_dd": {"type": "mapping", "mappings": ["đ => d", "Đ => D"]}},
        "analyzer": {
            "vi_folded": {"type": "custom", "tokenizer": "standard", "char_filter": ["vi_dd"],
                          "filter": ["lowercase", folding]},
            "vi_exact": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
        },
    }


def _properties(kind: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, ftype in FIELDS[kind].items():
        if ftype == "text":
            spec: dict[str, Any] = {"type": "text", "analyzer": "vi_folded",
                                    "fields": {"exact": {"type": "text", "analyzer": "vi_exact"}}}
        elif ftype == "keyword":
            spec = {"type": "keyword", "ignore_above": 1024}
        else:
            spec = {"type": ftype}
        # dotted names become object paths
        parts = name.split(".")
        node = props
        for part in parts[:-1]:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[parts[-1]] = spec
    return props


def template(prefix: str, kind: str, *, icu: bool, shards: int, replicas: int) -> dict[str, Any]:
    """The body of ``indices.put_index_template`` for one kind."""
    return {
        "index_patterns": [f"{prefix}-{kind}-*"],
        "priority": 200,
        "template": {
            "settings": {"number_of_shards": shards, "number_of_replicas": replicas,
                         "analysis": analysis(icu)},
            # Fields not in the table stay in _source without being indexed.
            "mappings": {"dynamic": False, "properties": _properties(kind)},
            "aliases": {f"{prefix}-{kind}": {}},
        },
    }
