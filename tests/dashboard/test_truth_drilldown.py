"""From a figure to its evidence: a spike opens the posts of its watchlist and window in one
click (terms that rose, three samples, display names); a chart's bar or point hands its filters to
the search page, whose results are the bar's posts."""

from __future__ import annotations

import json

import pytest

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import SPIKE_WINDOW_H


def _spike():
    from dashboard import data

    return next(s for s in data.spike_details("7d") if s["severity"] == "critical")


def test_truth_spike_details_terms_samples_and_posts(truth):
    spike = _spike()
    assert (spike["group"], spike["name"]) == ("watchlist", "ngap-do-thi")
    terms = [term for term, _, _ in spike["terms"]]
    assert "ngập sâu" in terms and "Hưng Lợi" in terms  # rose against the baseline days
    assert "quá tải" not in terms and "triều cường" not in terms  # once only / only before
    assert len(spike["samples"]) == 3
    # the window's posts: six of the fixture's negatives and two of the dashboard fixture's
    assert spike["posts"] == 8


def test_truth_spike_button_opens_its_posts_on_search(truth):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    spike = _spike()
    texts = " ".join(m.value for m in at.markdown)
    assert "Ngập đô thị" in texts and "ngập sâu" in texts  # display name, terms that rose
    assert "Ngập đô thị" in at.multiselect(key="l_watchlists").options  # the filter by display name too
    at.button(key=f"l_spike_{spike['id']}").click().run()
    assert not at.exception, at.exception
    assert [x.value for x in at.title] == ["Tìm kiếm"]
    assert any("**8 kết quả**" in m.value for m in at.markdown)
    assert at.multiselect(key="s_watchlists").value == ["ngap-do-thi"]
    assert at.text_input(key="s_text").value.startswith("published_at:[")


def test_truth_spike_markers_have_a_legend_and_a_click(truth):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    spec = next(s for s in (json.loads(c.proto.spec) for c in at.get("vega_lite_chart")) if "layer" in s)
    rule = spec["layer"][1]
    assert rule["encoding"]["color"]["title"] == "Đột biến"  # a legend of marker kinds
    params = spec.get("params", []) + rule.get("params", [])  # Vega-Lite hoists a layer's params
    assert any(p.get("name") == "spike" and p["select"]["fields"] == ["id"] for p in params)
    assert [tip["title"] for tip in rule["encoding"]["tooltip"]][-4:] == ["Từ khoá tăng mạnh", "Bài mẫu 1",
                                                                           "Bài mẫu 2", "Bài mẫu 3"]
    metric = {m.label: m.value for m in at.metric}["Số đột biến"]
    assert int(metric) >= 4  # each spike alert once (four in the week)


@pytest.mark.parametrize("kind,value,field", [("topic", "environment_disaster", "s_topics"),
                                              ("source", "fb-cantho-24h", "s_sources"),
                                              ("platform", "forum", "s_platforms"),
                                              ("place", "Ninh Kiều", "s_text")])
def test_truth_chart_bar_hands_its_filters_to_search(truth, kind, value, field):
    from dashboard import data

    res = data.listening("7d")
    bars = {"topic": res["topics"], "source": res["source"], "platform": res["platform"], "place": res["places"]}
    count = dict(bars[kind])[value]
    handed = data.drill_filters(kind, value, "7d")
    at = login(new_app(), "analyst")
    at.session_state[data.HANDOVER_KEY] = {"text": handed.pop("text", ""), "range": handed.pop("range_key"),
                                           **handed}
    at.switch_page("pages/search.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="s_range").value == "7d"
    shown = at.text_input(key="s_text").value if field == "s_text" else at.multiselect(key=field).value
    assert shown == ('places:"Ninh Kiều"' if kind == "place" else [value])
    assert any(f"**{count} kết quả**" in m.value for m in at.markdown), (count, [m.value for m in at.markdown][:3])


def test_truth_day_bucket_is_a_published_at_range():
    from dashboard.data import bucket_query, drill_filters

    assert bucket_query(1_767_200_400_000, "1d") == "published_at:[2025-12-31T17:00:00Z TO 2026-01-01T17:00:00Z}"
    assert drill_filters("day", 1_767_200_400_000, "7d", interval="1d", topics=["traffic"]) == {
        "range_key": "7d", "topics": ["traffic"],
        "text": "published_at:[2025-12-31T17:00:00Z TO 2026-01-01T17:00:00Z}"}
    assert SPIKE_WINDOW_H[0] > SPIKE_WINDOW_H[1]


def test_truth_spike_alert_names_the_terms_that_rose(truth):
    from datetime import UTC, datetime, timedelta

    from dashboard import data
    from iocwatch.ops.spikes import VOLUME_RULE, GroupCounts, Spike, SpikeDetector, rising_terms

    assert rising_terms({"a": 4, "b": 1, "c": 3}, {"a": 1, "c": 30}, 0.04) == [("a", 4, 1)]
    detector = SpikeDetector(data.store(), data.settings())
    now = datetime.now(UTC)
    spike = Spike(VOLUME_RULE, GroupCounts("watchlist", "ngap-do-thi", window=8, baseline=2), 1e-4, 9.0, 1.0, 0.1)
    spike.terms = detector.terms(spike, now - timedelta(hours=SPIKE_WINDOW_H[0]), now)
    assert [term for term, _, _ in spike.terms] == ["ngập sâu", "Hưng Lợi"]  # steepest rise first
    evidence = detector.to_alert(spike, now, now - timedelta(hours=SPIKE_WINDOW_H[0])).evidence
    assert any(line.startswith("Từ khoá tăng mạnh: ngập sâu (4 bài, trước đó 1), Hưng Lợi (3 bài") for line in evidence)
