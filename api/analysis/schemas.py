"""What the analysis routes read and write: the analysis of a period with its findings, and tracked issues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.core.schemas import InModel, Time

FindingKind = Literal["recurring_company", "rising_project", "reopened_cases", "noisy_camera"]
SiteName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: One figure of a finding: a count, a share, a time or name (bounded, finite: any database stores it).
Scalar = (
    Annotated[int, Field(ge=-(2**53), le=2**53)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[str, Field(max_length=300)]
    | None
)
Figure = (
    Scalar
    | Annotated[dict[str, Scalar], Field(max_length=50)]
    | Annotated[list[Scalar], Field(max_length=50)]
)


class Words(BaseModel):
    """A text in both languages of the UI."""

    zh: str = Field(default="", max_length=500)
    en: str = Field(default="", max_length=500)


class EvidencePublic(BaseModel):
    """A typical event of a finding, with its snapshot's reference."""

    event_id: str = Field(max_length=64)
    site_id: str = Field(max_length=64)
    camera_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    started_at: str = Field(max_length=40)
    snapshot_sha256: str | None = Field(default=None, max_length=64)
    snapshot_url: str | None = Field(default=None, max_length=200)


class FindingPublic(BaseModel):
    """A recurring problem: what (``kind``, ``subject``), how much (``figures``), typical events
    (``evidence``) and what to do (``action``)."""

    kind: FindingKind
    subject: str = Field(min_length=1, max_length=200)
    label: str = Field(default="", max_length=200)
    site_ids: list[SiteName] = Field(min_length=1, max_length=50)
    figures: Annotated[dict[str, Figure], Field(max_length=30)] = {}
    evidence: list[EvidencePublic] = Field(default=[], max_length=20)
    title: Words = Words()
    action: Words = Words()


class FindingIn(FindingPublic, InModel):
    """A finding as the analysis returned it, sent back to be tracked."""


class ProjectCount(BaseModel):
    """Violations of a project (or of a site without one)."""

    site_id: str
    project_id: int | None
    name: str
    company: str
    violations: int


class CompanyCount(BaseModel):
    """Violations of a company over its projects with violations."""

    company: str
    projects: int
    violations: int


class CameraCount(BaseModel):
    """A camera's violations, reviewed and dismissed events."""

    site_id: str
    camera_id: str | None
    violations: int
    reviewed: int
    dismissed: int
    false_alarm_share: float | None


class AnalysisPublic(BaseModel):
    """The violations of a period broken down, and the recurring problems found in them."""

    period: dict[str, str]
    totals: dict[str, int]
    by_project: list[ProjectCount]
    by_company: list[CompanyCount]
    by_kind: dict[str, int]
    by_camera: list[CameraCount]
    by_hour: list[int] = Field(description="Violations per local hour of the day, 0..23.")
    findings: list[FindingPublic]


class Ranked(BaseModel):
    """What every row of a ranking holds."""

    count: int = Field(description="Violations in the period.")
    previous: int = Field(description="Violations in the period as long just before.")
    share: float = Field(description="Of the period's violations, 0..1.")


class ContractorRank(Ranked):
    """A contractor (施工单位) over its projects with a row."""

    company: str
    open_cases: int = Field(description="Cases of its projects not closed now.")
    projects: int = Field(description="Its projects with violations or open cases.")
    projects_total: int = Field(description="Its projects in all.")
    projects_over_bar: int = Field(description="Its projects at or above the bar of a recurring contractor.")
    recurring: bool = Field(description="As many projects over the bar as make it a recurring contractor.")


class StreetRank(Ranked):
    """A street (街道) over its projects with a row."""

    street: str
    open_cases: int = Field(description="Cases of its projects not closed now.")
    projects: int = Field(description="Its projects with violations or open cases.")
    projects_total: int = Field(description="Its projects in all.")
    projects_over_bar: int = Field(description="Its projects at or above the bar (thresholds.project_bar).")


class ProjectRank(Ranked):
    """A project (or a site without one)."""

    site_id: str
    project_id: int | None
    name: str
    company: str
    street: str = Field(default="", description="The project's street (街道), empty when not recorded.")
    open_cases: int = Field(description="Cases of the site not closed now.")
    over_bar: bool = Field(description="At or above the bar (thresholds.project_bar).")


class HourRank(Ranked):
    """A local hour of the day."""

    hour: int = Field(ge=0, le=23)


class CameraRank(Ranked):
    """A camera, with its false alarms."""

    site_id: str
    camera_id: str | None
    project_id: int | None
    name: str
    open_cases: int
    reviewed: int
    dismissed: int
    false_alarm_share: float | None


class RankingThresholds(BaseModel):
    """The figures behind the findings, for the UI to explain them (see api.analysis.scope.Thresholds)."""

    median_project: float = Field(description="Median violations of the projects with any, this period.")
    project_bar: float = Field(description="max(project_min, project_factor × median_project).")
    project_factor: float
    project_min: int
    company_projects: int
    rise_factor: float
    rise_min: int
    reopen_min: int
    false_share: float
    false_min: int


class RankingsPublic(BaseModel):
    """A period's violations ranked per contractor, street, project, local hour and camera, against the
    period before."""

    period: dict[str, str]
    previous: dict[str, str]
    totals: dict[str, int]
    thresholds: RankingThresholds
    contractors: list[ContractorRank]
    streets: list[StreetRank] = Field(description="Projects without a street recorded are left out.")
    projects: list[ProjectRank]
    hours: list[HourRank]
    cameras: list[CameraRank]


class TrackedIssueIn(InModel):
    """Track a finding: who owns it, by when, under what title."""

    finding: FindingIn
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=100)
    deadline_at: Time


class TrackedIssueClose(InModel):
    """Close a tracked issue, saying how it was resolved."""

    note: str = Field(min_length=1, max_length=2000)


class TrackedIssuePublic(BaseModel):
    """A tracked recurring problem."""

    id: int
    finding_kind: str
    subject: str
    title: str
    site_ids: list[str]
    finding: dict[str, Any]
    owner: str
    deadline_at: datetime
    overdue: bool
    status: str
    note: str
    created_by: str
    created_at: datetime
    closed_at: datetime | None
