"""Decoding (UTF-8, Windows-1258, wrong or missing charsets), dates and article extraction."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.demo_site.generator import to_cp1258
from crawlers.extraction import decode_body, extract_article, parse_date
from crawlers.sources import Extract
from tests.crawlers.conftest import DATA

VN = timezone(timedelta(hours=7))
TEXT = "Người dân phường Hưng Phú được khuyến cáo trữ nước; Đà Nẵng, Cần Thơ, Quảng Ngãi."


def test_extraction_decodes_utf8_and_windows_1258_to_nfc():
    legacy = to_cp1258(TEXT)
    assert legacy != TEXT.encode("utf-8")
    for body, ctype in [(TEXT.encode("utf-8"), "text/html; charset=utf-8"),
                        (legacy, "text/html; charset=windows-1258"),
                        (legacy, None),  # no declaration at all
                        (b'<meta charset="windows-1258">' + legacy, None)]:
        decoded = decode_body(body, ctype)
        assert TEXT in decoded.text
        assert unicodedata.is_normalized("NFC", decoded.text)


def test_extraction_wrong_declared_charset_is_overridden_by_valid_utf8():
    decoded = decode_body(TEXT.encode("utf-8"), "text/html; charset=iso-8859-1")
    assert decoded.text == TEXT and decoded.encoding == "utf-8" and "charset_mismatch" in decoded.flags
    decoded = decode_body(to_cp1258(TEXT), "text/html; charset=utf-8")  # says UTF-8, is not
    assert decoded.text == TEXT and decoded.encoding == "cp1258" and "charset_mismatch" in decoded.flags


def test_extraction_utf8_bom_and_nfd_input_become_nfc():
    nfd = unicodedata.normalize("NFD", TEXT)
    decoded = decode_body(b"\xef\xbb\xbf" + nfd.encode("utf-8"), None)
    assert decoded.text == TEXT


@pytest.mark.parametrize(("raw", "expected"), [
    ("2025-11-17T16:45:00+07:00", datetime(2025, 11, 17, 16, 45, tzinfo=VN)),
    ("2025-11-17T09:45:00Z", datetime(2025, 11, 17, 9, 45, tzinfo=UTC)),
    ("2025-11-17T08:30:00+0000", datetime(2025, 11, 17, 8, 30, tzinfo=UTC)),
    ("Mon, 17 Nov 2025 09:45:00 GMT", datetime(2025, 11, 17, 9, 45, tzinfo=UTC)),
    ("Thứ hai, 17/11/2025, 16:45 (GMT+7)", datetime(2025, 11, 17, 16, 45, tzinfo=VN)),
    ("Cập nhật: 19/11/2025 14:30", datetime(2025, 11, 19, 14, 30, tzinfo=VN)),
    ("16:45 17/11/2025", datetime(2025, 11, 17, 16, 45, tzinfo=VN)),
    ("17-11-2025", datetime(2025, 11, 17, tzinfo=VN)),
    ("1763373600", datetime(2025, 11, 17, 10, 0, tzinfo=UTC)),
    ("không phải ngày", None), ("31/02/2025", None), ("", None),
])
def test_extraction_parse_date_formats(raw, expected):
    assert parse_date(raw) == expected


def test_extraction_article_fields_and_comments_stay_out():
    html = (DATA / "site" / "article_utf8.html").read_text(encoding="utf-8")
    art = extract_article(html, "http://127.0.0.1/tin/a.html")
    assert art.title == "Nước ngập sâu trên đường Mậu Thân sau cơn mưa chiều"
    assert art.author == "Thanh Trúc"
    assert art.published_at == datetime(2025, 11, 17, 16, 45, tzinfo=VN) and art.date_precise
    assert art.text.count("\n") == 3  # four paragraphs
    assert "BÌNH LUẬN" not in art.text and "Trang chủ" not in art.text


def test_extraction_selector_overrides_win_over_generic_extraction():
    raw = (DATA / "site" / "legacy_portal.cp1258.html").read_bytes()
    html = decode_body(raw, "text/html; charset=windows-1258").text
    overrides = Extract(title="h2.title", body="div.news-content", date="div.news-date",
                        remove=["div.other-news"])
    art = extract_article(html, "http://127.0.0.1/p", overrides)
    assert art.title == "Thông báo về việc tạm ngưng cấp nước để sửa chữa đường ống"
    assert art.published_at == datetime(2025, 11, 19, 14, 30, tzinfo=VN)
    assert art.text.splitlines()[0].startswith("Công ty Cấp thoát nước Cần Thơ thông báo")
    assert "Tin khác" not in art.text and "Lịch cúp điện" not in art.text
    xpath = extract_article(html, "http://127.0.0.1/p", Extract(body="//div[@class='news-content']/p[1]"))
    assert xpath.text.startswith("Công ty Cấp thoát nước") and "\n" not in xpath.text


def test_extraction_empty_or_garbage_page_is_flagged():
    assert "no_body" in extract_article("<html><head><title></title></head><body><div></div></body></html>", "http://x/").flags
    assert "unparseable" in extract_article("", "http://x/").flags
