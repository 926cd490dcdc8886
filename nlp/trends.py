"""Trending terms: a burst score of each term's count in a window against a baseline window.

Pure functions over counts, so the caller can feed them from store aggregations
(e.g. a ``terms`` aggregation on ``keywords`` over the last 6 hours and over the week
before). The score is a smoothed log-ratio of the term's rate in the current window to
its rate in the baseline, weighted by the evidence (a z-score on the current count),
so a term seen 40 times against a baseline of 2 outranks one seen 3 times against 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Trend:
    """One term: counts in both windows, its rate ratio and its burst score (higher = hotter)."""

    term: str
    count: int
    baseline_count: int
    ratio: float  # smoothed rate in the window / rate in the baseline
    score: float  # burst score: > 0 rising, <= 0 not rising


def count_terms(keyword_lists: Iterable[Iterable[str]]) -> Counter[str]:
    """Document frequency of each term over posts' keyword lists (a term counts once per post)."""
    counts: Counter[str] = Counter()
    for terms in keyword_lists:
        counts.update(set(terms))
    return counts


def burst_score(count: int, baseline_count: int, total: int, baseline_total: int,
                *, smoothing: float = 1.0) -> tuple[float, float]:
    """``(ratio, score)`` for one term.

    ``total``/``baseline_total`` are the numbers of posts in each window. The expected
    count is the baseline rate (smoothed) times ``total``; the score is
    ``log2(ratio) * (count - expected) / sqrt(expected)`` when the count is above
    expectation, else the (non-positive) z-score alone.
    """
    if total <= 0:
        return 0.0, 0.0
    base_rate = (baseline_count + smoothing) / (max(baseline_total, 0) + smoothing * 2)
    cur_rate = (count + smoothing) / (total + smoothing * 2)
    ratio = cur_rate / base_rate
    expected = base_rate * total
    z = (count - expected) / math.sqrt(max(expected, 1e-9))
    if count <= expected:
        return round(ratio, 4), round(min(0.0, z), 4)
    return round(ratio, 4), round(math.log2(ratio) * z, 4)


def trending(current: Mapping[str, int], baseline: Mapping[str, int], *, total: int,
             baseline_total: int, min_count: int = 3, limit: int = 20) -> list[Trend]:
    """Terms of ``current`` ranked by burst score; terms seen fewer than ``min_count`` times are left out."""
    out = []
    for term, count in current.items():
        if count < min_count:
            continue
        base = int(baseline.get(term, 0))
        ratio, score = burst_score(int(count), base, total, baseline_total)
        if score > 0:
            out.append(Trend(term, int(count), base, ratio, score))
    out.sort(key=lambda t: (-t.score, t.term))
    return out[:limit]
