"""Highlighted snippets: the words of a text that match the query's (folded or exact) terms.

The embedded backend uses this; Elasticsearch highlights natively with the same
``<mark>`` tags. Matching is on whole words, folded like the index folds them.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from core.text import fold

WORD = re.compile(r"\w+", re.UNICODE)
_fold_word = lru_cache(maxsize=65536)(fold)  # words repeat a lot across hits


def highlight(text: str, folded_terms: set[str], exact_terms: set[str], *,
              fragment_chars: int = 200, max_fragments: int = 2) -> list[str]:
    """Up to ``max_fragments`` HTML fragments of ``text`` with matching words in ``<mark>``."""
    if not text or not (folded_terms or exact_terms):
        return []
    spans = [
        (m.start(), m.end()) for m in WORD.finditer(text)
        if _fold_word(m.group()) in folded_terms or m.group().lower() in exact_terms
    ]
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
