"""Watchlists: the operator's named boolean keyword queries, matched diacritic-insensitively.

Query syntax::

    ngập AND ("cần thơ" OR "ninh kiều") NOT "quảng cáo"

* words and ``"quoted phrases"``; adjacent terms mean AND;
* ``AND``, ``OR``, ``NOT`` (upper case; also ``&``, ``|``, ``-term``) and parentheses;
  NOT binds tighter than AND, AND tighter than OR;
* a trailing ``*`` makes a word a prefix (``ngập*``);
* matching folds case and diacritics with :func:`core.text.fold` ("can tho" matches
  "Cần Thơ", "da nang" matches "Đà Nẵng") and respects word boundaries.

YAML (``title`` is the display name; ``name`` is stored on posts and must not change)::

    watchlists:
      - name: ngap-lut
        title: Ngập lụt, triều cường
        query: '(ngập OR "triều cường") AND ("cần thơ" OR "ninh kiều")'
        tags: [thien-tai]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.text import fold, nfc
from core.yamlfile import read_yaml

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(\S+?)(?=[\s()"]|$))')


def words(text: str) -> list[str]:
    """Folded word tokens of ``text``."""
    return _WORD.findall(fold(text))


# ---------------------------------------------------------------- query AST
@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # folded; more than one = phrase
    prefix: bool = False
    raw: str = ""  # as the operator wrote it (API searches keep the diacritics)

    def match(self, toks: list[str], index: dict[str, list[int]]) -> bool:
        first = self.words[0]
        if len(self.words) == 1:
            if self.prefix:
                return any(t.startswith(first) for t in index)
            return first in index
        n = len(self.words)
        for pos in index.get(first, ()):
            if tuple(toks[pos:pos + n]) == self.words:
                return True
        return False

    def terms(self) -> list[str]:
        return [self.raw or " ".join(self.words)]


@dataclass(frozen=True)
class Not:
    child: Any

    def match(self, toks, index) -> bool:
        return not self.child.match(toks, index)

    def terms(self) -> list[str]:
        return []


@dataclass(frozen=True)
class And:
    children: tuple[Any, ...]

    def match(self, toks, index) -> bool:
        return all(c.match(toks, index) for c in self.children)

    def terms(self) -> list[str]:
        return [t for c in self.children for t in c.terms()]


@dataclass(frozen=True)
class Or:
    children: tuple[Any, ...]

    def match(self, toks, index) -> bool:
        return any(c.match(toks, index) for c in self.children)

    def terms(self) -> list[str]:
        return [t for c in self.children for t in c.terms()]


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = query.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot read the query near {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.group(1):
                self.tokens.append(("(", "("))
            elif m.group(2):
                self.tokens.append((")", ")"))
            elif m.group(3) is not None:
                self.tokens.append(("PHRASE", m.group(3)))
            else:
                raw = m.group(4)
                if raw in ("AND", "&", "&&"):
                    self.tokens.append(("AND", raw))
                elif raw in ("OR", "|", "||"):
                    self.tokens.append(("OR", raw))
                elif raw in ("NOT", "-"):
                    self.tokens.append(("NOT", raw))
                elif raw.startswith("-") and len(raw) > 1:
                    self.tokens.append(("NOT", "-"))
                    self.tokens.append(("WORD", raw[1:]))
                else:
                    self.tokens.append(("WORD", raw))
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self):
        if not self.tokens:
            raise ValueError("the query is empty")
        node = self.parse_or()
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def parse_or(self):
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self):
        parts = [self.parse_not()]
        while self.peek() in ("AND", "NOT", "WORD", "PHRASE", "("):
            if self.peek() == "AND":
                self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not(self):
        if self.peek() == "NOT":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self):
        kind = self.peek()
        if kind is None:
            raise ValueError("the query ends too early")
        if kind == "(":
            self.take()
            node = self.parse_or()
            if self.peek() != ")":
                raise ValueError("a '(' is not closed")
            self.take()
            return node
        if kind in ("WORD", "PHRASE"):
            _, raw = self.take()
            prefix = kind == "WORD" and raw.endswith("*")
            toks = tuple(words(raw.rstrip("*")))
            if not toks:
                raise ValueError(f"{raw!r} has no letters or digits")
            return Term(toks, prefix=prefix and len(toks) == 1, raw=nfc(raw.rstrip("*")).strip())
        raise ValueError(f"unexpected {self.tokens[self.i][1]!r}")


def parse_query(query: str):
    """Parse a watchlist query into a matcher node; raises ``ValueError`` with the reason."""
    return _Parser(query).parse()


# ---------------------------------------------------------------- watchlists
@dataclass
class Watchlist:
    """A named query. ``match(text)`` is diacritic-insensitive."""

    name: str
    query: str
    tags: list[str] = field(default_factory=list)
    node: Any = None
    title: str = ""  # the display name; the name when empty

    @property
    def label(self) -> str:
        """The name people read: the title, else the name."""
        return self.title or self.name

    def __post_init__(self) -> None:
        if self.node is None:
            self.node = parse_query(self.query)

    def match(self, text: str) -> bool:
        toks = words(text)
        return self.node.match(toks, _index(toks))

    def search_terms(self) -> list[str]:
        """The positive terms, for API searches (NOT terms are left to the matcher)."""
        seen: list[str] = []
        for term in self.node.terms():
            if term not in seen:
                seen.append(term)
        return seen

    def api_query(self) -> str:
        """A search string for APIs that accept ``|`` as OR (YouTube Data API)."""
        return " | ".join(f'"{t}"' if " " in t else t for t in self.search_terms())


def _index(toks: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for pos, tok in enumerate(toks):
        index.setdefault(tok, []).append(pos)
    return index


class WatchlistMatcher:
    """Matches a text against every watchlist at once (the text is folded and tokenised once)."""

    def __init__(self, watchlists: list[Watchlist]):
        self.watchlists = watchlists

    def match(self, text: str, toks: list[str] | None = None) -> list[str]:
        """Names of the matching watchlists; ``toks`` = :func:`words` of ``text`` if known."""
        toks = words(text) if toks is None else toks
        index = _index(toks)
        return [w.name for w in self.watchlists if w.node.match(toks, index)]

    def __len__(self) -> int:
        return len(self.watchlists)


def default_watchlists_path() -> Path:
    return Path(str(resources.files("crawlers").joinpath("watchlists.yaml")))


def load_watchlists(path: str | Path | None = None) -> list[Watchlist]:
    """Read a watchlists YAML; a bad query raises :class:`ConfigError` naming the watchlist."""
    path = Path(path) if path else default_watchlists_path()
    if not path.is_file():
        raise ConfigError(f"watchlists file {path} does not exist",
                          hint="pass --watchlists FILE or set IOCWATCH_CRAWL__WATCHLISTS_FILE")
    data = read_yaml(path)
    return parse_watchlists(data, where=str(path))


def parse_watchlists(data: Any, *, where: str = "<watchlists>") -> list[Watchlist]:
    items = data.get("watchlists") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError("top level must be a mapping with a 'watchlists' list", where=where)
    out: list[Watchlist] = []
    names: set[str] = set()
    for i, raw in enumerate(items):
        label = raw.get("name") if isinstance(raw, dict) and raw.get("name") else f"#{i + 1}"
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("query"):
            raise ConfigError(f"watchlist {label!r} needs 'name' and 'query'", where=where)
        unknown = set(raw) - {"name", "query", "tags", "title"}
        if unknown:
            raise ConfigError(f"watchlist {label!r}, key {sorted(unknown)[0]!r}: unknown key", where=where)
        if raw["name"] in names:
            raise ConfigError(f"watchlist {label!r}: name used twice", where=where)
        try:
            wl = Watchlist(name=str(raw["name"]), query=str(raw["query"]),
                           tags=[str(t) for t in raw.get("tags") or []], title=str(raw.get("title") or ""))
        except ValueError as exc:
            raise ConfigError(f"watchlist {label!r}, key 'query': {exc}", where=where,
                              hint='use AND, OR, NOT, parentheses and "quoted phrases"') from None
        names.add(wl.name)
        out.append(wl)
    return out
