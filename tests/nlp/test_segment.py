"""The segmenter gives exactly underthesea.word_tokenize's words, by a shorter path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from underthesea import word_tokenize

from nlp.segment import Segmenter

TEXTS = [
    "Bác sĩ bây giờ có thể thản nhiên báo tin bệnh nhân bị ung thư",
    "Sáng nay đuợc nghỉ học vì triều cường, đường Mậu Thân ngập tới đầu gối!!!",
    "ko biết j luôn á mn ơi, 20/11 này đi đâu chơi ở Cần Thơ?",
    "Liên hệ 0909 123 456 hoặc email hotro@cantho.gov.vn, xem https://cantho.gov.vn/tin-tuc",
    "Giá xăng RON95 tăng 1.250 đồng/lít từ 15h chiều nay (ngày 3-12-2026).",
    "Thuý Kiều và Hoà Bình, thúy kiều và hòa bình",
    "Đội tuyển Việt Nam thắng 2-0, quá đã 😂😂",
    "",
    "   ",
    "Ủy ban nhân dân thành phố Cần Thơ thông báo lịch tiếp công dân tháng 12.",
]


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


def test_segmenter_takes_the_direct_path_here(segmenter):
    assert segmenter._fast is not None  # the installed underthesea is the one it was checked on


@pytest.mark.parametrize("text", TEXTS)
def test_segmenter_words_equal_word_tokenize(segmenter, text):
    assert segmenter(text) == word_tokenize(text)


def test_segmenter_normalises_spelling_like_word_tokenize(segmenter):
    assert "được" in segmenter("hôm nay đuợc nghỉ")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxy àáảãạằắẳẵặầấẩẫậ"
                                              "èéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
                                              "ĐÁÀ0123456789.,!?-/:@#😀\n")), max_size=80))
def test_segmenter_equals_word_tokenize_on_any_text(segmenter, text):
    assert segmenter(text) == word_tokenize(text)


def test_segmenter_falls_back_when_underthesea_changes(segmenter, monkeypatch, caplog):
    import sys

    tn = sys.modules["underthesea.pipeline.text_normalize.token_normalize"]
    # another version whose pieces no longer add up to word_tokenize
    monkeypatch.setattr(tn, "token_normalize", lambda token, **_: token.upper())
    other = Segmenter()
    assert other._fast is None and "falls back" in caplog.text
    assert other("Cần Thơ mưa to") == word_tokenize("Cần Thơ mưa to")
