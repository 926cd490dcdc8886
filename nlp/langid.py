"""Offline language identification tuned for short and undiacritised Vietnamese.

Non-Latin scripts are named by their script (zh, ja, ko, ru, th, km, lo, ar, hi...).
Latin text is scored on three signals: Vietnamese-only letters (ă â đ ê ô ơ ư and tone
marks), the share of words that are well-formed Vietnamese syllables, and hits in small
lists of Vietnamese and English function words (compared without diacritics, so
"khong biet lam sao" is Vietnamese). Returns ``"und"`` when there is nothing to judge.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nlp.textfold import fast_fold as fold

_VI_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯ")
# Latin letters specific to Vietnamese: ă â đ ê ô ơ ư and every vowel carrying a tone mark.
_VI_SPECIFIC = re.compile("[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụ"
                          "ừứửữựỳýỷỹỵÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ]")
# Text made only of ASCII, Latin-1, Latin Extended-A/B, Vietnamese letters, punctuation and emoji.
_LATIN_ONLY = re.compile("^[\x00-\u024f\u0300-\u036f\u1e00-\u1eff\u2000-\u2bff"
                         "\U0001f000-\U0001faff\ufe0f\u200d]*$")
# Letters found in Vietnamese and (practically) nowhere else: ă đ ơ ư and the dot-below,
# hook-above and circumflex/breve+tone combinations.
_VI_ONLY = re.compile("[ăđơưĂĐƠƯạảãắằẳẵặấầẩẫậẹẻẽếềểễệỉĩịọỏốồổỗộớờởỡợụủũứừửữựỳỵỷỹ"
                      "ẠẢÃẮẰẲẴẶẤẦẨẪẬẸẺẼẾỀỂỄỆỈĨỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦŨỨỪỬỮỰỲỴỶỸ]")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnprstvx])?"
    r"(?:[aeiouy]{1,3})(?:ng|nh|ch|[cmnpt])?$"
)
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
_VI_FUNCTION = set(
    "khong la cua va co duoc nguoi nay cho voi cac nhung mot trong de da thi ma rat qua di ve "
    "den nha minh ban em anh chi oi roi gi sao nhe lam biet noi the nao dang se cung con chua "
    "vay day do nhieu it hay toi chung ta ho bi vi neu khi luc nam ngay thang sau truoc tai "
    "tren duoi ra vao len xuong moi them nua ai dau giup xin cam on ko dc mn".split()
)
_EN_FUNCTION = set(
    "the and is are was were of to in for that with this you your be have has had not it on "
    "at by from as or but what which who will would can could should there their they we "
    "our an a i he she his her them been being do does did so if about into than then".split()
)
# French, Spanish, German, Indonesian function words: Latin text that is neither vi nor en.
_OTHER_FUNCTION = set(
    "le les des et est une du que qui pour dans pas sur avec très je il elle nous vous "
    "el los las y es por para con una del que der die das und ist nicht mit ein eine "
    "dan yang di ini itu dengan untuk tidak ada".split()
) - _VI_FUNCTION
_SCRIPTS = [  # (prefix of the Unicode character name, language code)
    ("CJK", "zh"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("HANGUL", "ko"),
    ("CYRILLIC", "ru"), ("THAI", "th"), ("KHMER", "km"), ("LAO", "lo"), ("ARABIC", "ar"),
    ("DEVANAGARI", "hi"), ("GREEK", "el"), ("HEBREW", "he"), ("MYANMAR", "my"),
]


@lru_cache(maxsize=100_000)
def _is_syllable(word: str) -> bool:
    return _SYLLABLE.match(word) is not None


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language, a 0-1 confidence and whether several scripts were mixed."""

    language: str
    confidence: float
    mixed_script: bool = False


def _script(ch: str) -> str:
    if ch.isascii():
        return "latin"
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "other"
    if "LATIN" in name:
        return "latin"
    for prefix, code in _SCRIPTS:
        if name.startswith(prefix):
            return code
    return "other"


def detect_language(text: str, *, sample_chars: int = 2000) -> LanguageGuess:
    """Guess the language of ``text`` (only the first ``sample_chars`` characters are read)."""
    sample = text[:sample_chars]
    if _LATIN_ONLY.match(sample):
        letters = _LETTERS.findall(sample)
        if not letters:
            return LanguageGuess("und", 0.0)
        scripts = {"latin": len(letters)}
    else:
        letters = [ch for ch in sample if ch.isalpha()]
        if not letters:
            return LanguageGuess("und", 0.0)
        scripts = {}
        for ch in letters:
            key = _script(ch)
            scripts[key] = scripts.get(key, 0) + 1
    main, main_count = max(scripts.items(), key=lambda kv: kv[1])
    mixed = len([k for k, v in scripts.items() if v >= max(3, 0.1 * len(letters))]) > 1
    if main != "latin":
        if main == "zh" and ("ja" in scripts):
            main = "ja"
        return LanguageGuess(main if main != "other" else "und",
                             round(main_count / len(letters), 3), mixed)
    if not mixed and len(_VI_ONLY.findall(sample)) >= max(2, 0.04 * main_count):
        return LanguageGuess("vi", 1.0, mixed)  # letters no other Latin orthography uses
    words = _WORDS.findall(sample) if main_count == len(letters) else \
        [w for w in _WORDS.findall(sample) if w.isascii() or _script(w[0]) == "latin"]
    if not words:
        return LanguageGuess("und", 0.0, mixed)
    vi_letters = len(_VI_ONLY.findall(sample))
    folded = fold(" ".join(words)).split()
    syllables = sum(1 for w in folded if _is_syllable(w))
    vi_hits = sum(1 for w in folded if w in _VI_FUNCTION)
    lowered = [w.lower() for w in words]
    en_hits = sum(1 for w in lowered if w in _EN_FUNCTION)
    other_hits = sum(1 for w in lowered if w in _OTHER_FUNCTION)
    if other_hits > max(vi_hits, en_hits) and vi_letters == 0:
        return LanguageGuess("und", round(min(1.0, 0.5 + other_hits / len(words)), 3), mixed)
    n = len(words)
    syllable_share = syllables / n
    diacritic_share = vi_letters / max(1, main_count)
    score = 0.0
    if diacritic_share >= 0.02:
        score += 0.5 + min(0.3, diacritic_share)
    score += 0.4 * syllable_share
    score += 0.6 * (vi_hits - en_hits) / n
    if diacritic_share >= 0.08 and syllable_share >= 0.6:
        return LanguageGuess("vi", round(min(1.0, score), 3), mixed)
    if score >= 0.45 and vi_hits >= en_hits:
        return LanguageGuess("vi", round(min(1.0, score), 3), mixed)
    if en_hits > 0 and en_hits >= vi_hits:
        return LanguageGuess("en", round(min(1.0, 0.5 + en_hits / n), 3), mixed)
    return LanguageGuess("und", round(max(0.0, 1.0 - score), 3), mixed)


_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}


def _has_tone(ch: str) -> bool:
    return any(c in _TONE_MARKS for c in unicodedata.normalize("NFD", ch))
