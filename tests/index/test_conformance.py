"""One conformance suite for every Store backend.

Runs on the embedded store always, and on Elasticsearch when IOCWATCH_ES_URL points at
a cluster (each test uses its own index prefix and removes it afterwards).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.documents import Alert, Post, Severity
from core.errors import StoreError, ValidationFailed
from index import open_store
from index.querystring import parse_query, with_filters
from index.triage import triage

ES_URL = os.environ.get("IOCWATCH_ES_URL")


@pytest.fixture(params=["embedded", "embedded-exact-copies", "elasticsearch"])
def backend(request, settings):
    if request.param == "elasticsearch":
        if not ES_URL:
            pytest.skip("IOCWATCH_ES_URL is not set: no Elasticsearch cluster to test against")
        st = open_store(settings.model_copy(update={
            "store": "elasticsearch", "es_url": ES_URL,
            "index": settings.index.model_copy(update={"prefix": f"iocwatch-test-{uuid.uuid4().hex[:8]}"}),
        }))
        st.init()
        yield st
        st.client.options(ignore_status=404).indices.delete(index=f"{st.prefix}-*")
        st.client.options(ignore_status=404).indices.delete_index_template(name=f"{st.prefix}-*")
        st.close()
    else:  # the embedded store, also with exact copies of the text fields indexed
        exact = request.param == "embedded-exact-copies"
        st = open_store(settings.model_copy(update={
            "index": settings.index.model_copy(update={"exact_copies": exact})}))
        yield st
        st.close()


def _post(n: int, **fields) -> Post:
    base = dict(platform="news", source="baocantho", url=f"https://baocantho.com.vn/bai-{n}.html",
                title=f"Bài số {n}", text="Nội dung bình thường.",
                published_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC) + timedelta(hours=n))
    base.update(fields)
    return Post.new(**base)


CORPUS = [
    _post(1, title="Ngập nặng ở Cần Thơ sau mưa lớn", text="Nhiều tuyến đường quận Ninh Kiều ngập sâu.",
          topics=["environment", "traffic"], sentiment="negative"),
    _post(2, title="Đà Nẵng đón khách du lịch kỷ lục", text="Khách sạn ven biển kín phòng.",
          topics=["tourism"], sentiment="positive", source="vnexpress"),
    _post(3, title="Huế mở cửa Đại Nội miễn phí", text="Du khách tham quan Đại Nội Huế.",
          topics=["tourism", "culture_society"], sentiment="positive", source="thanhnien"),
    _post(4, title="Tiếng hò Huê tình", text="Làn điệu hò trên sông.", topics=["culture_society"],
          sentiment="neutral", source="dantri"),
    _post(5, platform="facebook", url=None, native_id="fb_1", title="",
          text="kẹt xe ở cần thơ quá trời, đường 3/2 đứng im", topics=["traffic"], sentiment="negative",
          source="fb_cantho"),
    _post(30, title="Cần Thơ khởi công cầu mới", text="Cầu nối Ninh Kiều và Cái Răng giảm ùn tắc.",
          topics=["urban_planning", "traffic"], sentiment="positive"),
]


def _ids(result):
    return {h.id for h in result.hits}


def test_conformance_upsert_is_idempotent(backend):
    first = backend.upsert_many("posts", CORPUS)
    again = backend.upsert_many("posts", CORPUS)
    assert len(first.stored) == len(again.stored) == len(CORPUS)
    assert backend.count("posts") == len(CORPUS)


def test_conformance_invalid_document_is_rejected_by_id_and_field(backend):
    bad = {"id": "bad-1", "source": "x", "platform": "tiktok", "text": "?"}
    result = backend.upsert_many("posts", [CORPUS[0], bad, CORPUS[1]])
    assert set(result.stored) == {CORPUS[0].id, CORPUS[1].id}
    assert len(result.rejected) == 1
    doc_id, reason = result.rejected[0]
    assert doc_id == "bad-1" and "platform" in reason
    with pytest.raises(ValidationFailed) as err:
        backend.upsert_many("posts", [CORPUS[2], bad], raise_on_error=True)
    assert err.value.field == "platform"
    assert backend.get("posts", CORPUS[2].id) is None  # nothing written when raising


@pytest.mark.parametrize("query, expected", [
    ("can tho", {1, 5, 30}),
    ("da nang", {2}),
    ("CẦN THƠ", {1, 5, 30}),
    ('"ninh kieu"', {1, 30}),
    ("hue", {3, 4}),
    ("ngap OR ket", {1, 5}),
    ("can tho -ngap", {5, 30}),
    ("can tho NOT (ngap OR ket)", {30}),
    ("title:\"cau moi\"", {30}),
    ("topic:tourism", {2, 3}),
    ("platform:facebook", {5}),
])
def test_conformance_search_is_diacritic_insensitive_with_boolean_syntax(backend, query, expected):
    backend.upsert_many("posts", CORPUS)
    ids = {p.id: n for n, p in zip([1, 2, 3, 4, 5, 30], CORPUS, strict=True)}
    found = {ids[h] for h in _ids(backend.search("posts", parse_query(query), size=50))}
    assert found == expected


def test_conformance_adjacent_words_rank_above_scattered_ones(backend):
    scattered = _post(40, title="Cần làm rõ nguyên nhân", text="Người già khó thở vì khói rác đốt.")
    backend.upsert_many("posts", [*CORPUS, scattered])
    result = backend.search("posts", parse_query("can tho"), size=10)
    order = [h.id for h in result.hits]
    assert set(order) == {CORPUS[0].id, CORPUS[4].id, CORPUS[5].id, scattered.id}
    assert order[-1] == scattered.id  # "cần ... thở" matches both words, but not together
    dated = backend.search("posts", parse_query("can tho"), size=10, sort=["published_at:desc"])
    assert [h.id for h in dated.hits][0] == scattered.id  # a sort ignores the boost (newest first)


def test_conformance_exact_matching_keeps_diacritics(backend):
    backend.upsert_many("posts", CORPUS)
    exact = backend.search("posts", parse_query('exact:"Huế"'))
    assert _ids(exact) == {CORPUS[2].id}
    assert backend.search("posts", parse_query("Huê", exact=True)).total == 1


def test_conformance_filters_sort_and_paging(backend):
    backend.upsert_many("posts", CORPUS)
    q = with_filters(parse_query("can tho"), [
        {"range": {"published_at": {"gte": "2026-11-20T10:00:00+00:00"}}},
        {"terms": {"platform": ["news", "facebook"]}},
    ])
    res = backend.search("posts", q, sort=["published_at:desc"], size=1)
    assert res.total == 2 and res.hits[0].id == CORPUS[5].id
    page2 = backend.search("posts", q, sort=["published_at:desc"], size=1, from_=1)
    assert [h.id for h in page2.hits] == [CORPUS[4].id]
    neg = backend.search("posts", {"bool": {"filter": [{"term": {"sentiment": "negative"}}]}},
                         sort=[{"published_at": {"order": "asc"}}])
    assert [h.id for h in neg.hits] == [CORPUS[0].id, CORPUS[4].id]


def test_conformance_highlight_marks_matching_words(backend):
    backend.upsert_many("posts", CORPUS)
    res = backend.search("posts", parse_query("can tho"), highlight=["title"], sort=["published_at:asc"])
    first = res.hits[0]
    assert first.id == CORPUS[0].id
    assert "<mark>Cần</mark>" in first.highlight["title"][0]


def test_conformance_aggregations_terms_and_date_histogram(backend):
    backend.upsert_many("posts", CORPUS)
    aggs = backend.aggregate("posts", None, {
        "per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                       "time_zone": "+07:00", "min_doc_count": 1},
                    "aggs": {"sentiment": {"terms": {"field": "sentiment"}}}},
        "topics": {"terms": {"field": "topics", "size": 3}},
    })
    days = {b["key_as_string"][:10]: b for b in aggs["per_day"]["buckets"]}
    # 08:00Z + n hours, in +07:00: n=1..5 → 2026-11-20 15:00..19:00; n=30 → 2026-11-21 21:00
    assert {k: b["doc_count"] for k, b in days.items()} == {"2026-11-20": 5, "2026-11-21": 1}
    sent = {s["key"]: s["doc_count"] for s in days["2026-11-20"]["sentiment"]["buckets"]}
    assert sent == {"negative": 2, "positive": 2, "neutral": 1}
    top = [(b["key"], b["doc_count"]) for b in aggs["topics"]["buckets"]]
    assert top[0] == ("traffic", 3)
    assert len(top) == 3
    assert isinstance(aggs["per_day"]["buckets"][0]["key"], int)  # epoch millis


def test_conformance_aggregation_respects_query(backend):
    backend.upsert_many("posts", CORPUS)
    aggs = backend.aggregate("posts", {"term": {"sentiment": "positive"}},
                             {"src": {"terms": {"field": "source"}}})
    assert {b["key"] for b in aggs["src"]["buckets"]} == {"vnexpress", "thanhnien", "baocantho"}


def _alert(n: int, **fields) -> Alert:
    base = dict(id=f"alert-{n}", rule_name="ssh_bruteforce", threat_technique_id="T1110",
                source_ip=f"203.0.113.{n}", user_name="root", risk_score=80.0, severity=Severity.HIGH,
                timestamp=datetime(2026, 11, 21, 2, n, tzinfo=UTC), title="Dò mật khẩu SSH",
                evidence=[f"Failed password for root from 203.0.113.{n}"])
    base.update(fields)
    return Alert(**base)


def test_conformance_alerts_use_ecs_fields_and_triage_keeps_history(backend):
    alerts = [_alert(1), _alert(2, rule_name="port_scan", threat_technique_id="T1046",
                                 severity=Severity.MEDIUM, risk_score=50.0)]
    assert backend.upsert_many("alerts", alerts).ok
    stored = backend.get("alerts", "alert-1")
    assert stored["source.ip"] == "203.0.113.1" and stored["threat.technique.id"] == "T1110"
    assert backend.search("alerts", {"term": {"source.ip": "203.0.113.2"}}).total == 1
    assert backend.count("alerts", {"terms": {"severity": ["high", "critical"]}}) == 1
    assert backend.count("alerts", {"term": {"module": "security"}}) == 2  # a Literal, not a list

    triage(backend, "alert-1", status="acknowledged", by="an.nguyen")
    triage(backend, "alert-1", assignee="bao.tran", by="an.nguyen")
    closed = triage(backend, "alert-1", status="closed", reason="true_positive", by="bao.tran")
    assert closed.status == "closed" and closed.assignee == "bao.tran"
    assert [(h.action, h.by) for h in closed.history] == [
        ("status", "an.nguyen"), ("assign", "an.nguyen"), ("status", "bao.tran")]
    again = Alert.from_doc(backend.get("alerts", "alert-1"))
    assert again.close_reason == "true_positive" and len(again.history) == 3
    with pytest.raises(ValidationFailed):
        triage(backend, "alert-2", status="closed")  # closing needs a reason
    with pytest.raises(StoreError):
        triage(backend, "no-such-alert", status="acknowledged")


def test_conformance_delete_all(backend):
    backend.upsert_many("posts", CORPUS)
    backend.delete_all("posts")
    assert backend.count("posts") == 0


def test_conformance_repeated_id_within_one_call_keeps_the_last(backend):
    edited = CORPUS[0].model_copy(update={"title": "Ngập nặng ở Cần Thơ (cập nhật)"})
    backend.upsert_many("posts", [CORPUS[0], CORPUS[1], edited])
    assert backend.count("posts") == 2
    assert backend.get("posts", CORPUS[0].id)["title"].endswith("(cập nhật)")


def test_conformance_nested_terms_on_multivalued_field_under_histogram(backend):
    backend.upsert_many("posts", CORPUS)
    aggs = backend.aggregate("posts", None, {
        "over_time": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                         "time_zone": "Asia/Ho_Chi_Minh", "min_doc_count": 1},
                      "aggs": {"topic": {"terms": {"field": "topics", "size": 20}}}},
        "by_topic": {"terms": {"field": "topics", "size": 20},
                     "aggs": {"per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day"}}}},
    })
    first_day = aggs["over_time"]["buckets"][0]
    assert first_day["key_as_string"].startswith("2026-11-20")
    assert {b["key"]: b["doc_count"] for b in first_day["topic"]["buckets"]}["traffic"] == 2
    by_topic = {b["key"]: b for b in aggs["by_topic"]["buckets"]}
    assert sum(d["doc_count"] for d in by_topic["traffic"]["per_day"]["buckets"]) == 3


def test_conformance_zero_counts_absent_fields_and_dates_are_indexed_as_given(backend):
    quiet = _post(40, title="Cầu Cần Thơ thông xe", engagement={"likes": 0, "shares": 3},
                  author={"id": "u-1", "name": "Lan"}, places=["Cần Thơ"], topics=["traffic"])
    bare = _post(41, title="", text="Chỉ có nội dung", published_at=None)  # no title, no time
    assert backend.upsert_many("posts", [quiet, bare]).ok
    assert backend.count("posts", {"range": {"engagement.likes": {"lte": 0}}}) >= 1
    assert backend.count("posts", {"bool": {"filter": [{"ids": {"values": [quiet.id]}},
                                                       {"range": {"engagement.likes": {"lte": 0}}}]}}) == 1
    assert backend.count("posts", {"term": {"author.name": "Lan"}}) == 1
    assert backend.count("posts", {"bool": {"filter": [{"ids": {"values": [bare.id]}},
                                                       {"exists": {"field": "author.name"}}]}}) == 0
    assert backend.count("posts", {"bool": {"filter": [{"ids": {"values": [bare.id]}},
                                                       {"exists": {"field": "published_at"}}]}}) == 0
    assert backend.get("posts", bare.id)["text"] == "Chỉ có nội dung"
    day = backend.count("posts", {"range": {"published_at": {"gte": "2026-11-21T00:00:00Z",
                                                             "lt": "2026-12-01T00:00:00Z"}}})
    assert day >= 1  # post 40 is 40 hours after 20 Nov 08:00 UTC: 22 Nov
    assert backend.search("posts", parse_query("chi co noi dung")).hits[0].id == bare.id


def test_conformance_bulk_load_session_replaces_by_id_and_reports_every_batch(backend):
    first = [_post(50 + n, title=f"Mưa lớn ở Cần Thơ số {n}") for n in range(3)]
    again = _post(50, title="Mưa lớn ở Cần Thơ đã tạnh")  # same id as first[0]
    with backend.bulk("posts") as load:
        assert load.add(first).ok
        part = load.add([again, {"id": "x-1", "source": "baocantho", "published_at": "hôm qua"}])
        assert part.rejected and part.rejected[0][0] == "x-1"
    assert len(load.result.stored) == 4 and len(load.result.rejected) == 1
    assert backend.count("posts") == 3
    assert backend.get("posts", again.id)["title"] == "Mưa lớn ở Cần Thơ đã tạnh"
    assert backend.search("posts", parse_query("can tho")).total == 3


def test_conformance_exact_words_in_text_with_filters_phrases_and_negation(backend):
    docs = [
        _post(60, title="Lễ hội", text="Du khách đổ về Huế dịp lễ hội áo dài.", source="baocantho"),
        _post(61, title="Vườn hoa", text="Vườn hoa huệ trắng nở rộ ở ngoại thành.", source="baocantho"),
        _post(62, title="Lễ hội", text="Hội áo dài ở Huế năm nay đông vui.", source="vnexpress"),
        _post(63, title="Áo dài", text="Áo mới, dài tay, bán ở chợ Huế.", source="vnexpress"),
    ]
    assert backend.upsert_many("posts", docs).ok
    assert _ids(backend.search("posts", {"match": {"text.exact": "Huế"}})) == {docs[0].id, docs[2].id, docs[3].id}
    assert _ids(backend.search("posts", {"match": {"text.exact": "huệ"}})) == {docs[1].id}
    filtered = with_filters({"match": {"text.exact": "Huế"}}, [{"term": {"source": "vnexpress"}}])
    assert _ids(backend.search("posts", filtered)) == {docs[2].id, docs[3].id}
    assert backend.count("posts", filtered) == 2
    phrase = {"match_phrase": {"text.exact": "áo dài"}}
    assert _ids(backend.search("posts", phrase)) == {docs[0].id, docs[2].id}  # not "Áo mới, dài tay"
    negated = {"bool": {"must": [{"match": {"text": "hue"}}], "must_not": [{"match": {"text.exact": "huệ"}}]}}
    assert _ids(backend.search("posts", negated)) == {docs[0].id, docs[2].id, docs[3].id}
    aggs = backend.aggregate("posts", {"match": {"text.exact": "Huế"}}, {"src": {"terms": {"field": "source"}}})
    assert {b["key"]: b["doc_count"] for b in aggs["src"]["buckets"]} == {"baocantho": 1, "vnexpress": 2}
    hit = backend.search("posts", {"match": {"text.exact": "Huế"}}, highlight=["text"]).hits[0]
    assert "<mark>Huế</mark>" in " ".join(hit.highlight["text"])
