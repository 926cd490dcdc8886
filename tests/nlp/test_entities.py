"""Persons, organisations and places."""

from __future__ import annotations

from nlp.entities import find_entities
from nlp.gazetteer import load_gazetteer


def _by_type(text):
    out = {}
    for f in find_entities(text, load_gazetteer()):
        out.setdefault(f.type, []).append((f.text, f.canonical))
    return out


def test_entities_persons_after_titles():
    found = _by_type("Bà Lê Thị Hoa, Giám đốc Bệnh viện Đa khoa Trung ương Cần Thơ, cho biết")
    assert ("Lê Thị Hoa", None) in found["person"]
    assert ("Bệnh viện Đa khoa Trung ương Cần Thơ", None) in found["org"]
    assert ("Cần Thơ", "Thành phố Cần Thơ") in found["place"]


def test_entities_organisations_stop_at_places_and_punctuation():
    found = _by_type("UBND thành phố Cần Thơ làm việc với Sở Y tế Cần Thơ và Công ty Điện lực Cần Thơ.")
    orgs = [t for t, _ in found["org"]]
    assert orgs == ["UBND thành phố Cần Thơ", "Sở Y tế Cần Thơ", "Công ty Điện lực Cần Thơ"]


def test_entities_lowercase_text_has_places_only():
    found = _by_type("ông bà ở can tho noi ngap qua")
    assert set(found) == {"place"}
