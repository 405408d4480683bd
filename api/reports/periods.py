"""The periods a brief covers: an ISO week (``2026-W48``) or a month (``2026-11``), in a time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from api.core.errors import InvalidError
from api.core.schemas import YEARS, bounded_time

#: Years a period is computed in at all (wider than those asked for, :data:`api.core.schemas.YEARS`, so that
#: the period before the first one can be computed), far from the ends of the calendar.
_CALENDAR = (1900, 2200)


class PeriodError(InvalidError, ValueError):
    """A period that is neither ``YYYY-Www`` nor ``YYYY-MM`` (answered with 422)."""


@dataclass(frozen=True, slots=True)
class Period:
    """A week or a month, in a time zone.

    Example:
        >>> p = Period.parse("2026-W48", "Asia/Shanghai")
        >>> p.start.isoformat(), p.kind, p.previous().label
        ('2026-11-23T00:00:00+08:00', 'weekly', '2026-W47')
    """

    label: str
    kind: str  # weekly | monthly
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, text: str, tz: str, *, bounded: bool = True) -> Period:
        """``2026-W48`` (an ISO week) or ``2026-11`` (a month); ``bounded``: in the years the API accepts
        (:data:`api.core.schemas.YEARS`), also once in UTC."""
        zone = ZoneInfo(tz)
        period = cls._parse(text, zone)
        if bounded:
            try:
                bounded_time(period.start)
                bounded_time(period.end)
            except ValueError:
                raise PeriodError(
                    f"period {text} is outside the years {YEARS[0]}..{YEARS[1] - 1} (in UTC)"
                ) from None
        return period

    @classmethod
    def _parse(cls, text: str, zone: ZoneInfo) -> Period:
        if match := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            try:
                monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            except ValueError as exc:
                raise PeriodError(f"no such week: {text}") from exc
            if not _CALENDAR[0] <= monday.year < _CALENDAR[1]:
                raise PeriodError(f"period {text} is outside the years {YEARS[0]}..{YEARS[1] - 1}")
            start = datetime.combine(monday, datetime.min.time(), zone)
            return cls(text, "weekly", start, start + timedelta(days=7))
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise PeriodError(f"no such month: {text}")
            if not _CALENDAR[0] <= year < _CALENDAR[1]:
                raise PeriodError(f"period {text} is outside the years {YEARS[0]}..{YEARS[1] - 1}")
            start = datetime(year, month, 1, tzinfo=zone)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
            return cls(text, "monthly", start, end)
        raise PeriodError(f"a period is a week like 2026-W48 or a month like 2026-11, not {text!r}")

    def previous(self) -> Period:
        """The period before this one."""
        zone = self.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        before = self.start - timedelta(days=1)
        if self.kind == "weekly":
            year, week, _ = before.isocalendar()
            return Period._parse(f"{year}-W{week:02d}", zone)
        return Period._parse(f"{before.year}-{before.month:02d}", zone)
