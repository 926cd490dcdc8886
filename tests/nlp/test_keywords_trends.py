"""Key phrases per post and trending terms with a burst score."""

from __future__ import annotations

from nlp.keywords import key_phrases
from nlp.trends import burst_score, count_terms, trending


def test_keywords_multi_syllable_words_ranked_by_frequency():
    words = ["Triều cường", "dâng", "cao", ",", "triều cường", "gây", "ngập", "nước", "ở",
             "Cần Thơ", ",", "hôm nay", "ngập nước"]
    out = key_phrases(words, limit=3, hashtags=["#CanTho"])
    assert out == ["#cantho", "triều cường", "cần thơ"]  # "hôm nay" is a stopword


def test_trends_burst_score_ranks_rising_terms():
    current = {"triều cường": 40, "kẹt xe": 12, "học phí": 3, "mưa": 5}
    baseline = {"triều cường": 2, "kẹt xe": 60, "học phí": 0, "mưa": 5}
    out = trending(current, baseline, total=200, baseline_total=1000, min_count=3)
    assert out[0].term == "triều cường"
    assert "kẹt xe" not in [t.term for t in out]  # fell against its baseline rate
    assert all(t.score > 0 for t in out)
    ratio, score = burst_score(0, 10, 100, 100)
    assert score <= 0 and ratio < 1
    assert burst_score(5, 0, 0, 100) == (0.0, 0.0)  # empty window: nothing to say


def test_trends_count_terms_counts_each_post_once():
    counts = count_terms([["ngập", "ngập", "mưa"], ["ngập"], []])
    assert counts == {"ngập": 2, "mưa": 1}
