"""What the projects API reads and writes (issue 16): projects (工程) and their map markers.

Example:
    >>> ProjectIn(site_id="site-a", name="Wall", planned_start="2026-11-01", planned_end="2026-12-31").company
    ''
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.core.schemas import YEARS, InModel

ProjectState = Literal["planned", "active", "finished"]
MarkerStatus = Literal["finished", "overdue", "open_cases", "offline", "active", "planned"]


def bounded_date(value: date) -> date:
    """``value`` if its year lies in :data:`api.core.schemas.YEARS`, else ``ValueError`` (422 with the
    reason)."""
    if not YEARS[0] <= value.year < YEARS[1]:
        raise ValueError(f"date {value.isoformat()} is outside the years {YEARS[0]}..{YEARS[1] - 1}")
    return value


#: A planned date (local, both ends included).
PlanDate = Annotated[date, AfterValidator(bounded_date)]
SiteId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
#: A phone number as people write it: digits, with an optional leading ``+``, spaces and dashes.
Phone = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 -]*$")]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


class ProjectIn(InModel):
    """A new project; ``planned_end`` must not be before ``planned_start`` (422 naming ``planned_end``)."""

    site_id: SiteId
    name: Name
    address: str = Field(default="", max_length=300)
    street: str = Field(default="", max_length=100, description="街道, the sub-district the site lies in.")
    community: str = Field(default="", max_length=100, description="社区, the community within the street.")
    lat: Lat | None = None
    lon: Lon | None = None
    builder: str = Field(default="", max_length=200, description="建设单位, the client.")
    company: str = Field(default="", max_length=200, description="施工单位, the construction company.")
    permit_no: str = Field(default="", max_length=100, description="Permit or filing number.")
    contact_name: str = Field(default="", max_length=100, description="The person responsible for safety.")
    contact_phone: Phone | None = None
    planned_start: PlanDate
    planned_end: PlanDate

    @field_validator("planned_end")
    @classmethod
    def _end_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("planned_start")
        if start is not None and end < start:
            raise ValueError(f"planned_end {end} is before planned_start {start}")
        return end


#: Fields of a project that cannot be cleared (a ``null`` for them is refused, naming the field).
REQUIRED = (
    "site_id",
    "name",
    "address",
    "street",
    "community",
    "builder",
    "company",
    "permit_no",
    "contact_name",
    "planned_start",
    "planned_end",
)


class ProjectPatch(InModel):
    """A change of any fields (``planned_end`` later extends the project); ``lat``, ``lon`` and
    ``contact_phone`` may be cleared with ``null``. The result must still end on or after its start."""

    site_id: SiteId | None = None
    name: Name | None = None
    address: str | None = Field(default=None, max_length=300)
    street: str | None = Field(default=None, max_length=100)
    community: str | None = Field(default=None, max_length=100)
    lat: Lat | None = None
    lon: Lon | None = None
    builder: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    permit_no: str | None = Field(default=None, max_length=100)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: Phone | None = None
    planned_start: PlanDate | None = None
    planned_end: PlanDate | None = None

    @field_validator(*REQUIRED)
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class ProjectPublic(BaseModel):
    """A project as the API shows it: ``contact_phone`` in full to supervisors and admins (each read
    audited), masked (``138****5678``) to others."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: str
    name: str
    address: str
    street: str = ""
    community: str = ""
    lat: float | None
    lon: float | None
    builder: str
    company: str
    permit_no: str
    contact_name: str
    contact_phone: str | None
    planned_start: date
    planned_end: date
    state: ProjectState
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProjectMarker(BaseModel):
    """A project on the map, with what its status colour says: ``status`` is the most urgent of
    ``overdue`` > ``open_cases`` > ``offline`` > ``active``; ``finished`` and ``planned`` projects keep
    their state. ``cameras_offline``: reported offline, or silent for longer than
    ``SITEWATCH_CAMERA_STALE_S``."""

    id: int
    site_id: str
    name: str
    company: str
    lat: float | None
    lon: float | None
    state: ProjectState
    cameras: int
    cameras_offline: int
    open_cases: int
    overdue_cases: int
    status: MarkerStatus
