"""Offline language identification."""

from __future__ import annotations

import pytest

from nlp.langid import detect_language


@pytest.mark.parametrize("text", ["Hà Nội mưa to", "kẹt xe quá", "khong biet lam sao ca",
                                  "mn oi cuu voi", "ngap het roi"])
def test_langid_short_and_undiacritised_vietnamese(text):
    assert detect_language(text).language == "vi"


@pytest.mark.parametrize(("text", "code"), [
    ("The city council met on Monday to discuss the budget", "en"),
    ("这是一个中文句子", "zh"),
    ("Привет, как дела?", "ru"),
    ("สวัสดีครับ", "th"),
    ("Le café est très bon et la salle est pleine", "und"),
])
def test_langid_other_languages_are_named(text, code):
    assert detect_language(text).language == code


def test_langid_nothing_to_judge_is_und():
    assert detect_language("").language == "und"
    assert detect_language("12345 !!! ...").language == "und"


def test_langid_mixed_script_is_reported():
    guess = detect_language("Cần Thơ hôm nay rất đẹp 今天的芹苴很漂亮")
    assert guess.mixed_script
