"""The search box's syntax, turned into the ES-DSL subset every store accepts.

Syntax (what analysts type)::

    can tho                      both words, anywhere, diacritics ignored; posts where
                                 they stand together ("Cần Thơ") rank first
    "ngập lụt"                   a phrase
    ngập OR lụt                  either (also ``|``); AND is implicit (also ``&``)
    NOT quảng cáo, -quảng cáo    exclude
    (kẹt xe OR ùn tắc) cần thơ   grouping
    title:"cháy nhà"             one full-text field (title, text)
    exact:"Huế"                  diacritic-precise (Huế, not Hue or Huê)
    source:baocantho             a keyword filter (source, platform, topic, sentiment,
                                 toxicity, place, watchlist, language, severity, status,
                                 rule, technique, ip, user, host)

Unbalanced quotes or parentheses are forgiven the way search boxes usually do:
an open quote runs to the end, a missing ``)`` is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from index.fields import DEFAULT_TEXT_FIELDS, FIELDS

# Friendly names for keyword fields in the search box.
ALIASES: dict[str, dict[str, str]] = {
    "posts": {"topic": "topics", "place": "places", "watchlist": "watchlists", "keyword": "keywords",
              "tag": "tags", "author": "author.name", "lang": "language"},
    "alerts": {"rule": "rule.name", "technique": "threat.technique.id", "ip": "source.ip",
               "src": "source.ip", "dst": "destination.ip", "domain": "destination.domain",
               "user": "user.name", "host": "host.name", "category": "event.category"},
}

_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<field>[A-Za-z_][\w.]*):(?=\S)|(?P<neg>-)(?=[^\s-])|'
    r'(?P<phrase>["“”][^"“”]*(?:["“”]|$))|(?P<word>[^\s()"“”]+))'
)


@dataclass
class _Tok:
    kind: str  # lp rp field neg phrase word and or not
    value: str


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup or "word"
        value = m.group(kind)
        if kind == "phrase":
            value = value[1:].rstrip('"“”') if value[-1:] in '"“”' and len(value) > 1 else value[1:]
        elif kind == "word":
            if value in ("AND", "&&", "&"):
                kind = "and"
            elif value in ("OR", "||", "|"):
                kind = "or"
            elif value == "NOT":
                kind = "not"
        toks.append(_Tok(kind, value))
    return toks


class _Parser:
    def __init__(self, kind: str, toks: list[_Tok], exact: bool):
        self.kind = kind
        self.toks = toks
        self.i = 0
        self.exact = exact
        self.text_fields = DEFAULT_TEXT_FIELDS[kind]

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> dict[str, Any] | None:
        node = self.or_expr()
        while self.peek() is not None:  # stray ')' : skip and go on
            self.take()
            more = self.or_expr()
            node = _and([node, more])
        return node

    def or_expr(self) -> dict[str, Any] | None:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            parts.append(self.and_expr())
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"bool": {"should": parts, "minimum_should_match": 1}}

    def and_expr(self) -> dict[str, Any] | None:
        parts: list[dict[str, Any]] = []
        runs: list[list[str]] = [[]]  # consecutive bare words ("can tho"), for the phrase boost
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rp"):
            if tok.kind == "and":
                self.take()
                runs.append([])
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
                if tok.kind == "word" and node.get("multi_match", {}).get("operator") == "and":
                    runs[-1].append(tok.value)
                    continue
            runs.append([])
        node = _and(parts)
        # Words typed next to each other are most often a name or a phrase ("can tho" for
        # Cần Thơ, not "cần ... thở"): posts where they stand together score higher. The
        # clause is optional, so it changes the order, never which posts match.
        boosts = [self.text(" ".join(run), phrase=True, fields=None) for run in runs if len(run) > 1]
        if boosts and node is not None:
            node["bool"]["should"] = boosts
        return node

    def unary(self) -> dict[str, Any] | None:
        tok = self.peek()
        if tok is not None and tok.kind in ("not", "neg"):
            self.take()
            inner = self.unary()
            return {"bool": {"must_not": [inner]}} if inner is not None else None
        return self.atom()

    def atom(self) -> dict[str, Any] | None:
        tok = self.take()
        if tok.kind == "lp":
            node = self.or_expr()
            if (nxt := self.peek()) is not None and nxt.kind == "rp":
                self.take()
            return node
        if tok.kind == "field":
            return self.fielded(tok.value)
        if tok.kind == "phrase":
            return self.text(tok.value, phrase=True, fields=None)
        if tok.kind in ("word", "neg"):
            return self.text(tok.value, phrase=False, fields=None)
        return None  # a stray operator

    def fielded(self, name: str) -> dict[str, Any] | None:
        nxt = self.peek()
        if nxt is None:
            return None
        lname = name.lower()
        if lname == "exact":
            value = self.take()
            return self.text(value.value, phrase=value.kind == "phrase", fields=None, exact=True)
        field = ALIASES[self.kind].get(lname, lname)
        ftype = FIELDS[self.kind].get(field)
        if ftype is None:  # not a field: treat "word:" as text
            return self.text(name, phrase=False, fields=None)
        if nxt.kind == "lp":  # field:(a OR b)
            self.take()
            values: list[str] = []
            while (t := self.peek()) is not None and t.kind != "rp":
                t = self.take()
                if t.kind in ("word", "phrase"):
                    values.append(t.value)
            if self.peek() is not None:
                self.take()
            if ftype == "text":
                return {"bool": {"should": [self.text(v, True, [field]) for v in values], "minimum_should_match": 1}}
            return {"terms": {field: values}}
        value = self.take().value
        if ftype == "text":
            return self.text(value, phrase=True, fields=[field])
        return {"term": {field: value}}

    def text(self, value: str, phrase: bool, fields: list[str] | None, exact: bool = False) -> dict[str, Any] | None:
        if not re.search(r"\w", value):
            return None
        use = fields or self.text_fields
        if exact or self.exact:
            use = [f + ".exact" for f in use]
        if phrase and len(re.findall(r"\w+", value)) > 1:
            return {"multi_match": {"query": value, "fields": use, "type": "phrase"}}
        return {"multi_match": {"query": value, "fields": use, "operator": "and"}}


def _and(parts: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    parts = [p for p in parts if p is not None]
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


def parse_query(text: str | None, *, kind: str = "posts", exact: bool = False) -> dict[str, Any]:
    """Turn a search-box string into a query; an empty string matches everything.

    ``exact=True`` makes every word diacritic-precise (as if each were ``exact:``).
    """
    node = _Parser(kind, _lex(text or ""), exact).parse() if text and text.strip() else None
    return node or {"match_all": {}}


def with_filters(query: dict[str, Any], filters: list[dict[str, Any]]) -> dict[str, Any]:
    """``query`` restricted by filter clauses (terms, ranges) without changing its scoring."""
    if not filters:
        return query
    return {"bool": {"must": [query], "filter": filters}}
