"""Notifications reach a real receiver exactly once, in order per case, signed; failures back off,
dead-letter and replay; robots, speakers and quiet hours."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
from sqlalchemy import select

from alerts.contract import json_schema
from alerts.signing import IDEMPOTENCY_HEADER, TIMESTAMP_HEADER
from api.http.services import services_of
from api.models import Delivery
from tests.alerts.conftest import SECRET, MakeLoop, webhook
from tests.alerts.receiver import CaseSystem
from tests.waiting import wait_for

CASES = {"channels": ["cases"], "topics": ["case.created", "case.updated"]}
SCHEMA = json.loads(json_schema())


def test_every_notice_arrives_once_in_order_per_case_signed(
    make_loop: MakeLoop, case_system: CaseSystem
) -> None:
    case_system.fail_first = 3
    loop = make_loop({"cases": webhook(case_system.url)}, [CASES])
    for i in range(3):
        loop.ingest(f"evt-order-{i}", kind=("no_helmet", "no_vest", "smoking")[i])
    wait_for(lambda: len(loop.cases()) == 3, 10, "three cases")
    first = loop.cases()[0]["id"]
    for state in ("dispatched", "rectifying"):
        patch = loop.client.patch(
            f"/api/v1/cases/{first}", json={"status": state}, headers=loop.as_("integration")
        )
        assert patch.status_code == 200, patch.text
    wait_for(lambda: len(case_system.accepted) == 5, 20, "five notices at the receiver")

    assert all(r.signed for r in case_system.requests)
    assert all(r.headers.get(TIMESTAMP_HEADER, "").isdigit() for r in case_system.requests)
    assert set(case_system.successes.values()) == {1}, "a notice was delivered twice"
    for notice in case_system.notices():
        jsonschema.validate(notice, SCHEMA)  # the published contract holds for what we send
    of_first = [n for n in case_system.notices() if n["case"]["id"] == first]
    assert [(n["type"], n["change"] and n["change"]["to_status"]) for n in of_first] == [
        ("case.created", None),
        ("case.updated", "dispatched"),
        ("case.updated", "rectifying"),
    ]
    created = of_first[0]
    assert created["case"]["people_count"] == 2 and created["events"][0]["id"] == "evt-order-0"
    key = next(k for k, n in case_system.accepted.items() if n is created)
    wait_for(lambda: loop.cases()[0]["external_id"] == f"CS-{key}", 5, "the case number kept")


def test_evidence_links_open_without_a_key_until_tampered(
    make_loop: MakeLoop, case_system: CaseSystem
) -> None:
    loop = make_loop({"cases": webhook(case_system.url)}, [CASES], public_url="http://testserver")
    loop.ingest("evt-links-0")
    wait_for(lambda: case_system.accepted, 10, "the case notice")
    evidence = case_system.notices()[0]["events"][0]["evidence"]
    url = httpx.URL(evidence["snapshot_url"])
    opened = loop.client.get(url.path, params=dict(url.params))
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/jpeg"
    assert opened.content.startswith(b"\xff\xd8")
    tampered = dict(url.params) | {"expires": str(int(url.params["expires"]) + 3600)}
    assert loop.client.get(url.path, params=tampered).status_code == 403
    expired = dict(url.params) | {"expires": "1000"}
    assert loop.client.get(url.path, params=expired).status_code == 403
    other = evidence["annotated_url"] or url.path.replace(evidence["snapshot_sha256"], "0" * 64)
    assert loop.client.get(httpx.URL(other).path, params=dict(url.params)).status_code == 403


def test_a_receiver_that_never_recovers_leaves_a_replayable_dead_letter(
    make_loop: MakeLoop, case_system: CaseSystem
) -> None:
    case_system.fail_always = True
    loop = make_loop({"cases": webhook(case_system.url, max_attempts=3)}, [CASES])
    loop.ingest("evt-dead-0")

    def dead() -> list[dict[str, object]]:
        answer = loop.client.get("/api/v1/deliveries", params={"status": "failed"}, headers=loop.as_("admin"))
        assert answer.status_code == 200
        return list(answer.json())

    wait_for(dead, 20, "the dead letter")
    [row] = dead()
    assert row["attempts"] == 3 and "503" in str(row["last_error"]) and len(case_system.requests) == 3
    assert loop.client.get("/api/v1/deliveries", headers=loop.as_("viewer")).status_code == 403
    assert (
        loop.client.post(f"/api/v1/deliveries/{row['id']}/replay", headers=loop.as_("viewer")).status_code
        == 403
    )

    case_system.fail_always = False
    replay = loop.client.post(f"/api/v1/deliveries/{row['id']}/replay", headers=loop.as_("admin"))
    assert replay.status_code == 200 and replay.json()["status"] == "pending"
    wait_for(lambda: case_system.accepted, 10, "the replayed notice")
    assert list(case_system.accepted) == [row["idempotency_key"]]
    again = loop.client.post(f"/api/v1/deliveries/{row['id']}/replay", headers=loop.as_("admin"))
    assert again.status_code == 409
    assert loop.client.post("/api/v1/deliveries/999999/replay", headers=loop.as_("admin")).status_code == 404


def test_a_refusal_is_dead_at_once_and_does_not_block_the_next(
    make_loop: MakeLoop, case_system: CaseSystem
) -> None:
    case_system.fail_first, case_system.fail_status = 1, 400
    loop = make_loop({"cases": webhook(case_system.url, max_attempts=5)}, [CASES])
    loop.ingest("evt-refused-0")
    first = lambda: loop.cases()[0]["id"]  # noqa: E731
    wait_for(lambda: loop.cases(), 10, "the case")
    loop.client.patch(
        f"/api/v1/cases/{first()}", json={"status": "dispatched"}, headers=loop.as_("integration")
    )

    def states() -> list[tuple[str, int]]:
        with services_of(loop.app).sessions() as session:
            return [(r.status, r.attempts) for r in session.scalars(select(Delivery).order_by(Delivery.id))]

    wait_for(
        lambda: states() == [("failed", 1), ("delivered", 1)], 10, "the update after the refused creation"
    )
    assert len(case_system.accepted) == 1


def wecom(body: dict[str, Any], url: str) -> bool:
    return body["msgtype"] == "markdown" and "未戴安全帽" in body["markdown"]["content"]


def dingtalk(body: dict[str, Any], url: str) -> bool:
    return "sign=" in url and "timestamp=" in url and bool(body["markdown"]["title"])


def feishu(body: dict[str, Any], url: str) -> bool:
    return bool(body["sign"]) and body["card"]["elements"][0]["tag"] == "markdown"


@pytest.mark.parametrize(
    ("kind", "answer", "check"),
    [
        ("wecom", {"errcode": 0}, wecom),
        ("dingtalk", {"errcode": 0}, dingtalk),
        ("feishu", {"code": 0}, feishu),
    ],
)
def test_robots_get_markdown_in_their_format_within_their_rate(
    make_loop: MakeLoop, kind: str, answer: dict[str, int], check: object
) -> None:
    robot = CaseSystem(check_signature=False, answer=answer)
    try:
        channel = {
            "type": kind,
            "url": robot.url + "?access_token=t",
            "secret": "SECabc",
            "rate_per_minute": 2,
        }
        loop = make_loop({"group": channel}, [{"channels": ["group"], "topics": ["event.started"]}])
        for i in range(4):
            loop.ingest(f"evt-robot-{i}", seed=i)
        wait_for(lambda: len(robot.requests) == 2, 10, "the first two messages")
        request = robot.requests[0]
        assert callable(check) and check(json.loads(request.body), request.path)
        assert "[查看抓拍](http" in request.body.decode()

        def states() -> list[tuple[str, int, bool]]:
            later = datetime.now(UTC) + timedelta(seconds=10)
            with services_of(loop.app).sessions() as session:
                rows = session.scalars(select(Delivery))
                return sorted((r.status, r.attempts, r.next_attempt_at > later) for r in rows)

        # Over the rate the rest wait (about 30 s at 2 a minute): not failed, no attempt spent.
        expected = [("delivered", 1, False)] * 2 + [("pending", 0, True)] * 2
        wait_for(lambda: states() == expected, 10, "two sent, two held")
        assert len(robot.requests) == 2
    finally:
        robot.close()


def test_a_speaker_command_plays_the_kinds_prompt(make_loop: MakeLoop, tmp_path: Path) -> None:
    played = tmp_path / "played.txt"
    speaker = {"type": "speaker", "command": ["/bin/sh", "-c", f"echo {{kind}} {{audio}} >> {played}"]}
    loop = make_loop(
        {"speaker": speaker}, [{"channels": ["speaker"], "topics": ["event.started"], "kinds": ["no_helmet"]}]
    )
    loop.ingest("evt-speak-0", kind="no_helmet")
    loop.ingest("evt-speak-1", kind="smoking", camera="yard")  # not routed to the speaker
    wait_for(played.exists, 10, "the prompt to play")
    [line] = played.read_text().splitlines()
    kind, audio = line.split()
    assert kind == "no_helmet" and audio.endswith("zh/no_helmet.wav") and Path(audio).stat().st_size > 10_000


def test_a_speaker_endpoint_gets_the_wav(make_loop: MakeLoop) -> None:
    speaker = CaseSystem(check_signature=False)
    try:
        channel = {"type": "speaker", "url": speaker.url, "language": "en"}
        loop = make_loop({"speaker": channel}, [{"channels": ["speaker"], "topics": ["event.started"]}])
        loop.ingest("evt-speak-2", kind="no_vest")
        wait_for(lambda: speaker.requests, 10, "the speaker call")
        request = speaker.requests[0]
        assert b"RIFF" in request.body and b"Please wear your reflective vest." in request.body
        assert request.headers[IDEMPOTENCY_HEADER].startswith("sitewatch-")
    finally:
        speaker.close()


def test_quiet_hours_hold_messages_until_they_end(make_loop: MakeLoop, case_system: CaseSystem) -> None:
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    route = CASES | {"quiet_hours": {"start": start, "end": end}}
    loop = make_loop({"cases": webhook(case_system.url)}, [route])
    loop.ingest("evt-quiet-0")
    with services_of(loop.app).sessions() as session:
        wait_for(lambda: session.scalar(select(Delivery)) is not None, 10, "the delivery")
        row = session.scalar(select(Delivery))
        assert row is not None
    assert row.status == "pending" and row.next_attempt_at > datetime.now(UTC) + timedelta(minutes=50)
    assert not case_system.requests
    assert SECRET not in json.dumps(row.body)
