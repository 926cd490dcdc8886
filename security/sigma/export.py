"""Sigma rules to Elasticsearch queries with pysigma-backend-elasticsearch, through the same ECS field mapping.

Targets: ``lucene`` (query strings; formats ``default``, ``kibana_ndjson``, ``dsl_lucene``,
``siem_rule``, ``siem_rule_ndjson``), ``esql`` (ES|QL, which also converts the
``event_count``/``value_count`` correlations) and ``eql``. A rule the backend cannot
convert is reported as a :class:`security.sigma.loader.Problem` naming its file; the
other rules are converted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import SecurityMonitorError
from security.sigma.loader import BUNDLED_DIR, Problem, _error_line, _message, _parse_file, rule_files
from security.sigma.pipeline import ecs_pipeline

log = logging.getLogger(__name__)

TARGETS = ("lucene", "esql", "eql")


@dataclass
class ExportResult:
    """The converted queries (one entry per rule) and the rules that could not be converted."""

    target: str
    format: str
    queries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "format": self.format, "queries": self.queries,
                "problems": [p.as_dict() for p in self.problems]}


def _backend(target: str):
    from sigma.backends.elasticsearch import EqlBackend, ESQLBackend, LuceneBackend

    classes = {"lucene": LuceneBackend, "esql": ESQLBackend, "eql": EqlBackend}
    if target not in classes:
        raise SecurityMonitorError(f"unknown export target {target!r}", hint=f"use one of {', '.join(TARGETS)}")
    return classes[target](processing_pipeline=ecs_pipeline())


def export(paths: Iterable[str | Path], *, bundled: bool = True, target: str = "lucene",
           fmt: str = "default") -> ExportResult:
    """Convert the rules of ``paths`` (and the bundled ones) to queries for ``target`` in format ``fmt``."""
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaError

    backend = _backend(target)
    if fmt not in backend.formats:
        raise SecurityMonitorError(f"the {target} export has no format {fmt!r}",
                                   hint=f"use one of {', '.join(backend.formats)}")
    result = ExportResult(target, fmt)
    files, result.problems = rule_files(([BUNDLED_DIR] if bundled else []) + [Path(p) for p in paths])
    parsed: list[Any] = []
    texts: dict[str, str] = {}
    for f in files:
        rules, texts[str(f)] = _parse_file(f, result.problems)
        parsed.extend(rules)
    coll = SigmaCollection(init_rules=parsed, resolve_references=False)
    for rule in parsed:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(coll)
            except SigmaError as exc:
                path = rule.custom_attributes["iocwatch_path"]
                result.problems.append(Problem(path, _message(exc), _error_line(exc, texts[path]), rule=rule.title))
                rule.custom_attributes["iocwatch_broken"] = True
    corr_ok = backend.correlation_methods is not None
    for rule in parsed:  # a backend without correlations (Lucene) exports their base rules on their own
        if isinstance(rule, SigmaCorrelationRule) and not corr_ok and not rule.custom_attributes.get("iocwatch_broken"):
            result.problems.append(Problem(rule.custom_attributes["iocwatch_path"],
                                           f"the {target} export has no correlation rules (use esql)",
                                           severity="skipped", rule=rule.title))
            for ref in rule.referenced_rules:
                ref.rule._output = True
    # base rules before the correlations that use them (the backend keeps their conversion state)
    for rule in sorted(parsed, key=lambda r: isinstance(r, SigmaCorrelationRule)):
        path = rule.custom_attributes["iocwatch_path"]
        is_corr = isinstance(rule, SigmaCorrelationRule)
        if rule.custom_attributes.get("iocwatch_broken") or (is_corr and not corr_ok):
            continue
        if is_corr and any(ref.rule.custom_attributes.get("iocwatch_broken") for ref in rule.referenced_rules):
            result.problems.append(Problem(path, f"not converted to {target}: a rule it uses was not converted",
                                           rule=rule.title))
            continue
        try:
            queries = backend.convert_correlation_rule(rule, fmt) if is_corr else backend.convert_rule(rule, fmt)
        except NotImplementedError as exc:  # a construct this backend lacks (e.g. keywords in ES|QL)
            result.problems.append(Problem(path, f"not converted to {target}: {exc}", rule=rule.title))
            rule.custom_attributes["iocwatch_broken"] = True
            continue
        except SigmaError as exc:
            result.problems.append(Problem(path, f"not converted to {target}: {_message(exc)}",
                                           _error_line(exc, texts[path]), rule=rule.title))
            continue
        if not getattr(rule, "_output", True):
            continue
        result.queries.append({"id": str(rule.id) if rule.id else None, "title": rule.title, "path": path,
                               "level": rule.level.name.lower() if rule.level else None,
                               "tags": [f"{t.namespace}.{t.name}" for t in rule.tags],
                               "queries": [q if isinstance(q, str | dict | list) else str(q) for q in queries]})
    return result
