"""Notable-post lists say what their titles claim: most likely first by the model's probability,
shown as a whole percentage, one row per distinct text (data module and the Lắng nghe page)."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import NEGATIVE, POSITIVE, TOXIC


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def test_truth_top_negative_is_most_negative_first_one_row_per_text(truth):
    from dashboard import data

    rows = data.listening("7d")["top_negative"]
    probabilities = [r["probability"] for r in rows]
    assert probabilities == sorted(probabilities, reverse=True)
    assert rows[0]["probability"] == pytest.approx(0.97) and rows[0]["text"] == NEGATIVE[0][3]
    assert [r["probability"] for r in rows[:4]] == pytest.approx([0.97, 0.91, 0.62, 0.48])
    assert len({_folded(r["text"]) for r in rows}) == len(rows)  # the thrice-posted text once
    assert all(r["sentiment"] == "negative" for r in rows)


def test_truth_top_positive_and_toxic_lists_rank_by_probability(truth):
    from dashboard import data

    res = data.listening("7d")
    assert [r["probability"] for r in res["top_positive"][:2]] == pytest.approx([p for _, p, _ in POSITIVE])
    assert [r["probability"] for r in res["top_toxic"][:2]] == pytest.approx([p for _, p, _, _ in TOXIC])
    for rows in (res["top_positive"], res["top_toxic"], res["top_engaged"]):
        assert len({_folded(r["text"]) for r in rows}) == len(rows)


def test_truth_listening_page_shows_the_probability_as_a_percentage(truth):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    frames = {name: next(df.value for df in at.dataframe if name in df.value.columns)
              for name in ("Xác suất tiêu cực", "Xác suất tích cực", "Xác suất độc hại")}
    negative = frames["Xác suất tiêu cực"]
    assert list(negative["Xác suất tiêu cực"])[:4] == [97, 91, 62, 48]
    assert list(negative["Tiêu đề"])[0] == NEGATIVE[0][3][:40]
    assert list(frames["Xác suất tích cực"]["Xác suất tích cực"])[:2] == [97, 93]
    assert list(frames["Xác suất độc hại"]["Xác suất độc hại"])[:2] == [99, 95]
    import json

    config = next(json.loads(df.proto.columns) for df in at.dataframe if "Xác suất tiêu cực" in df.value.columns)
    assert json.dumps(config, ensure_ascii=False).count("%d %%") == 1  # shown as "97 %", sorted as a number
