"""A Sigma rule's condition tree (after the field mapping) turned into a Python predicate over one event.

pySigma parses the rule and applies the modifiers; what is left is a tree of AND/OR/NOT
over ``field = value`` and unbound keyword leaves, whose values are pySigma types. Each
leaf becomes a closure: plain strings compare case-insensitively (``*x*``, ``x*``, ``*x``
as ``in``/``startswith``/``endswith``, other wildcards as a regular expression), ``|cased``
strings compare as written, ``|re`` searches, ``|cidr`` tests membership, numbers compare
as numbers or their text, ``|exists``, ``|lt``..``|gte``, ``|fieldref`` and ``null`` work
on the field. Anything else raises :class:`Unsupported` naming the feature.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
ValueTest = Callable[[Any], bool]
KEYWORD_FIELD = "message"  # unbound keywords are searched in the raw line / log message


class Unsupported(Exception):
    """A rule uses a feature the embedded evaluator does not have (the message names it)."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _string_test(value: Any, *, cased: bool, unanchored: bool = False) -> ValueTest:
    from sigma.types import Placeholder, SpecialChars

    parts = list(value.s)
    if any(isinstance(p, Placeholder) for p in parts):
        raise Unsupported("placeholders (%name%) need a pipeline that fills them")
    if unanchored:
        if not parts or parts[0] != SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] != SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    fold = (lambda s: s) if cased else str.casefold
    star = SpecialChars.WILDCARD_MULTI
    plain = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    if not specials:
        want = fold("".join(plain))
        return lambda v: fold(_text(v)) == want
    if all(s == star for s in specials) and len(plain) == 1:
        needle = fold(plain[0])
        if len(parts) == 3 and parts[0] == star and parts[2] == star:
            return lambda v: needle in fold(_text(v))
        if len(parts) == 2 and parts[1] == star:
            return lambda v: fold(_text(v)).startswith(needle)
        if len(parts) == 2 and parts[0] == star:
            return lambda v: fold(_text(v)).endswith(needle)
    if all(s == star for s in specials) and not plain:
        return lambda v: True
    pattern = "".join(re.escape(p) if isinstance(p, str) else (".*" if p == star else ".") for p in parts)
    rx = re.compile(pattern, re.DOTALL | (0 if cased else re.IGNORECASE))
    return lambda v: rx.fullmatch(_text(v)) is not None


@lru_cache(maxsize=65536)
def _ip(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def value_test(value: Any, *, keyword: bool = False) -> ValueTest:
    """A test of one event value against one pySigma value (raises :class:`Unsupported`)."""
    from sigma.types import (
        CompareOperators,
        SigmaBool,
        SigmaCasedString,
        SigmaCIDRExpression,
        SigmaCompareExpression,
        SigmaExpansion,
        SigmaNumber,
        SigmaRegularExpression,
        SigmaRegularExpressionFlag,
        SigmaString,
    )

    if isinstance(value, SigmaExpansion):
        tests = [value_test(v, keyword=keyword) for v in value.values]
        return lambda v: any(t(v) for t in tests)
    if isinstance(value, SigmaCasedString):
        return _string_test(value, cased=True, unanchored=keyword)
    if isinstance(value, SigmaString):
        return _string_test(value, cased=False, unanchored=keyword)
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        for flag, py in ((SigmaRegularExpressionFlag.IGNORECASE, re.IGNORECASE),
                         (SigmaRegularExpressionFlag.MULTILINE, re.MULTILINE),
                         (SigmaRegularExpressionFlag.DOTALL, re.DOTALL)):
            if flag in value.flags:
                flags |= py
        rx = re.compile(str(value.regexp), flags)
        return lambda v: rx.search(_text(v)) is not None
    if keyword:
        raise Unsupported(f"keyword values of type {type(value).__name__}")
    if isinstance(value, SigmaBool):
        want_b = bool(value.boolean)
        return lambda v: v is want_b or _text(v).lower() == str(want_b).lower()
    if isinstance(value, SigmaNumber):
        num = float(value.number)
        text = str(value.number)
        return lambda v: _number(v) == num if not isinstance(v, str) else (v == text or _number(v) == num)
    if isinstance(value, SigmaCIDRExpression):
        net = value.network
        return lambda v: (ip := _ip(_text(v))) is not None and ip.version == net.version and ip in net
    if isinstance(value, SigmaCompareExpression):
        bound = float(value.number.number)
        op = {CompareOperators.LT: float.__lt__, CompareOperators.LTE: float.__le__,
              CompareOperators.GT: float.__gt__, CompareOperators.GTE: float.__ge__,
              CompareOperators.NEQ: float.__ne__}[value.op]
        return lambda v: (n := _number(v)) is not None and op(n, bound)
    raise Unsupported(f"values of type {type(value).__name__}")


def _field_predicate(field: str, value: Any) -> Predicate:
    from sigma.types import SigmaExists, SigmaFieldReference, SigmaNull

    if isinstance(value, SigmaNull):
        return lambda ev: ev.get(field) in (None, "")
    if isinstance(value, SigmaExists):
        want = bool(value.exists)
        return lambda ev: (ev.get(field) not in (None, "")) == want
    if isinstance(value, SigmaFieldReference):
        other = value.field
        if value.starts_with:
            return lambda ev: (a := ev.get(field)) is not None and (b := ev.get(other)) is not None \
                and _text(a).casefold().startswith(_text(b).casefold())
        if value.ends_with:
            return lambda ev: (a := ev.get(field)) is not None and (b := ev.get(other)) is not None \
                and _text(a).casefold().endswith(_text(b).casefold())
        return lambda ev: (a := ev.get(field)) is not None and _text(a).casefold() == _text(ev.get(other)).casefold()
    test = value_test(value)
    return lambda ev: (v := ev.get(field)) is not None and test(v)


def fields_of(node: Any) -> set[str]:
    """Every field a condition tree reads (``fieldref`` targets included)."""
    from sigma.conditions import ConditionFieldEqualsValueExpression
    from sigma.types import SigmaFieldReference

    out: set[str] = set()
    if isinstance(node, ConditionFieldEqualsValueExpression):
        out.add(node.field)
        if isinstance(node.value, SigmaFieldReference):
            out.add(node.value.field)
    for arg in getattr(node, "args", None) or []:
        out |= fields_of(arg)
    return out


def predicate(node: Any) -> Predicate:
    """The predicate of a (postprocessed) pySigma condition tree."""
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
        ConditionValueExpression,
    )

    if node is None:
        raise Unsupported("an empty condition")
    if isinstance(node, ConditionAND):
        preds = [predicate(a) for a in node.args]
        return lambda ev: all(p(ev) for p in preds)
    if isinstance(node, ConditionOR):
        fused = _fused_or(node.args)
        if fused is not None:
            return fused
        preds = [predicate(a) for a in node.args]
        return lambda ev: any(p(ev) for p in preds)
    if isinstance(node, ConditionNOT):
        inner = predicate(node.args[0])
        return lambda ev: not inner(ev)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_predicate(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        test = value_test(node.value, keyword=True)
        return lambda ev: (v := ev.get(KEYWORD_FIELD)) is not None and test(v)
    raise Unsupported(f"condition element {type(node).__name__}")


def _simple_string(value: Any) -> tuple[str, str] | None:
    """``(how, folded needle)`` for an uncased string that is plain, ``*x*``, ``x*`` or ``*x``; else None."""
    from sigma.types import SigmaCasedString, SigmaString, SpecialChars

    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    parts = list(value.s)
    star = SpecialChars.WILDCARD_MULTI
    if len(parts) == 1 and isinstance(parts[0], str):
        return "eq", parts[0].casefold()
    if len(parts) == 3 and parts[0] == star and parts[2] == star and isinstance(parts[1], str):
        return "in", parts[1].casefold()
    if len(parts) == 2 and parts[1] == star and isinstance(parts[0], str):
        return "start", parts[0].casefold()
    if len(parts) == 2 and parts[0] == star and isinstance(parts[1], str):
        return "end", parts[1].casefold()
    return None


def _fused_or(args: list[Any]) -> Predicate | None:
    """An OR of plain string tests on one field (a value list) as one test that folds the value once."""
    from sigma.conditions import ConditionFieldEqualsValueExpression

    if len(args) < 2 or not all(isinstance(a, ConditionFieldEqualsValueExpression) for a in args):
        return None
    fields = {a.field for a in args}
    tests = [_simple_string(a.value) for a in args]
    if len(fields) != 1 or any(t is None for t in tests):
        return None
    field = fields.pop()
    eq = frozenset(n for how, n in tests if how == "eq")
    inside = tuple(n for how, n in tests if how == "in")
    start = tuple(n for how, n in tests if how == "start")
    end = tuple(n for how, n in tests if how == "end")

    def test(ev: dict[str, Any]) -> bool:
        v = ev.get(field)
        if v is None:
            return False
        f = _text(v).casefold()
        return (f in eq or (bool(start) and f.startswith(start)) or (bool(end) and f.endswith(end))
                or any(n in f for n in inside))

    return test
