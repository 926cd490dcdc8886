"""Places before and after the 2025 mergers."""

from __future__ import annotations

import pytest

from core.errors import NlpError
from nlp.gazetteer import load_gazetteer

CAN_THO = "Thành phố Cần Thơ"


@pytest.mark.parametrize("text", [
    "Mưa lớn ở Cần Thơ", "Sóc Trăng mất điện", "Hậu Giang thu hoạch lúa",
    "kẹt xe ở quận Ninh Kiều", "Vị Thanh mưa to", "ngập ở phường Cái Khế",
    "huyện Cù Lao Dung", "ngap o can tho qua", "TP Cần Thơ",
])
def test_gazetteer_can_tho_and_merged_provinces_resolve_to_new_city(text):
    places = load_gazetteer().find(text)
    assert places, text
    assert {p.canonical for p in places} == {CAN_THO}


def test_gazetteer_levels_and_spans():
    text = "Người dân Ninh Kiều, Cần Thơ và Sóc Trăng"
    places = load_gazetteer().find(text)
    assert [(p.text, p.level) for p in places] == [
        ("Ninh Kiều", "district"), ("Cần Thơ", "province"), ("Sóc Trăng", "former_province")]
    assert all(text[p.start:p.end] == p.text for p in places)


def test_gazetteer_other_mergers_and_aliases():
    g = load_gazetteer()
    assert g.find("Bình Dương")[0].canonical == "Thành phố Hồ Chí Minh"
    assert g.find("đi TP.HCM")[0].canonical == "Thành phố Hồ Chí Minh"
    assert g.find("Hà Giang")[0].canonical == "Tỉnh Tuyên Quang"
    assert g.find("Quảng Nam")[0].canonical == "Thành phố Đà Nẵng"
    assert len(g.provinces) == 34


def test_gazetteer_lowercase_common_words_are_not_wards():
    # "an bình" (peaceful) is also a ward name: lower case without a unit word is no place
    assert load_gazetteer().find("cuộc sống an bình") == []


def test_gazetteer_extra_file_and_ambiguity(tmp_path):
    extra = tmp_path / "gaz.yaml"
    extra.write_text("districts:\n  An Giang: [Châu Thành]\n", encoding="utf-8")
    g = load_gazetteer(str(extra))
    alone = g.find("Châu Thành bị ngập")
    assert alone[0].canonical is None  # Hậu Giang/Sóc Trăng (Cần Thơ) or An Giang
    decided = g.find("Châu Thành, An Giang bị ngập")
    assert decided[0].canonical == "Tỉnh An Giang"
    bad = tmp_path / "bad.yaml"
    bad.write_text("districts:\n  Atlantis: [X]\n", encoding="utf-8")
    with pytest.raises(NlpError):
        load_gazetteer(str(bad))
