"""Normalisation of social-media Vietnamese."""

from __future__ import annotations

from nlp.normalize import fix_tone_placement, load_teencode, normalize_text


def test_normalize_tone_marks_follow_one_convention():
    assert fix_tone_placement("hoà") == "hòa"
    assert fix_tone_placement("thuý") == "thúy"
    assert fix_tone_placement("khoẻ") == "khỏe"
    assert fix_tone_placement("quý") == "quý"  # qu + y keeps its tone on y
    assert fix_tone_placement("hoàn") == "hoàn"  # closed syllable: both conventions agree
    assert normalize_text("Hoà bình, THUÝ")[0] == "Hòa bình, THÚY"


def test_normalize_teencode_is_expanded_as_whole_words():
    text, flags = normalize_text("ko đc j đâu mn ơi, k bít nữa")
    assert text == "không được gì đâu mọi người ơi, không biết nữa"
    assert flags == []
    # a teencode key inside a longer word is left alone
    assert normalize_text("kong")[0] == "kong"


def test_normalize_repeats_and_emoji_become_tokens():
    text, _ = normalize_text("đẹpppp quáaaa!!!! 😂😂 :)) <3")
    assert text.startswith("đẹp quá!")
    assert text.count("emo_laugh") == 3
    assert "emo_love" in text
    assert "1000000" in normalize_text("giá 1000000 đồng")[0]  # digits are never squeezed


def test_normalize_keeps_urls_mentions_and_hashtags():
    raw = "xem https://vnexpress.net/ngap-ko-j.html nha @Tuan_99 #CanTho ko"
    text, _ = normalize_text(raw)
    assert "https://vnexpress.net/ngap-ko-j.html" in text
    assert "@Tuan_99" in text and "#CanTho" in text
    assert text.endswith("không")


def test_normalize_bad_input_gets_flags():
    assert normalize_text("") == ("", ["empty"])
    assert normalize_text(" \t\n ") == ("", ["empty"])
    text, flags = normalize_text("a\x00b\x07c\u200bd")
    assert text == "a b c d" and flags == ["control_chars_removed"]
    text, flags = normalize_text("xin\ud800 chào")
    assert "invalid_unicode" in flags and text == "xin chào"
    text, flags = normalize_text("a" * 5000, max_chars=100)
    assert "truncated" in flags and len(text) <= 100


def test_normalize_extra_teencode_file_wins(tmp_path):
    extra = tmp_path / "teen.yaml"
    extra.write_text("ko: hổng\nqtv: quản trị viên\n", encoding="utf-8")
    table = load_teencode(str(extra))
    assert normalize_text("ko biết qtv", teencode=table)[0] == "hổng biết quản trị viên"
