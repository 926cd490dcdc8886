"""Entities of a post: places (gazetteer), persons and organisations (title and head-word cues).

Persons are capitalised names after a title or form of address ("ông Nguyễn Văn A",
"Chủ tịch Trần Việt Trường"); organisations are capitalised names after an
organisation head word ("Công ty ...", "Sở Y tế ...", "UBND ...") and known acronyms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.gazetteer import Gazetteer

_PERSON_TITLES = (
    "ông", "bà", "anh", "chị", "Chủ tịch", "Phó Chủ tịch", "Bí thư", "Phó Bí thư", "Giám đốc",
    "Phó Giám đốc", "Bộ trưởng", "Thứ trưởng", "Thủ tướng", "Phó Thủ tướng", "Tổng Bí thư",
    "bác sĩ", "BS", "thầy", "cô", "đồng chí", "Đại tá", "Thượng tá", "Trung tá", "Thiếu tá",
    "Đại úy", "Trưởng phòng", "Phó trưởng phòng", "nghệ sĩ", "ca sĩ", "cầu thủ", "PGS", "TS",
    "GS", "luật sư", "nhà báo", "em", "cháu", "cụ",
)
_ORG_HEADS = (
    "Công ty", "Tập đoàn", "Ngân hàng", "Tổng công ty", "Sở", "Bộ", "Ủy ban nhân dân", "UBND",
    "Công an", "Bệnh viện", "Trường", "Đại học", "Hội", "Cục", "Chi cục", "Viện",
    "Ban quản lý", "Trung tâm", "Báo", "Đài", "Hợp tác xã", "Quỹ", "Liên đoàn", "Thanh tra",
    "Tòa án nhân dân", "Viện kiểm sát nhân dân", "Hội đồng nhân dân", "HĐND", "Đoàn",
)
_ACRONYMS = {"UBND", "HĐND", "EVN", "VNPT", "FPT", "Viettel", "VTV", "CSGT", "PCCC", "BHXH",
             "VNPost", "Vietcombank", "Agribank", "BIDV", "VietinBank", "Sacombank",
             "Vietnam Airlines", "Bộ Công an", "Mặt trận Tổ quốc"}


_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_LOWER_UNIT = {"thành", "phố", "tỉnh", "quận", "huyện", "phường", "xã"}
_TRAILING_STOP = {"về", "và", "đã", "đang", "bị", "được", "cho", "của", "với", "tại", "ở", "là",
                  "có", "không", "sẽ", "vừa", "khi", "thì", "trong", "đến", "từ", "này", "nói",
                  "thành", "phố", "tỉnh", "quận", "huyện", "phường", "xã", "cũng", "đề", "yêu"}


def _phrases(words: tuple[str, ...]) -> dict[int, set[tuple[str, ...]]]:
    out: dict[int, set[tuple[str, ...]]] = {}
    for w in words:
        parts = tuple(w.split())
        out.setdefault(len(parts), set()).add(parts)
    return out


_TITLES = _phrases(_PERSON_TITLES)
_TITLES_LOWER = {n: {tuple(p.lower() for p in ph) for ph in s} for n, s in _TITLES.items()}
_HEADS = _phrases(_ORG_HEADS)
_HEAD_FIRST = {ph[0] for group in _HEADS.values() for ph in group}
_TITLE_FIRST = {ph[0] for group in _TITLES_LOWER.values() for ph in group}


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and word[:1].isalpha()


def _match_phrase(tokens: list[str], i: int, table: dict[int, set[tuple[str, ...]]],
                  lower: bool = False) -> int:
    for n in sorted(table, reverse=True):
        window = tuple(tokens[i:i + n])
        if len(window) < n:
            continue
        if lower:
            window = tuple(w.lower() for w in window)
        if window in table[n]:
            return n
    return 0


@dataclass(frozen=True)
class Found:
    text: str
    type: str  # place | person | org
    canonical: str | None = None
    names: tuple[str, ...] = ()  # places: the place's names at every level (see PlaceMatch.names)
    area: str | None = None  # places: the former district, "Ninh Kiều (Cần Thơ)" (PlaceMatch.area)


def find_entities(text: str, gazetteer: Gazetteer) -> list[Found]:
    """Places, persons and organisations in ``text`` (each distinct surface form once)."""
    out: list[Found] = []
    seen: set[tuple[str, str]] = set()
    if text == text.lower():  # no capital letter: no person or organisation name
        for p in gazetteer.find(text):
            if ("place", p.text) not in seen:
                seen.add(("place", p.text))
                out.append(Found(p.text, "place", p.canonical, p.names, p.area))
        return out
    matches = list(_TOKEN.finditer(text))
    tokens = [m.group(0) for m in matches]
    places = gazetteer.find(text)
    place_ends = {p.end for p in places}
    place_words = {fold_words for p in places for fold_words in p.text.split()}

    def add(kind: str, name: str, canonical: str | None = None, names: tuple[str, ...] = (),
            area: str | None = None) -> None:
        if (kind, name) not in seen:
            seen.add((kind, name))
            out.append(Found(name, kind, canonical, names, area))

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok not in _HEAD_FIRST and tok not in _ACRONYMS and tok.lower() not in _TITLE_FIRST:
            i += 1
            continue
        n = _match_phrase(tokens, i, _HEADS)
        if n:
            j = i + n
            while j < len(tokens) and j - i < n + 8:
                w = tokens[j]
                nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
                if _is_cap(w) or w.isdigit() or w in _LOWER_UNIT:
                    j += 1
                elif (w.isalpha() and w.islower() and _is_cap(tokens[j - 1]) and j > i + n
                      and w not in _TRAILING_STOP and _is_cap(nxt)):
                    j += 1
                else:
                    break
                if matches[j - 1].end() in place_ends:
                    break
            while j > i + n and (tokens[j - 1] in _TRAILING_STOP):
                j -= 1
            if j > i + n:
                add("org", " ".join(tokens[i:j]))
                i = j
                continue
        if tokens[i] in _ACRONYMS:
            add("org", tokens[i])
            i += 1
            continue
        n = _match_phrase(tokens, i, _TITLES_LOWER, lower=True)
        if n:
            j = i + n
            while j < len(tokens) and j - (i + n) < 4 and _is_cap(tokens[j]):
                j += 1
            name_words = tokens[i + n:j]
            if len(name_words) >= 2 and not all(w in place_words for w in name_words):
                add("person", " ".join(name_words))
                i = j
                continue
        i += 1
    for p in places:
        add("place", p.text, p.canonical, p.names, p.area)
    return out
