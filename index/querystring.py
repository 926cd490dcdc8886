"""The search box's syntax, turned into the ES-DSL subset every store accepts.

The language is the part of Elasticsearch's ``query_string`` that analysts use, with the
same reading of the same input. Syntax::

    can tho                      both words, anywhere, diacritics ignored; posts where
                                 they stand together ("Cần Thơ") rank first
    "ngập lụt"                   a phrase (straight or curly quotes; \\" for a quote inside)
    ngập OR lụt                  either (also ``||``, ``|``); AND is implicit (also ``&&``, ``&``)
    NOT quảng cáo, -quảng cáo    exclude; ``+word`` requires (as a bare word does)
    (kẹt xe OR ùn tắc) cần thơ   grouping; AND binds tighter than OR
    title:"cháy nhà"             one full-text field (title, text; evidence on alerts)
    title:(cháy OR nổ)           a group inside one field
    exact:"Huế"                  diacritic-precise (Huế, not Hue or Huê)
    ngập*                        words starting with "ngập" (folded: "ngap*" too); source:bao*
    place:"Ninh Kiều"            the places a post names, at any level (a ward of Ninh Kiều,
                                 before or after 2025, the district, the city), folded
    source:baocantho             a keyword filter (source, platform, topic, sentiment, ...);
    source:(a b)                 values side by side in a keyword group mean any of them
    engagement.likes:>100        numbers and dates: >, >=, <, <=, [a TO b], {a TO b}, * open
    published_at:[now-7d TO *]

Malformed input is refused, never guessed at: an unclosed quote or parenthesis, a
stray ``)``, an operator with nothing on one side (``AND`` alone, ``ngập OR``, ``NOT``
at the end), an empty group, a field with no value, an unknown field, a value of the
wrong type, nesting deeper than the limit, or Lucene syntax this language does not
support (``ngap~``, ``"a b"~2``, ``ngap^2``) raise :class:`core.errors.QuerySyntaxError`
whose ``position`` (0-based offset into the query) and ``code`` say where and what.
``word:`` followed by a space stays text ("Lưu ý: ngập"); put other text with a colon in
quotes (``"https://..."``). Parsing is iterative where input can repeat without bound
(``NOT NOT ...``) and recursive only per nesting level, which the limit bounds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from core.errors import QuerySyntaxError
from core.settings import IndexSettings
from core.text import fold
from index.datemath import parse_date
from index.fields import DEFAULT_TEXT_FIELDS, FIELDS

# The nesting limit when the caller passes none: the default of ``index.query_max_depth``.
DEFAULT_MAX_DEPTH: int = IndexSettings.model_fields["query_max_depth"].default

# Friendly names for fields in the search box.
ALIASES: dict[str, dict[str, str]] = {
    "posts": {"topic": "topics", "place": "place_names", "area": "place_areas", "watchlist": "watchlists",
              "keyword": "keywords", "tag": "tags", "author": "author.name", "lang": "language",
              "likes": "engagement.likes", "comments": "engagement.comments", "shares": "engagement.shares",
              "views": "engagement.views", "date": "published_at"},
    "alerts": {"rule": "rule.name", "technique": "threat.technique.id", "ip": "source.ip",
               "src": "source.ip", "dst": "destination.ip", "domain": "destination.domain",
               "user": "user.name", "host": "host.name", "category": "event.category",
               "risk": "risk_score", "date": "@timestamp", "ruleset": "rule.ruleset", "level": "rule.level",
               "tag": "tags", "feed": "threat.feed.name", "indicator": "threat.indicator.name",
               "confidence": "threat.indicator.confidence"},
}
EXACT = "exact"  # the pseudo-field that makes its value diacritic-precise

_QUOTES = '"“”'
_STOP = set(" \t\n\r\f\v()") | set(_QUOTES)
_FIELD_NAME = re.compile(r"[^\W\d][\w.]*", re.UNICODE)
_OPERATORS = {"AND": "and", "&&": "and", "&": "and", "OR": "or", "||": "or", "|": "or", "NOT": "not"}
_COMPARE = re.compile(r"^(>=|<=|>|<)(.*)$", re.DOTALL)
_SUFFIX = re.compile(r"(?<=\w)([~^])[\d.]*$")  # Lucene's fuzzy, proximity and boost suffixes
_PREFIX = re.compile(r"^(\w+)\*$")  # word* : words starting with "word"

# English messages by code; the dashboard translates by code (dashboard/i18n.py "query.*").
MESSAGES = {
    "unclosed_quote": "the quote {quote} is never closed",
    "unclosed_group": "'(' is never closed",
    "unexpected_close": "')' has no matching '('",
    "empty_group": "'()' holds nothing",
    "nothing_before": "{op} has no term before it",
    "nothing_after": "{op} has nothing after it",
    "missing_value": "the field {field!r} has no value",
    "unknown_field": "unknown field {field!r}",
    "bad_value": "{value!r} is not a valid {type} for {field!r}",
    "bad_range": "a range is written [from TO to] or {{from TO to}}",
    "too_deep": "nesting deeper than {limit} levels",
    "unsupported_operator": "{op} (fuzzy, proximity or boost) is not supported",
    "exact_prefix": "a prefix (word*) cannot be diacritic-precise",
}


def syntax_error(code: str, position: int, text: str, **params: Any) -> QuerySyntaxError:
    """A :class:`QuerySyntaxError` naming the column and the problem, with ``code``,
    ``position`` and ``params`` kept on it for translated messages."""
    message = f"column {position + 1}: " + MESSAGES[code].format(**params)
    hint = None
    if code == "unknown_field":
        hint = "known fields: " + ", ".join(params.get("known", [])) + '; put text with a colon in quotes'
    elif code == "unclosed_quote":
        hint = 'close it, or write \\" for the quote character itself'
    elif code in ("unclosed_group", "unexpected_close"):
        hint = "balance the parentheses, or put text with parentheses in quotes"
    exc = QuerySyntaxError(message, hint=hint)
    exc.code, exc.position, exc.params = code, position, dict(params)
    return exc


@dataclass(frozen=True)
class _Tok:
    kind: str  # lp rp field neg plus phrase word and or not
    value: str
    pos: int


def _lex(text: str, fields: frozenset[str] = frozenset()) -> list[_Tok]:
    """Tokens of ``text``, each with its offset; refuses an unclosed quote.

    ``name:`` before a space or at the end is text unless ``name`` is one of ``fields``
    (lower case), where it is a field with no value."""
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("lp", ch, i))
            i += 1
        elif ch == ")":
            toks.append(_Tok("rp", ch, i))
            i += 1
        elif ch in _QUOTES:
            start, i, out = i, i + 1, []
            while i < n and text[i] not in _QUOTES:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise syntax_error("unclosed_quote", start, text, quote=text[start])
            i += 1
            if i < n and text[i] in "~^":
                raise syntax_error("unsupported_operator", i, text, op=text[i])
            toks.append(_Tok("phrase", "".join(out), start))
        elif ch in "-+" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-+":
            toks.append(_Tok("neg" if ch == "-" else "plus", ch, i))
            i += 1
        else:
            start, out = i, []
            while i < n and text[i] not in _STOP:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            word = "".join(out)
            raw = text[start:i]
            offset = start
            while True:  # name:value, name:"...", name:(...), exact:title:"..."
                colon = raw.find(":")
                name = raw[:colon]
                if not (colon > 0 and "\\" not in name and _FIELD_NAME.fullmatch(name) and (
                        colon < len(raw) - 1 or (i < n and not text[i].isspace()) or name.lower() in fields)):
                    break  # "name:" before a space stays text
                toks.append(_Tok("field", name, offset))
                raw, offset = raw[colon + 1:], offset + colon + 1
                word = _unescape(raw)
                if not raw:
                    break
            if not raw:
                continue
            suffix = _SUFFIX.search(raw)
            if suffix:  # ngap~, ngap~2, ngap^3
                raise syntax_error("unsupported_operator", offset + suffix.start(), text, op=suffix.group(1))
            kind = _OPERATORS.get(raw, "word") if offset == start else "word"
            toks.append(_Tok(kind, word, offset))
    return toks


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw, flags=re.DOTALL)


@dataclass(frozen=True)
class _Ctx:
    """Where a value is looked for: the default text fields, or one field."""

    field: str | None = None
    ftype: str = "text"
    exact: bool = False


class _Parser:
    def __init__(self, kind: str, text: str, exact: bool, max_depth: int):
        self.kind = kind
        self.query = text
        self.known = frozenset(n.lower() for n in (*ALIASES[kind], *FIELDS[kind], EXACT))
        self.toks = _lex(text, self.known)
        self.i = 0
        self.exact = exact
        self.max_depth = max_depth
        self.depth = 0
        self.text_fields = DEFAULT_TEXT_FIELDS[kind]

    def error(self, code: str, position: int, **params: Any) -> QuerySyntaxError:
        return syntax_error(code, position, self.query, **params)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> dict[str, Any] | None:
        node, _ = self.or_expr(_Ctx())
        if (tok := self.peek()) is not None:  # or_expr stops only at ')' or the end
            raise self.error("unexpected_close", tok.pos)
        return node

    def or_expr(self, ctx: _Ctx) -> tuple[dict[str, Any] | None, int]:
        """Clauses joined by OR; returns the query and how many clauses were written."""
        if (tok := self.peek()) is not None and tok.kind == "or":
            raise self.error("nothing_before", tok.pos, op=tok.value)
        first, written = self.and_expr(ctx)
        parts = [first]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            node, count = self.and_expr(ctx)
            if not count:
                raise self.error("nothing_after", tok.pos, op=tok.value)
            parts.append(node)
            written += count
        kept = [p for p in parts if p is not None]
        if not kept:
            return None, written
        return (kept[0] if len(kept) == 1 else _or(kept)), written

    def and_expr(self, ctx: _Ctx) -> tuple[dict[str, Any] | None, int]:
        """Clauses side by side or joined by AND (side by side in a keyword group: any of them)."""
        parts: list[dict[str, Any]] = []
        written = 0
        runs: list[list[str]] = [[]]  # consecutive bare words ("can tho"), for the phrase boost
        pending_and: _Tok | None = None
        explicit_and = False
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rp"):
            if tok.kind == "and":
                if written == 0:
                    raise self.error("nothing_before", tok.pos, op=tok.value)
                if pending_and is not None:
                    raise self.error("nothing_after", pending_and.pos, op=pending_and.value)
                pending_and = self.take()
                explicit_and = True
                runs.append([])
                continue
            node = self.unary(ctx)
            written += 1
            pending_and = None
            if node is None:
                runs.append([])
                continue
            parts.append(node)
            if tok.kind == "word" and ctx.field is None \
                    and node.get("multi_match", {}).get("operator") == "and":
                runs[-1].append(tok.value)
            else:
                runs.append([])
        if pending_and is not None:
            raise self.error("nothing_after", pending_and.pos, op=pending_and.value)
        if ctx.ftype == "keyword" and len(parts) > 1 and not explicit_and and all(
                list(p) == ["term"] and list(p["term"]) == [ctx.field] for p in parts):
            return {"terms": {ctx.field: [p["term"][ctx.field] for p in parts]}}, written
        node = _and(parts)
        # Words typed next to each other are most often a name or a phrase ("can tho" for
        # Cần Thơ, not "cần ... thở"): posts where they stand together score higher. The
        # clause is optional, so it changes the order, never which posts match.
        boosts = [self.text(" ".join(run), True, ctx) for run in runs if len(run) > 1]
        if boosts and node is not None:
            node["bool"]["should"] = boosts
        return node, written

    def unary(self, ctx: _Ctx) -> dict[str, Any] | None:
        negate = False
        while (tok := self.peek()) is not None and tok.kind in ("not", "neg", "plus"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("rp", "or", "and"):
                raise self.error("nothing_after", tok.pos, op=tok.value)
            if tok.kind != "plus":
                negate = not negate  # NOT NOT x is x
        node = self.atom(ctx)
        if negate and node is not None:
            return {"bool": {"must_not": [node]}}
        return node

    def atom(self, ctx: _Ctx) -> dict[str, Any] | None:
        tok = self.take()
        if tok.kind == "lp":
            return self.group(tok, ctx)
        if tok.kind == "field":
            return self.fielded(tok, ctx)
        if tok.kind == "phrase":
            return self.value(tok, ctx, phrase=True)
        return self.value(tok, ctx, phrase=False)  # word (neg, plus, rp, ops never reach here)

    def group(self, lp: _Tok, ctx: _Ctx) -> dict[str, Any] | None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.error("too_deep", lp.pos, limit=self.max_depth)
        node, written = self.or_expr(ctx)
        end = self.peek()
        if end is None:
            raise self.error("unclosed_group", lp.pos)
        self.take()  # ')'
        if not written:
            raise self.error("empty_group", lp.pos)
        self.depth -= 1
        return node

    def fielded(self, tok: _Tok, ctx: _Ctx) -> dict[str, Any] | None:
        name = tok.value
        nxt = self.peek()
        if nxt is None or nxt.kind not in ("word", "phrase", "lp", "field"):
            raise self.error("missing_value", tok.pos, field=name)
        if name.lower() == EXACT:
            inner = _Ctx(ctx.field, ctx.ftype, True)
        else:
            field = ALIASES[self.kind].get(name.lower(), name.lower())
            ftype = FIELDS[self.kind].get(field)
            if ftype is None:
                known = sorted(set(ALIASES[self.kind]) | set(FIELDS[self.kind]) | {EXACT})
                raise self.error("unknown_field", tok.pos, field=name, known=known)
            inner = _Ctx(field, ftype, ctx.exact)
        return self.atom(inner)

    def value(self, tok: _Tok, ctx: _Ctx, phrase: bool) -> dict[str, Any] | None:
        prefix = None if phrase or ctx.ftype not in ("text", "keyword") else _PREFIX.match(tok.value)
        if prefix:
            return self.prefix(prefix.group(1), tok, ctx)
        if ctx.ftype == "text":
            return self.text(tok.value, phrase, ctx)
        if ctx.ftype == "keyword":
            return {"term": {ctx.field: tok.value}}
        return self.ranged(tok, ctx)

    def prefix(self, stem: str, tok: _Tok, ctx: _Ctx) -> dict[str, Any]:
        """``word*``: a prefix query; on full text the stem is folded as the index folds words."""
        if ctx.ftype == "keyword":
            return {"prefix": {ctx.field: {"value": stem}}}
        if ctx.exact or self.exact:
            raise self.error("exact_prefix", tok.pos)
        folded = fold(stem)
        fields = [ctx.field] if ctx.field else list(self.text_fields)
        parts = [{"prefix": {f: {"value": folded}}} for f in fields]
        return parts[0] if len(parts) == 1 else _or(parts)

    def ranged(self, tok: _Tok, ctx: _Ctx) -> dict[str, Any]:
        """A date or number field's value: exact, compared (>, >=, <, <=) or a range."""
        value = tok.value
        if value[:1] in "[{":
            lower = self.bound(value[1:], tok, ctx)
            word = self.peek()
            if word is None or word.kind != "word" or word.value != "TO":
                raise self.error("bad_range", tok.pos)
            self.take()
            end = self.peek()
            if end is None or end.kind != "word" or end.value[-1:] not in ("]", "}"):
                raise self.error("bad_range", tok.pos)
            self.take()
            upper = self.bound(end.value[:-1], end, ctx)
            spec: dict[str, Any] = {}
            if lower is not None:
                spec["gte" if value[0] == "[" else "gt"] = lower
            if upper is not None:
                spec["lte" if end.value[-1] == "]" else "lt"] = upper
            return {"range": {ctx.field: spec}} if spec else {"exists": {"field": ctx.field}}
        if value[-1:] in ("]", "}"):
            raise self.error("bad_range", tok.pos)
        compare = _COMPARE.match(value)
        if compare:
            op = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[compare.group(1)]
            bound = self.bound(compare.group(2), tok, ctx)
            if bound is None:
                raise self.error("bad_value", tok.pos, value=value, type=_TYPE_NAMES[ctx.ftype], ftype=ctx.ftype,
                                 field=ctx.field)
            return {"range": {ctx.field: {op: bound}}}
        bound = self.bound(value, tok, ctx)
        if bound is None:
            return {"exists": {"field": ctx.field}}
        return {"term": {ctx.field: bound}}

    def bound(self, value: str, tok: _Tok, ctx: _Ctx) -> Any:
        """``value`` checked against the field's type; ``*`` (open) is None."""
        if value == "*":
            return None
        try:
            if ctx.ftype == "long":
                number = int(value)
                if not -2**63 <= number < 2**63:
                    raise ValueError(value)
                return number
            if ctx.ftype == "double":
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(value)
                return number
            parse_date(value)
            return value
        except (ValueError, OverflowError, QuerySyntaxError):
            raise self.error("bad_value", tok.pos, value=value, type=_TYPE_NAMES[ctx.ftype], ftype=ctx.ftype,
                             field=ctx.field) from None

    def text(self, value: str, phrase: bool, ctx: _Ctx) -> dict[str, Any] | None:
        if not re.search(r"\w", value):
            return None
        use = [ctx.field] if ctx.field else list(self.text_fields)
        if ctx.exact or self.exact:
            use = [f + ".exact" for f in use]
        if phrase and len(re.findall(r"\w+", value)) > 1:
            return {"multi_match": {"query": value, "fields": use, "type": "phrase"}}
        return {"multi_match": {"query": value, "fields": use, "operator": "and"}}


_TYPE_NAMES = {"long": "whole number", "double": "number", "date": "date"}


def _or(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"should": parts, "minimum_should_match": 1}}


def _and(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    must = [p for p in parts if not (set(p) == {"bool"} and set(p["bool"]) == {"must_not"})]
    must_not = [q for p in parts if p not in must for q in p["bool"]["must_not"]]
    body: dict[str, Any] = {}
    if must:
        body["must"] = must
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


def parse_query(text: str | None, *, kind: str = "posts", exact: bool = False,
                max_depth: int | None = None) -> dict[str, Any]:
    """Turn a search-box string into a query; an empty string matches everything.

    ``exact=True`` makes every word diacritic-precise (as if each were ``exact:``).
    ``max_depth`` bounds nested groups (``index.query_max_depth``; default
    :data:`DEFAULT_MAX_DEPTH`).

    Raises:
        QuerySyntaxError: the query is malformed; ``code``, ``position`` (0-based offset)
            and ``params`` say what and where, and the message names the column.
    """
    if not text or not text.strip():
        return {"match_all": {}}
    node = _Parser(kind, text, exact, DEFAULT_MAX_DEPTH if max_depth is None else max_depth).parse()
    return node or {"match_all": {}}


def searchable_fields(kind: str = "posts") -> list[tuple[str, str, str]]:
    """(name to type, stored field, type) for the help panel: aliases first, then stored names."""
    out = [(alias, field, FIELDS[kind][field]) for alias, field in ALIASES[kind].items()]
    aliased = set(ALIASES[kind].values())
    out += [(name, name, ftype) for name, ftype in FIELDS[kind].items()
            if name not in aliased and name != "id"]
    return out


def with_filters(query: dict[str, Any], filters: list[dict[str, Any]]) -> dict[str, Any]:
    """``query`` restricted by filter clauses (terms, ranges) without changing its scoring."""
    if not filters:
        return query
    return {"bool": {"must": [query], "filter": filters}}
