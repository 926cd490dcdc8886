"""Places from a gazetteer that knows Vietnamese units before and after the 2025 mergers.

Every mention (a province as it is now, a former province, a former district, a ward)
resolves to the province that holds the area since 1 July 2025: "Sóc Trăng", "Ninh
Kiều" and "Vị Thanh" all resolve to "Thành phố Cần Thơ". Names written without
diacritics ("can tho") match when the matched words carry no diacritics themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from core.errors import NlpError
from core.text import fold
from core.yamlfile import read_yaml
from nlp.textfold import fast_fold, words_of

_WORD = re.compile(r"\w+", re.UNICODE)
_fold = fast_fold
MAX_NAME_WORDS = 5
# words that announce a district or ward ("quận", "phường", "xã"...), compared folded
# words before a name that make it a street, bridge or market name, compared folded
_STREET_WORDS = {"duong", "lo", "pho", "hem", "cau", "cho", "ben", "ngo", "kenh", "rach", "song"}
_UNIT_WORDS = {"quan", "huyen", "phuong", "xa", "tran", "q", "p", "tx", "tt"}


@dataclass(frozen=True)
class PlaceName:
    """One name of a place: what it is and the province (after 2025) it belongs to."""

    name: str  # as written in the gazetteer
    level: str  # province | former_province | district | ward | alias
    provinces: tuple[str, ...]  # canonical province names (more than one = ambiguous)


@dataclass(frozen=True)
class PlaceMatch:
    text: str  # as written in the post
    start: int
    end: int
    level: str
    canonical: str | None  # None when the name is ambiguous and nothing in the post decides


class Gazetteer:
    """Name lookup over word n-grams of a text."""

    def __init__(self, data: dict):
        self.exact: dict[str, PlaceName] = {}
        self.folded: dict[str, PlaceName] = {}
        self.case_sensitive: dict[str, PlaceName] = {}
        self.provinces: list[str] = []
        priority = {"province": 0, "alias": 1, "former_province": 2, "district": 3, "ward": 4}
        entries: list[PlaceName] = []
        former_to_new: dict[str, str] = {}
        for prov in data.get("provinces") or []:
            canonical = prov["name"]
            self.provinces.append(canonical)
            entries.append(PlaceName(canonical, "province", (canonical,)))
            entries.append(PlaceName(prov.get("short", canonical), "province", (canonical,)))
            for alias in prov.get("aliases") or []:
                entries.append(PlaceName(alias, "alias", (canonical,)))
            for former in prov.get("former") or []:
                former_to_new[former] = canonical
                entries.append(PlaceName(former, "former_province", (canonical,)))
        for former, names in (data.get("districts") or {}).items():
            canonical = former_to_new.get(former)
            if canonical is None:
                raise NlpError(f"district list under unknown former province {former!r}",
                               hint="add the province to 'former' of a province entry")
            for name in names:
                entries.append(PlaceName(name, "district", (canonical,)))
        for canonical, names in (data.get("wards") or {}).items():
            for name in names:
                entries.append(PlaceName(name, "ward", (canonical,)))
        self._index(entries, priority)
        self.first_exact = {k.split()[0] for k in self.exact}
        self.first_folded = {k.split()[0] for k in self.folded}
        self.first_case = {k for k in self.case_sensitive}
        # first word -> the word counts of the names it starts, longest first
        lengths: dict[str, set[int]] = {}
        for key in list(self.exact) + list(self.folded):
            parts = key.split()
            lengths.setdefault(parts[0], set()).add(len(parts))
        self.lengths = {w: sorted(ns, reverse=True) for w, ns in lengths.items()}

    def _index(self, entries: list[PlaceName], priority: dict[str, int]) -> None:
        for entry in entries:
            if entry.name.isupper() and len(entry.name) <= 6 and " " not in entry.name:
                self._add(self.case_sensitive, entry.name, entry, priority)
                continue
            self._add(self.exact, entry.name.lower(), entry, priority)
            self._add(self.folded, fold(entry.name), entry, priority)

    @staticmethod
    def _add(table: dict[str, PlaceName], key: str, entry: PlaceName, priority: dict[str, int]) -> None:
        key = " ".join(key.replace(".", " ").split())
        old = table.get(key)
        if old is None:
            table[key] = entry
        elif priority[entry.level] < priority[old.level]:
            table[key] = entry
        elif priority[entry.level] == priority[old.level] and entry.provinces != old.provinces:
            merged = tuple(dict.fromkeys(old.provinces + entry.provinces))
            table[key] = PlaceName(old.name, old.level, merged)

    def find(self, text: str) -> list[PlaceMatch]:
        """Longest non-overlapping place names in ``text``, left to right."""
        words, lows, folds = words_of(text)
        first_exact, first_folded, first_case = self.first_exact, self.first_folded, self.first_case
        raw: list[tuple[int, int, PlaceName]] = []  # (first word, word count, entry)
        i = 0
        n_words = len(words)
        while i < n_words:
            if lows[i] not in first_exact and folds[i] not in first_folded and words[i] not in first_case:
                i += 1
                continue
            hit = None
            spans = set(self.lengths.get(lows[i], ())) | set(self.lengths.get(folds[i], ()))
            if words[i] in first_case:
                spans.add(1)
            for n in sorted((n for n in spans if n <= n_words - i), reverse=True):
                joined_low = " ".join(lows[i:i + n])
                entry = self.case_sensitive.get(words[i]) if n == 1 else None
                if entry is None:
                    entry = self.exact.get(joined_low)
                if entry is None and folds[i:i + n] == lows[i:i + n]:
                    entry = self.folded.get(joined_low)
                if entry is None:
                    continue
                capital = words[i][:1].isupper()
                if i > 0 and folds[i - 1] in _STREET_WORDS and entry.level != "ward":
                    break  # "đường Hòa Bình", "cầu Cái Răng" name a street or a bridge
                if entry.level in ("district", "ward"):
                    ok = capital or (i > 0 and folds[i - 1] in _UNIT_WORDS)
                else:
                    ok = n > 1 or capital or entry.level == "province"
                if ok:
                    hit = (n, entry)
                    break
            if hit is None:
                i += 1
                continue
            raw.append((i, hit[0], hit[1]))
            i += hit[0]
        if not raw:
            return []
        starts = self._offsets(text, words)
        named = {p for _, _, e in raw if len(e.provinces) == 1 for p in e.provinces}
        out = []
        for first, n, entry in raw:
            start = starts[first]
            end = starts[first + n - 1] + len(words[first + n - 1])
            if len(entry.provinces) == 1:
                canonical: str | None = entry.provinces[0]
            else:
                chosen = [p for p in entry.provinces if p in named]
                canonical = chosen[0] if len(chosen) == 1 else None
            out.append(PlaceMatch(text[start:end], start, end, entry.level, canonical))
        return out

    @staticmethod
    def _offsets(text: str, words: list[str]) -> list[int]:
        out = []
        pos = 0
        for w in words:
            pos = text.find(w, pos)
            out.append(pos)
            pos += len(w)
        return out


@lru_cache(maxsize=4)
def load_gazetteer(extra_file: str | None = None) -> Gazetteer:
    """The bundled gazetteer, extended with ``extra_file`` (same YAML shape) when given."""
    text = resources.files("nlp").joinpath("data/gazetteer.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if extra_file:
        path = Path(extra_file)
        if not path.is_file():
            raise NlpError(f"gazetteer file {path} does not exist",
                           hint="fix nlp.gazetteer_file or remove it")
        extra = read_yaml(path, what="cannot read gazetteer file", error=NlpError)
        data["provinces"] = list(data.get("provinces") or []) + list(extra.get("provinces") or [])
        for key in ("districts", "wards"):
            merged = dict(data.get(key) or {})
            for name, items in (extra.get(key) or {}).items():
                merged[name] = list(merged.get(name, [])) + list(items)
            data[key] = merged
    return Gazetteer(data)
