"""Highlighting: the one-pass matcher finds exactly the words the word-by-word rule finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import fold
from index.highlight import WORD, fold_text, highlight, match_spans

WORDS = ["Cần", "Thơ", "cần", "thơ", "can", "tho", "ngập", "NGẬP", "ngap", "Đà", "Nẵng", "da", "nang", "Huế",
         "hue", "Huê", "đường", "duong", "x_1", "2026", "Ǆemal", "가나", "e\u0301"]
SEPARATORS = [" ", ", ", ". ", "-", "…", "\n", "(", ")", "\"", "/"]


def _reference(text: str, folded: set[str], exact: set[str]) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in WORD.finditer(text)
            if fold(m.group()) in folded or m.group().lower() in exact]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30),
       st.sets(st.sampled_from(["can", "tho", "ngap", "da", "nang", "hue", "duong", "x_1", "2026", "e"]), max_size=4),
       st.sets(st.sampled_from(["huế", "cần", "ngập", "đường", "가나"]), max_size=2))
def test_one_pass_matches_the_word_by_word_rule(parts, folded, exact):
    text = "".join(w + s for w, s in parts)
    assert match_spans(text, folded, exact) == _reference(text, folded, exact)


def test_highlight_marks_folded_and_exact_words():
    text = "Người dân Cần Thơ phản ánh đường ngập; ở Huế thì không."
    assert highlight(text, {"can", "tho"}, set()) == [
        "Người dân <mark>Cần</mark> <mark>Thơ</mark> phản ánh đường ngập; ở Huế thì không."]
    assert highlight(text, set(), {"huế"}) == ["Người dân Cần Thơ phản ánh đường ngập; ở <mark>Huế</mark> thì không."]
    assert highlight(text, {"hu"}, set()) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30))
def test_fold_text_gives_the_words_fold_gives(parts):
    text = "".join(w + s for w, s in parts)
    assert WORD.findall(fold_text(text)) == WORD.findall(fold(text))
