"""A fast diacritic fold for NFC text: one ``str.translate`` instead of NFD and a filter.

Gives the same result as :func:`core.text.fold` on NFC Vietnamese text (đ included).
"""

from __future__ import annotations

from core.text import fold as _slow_fold


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
