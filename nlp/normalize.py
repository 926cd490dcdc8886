"""Normalisation of social-media Vietnamese: Unicode, tone marks, teencode, repeats, emoji.

:func:`normalize_text` returns the normalised text and the flags it raised. URLs,
e-mail addresses, @mentions and #hashtags pass through untouched; everything else is
cleaned. The original text is never modified (the stage writes ``text_normalized``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from core.errors import NlpError
from core.yamlfile import read_yaml

# Tone marks as combining characters (NFD): grave, acute, hook above, tilde, dot below.
_TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}

# Spans that are kept as they are.
_PROTECTED = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+)"
    r"|(?P<email>[\w.+-]+@[\w-]+\.[\w.-]+)"
    r"|(?P<mention>(?<!\w)@\w[\w.]*)"
    r"|(?P<hashtag>(?<!\w)#\w+)",
    re.UNICODE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
# three or more of the same letter, or of the same punctuation mark
_REPEAT = re.compile(r"([^\W\d_]|[!?.,~\-=*])\1{2,}", re.UNICODE)
_HIGH = re.compile("[\u2000-\U0010ffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_NEWLINES = re.compile(r"\n{3,}")

# Emoticons (ASCII) and emoji, mapped to tokens the classifiers can learn from.
_EMOTICONS = re.compile(
    r"(?P<emo_laugh>(?<!\w)(?:=\)\)+|:\)\)+|:D+\b|xD+\b|=D+\b|haha(?:ha)*\b|hihi(?:hi)*\b|kk+k\b))"
    r"|(?P<emo_smile>(?<![\w:])(?::\)|:-\)|=\)|\^\^|\^_\^)(?!\)))"
    r"|(?P<emo_sad>(?<![\w:])(?::\(+|:-\(|=\(|:'\(|T_T|ToT))"
    r"|(?P<emo_love><3+)"
    r"|(?P<emo_annoyed>(?<!\w)(?:-_-|=\.=|-\.-))",
    re.I,
)
_EMOTICON_HINT = re.compile(r"[:=][-)(dD']|<3|\^_?\^|[-=]\.?[-=_]|[tT]_[tT]|ToT|haha|hihi|kkk|xD",
                            re.I)
_EMOJI_GROUPS: dict[str, str] = {
    "emo_laugh": "😂🤣😆😁😄😃😀😹",
    "emo_smile": "🙂😊☺😌😉😇🥰😍😘😗😙😚🤗",
    "emo_love": "❤💕💖💗💓💞💘💝♥😻🫶",
    "emo_like": "👍👏🙌💯✅👌🎉🔥",
    "emo_sad": "😢😭😞😔😟🙁☹😿💔😥😓",
    "emo_angry": "😡😠🤬👿💢😤🖕",
    "emo_dislike": "👎🤮🤢💩",
    "emo_fear": "😱😨😰😧🙀",
    "emo_surprise": "😮😯😲🤯😳",
    "emo_pray": "🙏",
}
_EMOJI_TOKEN = {ch: tok for tok, chars in _EMOJI_GROUPS.items() for ch in chars}


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F300 <= cp <= 0x1FAFF) or (0x2600 <= cp <= 0x27BF) or (0x1F000 <= cp <= 0x1F2FF)


@lru_cache(maxsize=8)
def load_teencode(extra_file: str | None = None) -> Teencode:
    """The teencode dictionary: the bundled list, then ``extra_file`` (its entries win)."""
    text = resources.files("nlp").joinpath("data/teencode.yaml").read_text(encoding="utf-8")
    table = {str(k).lower(): str(v) for k, v in (yaml.safe_load(text) or {}).items()}
    if extra_file:
        path = Path(extra_file)
        if not path.is_file():
            raise NlpError(f"teencode file {path} does not exist",
                           hint="fix nlp.teencode_file or remove it to use the bundled list")
        extra = read_yaml(path, what="cannot read teencode file", error=NlpError,
                          hint="it must be a YAML mapping of token: expansion")
        if not isinstance(extra, dict):
            raise NlpError("teencode file must be a mapping of token: expansion", where=str(path))
        table.update({str(k).lower(): str(v) for k, v in extra.items()})
    return Teencode(table)


@lru_cache(maxsize=50_000)
def fix_tone_placement(word: str) -> str:
    """Put the tone mark of open ``oa``/``oe``/``uy`` syllables on the first vowel: hoà→hòa, thuý→thúy.

    ``qu`` + ``y`` keeps its tone on ``y`` (quý), and syllables with a final consonant
    (hoàn, khuyến) are left alone: both conventions agree there.
    """
    decomposed = unicodedata.normalize("NFD", word)
    tone = next((ch for ch in decomposed if ch in _TONES), None)
    if tone is None:
        return word
    base = "".join(ch for ch in decomposed if ch not in _TONES)
    base_nfc = unicodedata.normalize("NFC", base)
    low = base_nfc.lower()
    for pair in ("oa", "oe", "uy"):
        if low.endswith(pair) and len(low) >= 2:
            if pair == "uy" and low.endswith("quy"):
                return word
            idx = len(base_nfc) - 2
            # only when the tone currently sits on the second vowel
            placed = base_nfc[:idx] + base_nfc[idx] + base_nfc[idx + 1] + tone
            if unicodedata.normalize("NFC", placed) != unicodedata.normalize("NFC", word):
                return word
            moved = base_nfc[:idx + 1] + tone + base_nfc[idx + 1:]
            return unicodedata.normalize("NFC", moved)
    return word


_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")


def clean_characters(text: str) -> tuple[str, list[str]]:
    """Drop control characters and lone surrogates; return the text and the flags raised."""
    flags: list[str] = []
    if not _SUSPECT.search(text):
        return text, flags
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
        flags.append("invalid_unicode")
    cleaned = []
    removed = False
    for ch in text:
        if ch in "\n\t":
            cleaned.append(ch)
        elif ch == "\r":
            cleaned.append("\n")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            removed = True
            cleaned.append(" ")
        else:
            cleaned.append(ch)
    if removed:
        flags.append("control_chars_removed")
    return "".join(cleaned), flags


def _drop_echo(word: str) -> str:
    """Drop trailing plain vowels that echo the marked vowel before them (quáa -> quá)."""
    while len(word) >= 2 and word[-1] in "aeiouyAEIOUY":
        prev = word[-2]
        base = unicodedata.normalize("NFD", prev.lower())[0]
        if base == word[-1].lower() and prev.lower() != word[-1].lower():
            word = word[:-1]
        else:
            break
    return word


def _normalize_plain(segment: str, teencode: Teencode) -> str:
    """Normalise a span that holds no URL, mention or hashtag."""
    if _EMOTICON_HINT.search(segment):
        segment = _EMOTICONS.sub(lambda m: f" {m.lastgroup} ", segment)
    if _HIGH.search(segment):
        segment = "".join(
            f" {_EMOJI_TOKEN.get(ch, 'emo_other')} " if (ch in _EMOJI_TOKEN or _is_emoji(ch))
            else ("" if ch in "\ufe0f\u200d" else ch)
            for ch in segment
        )
    segment = _REPEAT.sub(r"\1", segment)
    return _WORD.sub(teencode.word, segment)


class Teencode:
    """A teencode table plus a per-word cache of every word-level fix (expansion, tone, echo)."""

    _CACHE_LIMIT = 200_000

    def __init__(self, table: dict[str, str]):
        self.table = {k.lower(): v for k, v in table.items() if k and not k.startswith("emo_")}
        self._cache: dict[str, str] = {}

    def fix(self, word: str) -> str:
        """The normalised form of one word."""
        expansion = self.table.get(word.lower())
        if expansion is not None:
            return expansion
        if word[-1:] in "aeiouyAEIOUY":
            word = _drop_echo(word)
        return fix_tone_placement(word)

    def word(self, match: re.Match[str]) -> str:
        token = match.group(0)
        out = self._cache.get(token)
        if out is None:
            out = self.fix(token)
            if len(self._cache) > self._CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = out
        return out

    def expand(self, text: str) -> str:
        return _WORD.sub(self.word, text)


def normalize_text(text: str, *, teencode: Teencode | dict[str, str] | None = None,
                   max_chars: int | None = None) -> tuple[str, list[str]]:
    """Normalise ``text`` for analysis; return ``(normalised, flags)``.

    Flags: ``truncated`` (longer than ``max_chars``), ``control_chars_removed``,
    ``invalid_unicode`` (lone surrogates dropped), ``empty`` (nothing left).
    """
    if teencode is None:
        table = load_teencode()
    elif isinstance(teencode, Teencode):
        table = teencode
    else:
        table = Teencode(teencode)
    flags: list[str] = []
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
        flags.append("truncated")
    text, char_flags = clean_characters(text)
    flags.extend(char_flags)
    text = unicodedata.normalize("NFC", text)
    parts: list[str] = []
    last = 0
    protected = _PROTECTED.finditer(text) if ("@" in text or "#" in text or "http" in text
                                                or "www." in text) else ()
    for match in protected:
        parts.append(_normalize_plain(text[last:match.start()], table))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_normalize_plain(text[last:], table))
    out = "".join(parts)
    if "\n" in out:
        out = "\n".join(" ".join(line.split()) for line in out.split("\n"))
        out = _NEWLINES.sub("\n\n", out).strip()
    else:
        out = " ".join(out.split())
    if not out:
        flags.append("empty")
    return out, flags
