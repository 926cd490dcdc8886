"""The entity risk score shared by the monitor's :mod:`security.risk` and the dashboard.

An entity's alerts count as independent pieces of evidence, each weighed less than the one
before it (riskiest first, weight ``1 / rank ** 1.5``): ``100 * (1 - prod(1 - risk_i / 100 * w_i))``,
plus ``technique_bonus`` points per ATT&CK technique beyond the first, capped at 100. Alerts
closed with a reason in :data:`DISCOUNTED` do not count.
"""

from __future__ import annotations

from collections.abc import Iterable

DISCOUNTED = ("false_positive", "benign")  # close reasons that take an alert out of its entity's risk
TECHNIQUE_BONUS = 5.0  # points per ATT&CK technique beyond the first
# entity prefixes that name no host: users, and crawled posts (intel matches on their URLs)
NOT_HOSTS = ("user:", "post:")


def score_alerts(risks: Iterable[float], techniques: int, technique_bonus: float = TECHNIQUE_BONUS) -> float:
    """The combination described in the module docstring (``risks`` in any order, 0-100 each)."""
    keep = 1.0
    for rank, r in enumerate(sorted(risks, reverse=True), start=1):
        keep *= 1 - min(100.0, max(0.0, r)) / 100 * rank ** -1.5
    return round(min(100.0, 100 * (1 - keep) + technique_bonus * max(0, techniques - 1)), 1)
