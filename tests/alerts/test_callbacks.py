"""Callbacks from the case system: a wrong key, an unknown case or an illegal move gets a clear 4xx,
changes nothing and notifies nobody."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from api.models import CaseHistory, Notification
from tests.alerts.conftest import MakeLoop, webhook
from tests.alerts.receiver import CaseSystem


@pytest.mark.parametrize(
    ("who", "case", "body", "status", "says"),
    [
        (None, "mine", {"status": "dispatched"}, 401, ""),
        ("bad-key", "mine", {"status": "dispatched"}, 401, ""),
        ("edge", "mine", {"status": "dispatched"}, 403, ""),
        ("viewer", "mine", {"status": "dispatched"}, 403, ""),
        ("integration", 999_999, {"status": "dispatched"}, 404, "no case 999999"),
        ("integration", "mine", {"status": "reinspection"}, 409, "cannot become reinspection"),
        ("integration", "closed", {"status": "dispatched"}, 409, "a closed case cannot become dispatched"),
        ("integration", "mine", {"status": "solved"}, 422, ""),
        ("integration", "mine", {"status": "dispatched", "extra": 1}, 422, ""),
    ],
)
def test_a_bad_callback_changes_nothing(
    make_loop: MakeLoop,
    case_system: CaseSystem,
    who: str | None,
    case: int | str,
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    loop = make_loop({"cases": webhook(case_system.url)}, [{"channels": ["cases"]}])
    loop.keys["bad-key"] = "sw_not-a-key-0123456789abcdefghijklmnopqrs"
    loop.ingest("evt-callback-0")
    loop.ingest("evt-callback-1", camera="yard")
    mine, other = (c["id"] for c in loop.cases())
    if case == "closed":
        closing = loop.client.patch(
            f"/api/v1/cases/{other}", json={"status": "closed"}, headers=loop.as_("integration")
        )
        assert closing.status_code == 200
    target = {"mine": mine, "closed": other}.get(str(case), case)

    def counts() -> tuple[int, int]:
        with loop.app.state.sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(CaseHistory)) or 0,
                session.scalar(select(func.count()).select_from(Notification)) or 0,
            )

    before = counts()
    headers = loop.as_(who) if who else {}
    response = loop.client.patch(f"/api/v1/cases/{target}", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"] if says else True
    assert counts() == before
    assert all(c["status"] in ("open", "closed") for c in loop.cases())
