"""A fast diacritic fold for NFC text: one ``str.translate`` instead of NFD and a filter.

Gives the same result as :func:`core.text.fold` on NFC Vietnamese text (đ included).
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.text import fold as _slow_fold

_WORD = re.compile(r"\w+", re.UNICODE)


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x00C0, 0x1F00):
        ch = chr(cp)
        folded = _slow_fold(ch)
        if folded != ch.lower() or ch != ch.lower():
            table[cp] = folded
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = chr(cp).lower()
    return table


_TABLE = _table()


def fast_fold(text: str) -> str:
    """Lower-case and strip diacritics (NFC input)."""
    return text.translate(_TABLE)


@lru_cache(maxsize=512)
def words_of(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(words, lower-cased words, folded words)`` of ``text`` (``\\w+`` runs).

    Cached for the last few hundred texts: the topic rules, the gazetteer and the
    entity finder all look at the same batch of texts.
    """
    words = tuple(_WORD.findall(text))
    low = text.lower()
    lows = tuple(_WORD.findall(low))
    folds = tuple(_WORD.findall(fast_fold(low)))
    if not len(words) == len(lows) == len(folds):  # exotic characters: per word instead
        lows = tuple(w.lower() for w in words)
        folds = tuple(fast_fold(w) for w in lows)
    return words, lows, folds
