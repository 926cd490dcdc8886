"""The topic taxonomy (config file) and its keyword rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from core.errors import NlpError
from nlp.textfold import fast_fold as fold


@dataclass
class Taxonomy:
    """Topic ids in order, their display names and compiled keyword rules."""

    names: dict[str, str]
    keywords: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._topic_of: dict[str, str] = {}  # keyword as matched (lower or folded) -> topic
        accented: list[str] = []
        plain: list[str] = []
        for topic, words in self.keywords.items():
            for word in words:
                low = word.lower()
                if fold(low) != low:
                    accented.append(low)
                    self._topic_of.setdefault(low, topic)
                folded = fold(low)
                plain.append(folded)
                self._topic_of.setdefault("~" + folded, topic)
        self._exact = _words_pattern(accented) if accented else None
        self._folded = _words_pattern(plain) if plain else None

    @property
    def topics(self) -> list[str]:
        return list(self.names)

    def rule_topics(self, text: str) -> list[str]:
        """Topics whose keywords occur in ``text`` (accented keywords also match unaccented text)."""
        low = text.lower()
        hits: set[str] = set()
        if self._exact is not None:
            for m in self._exact.finditer(low):
                hits.add(self._topic_of[m.group(0)])
        if self._folded is not None:
            folded = fold(low)
            for m in self._folded.finditer(folded):
                # a folded hit counts only where the text itself is written without diacritics
                if low[m.start():m.end()] == m.group(0):
                    hits.add(self._topic_of["~" + m.group(0)])
        return [t for t in self.names if t in hits]


def _words_pattern(words: list[str]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.UNICODE)


@lru_cache(maxsize=4)
def load_taxonomy(rules_file: str | None = None) -> Taxonomy:
    """The bundled taxonomy; ``rules_file`` (topic id -> keywords) adds operators' rules."""
    data = yaml.safe_load(resources.files("nlp").joinpath("data/taxonomy.yaml")
                          .read_text(encoding="utf-8"))
    names = {tid: spec["name"] for tid, spec in data["topics"].items()}
    keywords = {tid: list(spec.get("keywords") or []) for tid, spec in data["topics"].items()}
    if rules_file:
        path = Path(rules_file)
        if not path.is_file():
            raise NlpError(f"topic rules file {path} does not exist",
                           hint="fix nlp.topic_rules_file or remove it")
        try:
            extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise NlpError(f"cannot read topic rules: {exc}", where=str(path)) from None
        if not isinstance(extra, dict):
            raise NlpError("topic rules must map topic ids to keyword lists", where=str(path))
        for tid, words in extra.items():
            if tid not in names:
                raise NlpError(f"unknown topic {tid!r} in topic rules", where=str(path),
                               hint=f"use one of {', '.join(names)}")
            keywords[tid] = keywords[tid] + [str(w) for w in (words or [])]
    return Taxonomy(names, keywords)
