"""A district's closed loop with known figures: cases written straight into the database with chosen
creation and closing times (October 2026 in Shanghai, the September before it, and a baseline in January
2025), and calls and texts recorded by the phone channels' own code.

The expected figures are worked out by hand in the tests, from the hours listed here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Outcome
from alerts.config import ChannelConfig
from api.cases.service import add_note
from api.delivery.contacts import record_in_history
from api.models import Case, Delivery, Site

ZONE = ZoneInfo("Asia/Shanghai")

#: October 2026, site-a: (day, hour created, local; hours to close or None for open; called?).
#: Closed within October: 1 + 2 + 3 + 4 + 5 + 10 + 24 + 30 + 85.7 = 164.7 hours over 9 cases: mean 18.3 h,
#: median 5 h; 7 of them within 24 h (24 itself included). The tenth, created on 31 October at 20:00,
#: is closed on 2 November: not closed within its month. Four were called or texted (one call failed).
OCTOBER_A: list[tuple[int, int, float | None, bool]] = [
    (1, 9, 1.0, True),
    (2, 9, 2.0, True),
    (3, 9, 3.0, False),
    (5, 9, 4.0, False),
    (8, 9, 5.0, False),
    (10, 9, 10.0, True),
    (12, 9, 24.0, False),
    (15, 9, 30.0, False),
    (20, 9, 85.7, True),
    (31, 20, 40.0, False),  # closed 2 November 12:00
]
#: October 2026, site-b: two cases, never closed, both texted.
OCTOBER_B: list[tuple[int, int, float | None, bool]] = [(6, 10, None, True), (7, 10, None, True)]
#: September 2026, site-a: four cases, two closed after 100 and 237.2 hours (mean 168.6), none called.
SEPTEMBER_A: list[tuple[int, int, float | None, bool]] = [
    (2, 9, 100.0, False),
    (4, 9, 237.2, False),
    (9, 9, None, False),
    (11, 9, None, False),
]
#: January 2025 (the baseline), site-a: five cases, four closed after 48 hours each, none called.
JANUARY_2025_A: list[tuple[int, int, float | None, bool]] = [
    (6, 9, 48.0, False),
    (7, 9, 48.0, False),
    (8, 9, 48.0, False),
    (9, 9, 48.0, False),
    (10, 9, None, False),
]

VOICE = ChannelConfig(type="aliyun_voice", access_key_id="id", secret="secret", template_code="TTS_1")


def seed_loop(sessions: sessionmaker[Session]) -> None:
    """Write the cases above (sites made when missing), and their calls through the phone channel's code."""
    months = [
        ("site-a", 2026, 10, OCTOBER_A),
        ("site-b", 2026, 10, OCTOBER_B),
        ("site-a", 2026, 9, SEPTEMBER_A),
        ("site-a", 2025, 1, JANUARY_2025_A),
    ]
    with sessions() as session:
        for site in ("site-a", "site-b"):
            if session.get(Site, site) is None:
                session.add(Site(id=site, name=site, created_at=datetime(2024, 1, 1, tzinfo=UTC)))
        called: list[Case] = []
        for site, year, month, rows in months:
            for day, hour, hours, call in rows:
                created = datetime(year, month, day, hour, tzinfo=ZONE).astimezone(UTC)
                closed = created + timedelta(hours=hours) if hours is not None else None
                case = Case(
                    site_id=site,
                    camera_id="gate",
                    kind="no_helmet",
                    status="closed" if closed else "dispatched",
                    created_at=created,
                    updated_at=closed or created,
                    deadline_at=created + timedelta(hours=24),
                    closed_at=closed,
                )
                session.add(case)
                session.flush()
                if call:
                    called.append(case)
                else:  # a note by a person is no call
                    add_note(session, case=case, actor="supervisor A", note="phoned the foreman myself")
        deliveries = [
            Delivery(
                notification_id=0,
                channel="voice",
                order_key=f"case-{case.id}",
                idempotency_key=f"k-{case.id}",
                body={"case_id": case.id, "masked": "138****0000"},
                attempts=0,
                created_at=case.created_at,
                next_attempt_at=case.created_at,
            )
            for case in called
        ]
        outcomes = [
            Outcome(False, permanent=True, detail="isv.BUSINESS_LIMIT_CONTROL") if i == 1 else Outcome(True)
            for i in range(len(deliveries))
        ]
        record_in_history(session, "voice", VOICE, list(zip(deliveries, outcomes, strict=True)))
        session.commit()
