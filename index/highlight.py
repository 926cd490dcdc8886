"""Highlighted snippets: the words of a text that match the query's (folded or exact) terms.

The embedded backend uses this; Elasticsearch highlights natively with the same
``<mark>`` tags. Matching is on whole words, folded like the index folds them; the words
of a phrase are marked only where they stand together, in order (as Elasticsearch's
highlighter does for a phrase query).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from functools import lru_cache

from core.text import fold

WORD = re.compile(r"\w+", re.UNICODE)
_fold_word = lru_cache(maxsize=65536)(fold)  # words repeat a lot across hits
# Latin letters (Vietnamese included), general punctuation and precomposed forms: each
# folds and lower-cases to exactly one character (İ, which lower-cases to two, excepted).
_FOLD_TABLE = {cp: fold(chr(cp)) for r in ((0, 0x130), (0x131, 0x250), (0x1E00, 0x1F00), (0x2000, 0x2070))
               for cp in range(*r) if fold(chr(cp)) != chr(cp) and len(fold(chr(cp))) == 1}
_LATIN = re.compile(r"[\u0000-\u012F\u0131-\u024F\u1E00-\u1EFF\u2000-\u206F]*")


def fold_text(text: str) -> str:
    """:func:`core.text.fold` of a whole text, through the translate table when it can."""
    if _LATIN.fullmatch(text) is not None:
        folded = text.translate(_FOLD_TABLE)
        if len(folded) == len(text):
            return folded
    return fold(text)


def match_spans(text: str, folded_terms: set[str], exact_terms: set[str],
                folded_phrases: Collection[tuple[str, ...]] = (),
                exact_phrases: Collection[tuple[str, ...]] = (),
                folded_prefixes: Collection[str] = ()) -> list[tuple[int, int]]:
    """(start, end) of the words of ``text`` equal to a folded term once folded, or to an
    exact term once lower-cased, of the runs of consecutive words equal to a phrase's
    words (folded, or lower-cased for exact phrases), one span per word, and of the words
    that start with a folded prefix once folded.

    Folding and lower-casing map each character of Vietnamese (Latin) text to one, so
    the whole text is converted once and the terms are found with one regular
    expression; other texts (decomposed marks, other scripts) are matched word by word.
    """
    spans: set[tuple[int, int]] = set()
    one_to_one = _LATIN.fullmatch(text) is not None
    fast_fold = (lambda t: t.translate(_FOLD_TABLE)) if one_to_one else fold  # noqa: E731
    for terms, convert, word in ((folded_terms, fast_fold, _fold_word), (exact_terms, str.lower, str.lower)):
        if not terms:
            continue
        converted = convert(text)
        if one_to_one and len(converted) == len(text):
            spans.update(m.span() for m in _terms_pattern(frozenset(terms)).finditer(converted))
        else:
            spans.update(m.span() for m in WORD.finditer(text) if word(m.group()) in terms)
    for phrases, word in ((folded_phrases, _fold_word), (exact_phrases, str.lower)):
        if phrases:
            spans.update(_phrase_spans(text, phrases, word))
    if folded_prefixes:
        starts = tuple(folded_prefixes)
        spans.update(m.span() for m in WORD.finditer(text) if _fold_word(m.group()).startswith(starts))
    return sorted(spans)


def _phrase_spans(text: str, phrases: Collection[tuple[str, ...]],
                  word: Callable[[str], str]) -> list[tuple[int, int]]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        if phrase:
            by_first.setdefault(phrase[0], []).append(phrase)
    words = [(m.span(), word(m.group())) for m in WORD.finditer(text)]
    out: list[tuple[int, int]] = []
    for i, (_, w) in enumerate(words):
        for phrase in by_first.get(w, ()):
            n = len(phrase)
            if i + n <= len(words) and all(words[i + k][1] == phrase[k] for k in range(1, n)):
                out.extend(words[i + k][0] for k in range(n))
    return out


@lru_cache(maxsize=256)
def _terms_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.UNICODE)


def highlight(text: str, folded_terms: set[str], exact_terms: set[str], *,
              folded_phrases: Collection[tuple[str, ...]] = (), exact_phrases: Collection[tuple[str, ...]] = (),
              folded_prefixes: Collection[str] = (), fragment_chars: int = 200,
              max_fragments: int = 2) -> list[str]:
    """Up to ``max_fragments`` HTML fragments of ``text`` with matching words in ``<mark>``
    (phrases: their words where they stand together; prefixes: the words they start)."""
    if not text or not (folded_terms or exact_terms or folded_phrases or exact_phrases or folded_prefixes):
        return []
    spans = match_spans(text, folded_terms, exact_terms, folded_phrases, exact_phrases, folded_prefixes)
    if not spans:
        return []
    fragments: list[str] = []
    i = 0
    while i < len(spans) and len(fragments) < max_fragments:
        start = max(0, spans[i][0] - fragment_chars // 4)
        # start on a word boundary
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < spans[i][0] else start
        end = min(len(text), start + fragment_chars)
        if end < len(text):
            space = text.rfind(" ", spans[i][1], end)
            end = space if space > spans[i][1] else end
        out, pos = [], start
        while i < len(spans) and spans[i][1] <= end:
            s, e = spans[i]
            out.append(html.escape(text[pos:s]))
            out.append(f"<mark>{html.escape(text[s:e])}</mark>")
            pos = e
            i += 1
        out.append(html.escape(text[pos:end]))
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        fragments.append(prefix + "".join(out).strip() + suffix)
    return fragments
