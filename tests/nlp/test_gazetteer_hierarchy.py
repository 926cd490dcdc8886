"""The gazetteer as a hierarchy: wards and communes before and after the 2025 mergers, under
their former district and province, every name of a place kept for search."""

from __future__ import annotations

import pytest

from core.errors import NlpError
from nlp.gazetteer import load_gazetteer

CAN_THO = "Thành phố Cần Thơ"


@pytest.mark.parametrize(("text", "level", "names"), [
    # a ward before 2025, merged into phường Ninh Kiều (Thông báo 864/TB-SNV)
    ("ngập ở phường Xuân Khánh", "former_ward", ("Xuân Khánh", "Ninh Kiều", "Cần Thơ", CAN_THO)),
    # merged into phường Cái Khế, in the former quận Ninh Kiều
    ("P. An Hòa mất điện", "former_ward", ("An Hòa", "Cái Khế", "Ninh Kiều", "Cần Thơ", CAN_THO)),
    # a ward after 2025
    ("ngập ở phường Cái Khế", "ward", ("Cái Khế", "Ninh Kiều", "Cần Thơ", CAN_THO)),
    ("phường Hưng Phú", "ward", ("Hưng Phú", "Cái Răng", "Cần Thơ", CAN_THO)),
    # a district before 2025 (and a ward of the same name after)
    ("kẹt xe ở quận Ninh Kiều", "district", ("Ninh Kiều", "Cần Thơ", CAN_THO)),
    ("Vị Thanh mưa to", "district", ("Vị Thanh", "Hậu Giang", CAN_THO)),
    ("Sóc Trăng mất điện", "former_province", ("Sóc Trăng", CAN_THO)),
])
def test_gazetteer_places_know_the_units_they_lie_in(text, level, names):
    (place,) = load_gazetteer().find(text)
    assert place.level == level and place.canonical == CAN_THO
    assert place.names == names


def test_gazetteer_former_and_new_names_of_one_area_share_its_district():
    g = load_gazetteer()
    old, new, district = (g.find(t)[0] for t in ("phường Thới Bình", "phường Ninh Kiều", "quận Ninh Kiều"))
    assert old.district == new.district == district.district == "Ninh Kiều"
    assert old.area == new.area == district.area == "Ninh Kiều (Cần Thơ)"
    assert g.find("phường Long Hòa")[0].area == "Bình Thủy (Cần Thơ)"
    assert g.find("Cần Thơ")[0].area is None  # a city is no district


def test_gazetteer_former_wards_need_a_unit_word():
    # "An Hòa", "Tân Phú", "Long Hòa" name places all over the country: only "phường An Hòa" counts
    assert load_gazetteer().find("An Hòa ngập nặng") == []
    assert load_gazetteer().find("Trà Nóc") == []
    assert [p.name for p in load_gazetteer().find("khu công nghiệp phường Trà Nóc")] == ["Trà Nóc"]


def test_gazetteer_one_name_twice_in_a_province_keeps_only_what_is_certain():
    # Châu Thành was a district of Hậu Giang and of Sóc Trăng, both now in Cần Thơ
    (place,) = load_gazetteer().find("huyện Châu Thành")
    assert place.canonical == CAN_THO and place.names == ("Châu Thành", CAN_THO)


def test_gazetteer_extra_file_extends_the_hierarchy(tmp_path):
    extra = tmp_path / "gaz.yaml"
    extra.write_text("districts:\n  Cần Thơ: [Quận Mới]\n"
                     "communes:\n  Cần Thơ:\n    Quận Mới:\n      Phường Mới: [Phường Cũ]\n"
                     "    Ninh Kiều:\n      Cái Khế: [Bến Cũ]\n", encoding="utf-8")
    g = load_gazetteer(str(extra))
    assert g.find("phường Phường Cũ")[0].names == ("Phường Cũ", "Phường Mới", "Quận Mới", "Cần Thơ", CAN_THO)
    assert g.find("phường Bến Cũ")[0].district == "Ninh Kiều"
    assert g.find("phường An Hòa")[0].names[1] == "Cái Khế"  # the bundled list is kept
    bad = tmp_path / "bad.yaml"
    bad.write_text("communes:\n  Cần Thơ:\n    Atlantis:\n      X: []\n", encoding="utf-8")
    with pytest.raises(NlpError, match="Atlantis"):
        load_gazetteer(str(bad))


def test_gazetteer_entities_stage_stores_names_and_areas_on_the_post():
    from core.documents import Post
    from core.settings import NlpSettings
    from nlp.stages import STAGES

    stage = STAGES["entities"](NlpSettings())
    post = stage(Post.new(platform="news", source="x", native_id="1",
                          text="Nước ngập phường Xuân Khánh và phường Hưng Phú sau mưa."))
    assert post.places == [CAN_THO]
    assert post.place_names == ["Xuân Khánh", "Ninh Kiều", "Cần Thơ", CAN_THO, "Hưng Phú", "Cái Răng"]
    assert post.place_areas == ["Ninh Kiều (Cần Thơ)", "Cái Răng (Cần Thơ)"]
