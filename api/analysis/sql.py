"""SQL pieces the analysis shares: the local hour of the day of a stored UTC time, on SQLite and PostgreSQL.

SQLite knows no time zones (and PostgreSQL's may name zones otherwise than Python's): the UTC offsets the
zone has during the period are worked out here, and the time's minute of the day in UTC is shifted by a
``CASE`` that picks the offset in force at each moment (one branch per change of offset, e.g. two a year
for a zone with daylight saving time, none for Asia/Shanghai), so the hours are exact for any zone,
half-hour offsets and daylight saving included. Only reading the UTC minute differs between the dialects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, cast, extract, func, literal
from sqlalchemy.orm import InstrumentedAttribute, Session


def offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets (minutes) of ``zone`` in ``[start, end)``: ``(since, minutes)``, the first since
    ``start``; a new entry at each change.

    Example:
        >>> from datetime import UTC
        >>> march = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
        >>> [(since.isoformat(), minutes) for since, minutes in offsets(ZoneInfo("Europe/Berlin"), *march)]
        [('2026-03-01T00:00:00+00:00', 60), ('2026-03-29T01:00:00+00:00', 120)]
    """

    def minutes(at: datetime) -> int:
        offset = at.astimezone(zone).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0

    found = [(start, minutes(start))]
    hour = timedelta(hours=1)
    at = start
    while at < end:
        step = min(at + hour, end)
        if minutes(step) != found[-1][1]:
            # The change lies in (at, step]: find its minute (changes fall on whole minutes).
            low, high = at, step
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if minutes(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high, minutes(high)))
        at = step
    return found


def local_hour(
    session: Session, column: InstrumentedAttribute[datetime], zone: ZoneInfo, start: datetime, end: datetime
) -> ColumnElement[int]:
    """The hour of the day (0..23) of ``column`` in ``zone``, as an SQL expression for ``session``'s database;
    exact for the times in ``[start, end)``.

    The minute of the day in UTC is read as each database allows, then shifted by the offset in force and
    wrapped around midnight (+ 1440 keeps the sum positive for offsets down to -24 h). The offsets come
    from Python's zone database on both databases, so that both answer alike, whatever zone names and
    versions PostgreSQL's own database holds.
    """
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", column)  # timestamptz -> the wall clock in UTC
        minute = cast(extract("hour", utc), Integer) * 60 + cast(extract("minute", utc), Integer)
    else:
        # SQLAlchemy stores a time on SQLite as text, "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here): the minute is
        # read from the text, much cheaper than strftime on every row.
        minute = cast(func.substr(column, 12, 2), Integer) * 60 + cast(func.substr(column, 15, 2), Integer)
    changes = offsets(zone, start, end)
    if len(changes) == 1:
        shift: ColumnElement[int] = literal(changes[0][1])
    else:
        # The latest change first: the first branch whose start the time has reached wins.
        shift = case(
            *((column >= since, minutes) for since, minutes in reversed(changes[1:])),
            else_=changes[0][1],
        )
    return (minute + shift + 1440) // 60 % 24
