"""Callbacks from the case system: a wrong key, an unknown case or an illegal move gets a clear 4xx,
changes nothing and notifies nobody; a signed callback must be ours and fresh, and counts once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from alerts.demo_receiver import DemoCaseSystem
from alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request
from api.http.services import services_of
from api.models import CaseHistory, Notification
from tests.alerts.conftest import SECRET, MakeLoop, webhook
from tests.alerts.receiver import CaseSystem
from tests.waiting import wait_for


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
        with services_of(loop.app).sessions() as session:
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


def signed(
    body: bytes, case_id: int, *, key: str = "cb-0001", age_s: float = 0, secret: str = SECRET
) -> dict[str, str]:
    """The headers of a callback for ``case_id``, signed for the API's URL as the TestClient reaches it."""
    timestamp = str(int(time.time() - age_s))
    url = f"http://testserver/api/v1/cases/{case_id}"
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        IDEMPOTENCY_HEADER: key,
        SIGNATURE_HEADER: sign_request(secret, timestamp=timestamp, idempotency_key=key, url=url, body=body),
    }


RECTIFIED = json.dumps({"status": "rectified", "note": "fixed"}).encode()


@pytest.mark.parametrize(
    ("how", "status", "applied"),
    [
        ("unsigned", 200, True),  # the integration key alone, as before
        ("signed", 200, True),
        ("stale", 401, False),  # signed 301 s ago
        ("ahead", 401, False),  # signed 301 s in the future
        ("wrong secret", 401, False),
        ("other body", 401, False),  # a signature of another body
        ("other url", 401, False),  # a signature for another receiver
        ("no key header", 401, False),
    ],
)
def test_a_signed_callback_must_be_ours_and_fresh(
    make_loop: MakeLoop, case_system: CaseSystem, how: str, status: int, applied: bool
) -> None:
    # Regression (issue 13, finding 9): callbacks could not be signed, so a captured one could be replayed.
    loop = make_loop({"cases": webhook(case_system.url)}, [{"channels": ["cases"]}])
    loop.ingest("evt-signed-0")
    (case,) = loop.cases()
    url = f"/api/v1/cases/{case['id']}"
    assert (
        loop.client.patch(url, json={"status": "dispatched"}, headers=loop.as_("integration")).status_code
        == 200
    )
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "signed": signed(RECTIFIED, case["id"]),
        "stale": signed(RECTIFIED, case["id"], age_s=301),
        "ahead": signed(RECTIFIED, case["id"], age_s=-301),
        "wrong secret": signed(RECTIFIED, case["id"], secret="another-secret-0123"),
        "other body": signed(b'{"status": "closed"}', case["id"]),
        "other url": signed(RECTIFIED, case["id"] + 1),  # signed for another case's address
        "no key header": {k: v for k, v in signed(RECTIFIED, case["id"]).items() if k != IDEMPOTENCY_HEADER},
    }[how]
    response = loop.client.patch(url, content=RECTIFIED, headers={**headers, **loop.as_("integration")})
    assert response.status_code == status, response.text
    assert loop.client.get(url, headers=loop.as_("admin")).json()["status"] == (
        "reinspection" if applied else "dispatched"
    )


@pytest.mark.parametrize("target", ["same case", "other case"])
def test_a_repeated_signed_callback_gets_the_first_answer_and_changes_nothing(
    make_loop: MakeLoop, case_system: CaseSystem, target: str
) -> None:
    loop = make_loop({"cases": webhook(case_system.url)}, [{"channels": ["cases"]}])
    loop.ingest("evt-repeat-0")
    loop.ingest("evt-repeat-1", camera="yard")
    first, second = (c["id"] for c in loop.cases())
    for case_id in (first, second):
        moved = loop.client.patch(
            f"/api/v1/cases/{case_id}", json={"status": "dispatched"}, headers=loop.as_("integration")
        )
        assert moved.status_code == 200
    headers = {**signed(RECTIFIED, first, key="cb-repeat"), **loop.as_("integration")}
    answer = loop.client.patch(f"/api/v1/cases/{first}", content=RECTIFIED, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] == "reinspection"

    def counts() -> tuple[int, int]:
        with services_of(loop.app).sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(CaseHistory)) or 0,
                session.scalar(select(func.count()).select_from(Notification)) or 0,
            )

    before = counts()
    again_id = {"same case": first, "other case": second}[target]
    again = loop.client.patch(f"/api/v1/cases/{again_id}", content=RECTIFIED, headers=headers)
    if target == "same case":
        assert (again.status_code, again.json()) == (answer.status_code, answer.json())
    else:  # signed for the first case's address: not a callback for the second at all
        assert again.status_code == 401, again.text
    assert counts() == before
    assert (
        loop.client.get(f"/api/v1/cases/{second}", headers=loop.as_("admin")).json()["status"] == "dispatched"
    )


def test_the_demo_case_system_signs_its_callbacks(
    make_loop: MakeLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = DemoCaseSystem(SECRET, echo=False)
    try:
        loop = make_loop({"cases": webhook(demo.url)}, [{"channels": ["cases"]}])
        sent: list[dict[str, str]] = []

        def through_the_app(url: str, **kwargs: Any) -> Any:
            sent.append(kwargs["headers"])
            kwargs.pop("timeout")  # the TestClient has none
            return loop.client.patch(url.removeprefix("http://testserver"), **kwargs)

        monkeypatch.setattr("alerts.demo_receiver.httpx.patch", through_the_app)
        demo.connect("http://testserver", loop.keys["integration"])
        loop.ingest("evt-demo-0")
        wait_for(lambda: demo.callbacks, 20, "the demo case system's callback")
        (case,) = loop.cases()
        assert demo.callbacks == [(case["id"], 200)]
        assert case["status"] == "dispatched" and case["external_id"] == "DEMO-000001"
        assert all(h[SIGNATURE_HEADER].startswith("sha256=") and h[IDEMPOTENCY_HEADER] for h in sent)
    finally:
        demo.close()


def test_a_change_of_the_case_systems_number_is_in_the_case_history(
    make_loop: MakeLoop, case_system: CaseSystem
) -> None:
    # Regression (issue 24, item 6): a callback rewrote external_id with no history line.
    loop = make_loop({"cases": webhook(case_system.url)}, [{"channels": ["cases"]}])
    loop.ingest("evt-number-0")
    wait_for(lambda: loop.cases()[0]["external_id"], 10, "the case system's number")
    (case,) = loop.cases()
    first = case["external_id"]
    url = f"/api/v1/cases/{case['id']}"
    for number in ("CS-other", "CS-other"):  # the second sets the same number: no line
        answer = loop.client.patch(url, json={"external_id": number}, headers=loop.as_("integration"))
        assert answer.status_code == 200 and answer.json()["status"] == case["status"]
    history = loop.client.get(url, headers=loop.as_("admin")).json()["history"]
    lines = [h for h in history if "case system number" in (h["note"] or "")]
    assert [(h["note"], h["from_status"], h["to_status"]) for h in lines] == [
        (f"case system number {first} -> CS-other", case["status"], case["status"])
    ]
