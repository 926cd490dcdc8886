"""A custom date range beside the presets on Lắng nghe: local days, both ends included; drill-downs
carry it to the search page as a published_at range."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.dashboard.conftest import login, new_app


def _posts_on(first: date, last: date) -> int:
    """Posts whose local publication day is between ``first`` and ``last``, counted one by one."""
    from dashboard import data

    zone = ZoneInfo(data.settings().dashboard.timezone)
    days = [datetime.fromisoformat(p["published_at"].replace("Z", "+00:00")).astimezone(zone).date()
            for p in data.iter_posts(None)]
    return sum(first <= d <= last for d in days)


def test_truth_custom_range_bounds_are_local_days():
    from dashboard import data

    key = data.custom_range(date(2026, 1, 3), date(2026, 1, 1))  # either order
    assert key == "custom:2026-01-01:2026-01-03"
    assert data.range_bounds(key) == ("2026-01-01T00:00:00+07:00", "2026-01-04T00:00:00+07:00")
    assert data.range_interval(key) == "1d" and data.range_interval("custom:2026-01-01:2026-01-02") == "1h"
    handed = data.drill_filters("topic", "traffic", key)
    assert handed == {"range_key": "all", "topics": ["traffic"],
                      "text": "published_at:[2026-01-01T00:00:00+07:00 TO 2026-01-04T00:00:00+07:00}"}


def test_truth_listening_counts_a_custom_range(truth):
    from dashboard import data

    today = datetime.now(ZoneInfo(data.settings().dashboard.timezone)).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    expected = _posts_on(first, last)
    assert expected > 0
    assert data.listening(data.custom_range(first, last))["total"] == expected
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    at.selectbox(key="l_range").set_value("custom").run()
    at.date_input(key="l_days").set_value((first, last)).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Đề cập trong kỳ"] == str(expected)
