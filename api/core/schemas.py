"""What every request body shares: bounded times, documents checked for NUL characters and depth, and
:class:`InModel`, the base that refuses unknown keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

#: The years a time the API accepts may fall in (in UTC): enough for any real event, and far from the ends
#: of what Python and the databases can hold, so that no conversion overflows.
YEARS = (2000, 2100)


def bounded_time(value: datetime) -> datetime:
    """``value`` if it falls in :data:`YEARS` once in UTC (a naive time is taken as UTC), else ``ValueError``
    (answered 422 with the reason)."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
    except OverflowError:
        utc = None
    if utc is None or not YEARS[0] <= utc.year < YEARS[1]:
        raise ValueError(f"time {value.isoformat()} is outside the years {YEARS[0]}..{YEARS[1] - 1} (UTC)")
    return value


#: A time in a request: bounded by :func:`bounded_time`.
Time = Annotated[datetime, AfterValidator(bounded_time)]


#: How deeply JSON documents the API reads may nest (a site configuration needs a handful of levels).
MAX_DEPTH = 32


def contains_nul(value: object) -> bool:
    """Whether a string anywhere in ``value`` holds a NUL character (PostgreSQL text cannot store one)."""
    return check_document(value, max_depth=None) is not None


def check_document(value: object, *, max_depth: int | None = MAX_DEPTH) -> str | None:
    """What is wrong with a JSON document, or ``None``: text with a NUL character (PostgreSQL text cannot
    store one), or nesting deeper than ``max_depth`` (which recursive code downstream would not survive).
    Walks the document without recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text must not contain NUL characters"
        elif isinstance(item, dict | list | tuple):
            if max_depth is not None and depth >= max_depth:
                return f"the document is nested deeper than {max_depth} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class InModel(BaseModel):
    """Base of request bodies: unknown keys are refused (422, naming them: an integrator's typo must not
    be ignored silently), and so are text with NUL characters and documents nested deeper than
    :data:`MAX_DEPTH`, before any database or recursive code sees them."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        if (problem := check_document(data)) is not None:
            raise ValueError(problem)
        return data
