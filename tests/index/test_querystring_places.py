"""`place:` finds posts at the level people name places: a ward or district of Ninh Kiều, before
or after the 2025 mergers, folded like other text; `area:` is the former district, for charts."""

from __future__ import annotations

import pytest

from core.documents import Post
from index import open_store
from index.querystring import parse_query

TEXTS = {
    "old_ward": "Nước ngập sâu ở phường Xuân Khánh sau cơn mưa.",
    "new_ward": "Phường Cái Khế ra quân dọn rác.",
    "district": "Kẹt xe kéo dài ở quận Ninh Kiều.",
    "other_district": "Chợ nổi phường Cái Răng đông khách.",
    "merged_province": "Sóc Trăng mất điện diện rộng.",
    "elsewhere": "Đà Nẵng đón khách du lịch.",
}


@pytest.fixture(params=[False, True], ids=["embedded", "embedded-exact-copies"])
def place_store(request, settings):
    from core.settings import NlpSettings
    from nlp.stages import STAGES

    stage = STAGES["entities"](NlpSettings())
    posts = [stage(Post.new(platform="news", source="baocantho", native_id=key, text=text, title=key))
             for key, text in TEXTS.items()]
    store = open_store(settings.model_copy(update={
        "index": settings.index.model_copy(update={"exact_copies": request.param})}))
    assert store.upsert_many("posts", posts).ok
    yield store
    store.close()


def _found(store, query: str) -> set[str]:
    return {h.source["title"] for h in store.search("posts", parse_query(query), size=50).hits}


def test_place_search_finds_wards_and_districts_before_and_after_2025(place_store):
    ninh_kieu = {"old_ward", "new_ward", "district"}
    assert _found(place_store, 'place:"Ninh Kiều"') == ninh_kieu
    assert _found(place_store, 'place:"ninh kieu"') == ninh_kieu  # folded like other text
    assert _found(place_store, "place:(ninh kieu)") == ninh_kieu
    assert _found(place_store, 'place:"Cái Khế"') == {"new_ward"}
    assert _found(place_store, 'place:"Xuân Khánh"') == {"old_ward"}
    assert _found(place_store, 'place:"Cần Thơ"') == ninh_kieu | {"other_district", "merged_province"}
    assert _found(place_store, 'place:"Thành phố Cần Thơ" -place:"Ninh Kiều"') == {"other_district",
                                                                                   "merged_province"}
    assert _found(place_store, 'exact:place:"Ninh Kiều"') == ninh_kieu
    assert _found(place_store, 'exact:place:"Ninh Kieu"') == set()


def test_place_areas_count_posts_by_former_district(place_store):
    res = place_store.aggregate("posts", None, {"areas": {"terms": {"field": "place_areas", "size": 10}}})
    counts = {b["key"]: b["doc_count"] for b in res["areas"]["buckets"]}
    assert counts == {"Ninh Kiều (Cần Thơ)": 3, "Cái Răng (Cần Thơ)": 1}
    assert _found(place_store, 'area:"Cái Răng (Cần Thơ)"') == {"other_district"}
