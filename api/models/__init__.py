"""The API's tables (SQLAlchemy 2.0, typed), one module per area. Times are timezone-aware UTC.

Importing this package registers every table on :data:`Base.metadata` (what Alembic compares the
migrations with), and ``from api.models import Event`` keeps working wherever a table is used.
"""

from api.models.access import ApiKey, AuditEntry, LoginFailures, User, WebSession
from api.models.base import Base, UTCDateTime
from api.models.cases import Case, CaseEvent, CaseHistory, CasePolicy, TrackedIssue
from api.models.events import Event, EvidenceFile, FalseAlarm, IngestedUpdate, Review
from api.models.officers import Officer, OfficerEmbedding, PresenceInterval
from api.models.outbox import Brief, Delivery, Notification
from api.models.sites import CameraHealth, Project, Site, SiteConfig

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Brief",
    "CameraHealth",
    "Case",
    "CaseEvent",
    "CaseHistory",
    "CasePolicy",
    "Delivery",
    "Event",
    "EvidenceFile",
    "FalseAlarm",
    "IngestedUpdate",
    "LoginFailures",
    "Notification",
    "Officer",
    "OfficerEmbedding",
    "PresenceInterval",
    "Project",
    "Review",
    "Site",
    "SiteConfig",
    "TrackedIssue",
    "UTCDateTime",
    "User",
    "WebSession",
]
