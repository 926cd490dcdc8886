"""Spike detection over a real embedded store: significant volume and negative-share spikes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.documents import Post
from index.triage import triage
from iocwatch.ops.notify import Notifier
from iocwatch.ops.spikes import (
    NEGATIVE_RULE,
    VOLUME_RULE,
    SpikeDetector,
    binom_sf,
    demo_step,
    detect_spikes,
)
from tests.ops.receivers import HttpReceiver

NOW = datetime(2026, 11, 21, 9, 40, tzinfo=UTC)

_FLOOD = ["Nước ngập tới đầu gối trên đường {n}, xe chết máy hàng loạt",
          "Triều cường dâng cao, hẻm {n} ngập từ sáng tới giờ chưa rút",
          "Mưa lớn kéo dài, nhà dân ở khu {n} ngập nặng, bà con rất bức xúc"]
_TRAFFIC_GOOD = "Tuyến xe buýt số {n} chạy đúng giờ, đường thông thoáng"
_TRAFFIC_BAD = "Kẹt xe kéo dài hơn một tiếng ở nút giao {n}, đèn tín hiệu lại hỏng"
_MARKET = "Chợ nổi {n} đông khách du lịch dịp cuối tuần"


def _post(i: int, text: str, at: datetime, *, watchlists=(), topics=(), sentiment="neutral") -> Post:
    return Post.new(platform="facebook", source="nhom-cu-dan-can-tho", native_id=f"bai-{i}",
                    text=text, published_at=at, sentiment=sentiment, watchlists=list(watchlists),
                    topics=list(topics))


def _corpus() -> tuple[list[Post], list[str], list[str]]:
    posts: list[Post] = []
    i = 0
    # Seven days of baseline: flood talk every 6 h, traffic every 3 h (10% negative), market every 4 h.
    for h in range(6, 7 * 24 + 6):
        at = NOW - timedelta(hours=h, minutes=7)
        if h % 6 == 0:
            posts.append(_post(i, _FLOOD[i % 3].format(n=i), at, watchlists=["ngap-lut"],
                               topics=["thoi-tiet"], sentiment="negative"))
            i += 1
        if h % 3 == 0:
            posts.append(_post(i, (_TRAFFIC_BAD if i % 10 == 0 else _TRAFFIC_GOOD).format(n=i), at,
                               topics=["giao-thong"],
                               sentiment="negative" if i % 10 == 0 else "positive"))
            i += 1
        if h % 4 == 0:
            posts.append(_post(i, _MARKET.format(n=i), at, topics=["du-lich"]))
            i += 1
    burst: list[str] = []
    # The injected crisis: 36 flood posts in the last three hours.
    for k in range(36):
        p = _post(i, _FLOOD[k % 3].format(n=k), NOW - timedelta(minutes=5 * k + 1),
                  watchlists=["ngap-lut"], topics=["thoi-tiet"], sentiment="negative")
        posts.append(p)
        burst.append(p.id)
        i += 1
    # Traffic keeps its usual volume but turns negative: 2 posts/6 h... 8 in the window, 7 negative.
    angry: list[str] = []
    for k in range(8):
        neg = k != 0
        p = _post(i, (_TRAFFIC_BAD if neg else _TRAFFIC_GOOD).format(n=k),
                  NOW - timedelta(minutes=40 * k + 3), topics=["giao-thong"],
                  sentiment="negative" if neg else "positive")
        posts.append(p)
        i += 1
        if neg:
            angry.append(p.id)
    # The market gets a few more posts than usual: not significant.
    for k in range(3):
        posts.append(_post(i, _MARKET.format(n=k), NOW - timedelta(hours=k + 1), topics=["du-lich"]))
        i += 1
    return posts, burst, angry


def test_spikes_volume_and_negative_share_found_and_linked(settings, store):
    posts, burst, angry = _corpus()
    store.upsert_many("posts", posts, raise_on_error=True)
    report = detect_spikes(store, settings, now=NOW)
    by = {(a.rule_name, a.entity): a for a in report.alerts}
    assert set(by) == {(VOLUME_RULE, "watchlist:ngap-lut"), (VOLUME_RULE, "topic:thoi-tiet"),
                       (NEGATIVE_RULE, "topic:giao-thong")}
    flood = by[(VOLUME_RULE, "watchlist:ngap-lut")]
    assert flood.module == "listening" and flood.status.value == "open"
    assert set(flood.related_ids) == set(burst)  # only the posts that drove it
    assert flood.severity.rank >= 2 and "«Ngập lụt, triều cường»" in flood.title  # its display name, not the slug
    assert flood.explanation[0].feature == "posts_per_hour" and flood.explanation[0].observed > 5
    neg = by[(NEGATIVE_RULE, "topic:giao-thong")]
    assert set(neg.related_ids) == set(angry)
    assert neg.explanation[0].observed > 0.8 and neg.explanation[0].baseline < 0.2
    assert store.count("alerts", {"term": {"module": "listening"}}) == 3
    assert report.new_alerts == 3


def test_spikes_rerun_updates_same_alert_and_keeps_triage(settings, store):
    posts, _, _ = _corpus()
    store.upsert_many("posts", posts)
    first = detect_spikes(store, settings, now=NOW)
    flood = next(a for a in first.alerts if a.entity == "watchlist:ngap-lut")
    triage(store, flood.id, status="acknowledged", by="truyen-thong", note="đã báo lãnh đạo")
    again = detect_spikes(store, settings, now=NOW + timedelta(minutes=10))
    assert again.new_alerts == 0 and store.count("alerts") == 3
    stored = store.get("alerts", flood.id)
    assert stored["status"] == "acknowledged" and stored["history"][0]["by"] == "truyen-thong"


def test_spikes_quiet_corpus_and_small_counts_raise_nothing(settings, store):
    posts, _, _ = _corpus()
    quiet = [p for p in posts if p.published_at < NOW - timedelta(hours=6)]
    store.upsert_many("posts", quiet)
    assert detect_spikes(store, settings, now=NOW - timedelta(hours=6)).alerts == []
    # Four posts where there are usually none: a big ratio, but below spike_min_count.
    few = [_post(90000 + k, f"Sạt lở bờ sông {k}", NOW - timedelta(minutes=k),
                 watchlists=["sat-lo"]) for k in range(4)]
    store.upsert_many("posts", few)
    assert detect_spikes(store, settings, now=NOW).alerts == []


def test_spikes_binomial_tail_matches_definition():
    # P(X >= 2) for Binomial(3, 0.5) = 4/8
    assert abs(binom_sf(2, 3, 0.5) - 0.5) < 1e-12
    assert binom_sf(0, 3, 0.5) == 1.0


def test_spikes_injected_spike_raises_alert_and_webhook_call(settings, store):
    posts, burst, _ = _corpus()
    store.upsert_many("posts", posts)
    with HttpReceiver() as rx:
        cfg = settings.model_copy(update={"notify": type(settings.notify)(
            **{**dict(settings.notify), "webhook_url": rx.url + "/ioc"})})
        report = SpikeDetector(store, cfg).run(NOW)
        sent = Notifier(cfg, sleep=lambda s: None).notify_alerts(report.alerts)
    assert sent.sent == 3
    kinds = [b["kind"] for _, b in rx.requests]
    assert kinds == ["spike"] * 3
    flood = next(b for _, b in rx.requests if b["data"]["entity"] == "watchlist:ngap-lut")
    assert set(flood["data"]["related_ids"]) == set(burst)


def test_spikes_demo_step_uses_newest_post_time(settings, store):
    posts, _, _ = _corpus()
    store.upsert_many("posts", posts)
    store.close()
    report: dict = {}
    demo_step(settings, report)
    assert report["volume_spikes"] == 2 and report["negative_spikes"] == 1
    assert report["notified"] == 0  # no sink configured


def test_spikes_ignored_groups_never_spike(settings, store):
    posts, _, _ = _corpus()
    store.upsert_many("posts", posts)
    serve = type(settings.serve)(**{**dict(settings.serve), "spike_ignore": ["watchlist:ngap-lut"]})
    cfg = settings.model_copy(update={"serve": serve})
    entities = {a.entity for a in detect_spikes(store, cfg, now=NOW).alerts}
    assert "watchlist:ngap-lut" not in entities and "topic:thoi-tiet" in entities


def test_spikes_collection_change_raising_every_group_is_not_a_spike(settings, store):
    topics = ["giao-thong", "moi-truong", "y-te"]
    posts, i = [], 0
    for h in range(6, 7 * 24 + 6, 3):  # the baseline: each topic every 3 hours
        for t in topics:
            posts.append(_post(i, _MARKET.format(n=i), NOW - timedelta(hours=h, minutes=5), topics=[t]))
            i += 1
    for k in range(15):  # a new source triples everything at once: every topic, same share
        for t in topics:
            posts.append(_post(i, _MARKET.format(n=i), NOW - timedelta(minutes=20 * k + 1), topics=[t]))
            i += 1
    store.upsert_many("posts", posts)
    assert detect_spikes(store, settings, now=NOW).alerts == []
    serve = type(settings.serve)(**{**dict(settings.serve), "spike_relative": False})
    absolute = detect_spikes(store, settings.model_copy(update={"serve": serve}), now=NOW)
    assert {a.entity for a in absolute.alerts} == {f"topic:{t}" for t in topics}


def test_spikes_no_baseline_at_all_raises_nothing(settings, store):
    first_crawl = [_post(k, _FLOOD[k % 3].format(n=k), NOW - timedelta(minutes=k + 1),
                         watchlists=["ngap-lut"]) for k in range(30)]
    store.upsert_many("posts", first_crawl)
    assert detect_spikes(store, settings, now=NOW).alerts == []


def test_spikes_alert_title_names_the_watchlist_by_its_display_name(settings, store):
    from iocwatch.ops.spikes import SpikeDetector

    detector = SpikeDetector(store, settings)
    assert detector.display_name("watchlist", "ngap-lut") == "Ngập lụt, triều cường"
    assert detector.display_name("watchlist", "khong-co") == "khong-co"  # unknown: the slug
    assert detector.display_name("topic", "traffic") == "traffic"
