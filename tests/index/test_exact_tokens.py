"""The Python tokenizer of exact checks agrees with the ``vi_exact`` analyser it stands in for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.embedded import _analyzers, exact_tokens

ANALYZER = _analyzers()["vi_exact"]
# Vietnamese letters in both cases, ASCII, digits, marks Python and Rust might class
# differently (², ½, ª, µ, İ, ZWJ, underscore), punctuation, and a few non-Latin characters
# that must send the text to the analyser.
ALPHABET = ("aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợ"
            "ùúủũụừứửữựỳýỷỹỵAĂÂĐÊÔƠƯÀÁẢÃẠẾỆỌỨỰ0123456789²½ªµİ_ \u200d.,;:!?\"'()-–—…/\n"
            "😀한字")

TEXTS = ["Huế đón khách", "Cần Thơ: ngập sâu 0,5m sau mưa!", "HUẾ, huệ, Huê và hue", "snake_case_word x²",
         "İstanbul", "a" * 39 + " " + "b" * 40 + " " + "ế" * 20, "Khách sạn 5★ ở Đà Nẵng 😀"]


def test_exact_tokens_match_the_analyser_on_chosen_texts():
    for text in TEXTS:
        assert exact_tokens(text, ANALYZER) == ANALYZER.analyze(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=120))
def test_exact_tokens_match_the_analyser_on_generated_texts(text):
    assert exact_tokens(text, ANALYZER) == ANALYZER.analyze(text)


def test_raw_values_are_read_from_the_stored_json_without_parsing_it():
    from core.documents import Alert, Post
    from index.embedded import MODELS, _flat_strings, _raw_value

    post = Post.new(platform="news", source="baocantho", url="https://baocantho.com.vn/a.html",
                    title='Người dân nói "ngập quá" \\ tuyến đường "title":"x"', text="Dòng 1\nDòng 2\t😀")
    raw = Post.__pydantic_serializer__.to_json(post, by_alias=True).decode()
    assert {"title", "text", "id"} <= _flat_strings(MODELS["posts"])
    assert _raw_value(raw, "title") == post.title and _raw_value(raw, "text") == post.text
    assert _raw_value(raw, "id") == post.id and _raw_value(raw, "text_normalized") is None
    assert "evidence" not in _flat_strings(MODELS["alerts"])  # a list: parsed, not read raw
    assert "author" not in _flat_strings(Post) and "places" not in _flat_strings(Alert)
