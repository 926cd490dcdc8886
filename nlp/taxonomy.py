"""The topic taxonomy (config file) and its keyword rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from core.errors import NlpError
from core.yamlfile import read_yaml
from nlp.textfold import fast_fold as fold
from nlp.textfold import words_of


@dataclass
class Taxonomy:
    """Topic ids in order, their display names and compiled keyword rules."""

    names: dict[str, str]
    keywords: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # first word -> [(all words of the keyword, topic, needs the accented match)]
        self._first: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
        for topic, words in self.keywords.items():
            for word in words:
                low = tuple(_WORD.findall(word.lower()))
                if not low:
                    continue
                folded = tuple(fold(w) for w in low)
                if folded != low:
                    self._first.setdefault(low[0], []).append((low, topic, True))
                self._first.setdefault(folded[0], []).append((folded, topic, False))
        self._keys = frozenset(self._first)

    @property
    def topics(self) -> list[str]:
        return list(self.names)

    def rule_topics(self, text: str) -> list[str]:
        """Topics whose keywords occur in ``text`` as whole words.

        A keyword written with diacritics matches them exactly, and also matches the same
        words written without any diacritics (never a differently accented word).
        """
        _, words, folded = words_of(text)
        first = self._first
        present = self._keys.intersection(words) | self._keys.intersection(folded)
        if not present:
            return []
        hits: set[str] = set()
        for i, (word, plain) in enumerate(zip(words, folded, strict=True)):
            if word not in present and plain not in present:
                continue
            for candidates in (first.get(word), first.get(plain) if plain != word else None):
                if not candidates:
                    continue
                for seq, topic, accented in candidates:
                    n = len(seq)
                    if topic in hits:
                        continue
                    if accented:
                        if tuple(words[i:i + n]) == seq:
                            hits.add(topic)
                    elif tuple(folded[i:i + n]) == seq and words[i:i + n] == folded[i:i + n]:
                        hits.add(topic)  # written without diacritics
        return [t for t in self.names if t in hits]


_WORD = re.compile(r"\w+", re.UNICODE)


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
        extra = read_yaml(path, what="cannot read topic rules", error=NlpError)
        if not isinstance(extra, dict):
            raise NlpError("topic rules must map topic ids to keyword lists", where=str(path))
        for tid, words in extra.items():
            if tid not in names:
                raise NlpError(f"unknown topic {tid!r} in topic rules", where=str(path),
                               hint=f"use one of {', '.join(names)}")
            keywords[tid] = keywords[tid] + [str(w) for w in (words or [])]
    return Taxonomy(names, keywords)
