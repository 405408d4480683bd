"""Working hours in the site's time zone, and when a rule is armed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Armed(StrEnum):
    """When a rule raises events."""

    WORKING_HOURS = "working_hours"
    OFF_HOURS = "off_hours"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class Schedule:
    """The site's working hours.

    Attributes:
        timezone: IANA zone of the site.
        days: working days (``mon`` ... ``sun``).
        start: start of the working day, local time.
        end: end of the working day, local time; before ``start`` means the shift runs past midnight.

    Example:
        >>> s = Schedule("Asia/Shanghai", ("mon",), time(8), time(18))
        >>> s.is_working(datetime(2026, 11, 23, 2, 0, tzinfo=ZoneInfo("UTC")).timestamp())  # Mon 10:00 local
        True
    """

    timezone: str = "UTC"
    days: tuple[str, ...] = DAYS[:6]
    start: time = time(8, 0)
    end: time = time(18, 0)

    def is_working(self, ts: float) -> bool:
        """Whether epoch time ``ts`` falls in working hours."""
        local = datetime.fromtimestamp(ts, ZoneInfo(self.timezone))
        clock = local.time()
        if self.start <= self.end:
            return DAYS[local.weekday()] in self.days and self.start <= clock < self.end
        # Overnight shift: the part after midnight belongs to the previous day's shift.
        if clock >= self.start:
            return DAYS[local.weekday()] in self.days
        return clock < self.end and DAYS[(local.weekday() - 1) % 7] in self.days

    def armed(self, mode: Armed, ts: float) -> bool:
        """Whether a rule armed in ``mode`` raises events at ``ts``."""
        if mode is Armed.ALWAYS:
            return True
        return self.is_working(ts) == (mode is Armed.WORKING_HOURS)
