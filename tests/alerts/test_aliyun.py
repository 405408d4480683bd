"""Texts and calls to a project's safety contact through Alibaba Cloud's SMS and voice APIs, against a real
loopback server that checks the RPC signature with its own implementation of the documented algorithm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
from sqlalchemy import func, select

from alerts.aliyun import percent_encode, signature, string_to_sign
from alerts.config import AlertsConfig
from api.cases.due_soon import raise_due_soon
from api.cases.service import set_policy
from api.core.secretkeys import data_keys
from api.delivery.dispatcher import DISPATCHER
from api.http.services import services_of
from api.models import Delivery, Notification, Project
from tests.alerts.aliyun_receiver import AliyunProvider, expected_signature
from tests.alerts.conftest import Loop, MakeLoop
from tests.waiting import wait_for

KEY_ID = "LTAI-test-key-id"
KEY_SECRET = "test-secret-of-the-access-key"
PHONE = "13812345678"
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def provider() -> Iterator[AliyunProvider]:
    server = AliyunProvider(access_key_id=KEY_ID, secret=KEY_SECRET)
    yield server
    server.close()


def sms(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "aliyun_sms", "url": url, "access_key_id": KEY_ID, "secret": KEY_SECRET,
            "sign_name": "工地安全", "template_code": "SMS_2718281", "backoff_s": 0.05, "backoff_max_s": 0.1,
            **extra}  # fmt: skip


def voice(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "aliyun_voice", "url": url, "access_key_id": KEY_ID, "secret": KEY_SECRET,
            "template_code": "TTS_3141592", "called_show_number": "057100000000", "backoff_s": 0.05,
            "backoff_max_s": 0.1, **extra}  # fmt: skip


def add_project(loop: Loop, phone: str | None = PHONE) -> None:
    today = date.today()
    with services_of(loop.app).sessions() as session:
        session.add(
            Project(
                site_id="site-a", name="滨江花园三期", contact_name="王工",
                contact_phone=data_keys(session).pii.encrypt(phone.encode()).decode() if phone else None,
                planned_start=today - timedelta(days=30), planned_end=today + timedelta(days=300),
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
            )
        )  # fmt: skip
        session.commit()


def history(loop: Loop, case_id: int) -> list[dict[str, Any]]:
    response = loop.client.get(f"/api/v1/cases/{case_id}", headers=loop.as_("admin"))
    assert response.status_code == 200
    return list(response.json()["history"])


def contact_lines(loop: Loop, case_id: int) -> list[dict[str, Any]]:
    return [h for h in history(loop, case_id) if h["actor"].startswith("alerts:")]


def deliveries(loop: Loop, channel: str) -> list[Delivery]:
    with services_of(loop.app).sessions() as session:
        return list(
            session.scalars(select(Delivery).where(Delivery.channel == channel).order_by(Delivery.id))
        )


# -- the signature -----------------------------------------------------------------------------------------

#: The provider's documented examples: SendSms (SMS signature page) and DescribeRegions (RPC signature page).
VECTORS = [
    (
        "testSecret", "GET",
        {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
         "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
         "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
         "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
         "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"},
        "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
    ),
    (
        "testsecret", "GET",
        {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
         "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
         "SignatureVersion": "1.0",
         "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"},
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("secret", "method", "params", "expected"), VECTORS)
def test_known_answer_vectors(secret: str, method: str, params: dict[str, str], expected: str) -> None:
    assert signature(secret, method, params) == expected
    assert expected_signature(secret, method, params) == expected  # the receiver's own check agrees
    assert signature(secret, method, params | {"Signature": "ignored"}) == expected


def test_string_to_sign_of_the_documented_sms_example() -> None:
    text = string_to_sign("GET", VECTORS[0][2])
    assert text.startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123")
    assert "SignName%3D%25E9%2598%25BF%25E9%2587%258C" in text  # UTF-8, encoded twice
    assert "TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D" in text
    assert "Timestamp%3D2017-07-12T02%253A42%253A19Z" in text


@pytest.mark.parametrize(
    ("text", "encoded"),
    [("a b", "a%20b"), ("*", "%2A"), ("~-_.", "~-_."), ("/=&+", "%2F%3D%26%2B"), ("派", "%E6%B4%BE")],
)
def test_percent_encoding(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded


# -- configuration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "topics", "error"),
    [
        ({"sign_name": None}, ["case.created"], "needs a sign_name"),
        ({"template_code": None}, ["case.created"], "needs access_key_id, secret and template_code"),
        ({"secret": ""}, ["case.created"], "needs access_key_id, secret and template_code"),
        ({}, ["event.started"], "take case topics only"),
    ],
)
def test_configuration_errors(channel: dict[str, Any], topics: list[str], error: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=error):
        AlertsConfig.model_validate(
            {
                "channels": {"phone": sms("http://x/") | channel},
                "routes": [{"channels": ["phone"], "topics": topics}],
            }
        )


def test_keys_stay_out_of_the_configuration_repr() -> None:
    config = AlertsConfig.model_validate({"channels": {"phone": sms("http://x/")}})
    assert KEY_SECRET not in repr(config) and KEY_ID not in repr(config)


# -- through the outbox ------------------------------------------------------------------------------------


def test_sms_on_a_new_case_is_signed_and_recorded(make_loop: MakeLoop, provider: AliyunProvider) -> None:
    loop = make_loop({"phone": sms(provider.url)}, [{"channels": ["phone"], "topics": ["case.created"]}])
    add_project(loop)
    loop.ingest("event-0001")
    wait_for(lambda: provider.accepted(), 10, "a signed SendSms")
    call = provider.accepted()[0]
    case = loop.cases()[0]
    assert call["Action"] == "SendSms" and call["Version"] == "2017-05-25" and call["Format"] == "JSON"
    assert call["PhoneNumbers"] == PHONE
    assert call["SignName"] == "工地安全" and call["TemplateCode"] == "SMS_2718281"
    deadline = datetime.fromisoformat(case["deadline_at"]).astimezone(ZONE).strftime("%m-%d %H:%M")
    assert json.loads(call["TemplateParam"]) == {
        "project": "滨江花园三期", "kind": "未戴安全帽", "case": str(case["id"]), "deadline": deadline,
    }  # fmt: skip
    assert provider.calls[0].method == "POST" and provider.calls[0].signed
    wait_for(lambda: contact_lines(loop, case["id"]), 10, "the case history line")
    [line] = contact_lines(loop, case["id"])
    assert line["note"].startswith("texted 138****5678: accepted (OK biz-1)")
    assert line["from_status"] == line["to_status"] == case["status"]
    [row] = deliveries(loop, "phone")
    assert row.status == "delivered"
    # The number is stored encrypted: neither the outbox nor the deliveries route shows it.
    assert PHONE not in json.dumps(row.body)
    listed = loop.client.get("/api/v1/deliveries", headers=loop.as_("admin"))
    assert listed.status_code == 200 and PHONE not in listed.text


def test_a_wrong_signature_is_refused_and_recorded_as_failed(
    make_loop: MakeLoop, provider: AliyunProvider
) -> None:
    loop = make_loop(
        {"phone": sms(provider.url, secret="not-the-secret")},
        [{"channels": ["phone"], "topics": ["case.created"]}],
    )
    add_project(loop)
    loop.ingest("event-0001")
    wait_for(lambda: [r for r in deliveries(loop, "phone") if r.status == "failed"], 10, "a dead letter")
    assert provider.calls and not provider.accepted()
    assert {c.reason for c in provider.calls} == {"SignatureDoesNotMatch"}
    [line] = contact_lines(loop, loop.cases()[0]["id"])
    assert line["note"] == "texted 138****5678: failed: SignatureDoesNotMatch: refused (gave up)"


@pytest.mark.parametrize(
    ("code", "fail_first", "final", "notes"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 2, "delivered", ["will retry", "will retry", "accepted"]),
        ("isv.BUSINESS_LIMIT_CONTROL", 99, "failed", ["will retry", "will retry", "gave up"]),
        ("isv.MOBILE_NUMBER_ILLEGAL", 99, "failed", ["gave up"]),
    ],
)
def test_provider_errors_retry_or_give_up(
    make_loop: MakeLoop, provider: AliyunProvider, code: str, fail_first: int, final: str, notes: list[str]
) -> None:
    provider.fail_code, provider.fail_first = code, fail_first
    loop = make_loop(
        {"phone": voice(provider.url, max_attempts=3)}, [{"channels": ["phone"], "topics": ["case.created"]}]
    )
    add_project(loop)
    loop.ingest("event-0001")
    wait_for(lambda: [r for r in deliveries(loop, "phone") if r.status == final], 15, f"the delivery {final}")
    lines = [h["note"] for h in contact_lines(loop, loop.cases()[0]["id"])]
    assert [n.rsplit("(", 1)[-1].rstrip(")") if "failed" in n else "accepted" for n in lines] == notes
    if final == "failed":
        assert lines[-1].startswith(f"called 138****5678: failed: {code}: ")
        assert len(provider.accepted()) == len(notes)


def test_no_contact_phone_fails_for_good(make_loop: MakeLoop, provider: AliyunProvider) -> None:
    loop = make_loop({"phone": voice(provider.url)}, [{"channels": ["phone"], "topics": ["case.created"]}])
    add_project(loop, phone=None)
    loop.ingest("event-0001")
    wait_for(lambda: [r for r in deliveries(loop, "phone") if r.status == "failed"], 10, "a dead letter")
    assert not provider.calls
    [line] = contact_lines(loop, loop.cases()[0]["id"])
    assert line["note"] == "called no number: failed: no safety contact phone for site site-a (gave up)"


@pytest.mark.parametrize(("per_hour", "sent_now"), [(2, 2), (5, 3)])
def test_at_most_so_many_per_number_an_hour(
    make_loop: MakeLoop, provider: AliyunProvider, per_hour: int, sent_now: int
) -> None:
    loop = make_loop(
        {"phone": sms(provider.url, per_number_per_hour=per_hour)},
        [{"channels": ["phone"], "topics": ["case.created"]}],
    )
    add_project(loop)
    for i, kind in enumerate(("no_helmet", "no_vest", "smoking")):
        loop.ingest(f"event-000{i}", kind=kind)
    delivered = lambda: [r for r in deliveries(loop, "phone") if r.status == "delivered"]  # noqa: E731
    wait_for(lambda: len(delivered()) == sent_now, 10, f"{sent_now} texts delivered")
    wait_for(lambda: len(deliveries(loop, "phone")) == 3, 10, "three deliveries")
    services_of(loop.app).get(DISPATCHER).run_once()  # one more pass: nothing else goes
    assert len(provider.accepted()) == sent_now
    rows = deliveries(loop, "phone")
    held = [r for r in rows if r.status == "pending"]
    assert len(held) == 3 - sent_now
    for row in held:  # waits about an hour (for the oldest text of the window to age out), not an attempt
        wait = row.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)
        assert timedelta(minutes=55) < wait <= timedelta(hours=1) and row.attempts == 0


def _quiet(now: datetime, inside: bool) -> dict[str, str]:
    local = now.astimezone(ZONE)
    start = local + (timedelta(hours=-1) if inside else timedelta(hours=1))
    return {"start": start.strftime("%H:%M"), "end": (start + timedelta(hours=2)).strftime("%H:%M")}


@pytest.mark.parametrize("inside", [True, False])
def test_quiet_hours_hold_calls(make_loop: MakeLoop, provider: AliyunProvider, inside: bool) -> None:
    route = {
        "channels": ["phone"],
        "topics": ["case.created"],
        "quiet_hours": _quiet(datetime.now(UTC), inside),
    }
    loop = make_loop({"phone": voice(provider.url)}, [route])
    add_project(loop)
    loop.ingest("event-0001")
    wait_for(lambda: deliveries(loop, "phone"), 10, "the delivery")
    if not inside:
        wait_for(lambda: provider.accepted(), 10, "the call")
        return
    services_of(loop.app).get(DISPATCHER).run_once()
    [row] = deliveries(loop, "phone")
    assert row.status == "pending" and not provider.calls
    assert row.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC) > timedelta(minutes=50)


def test_due_soon_calls_once_and_the_answer_is_recorded(
    make_loop: MakeLoop, provider: AliyunProvider
) -> None:
    loop = make_loop({"phone": voice(provider.url)}, [{"channels": ["phone"], "topics": ["case.due_soon"]}])
    add_project(loop)
    with services_of(
        loop.app
    ).sessions() as session:  # smoking cases are due within the hour: inside the 4 h lead
        set_policy(session, site_id="site-a", kind="smoking", trigger="on_start", deadline_hours=1)
        session.commit()
    loop.ingest("event-far-0", kind="no_helmet")  # due in 24 h: not yet
    loop.ingest("event-near-0", kind="smoking")
    wait_for(lambda: provider.accepted(), 10, "a call about the near deadline")
    call = provider.accepted()[0]
    near = next(c for c in loop.cases() if c["kind"] == "smoking")
    assert call["Action"] == "SingleCallByTts" and call["CalledNumber"] == PHONE
    assert call["TtsCode"] == "TTS_3141592" and call["CalledShowNumber"] == "057100000000"
    assert json.loads(call["TtsParam"])["case"] == str(near["id"])
    with services_of(loop.app).sessions() as session:  # more passes raise nothing again
        assert raise_due_soon(session, lead=timedelta(hours=4)) == []
        topics = session.scalars(
            select(Notification.case_id).where(Notification.topic == "case.due_soon")
        ).all()
        assert topics == [near["id"]]
        count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.channel == "phone"))
        assert count == 1
    wait_for(lambda: contact_lines(loop, near["id"]), 10, "the call's history line")
    report = [{"call_id": call_id(loop), "out_id": call["OutId"], "status_code": "200000",
               "status_msg": "用户听音完成", "duration": 23,
               "start_time": "2026-11-30 10:00:00"}]  # fmt: skip
    refused = loop.client.post("/api/v1/alerts/voice-reports", json=report, headers=loop.as_("viewer"))
    assert refused.status_code == 403
    for _ in range(2):  # the provider pushes again when unsure: one line
        answer = loop.client.post(
            "/api/v1/alerts/voice-reports", json=report, headers=loop.as_("integration")
        )
        assert answer.status_code == 200 and answer.json() == {
            "code": 0,
            "msg": "接收成功",
            "recorded": 1,
            "unknown": 0,
            "mismatched": 0,
            "problems": [],
        }
    # The same call reported again with another duration or result: still the one line.
    again = [dict(report[0], duration=24), dict(report[0], status_code="200010", duration=0)]
    answer = loop.client.post("/api/v1/alerts/voice-reports", json=again, headers=loop.as_("integration"))
    assert answer.json()["recorded"] == 2 and answer.json()["mismatched"] == 0
    # Our OutId with a CallId the provider never gave us for it: refused and counted, nothing written.
    forged = [dict(report[0], call_id="1160^999", duration=61)]
    answer = loop.client.post("/api/v1/alerts/voice-reports", json=forged, headers=loop.as_("integration"))
    assert answer.status_code == 200 and answer.json() == {
        "code": 0,
        "msg": "接收成功",
        "recorded": 0,
        "unknown": 0,
        "mismatched": 1,
        "problems": [f"call_id 1160^999 is not the call placed for out_id {call['OutId']}: not recorded"],
    }
    notes = [h["note"] for h in contact_lines(loop, near["id"])]
    assert notes[0].startswith("called 138****5678: accepted (OK 1160^1)")
    assert notes[1:] == ["answered by 138****5678 (23 s) [call 1160^1]"]
    stranger = [dict(report[0], out_id="sitewatch-999-phone")]
    answer = loop.client.post("/api/v1/alerts/voice-reports", json=stranger, headers=loop.as_("integration"))
    assert answer.json()["unknown"] == 1


def call_id(loop: Loop) -> str:
    [row] = deliveries(loop, "phone")
    return str(row.response).removeprefix("OK ")
