"""Dates in queries: ISO-8601 strings, epoch numbers, or Elasticsearch date math (``now-7d/d``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import QuerySyntaxError

_MATH = re.compile(r"^now(?P<ops>(?:[+-]\d+[smhdwMy])*)(?:/(?P<round>[smhdwMy]))?$")
_OP = re.compile(r"([+-])(\d+)([smhdwMy])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_date(value: object, *, now: datetime | None = None) -> datetime:
    """A timezone-aware datetime from ISO text, epoch seconds/millis or ``now±N<unit>[/unit]``."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str):
        raise QuerySyntaxError(f"cannot read {value!r} as a date")
    text = value.strip()
    match = _MATH.match(text)
    if match:
        result = now or datetime.now(UTC)
        for sign, amount, unit in _OP.findall(match.group("ops")):
            n = int(amount) * (1 if sign == "+" else -1)
            if unit in _UNITS:
                result += timedelta(**{_UNITS[unit]: n})
            elif unit == "M":
                month = result.month - 1 + n
                result = result.replace(year=result.year + month // 12, month=month % 12 + 1, day=min(result.day, 28))
            else:  # y
                result = result.replace(year=result.year + n)
        if match.group("round"):
            result = _round_down(result, match.group("round"))
        return result
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QuerySyntaxError(f"cannot read {value!r} as a date",
                               hint="use ISO-8601 (2026-11-20T08:00:00+07:00) or date math (now-7d)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _round_down(moment: datetime, unit: str) -> datetime:
    if unit == "s":
        return moment.replace(microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    if unit == "h":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return day
    if unit == "w":
        return day - timedelta(days=day.weekday())
    if unit == "M":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def tz_offset_seconds(time_zone: str | None, at: datetime | None = None) -> int:
    """UTC offset in seconds of a fixed offset (``+07:00``) or IANA zone name at ``at`` (default now)."""
    if not time_zone or time_zone in ("UTC", "Z", "+00:00"):
        return 0
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", time_zone)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return sign * (int(m.group(2)) * 3600 + int(m.group(3)) * 60)
    try:
        zone = ZoneInfo(time_zone)
    except Exception as exc:  # ZoneInfoNotFoundError and invalid keys
        raise QuerySyntaxError(f"unknown time zone {time_zone!r}") from exc
    offset = (at or datetime.now(UTC)).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


_INTERVALS = {"minute": 60, "1m": 60, "hour": 3600, "1h": 3600, "day": 86400, "1d": 86400,
              "week": 7 * 86400, "1w": 7 * 86400}


def interval_seconds(spec: str) -> int:
    """Seconds in a histogram interval: ``minute|hour|day|week`` or ``N[smhd]``."""
    if spec in _INTERVALS:
        return _INTERVALS[spec]
    m = re.fullmatch(r"(\d+)([smhd])", spec)
    if not m:
        raise QuerySyntaxError(f"unsupported interval {spec!r}", hint="use minute, hour, day, week or e.g. 6h, 30m")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
