"""Text helpers every package needs: NFC, diacritic folding (đ/Đ included), and whether a
string is an IP address."""

from __future__ import annotations

import ipaddress
import unicodedata

_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form every stored text uses."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip Vietnamese diacritics, so "Cần Thơ" and "can tho" compare equal.

    Unlike a plain NFD strip, ``đ``/``Đ`` become ``d`` (they are separate letters, not
    a letter plus a combining mark).
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.lower()


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (an entity may also be a host or user name)."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False
