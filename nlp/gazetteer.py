"""Places from a gazetteer that knows Vietnamese units before and after the 2025 mergers.

Every mention (a province as it is now, a former province, a former district, a ward or
commune before or after the mergers) resolves to the province that holds the area since
1 July 2025: "Sóc Trăng", "Ninh Kiều" and "Vị Thanh" all resolve to "Thành phố Cần Thơ".
The gazetteer is a hierarchy: each name also knows the units it lies in, finest first
(former ward → ward after 2025 → former district → former province → province), so
"phường Xuân Khánh" is in "Ninh Kiều" (the ward it was merged into and the former
district) and "Cần Thơ". Names written without diacritics ("can tho") match when the
matched words carry no diacritics themselves.
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
    """One name of a place: what it is, the province (after 2025) it belongs to, and the
    units it lies in."""

    name: str  # as written in the gazetteer
    level: str  # province | alias | former_province | district | ward | former_ward
    provinces: tuple[str, ...]  # canonical province names (more than one = ambiguous)
    # per province: names of the units holding this one, finest first, the province last
    within: tuple[tuple[str, ...], ...] = ()
    districts: tuple[str | None, ...] = ()  # per province: the former district it is or lies in


@dataclass(frozen=True)
class PlaceMatch:
    text: str  # as written in the post
    start: int
    end: int
    level: str
    canonical: str | None  # None when the name is ambiguous and nothing in the post decides
    name: str = ""  # the gazetteer's name of the unit ("Ninh Kiều" for "ninh kieu")
    within: tuple[str, ...] = ()  # units holding it, finest first (empty when ambiguous)
    district: str | None = None  # the former district (before 2025) it is or lies in, when known

    @property
    def names(self) -> tuple[str, ...]:
        """Every name under which the place can be looked for: its own, then its containers'."""
        return (self.name, *self.within) if self.canonical else ()

    @property
    def area(self) -> str | None:
        """The former district as people name it, with the unit above it: "Ninh Kiều (Cần Thơ)"."""
        if not self.district or not self.canonical:
            return None
        above = self.within[self.within.index(self.district) + 1:] if self.district in self.within else self.within
        return f"{self.district} ({above[0] if above else self.canonical})"


class Gazetteer:
    """Name lookup over word n-grams of a text."""

    def __init__(self, data: dict):
        self.exact: dict[str, PlaceName] = {}
        self.folded: dict[str, PlaceName] = {}
        self.case_sensitive: dict[str, PlaceName] = {}
        self.provinces: list[str] = []
        priority = {"province": 0, "alias": 1, "former_province": 2, "district": 3, "ward": 4,
                    "former_ward": 5}
        entries: list[PlaceName] = []
        former_to_new: dict[str, str] = {}

        def add(name: str, level: str, canonical: str, *within: str, district: str | None = None) -> None:
            path = tuple(dict.fromkeys(w for w in (*within, canonical) if w != name))
            entries.append(PlaceName(name, level, (canonical,), (path,), (district,)))

        for prov in data.get("provinces") or []:
            canonical = prov["name"]
            self.provinces.append(canonical)
            add(canonical, "province", canonical)
            add(prov.get("short", canonical), "province", canonical)
            for alias in prov.get("aliases") or []:
                add(alias, "alias", canonical)
            for former in prov.get("former") or []:
                former_to_new[former] = canonical
                add(former, "former_province", canonical)
        districts: set[tuple[str, str]] = set()
        for former, names in (data.get("districts") or {}).items():
            canonical = former_to_new.get(former)
            if canonical is None:
                raise NlpError(f"district list under unknown former province {former!r}",
                               hint="add the province to 'former' of a province entry")
            for name in names:
                districts.add((former, name))
                add(name, "district", canonical, former, district=name)
        placed: set[tuple[str, str]] = set()  # (province, ward) already listed under a district
        for former, by_district in (data.get("communes") or {}).items():
            for district, wards in (by_district or {}).items():
                if (former, district) not in districts:
                    raise NlpError(f"communes under {former!r}/{district!r}, which is not a listed district",
                                   hint="list the district under 'districts' of its former province")
                canonical = former_to_new[former]
                for ward, merged in (wards or {}).items():
                    placed.add((canonical, ward))
                    add(ward, "ward", canonical, district, former, district=district)
                    for old in merged or []:
                        if old != ward:
                            add(old, "former_ward", canonical, ward, district, former, district=district)
        for canonical, names in (data.get("wards") or {}).items():
            for name in names:
                if (canonical, name) not in placed:
                    add(name, "ward", canonical)
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
        elif priority[entry.level] != priority[old.level]:
            return
        elif not set(entry.provinces) <= set(old.provinces):
            table[key] = PlaceName(old.name, old.level, old.provinces + entry.provinces, old.within + entry.within,
                                   old.districts + entry.districts)
        elif len(old.provinces) == 1 and old.within != entry.within:
            # the same name twice in one province ("Châu Thành" of Hậu Giang and of Sóc Trăng):
            # only the units both lie in are certain
            tail = _common_tail(old.within[0], entry.within[0])
            same = old.districts[0] if old.districts[0] == entry.districts[0] else None
            table[key] = PlaceName(old.name, old.level, old.provinces, (tail,), (same,))

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
                if entry.level == "former_ward":  # many repeat across the country: "phường An Hòa"
                    ok = i > 0 and folds[i - 1] in _UNIT_WORDS
                elif entry.level in ("district", "ward"):
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
            pick: int | None = 0
            if len(entry.provinces) > 1:
                chosen = [i for i, p in enumerate(entry.provinces) if p in named]
                pick = chosen[0] if len(chosen) == 1 else None
            if pick is None:
                out.append(PlaceMatch(text[start:end], start, end, entry.level, None, entry.name))
            else:
                out.append(PlaceMatch(text[start:end], start, end, entry.level, entry.provinces[pick], entry.name,
                                      entry.within[pick] if entry.within else (),
                                      entry.districts[pick] if entry.districts else None))
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


def _common_tail(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    return a[len(a) - n:]


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
        communes = {former: {d: dict(w or {}) for d, w in (by_d or {}).items()}
                    for former, by_d in (data.get("communes") or {}).items()}
        for former, by_district in (extra.get("communes") or {}).items():
            for district, wards in (by_district or {}).items():
                target = communes.setdefault(former, {}).setdefault(district, {})
                for ward, merged_from in (wards or {}).items():
                    target[ward] = list(target.get(ward) or []) + list(merged_from or [])
        data["communes"] = communes
    return Gazetteer(data)
