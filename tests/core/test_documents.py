"""Documents: deterministic ids, NFC text, folding, validation naming the field."""

from __future__ import annotations

import unicodedata

import pytest

from core.documents import Alert, Post, Severity
from core.errors import ValidationFailed
from core.ids import canonical_url, post_id
from core.text import fold


def test_ids_canonical_url_drops_tracking_and_fragments():
    a = canonical_url("HTTPS://VnExpress.net:443/tin-moi/?utm_source=fb&b=2&a=1#binh-luan")
    b = canonical_url("https://vnexpress.net/tin-moi?a=1&b=2&fbclid=XYZ")
    assert a == b == "https://vnexpress.net/tin-moi?a=1&b=2"


def test_ids_post_id_is_deterministic_per_platform():
    assert post_id("facebook", native_id="123") == post_id("facebook", native_id="123")
    assert post_id("facebook", native_id="123") != post_id("youtube", native_id="123")
    with pytest.raises(ValueError):
        post_id("news")


def test_text_fold_handles_d_stroke_and_every_tone():
    assert fold("Đà Nẵng") == "da nang"
    assert fold("CẦN THƠ, Huế, Quảng Ngãi") == "can tho, hue, quang ngai"
    assert fold(unicodedata.normalize("NFD", "Cần Thơ")) == "can tho"


def test_documents_post_text_is_nfc_and_dates_are_aware():
    decomposed = unicodedata.normalize("NFD", "Cần Thơ mưa lớn")
    post = Post.new(platform="news", source="s", url="https://a.vn/x", text=decomposed,
                    published_at="2026-11-20T08:00:00")
    assert post.text == "Cần Thơ mưa lớn"
    assert post.published_at.tzinfo is not None
    assert Post.from_doc(post.to_doc()) == post


def test_documents_invalid_post_names_id_and_field():
    with pytest.raises(ValidationFailed) as err:
        Post.from_doc({"id": "p1", "source": "s", "platform": "news", "engagement": {"likes": -3}})
    assert err.value.doc_id == "p1" and err.value.field == "engagement.likes"


def test_documents_alert_serialises_to_ecs_names():
    alert = Alert(id="a1", rule_name="port_scan", source_ip="198.51.100.7", destination_port=22,
                  threat_technique_id="T1046", risk_score=72)
    doc = alert.to_doc()
    assert doc["rule.name"] == "port_scan" and doc["source.ip"] == "198.51.100.7"
    assert doc["destination.port"] == 22 and "@timestamp" in doc
    assert doc["first_seen"] == doc["last_seen"] == doc["@timestamp"]
    assert Alert.from_doc(doc).source_ip == "198.51.100.7"
    assert Severity.from_score(72) == Severity.HIGH and Severity.CRITICAL.rank > Severity.HIGH.rank
    assert Alert.make_id("port_scan", "198.51.100.7", "2026-11-21T02") == \
        Alert.make_id("port_scan", "198.51.100.7", "2026-11-21T02")
