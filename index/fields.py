"""Which fields of each kind are indexed, and how: one table both backends are built from.

Names are the stored (Elasticsearch) names, dotted for nested or ECS fields. Types:

``text``     full text, diacritic-insensitive; with an ``.exact`` sub-field that keeps diacritics
``keyword``  exact values (filters, terms aggregations); may hold lists
``date``     ISO-8601 in documents; epoch seconds in the embedded index
``long``     integers
``double``   floating point
"""

from __future__ import annotations

FieldTypes = dict[str, str]

POST_FIELDS: FieldTypes = {
    "id": "keyword",
    "url": "keyword",
    "source": "keyword",
    "platform": "keyword",
    "title": "text",
    "text": "text",
    "author.id": "keyword",
    "author.name": "keyword",
    "published_at": "date",
    "collected_at": "date",
    "language": "keyword",
    "topics": "keyword",
    "sentiment": "keyword",
    "sentiment_score": "double",
    "toxicity": "keyword",
    "toxicity_score": "double",
    "places": "keyword",
    "place_names": "text",  # every name of the places named, at every level (search: place:)
    "place_areas": "keyword",  # their former districts, "Ninh Kiều (Cần Thơ)" (a chart level)
    "keywords": "keyword",
    "engagement.likes": "long",
    "engagement.comments": "long",
    "engagement.shares": "long",
    "engagement.views": "long",
    "watchlists": "keyword",
    "tags": "keyword",
    "parent_id": "keyword",
    "duplicate_of": "keyword",
    "fingerprint": "keyword",
    "flags": "keyword",
}

ALERT_FIELDS: FieldTypes = {
    "id": "keyword",
    "@timestamp": "date",
    "module": "keyword",
    "event.kind": "keyword",
    "event.category": "keyword",
    "source.ip": "keyword",
    "destination.ip": "keyword",
    "destination.port": "long",
    "destination.domain": "keyword",
    "user.name": "keyword",
    "host.name": "keyword",
    "rule.name": "keyword",
    "threat.technique.id": "keyword",
    "threat.technique.name": "keyword",
    "rule.id": "keyword",  # a Sigma rule's id, "intel:<feed>" for intel matches
    "rule.ruleset": "keyword",  # sigma, intel, analytics; absent for built-in rules and anomalies
    "rule.level": "keyword",  # a Sigma rule's own level
    "tags": "keyword",  # a Sigma rule's tags (attack.t1110.001, ...)
    "threat.feed.name": "keyword",
    "threat.indicator.name": "keyword",
    "threat.indicator.type": "keyword",
    "threat.indicator.confidence": "long",
    "title": "text",
    "evidence": "text",
    "risk_score": "double",
    "severity": "keyword",
    "status": "keyword",
    "assignee": "keyword",
    "close_reason": "keyword",
    "first_seen": "date",
    "last_seen": "date",
    "count": "long",
    "entity": "keyword",
    "related_ids": "keyword",
}

FIELDS: dict[str, FieldTypes] = {"posts": POST_FIELDS, "alerts": ALERT_FIELDS}

# The fields a plain query searches when it names none.
DEFAULT_TEXT_FIELDS: dict[str, list[str]] = {"posts": ["title", "text"], "alerts": ["title", "evidence"]}
# The time field of each kind (range filters, histograms, retention).
TIME_FIELD: dict[str, str] = {"posts": "published_at", "alerts": "@timestamp"}


def field_type(kind: str, name: str) -> str | None:
    """Type of ``name`` in ``kind``; ``text.exact``-style sub-fields are ``exact``."""
    fields = FIELDS[kind]
    if name.endswith(".exact") and fields.get(name[: -len(".exact")]) == "text":
        return "exact"
    return fields.get(name)


def get_path(doc: dict, path: str):
    """Value at a dotted path in a stored document (flat dotted keys or nested dicts)."""
    if path in doc:
        return doc[path]
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur
