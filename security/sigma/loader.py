"""Load and validate Sigma rule files: every problem names the file (and line), and never stops the other files.

:func:`load` reads ``*.yml``/``*.yaml`` files and folders, parses them with pySigma,
applies the product's field mapping (:func:`security.sigma.pipeline.ecs_pipeline`) and
compiles each rule's condition (:mod:`security.sigma.compile`). The result is a
:class:`RuleSet` of the rules that will be evaluated, the correlation rules
(``event_count``, ``value_count``) built on them, and :class:`Problem` entries:
``error`` for a file or rule that cannot be used (bad YAML, unknown modifier or field,
unsupported feature), ``skipped`` for a valid rule whose log source the product does not
parse (e.g. Windows process creation).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from security.sigma.compile import Predicate, Unsupported, fields_of, predicate
from security.sigma.events import FIELDS
from security.sigma.pipeline import MAPPINGS, SERVICE_PROGRAMS, ecs_pipeline, kind_of

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).with_name("rules")
SUFFIXES = (".yml", ".yaml")
MAX_RULE_FILE = 2 << 20  # a rule file larger than 2 MiB is refused (a mistake, not a rule)
CORRELATION_TYPES = ("event_count", "value_count")


@dataclass
class Problem:
    """Why a file or a rule is not evaluated."""

    path: str
    message: str
    line: int | None = None
    severity: str = "error"  # "error" (cannot be used) | "skipped" (valid, log source not parsed)
    rule: str | None = None  # the rule's title or id when known

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f" rule {self.rule!r}:" if self.rule else ""
        return f"{where}:{what} {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "severity": self.severity, "rule": self.rule,
                "message": self.message}


@dataclass
class CompiledRule:
    """One Sigma detection rule ready to run on events of one kind."""

    rule: Any  # sigma.rule.SigmaRule (field names mapped)
    path: str
    kind: str
    match: Predicate
    programs: tuple[str, ...] = ()  # syslog programs the logsource service narrows to; () = all
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    id: str = ""  # the rule's id (its title when it has none)

    def __post_init__(self) -> None:
        self.id = str(self.rule.id) if self.rule.id else self.title

    @property
    def title(self) -> str:
        return self.rule.title

    @property
    def output(self) -> bool:
        """False when a correlation uses the rule without ``generate: true``: it alerts only through it."""
        return bool(getattr(self.rule, "_output", True))


@dataclass
class CompiledCorrelation:
    """An ``event_count`` or ``value_count`` correlation over compiled rules."""

    rule: Any  # sigma.correlations.SigmaCorrelationRule
    path: str
    type: str
    group_by: list[str]
    timespan_s: int
    op: str  # gte | gt | lte | lt | eq | neq
    count: int
    value_field: str | None = None  # value_count: the field whose distinct values are counted
    base: list[CompiledRule] = field(default_factory=list)
    id: str = ""  # the rule's id (its title when it has none)

    def __post_init__(self) -> None:
        self.id = str(self.rule.id) if self.rule.id else self.title

    @property
    def title(self) -> str:
        return self.rule.title

    def holds(self, n: int) -> bool:
        return {"gte": n >= self.count, "gt": n > self.count, "lte": n <= self.count, "lt": n < self.count,
                "eq": n == self.count, "neq": n != self.count}[self.op]


@dataclass
class RuleSet:
    """What :func:`load` found: rules by event kind, correlations, and the problems met."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    def by_kind(self) -> dict[str, list[CompiledRule]]:
        out: dict[str, list[CompiledRule]] = {}
        for r in self.rules:
            out.setdefault(r.kind, []).append(r)
        return out

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def summary(self) -> dict[str, Any]:
        return {"files": self.files, "rules": len(self.rules), "correlations": len(self.correlations),
                "errors": len(self.errors), "skipped": sum(p.severity == "skipped" for p in self.problems),
                "problems": [p.as_dict() for p in self.problems]}


def rule_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The rule files under ``paths`` (files as given, folders searched recursively), sorted."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(str(p), "no such file or folder"))
    return files, problems


def _line_of(text: str, token: str | None) -> int | None:
    """The first line of ``text`` holding ``token`` (1-based), for messages that lack one."""
    if not token:
        return None
    for i, line in enumerate(text.splitlines(), 1):
        if token in line:
            return i
    return None


def _error_line(exc: Exception, text: str) -> int | None:
    source = getattr(exc, "source", None)
    if source is not None and getattr(source, "line", None):
        return int(source.line)
    for token in re.findall(r"'([^']{1,200})'", str(exc)):
        line = _line_of(text, token)
        if line:
            return line
    return None


def _message(exc: Exception) -> str:
    """pySigma's message without its own ``in <absolute path>`` suffix (we name the file ourselves)."""
    text = exc.args[0] if getattr(exc, "args", None) else str(exc)
    return str(text)


def _parse_file(path: Path, problems: list[Problem]) -> tuple[list[Any], str]:
    """The pySigma rules of one file (errors of the file or of single rules go to ``problems``)."""
    import yaml
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError, SigmaRuleLocation

    where = str(path)
    try:
        if path.stat().st_size > MAX_RULE_FILE:
            problems.append(Problem(where, f"file larger than {MAX_RULE_FILE >> 20} MiB, not a rule file"))
            return [], ""
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(where, f"cannot read the file: {exc}"))
        return [], ""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(where, f"bad YAML: {reason}", line))
        return [], text
    if not docs:
        problems.append(Problem(where, "empty file: no rule in it"))
        return [], text
    bad = [i for i, d in enumerate(docs, 1) if not isinstance(d, dict)]
    if bad:
        problems.append(Problem(where, f"YAML document {bad[0]} is not a mapping (a Sigma rule is one)"))
        docs = [d for d in docs if isinstance(d, dict)]
    try:
        coll = SigmaCollection.from_dicts(docs, collect_errors=True, source=SigmaRuleLocation(path),
                                          resolve_references=False)
    except SigmaError as exc:  # an error of the collection as a whole (e.g. an unknown action)
        problems.append(Problem(where, _message(exc), _error_line(exc, text)))
        return [], text
    out = []
    for rule in coll.rules:
        if rule.errors:
            exc = rule.errors[0]
            more = f" (and {len(rule.errors) - 1} more)" if len(rule.errors) > 1 else ""
            problems.append(Problem(where, _message(exc) + more, _error_line(exc, text), rule=rule.title or None))
            continue
        rule.custom_attributes["iocwatch_path"] = where
        out.append(rule)
    for exc in coll.errors:
        if not any(exc is e for r in coll.rules for e in r.errors):
            problems.append(Problem(where, _message(exc), _error_line(exc, text)))
    return out, text


def _detection_fields(detection: Any) -> set[str]:
    out: set[str] = set()
    for item in detection.detection_items:
        if hasattr(item, "detection_items"):
            out |= _detection_fields(item)
        elif item.field is not None:
            out.add(item.field)
    return out


def _compile_rule(rule: Any, path: str, text: str, pipeline: Any, problems: list[Problem]) -> CompiledRule | None:
    from sigma.exceptions import SigmaError

    name = rule.title or str(rule.id)
    kind = kind_of(rule.logsource)
    if kind is None:
        ls = rule.logsource
        desc = "/".join(str(x) for x in (ls.category, ls.product, ls.service) if x) or "none"
        problems.append(Problem(path, f"log source {desc} is not one the product parses "
                                      "(linux auth, webserver, dns, zeek conn/dns): not evaluated",
                                _line_of(text, "logsource:"), "skipped", name))
        return None
    original = {f for d in rule.detection.detections.values() for f in _detection_fields(d)}
    unknown = sorted(f for f in original if MAPPINGS[kind].get(f, f) not in FIELDS[kind])
    if unknown:
        problems.append(Problem(
            path, f"unknown field {unknown[0]!r} for {kind} events"
                  + (f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else "")
                  + f"; the product's {kind} fields are {', '.join(sorted(FIELDS[kind]))} "
                    "or their Sigma names (see docs/security.md)",
            _line_of(text, unknown[0]), rule=name))
        return None
    try:
        pipeline.apply(rule)
        tree = rule.detection.parsed_condition[0].parsed
        if len(rule.detection.parsed_condition) > 1:
            raise Unsupported("several conditions in one rule")
        used = fields_of(tree)
        still = sorted(f for f in used if f not in FIELDS[kind])
        if still:
            raise Unsupported(f"field reference to unknown field {still[0]!r}")
        match = predicate(tree)
    except Unsupported as exc:
        problems.append(Problem(path, f"unsupported feature: {exc}", _line_of(text, "condition:"), rule=name))
        return None
    except SigmaError as exc:
        problems.append(Problem(path, _message(exc), _error_line(exc, text), rule=name))
        return None
    programs = SERVICE_PROGRAMS.get(rule.logsource.service or "", ()) if kind == "linux" else ()
    return CompiledRule(rule, path, kind, match, programs)


def _compile_correlation(corr: Any, path: str, text: str, compiled: dict[int, CompiledRule],
                         pipeline: Any, problems: list[Problem]) -> CompiledCorrelation | None:
    from sigma.exceptions import SigmaError

    name = corr.title or str(corr.id)
    ctype = str(corr.type.name).lower()
    if ctype not in CORRELATION_TYPES:
        problems.append(Problem(path, f"unsupported feature: correlation type {ctype} "
                                      f"(the embedded evaluator has {', '.join(CORRELATION_TYPES)})",
                                _line_of(text, "type:"), rule=name))
        return None
    base: list[CompiledRule] = []
    for ref in corr.referenced_rules:
        target = getattr(ref, "rule", None)
        hit = compiled.get(id(target)) if target is not None else None
        if hit is None:
            problems.append(Problem(path, f"correlation references rule {ref.reference!r}, which is not loaded "
                                          "(missing, refused or of a log source the product does not parse)",
                                    _line_of(text, ref.reference), rule=name))
            return None
        base.append(hit)
    kinds = {b.kind for b in base}
    try:
        pipeline.apply(corr)
    except SigmaError as exc:
        problems.append(Problem(path, _message(exc), _error_line(exc, text), rule=name))
        return None
    kind = next(iter(kinds))
    mapping = MAPPINGS[kind]
    group_by = [mapping.get(f, f) for f in (corr.group_by or [])]
    value_field = None
    if ctype == "value_count":
        ref = corr.condition.fieldref
        ref = ref[0] if isinstance(ref, list) and ref else ref
        if not ref:
            problems.append(Problem(path, "value_count needs condition.field", _line_of(text, "condition:"),
                                    rule=name))
            return None
        value_field = mapping.get(ref, ref)
    unknown = [f for f in [*group_by, *([value_field] if value_field else [])]
               if not all(f in FIELDS[b.kind] for b in base)]
    if unknown:
        problems.append(Problem(path, f"unknown field {unknown[0]!r} in group-by or condition for "
                                      f"{'/'.join(sorted(kinds))} events", _line_of(text, unknown[0].split('.')[-1]),
                                rule=name))
        return None
    op = corr.condition.op.name.lower()
    return CompiledCorrelation(corr, path, ctype, group_by, int(corr.timespan.seconds), op,
                               int(corr.condition.count), value_field, base)


def load(paths: Iterable[str | Path], *, bundled: bool = True) -> RuleSet:
    """Load, map and compile the Sigma rules of ``paths`` (plus the bundled rules when ``bundled``)."""
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    all_paths = ([BUNDLED_DIR] if bundled else []) + [Path(p) for p in paths]
    files, problems = rule_files(all_paths)
    out = RuleSet(problems=problems, files=len(files))
    texts: dict[str, str] = {}
    parsed: list[Any] = []
    seen_ids: dict[str, str] = {}
    for f in files:
        rules, text = _parse_file(f, out.problems)
        texts[str(f)] = text
        for r in rules:
            rid = str(r.id) if r.id else None
            if rid and rid in seen_ids:
                out.problems.append(Problem(str(f), f"rule id {rid} is already used by {seen_ids[rid]}: ignored",
                                            _line_of(text, rid), rule=r.title))
                continue
            if rid:
                seen_ids[rid] = str(f)
            parsed.append(r)
    from sigma.collection import SigmaCollection

    coll = SigmaCollection(init_rules=parsed, resolve_references=False)
    correlations = [r for r in parsed if isinstance(r, SigmaCorrelationRule)]
    usable_corr = []
    for corr in correlations:
        try:
            corr.resolve_rule_references(coll)
            usable_corr.append(corr)
        except SigmaError as exc:
            path = corr.custom_attributes.get("iocwatch_path", "?")
            out.problems.append(Problem(path, _message(exc), _error_line(exc, texts.get(path, "")),
                                        rule=corr.title))
    pipeline = ecs_pipeline()
    compiled: dict[int, CompiledRule] = {}
    for r in parsed:
        if isinstance(r, SigmaRule):
            path = r.custom_attributes["iocwatch_path"]
            c = _compile_rule(r, path, texts.get(path, ""), pipeline, out.problems)
            if c is not None:
                compiled[id(r)] = c
                out.rules.append(c)
    for corr in usable_corr:
        path = corr.custom_attributes["iocwatch_path"]
        c = _compile_correlation(corr, path, texts.get(path, ""), compiled, pipeline, out.problems)
        if c is not None:
            out.correlations.append(c)
            for b in c.base:
                b.correlations.append(c)
    for r in out.rules:
        if not r.output and not r.correlations:  # generate: false, and every correlation on it was refused
            out.problems.append(Problem(r.path, "alerts only through correlation rules, none of which could be "
                                                "loaded: not alerting", _line_of(texts.get(r.path, ""), "title:"),
                                        "skipped", r.title))
    for p in out.problems:
        (log.warning if p.severity == "error" else log.info)("sigma: %s", p)
    return out


_CACHE: dict[tuple, RuleSet] = {}


def load_cached(paths: Iterable[str | Path], *, bundled: bool = True) -> RuleSet:
    """:func:`load`, reused while no rule file was added, removed or changed (the follow loop's batches)."""
    all_paths = ([BUNDLED_DIR] if bundled else []) + [Path(p) for p in paths]
    files, _ = rule_files(all_paths)
    stamp = []
    for f in files:
        try:
            st = f.stat()
            stamp.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((str(f), None, None))
    key = (tuple(str(p) for p in all_paths), tuple(stamp))
    hit = _CACHE.get(key)
    if hit is None:
        _CACHE.clear()
        hit = _CACHE[key] = load(paths, bundled=bundled)
    return hit
