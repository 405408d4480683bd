"""Calling or texting a case's responsible person now (issue 21, the case dialog's buttons): the request is
queued through the outbox to the configured Alibaba Cloud channel, whatever the routes say, reaches a real
loopback provider that checks the signature, and every step is in the case's history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.aliyun_receiver import AliyunProvider
from tests.alerts.conftest import MakeLoop
from tests.alerts.test_aliyun import (
    KEY_ID,
    KEY_SECRET,
    PHONE,
    add_project,
    contact_lines,
    history,
    sms,
    voice,
)
from tests.waiting import wait_for


@pytest.fixture
def provider() -> Iterator[AliyunProvider]:
    server = AliyunProvider(access_key_id=KEY_ID, secret=KEY_SECRET)
    yield server
    server.close()


def test_call_and_text_now_reach_the_contact_and_the_history(
    make_loop: MakeLoop, provider: AliyunProvider
) -> None:
    # No route sends case notices to the phones: only the supervisor's request does.
    loop = make_loop({"phone": voice(provider.url), "texts": sms(provider.url)}, [])
    add_project(loop)
    loop.ingest("event-0001")
    [case] = loop.cases()
    answer = loop.client.post(
        f"/api/v1/cases/{case['id']}/contact", json={"channel": "call"}, headers=loop.as_("admin")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["history"][-1]["note"] == "call 王工 138****5678 now: queued on phone"
    wait_for(lambda: provider.accepted(), 10, "a signed voice call")
    [call] = provider.accepted()
    assert call["CalledNumber"] == PHONE
    wait_for(lambda: contact_lines(loop, case["id"]), 10, "the call's outcome in the history")
    [line] = contact_lines(loop, case["id"])
    assert line["note"].startswith("called 138****5678: accepted")
    texted = loop.client.post(
        f"/api/v1/cases/{case['id']}/contact", json={"channel": "sms"}, headers=loop.as_("integration")
    )
    assert texted.status_code == 200, texted.text
    wait_for(lambda: len(contact_lines(loop, case["id"])) == 2, 10, "the text's outcome in the history")
    assert provider.accepted()[-1]["PhoneNumbers"] == PHONE
    notes = [h["note"] for h in history(loop, case["id"])]
    assert notes[-1].startswith("texted 138****5678: accepted")
    assert any(n == "text 王工 138****5678 now: queued on texts" for n in notes)
    assert loop.client.post(f"/api/v1/cases/{case['id']}/contact", json={"channel": "call"},
                            headers=loop.as_("viewer")).status_code == 403  # fmt: skip
    assert loop.client.post(f"/api/v1/cases/{case['id']}/contact", json={"channel": "fax"},
                            headers=loop.as_("admin")).status_code == 422  # fmt: skip


def test_no_channel_of_the_kind_or_no_phone_is_refused_and_recorded(
    make_loop: MakeLoop, provider: AliyunProvider
) -> None:
    loop = make_loop({"phone": voice(provider.url)}, [])
    add_project(loop, phone=None)
    loop.ingest("event-0001")
    [case] = loop.cases()
    url = f"/api/v1/cases/{case['id']}/contact"
    no_sms = loop.client.post(url, json={"channel": "sms"}, headers=loop.as_("admin"))
    assert no_sms.status_code == 409 and "aliyun_sms" in no_sms.json()["detail"]
    no_phone = loop.client.post(url, json={"channel": "call"}, headers=loop.as_("admin"))
    assert no_phone.status_code == 409 and "no contact phone" in no_phone.json()["detail"]
    notes = [h["note"] for h in history(loop, case["id"])]
    assert notes[-2].startswith("text requested, not sent: no aliyun_sms channel")
    assert notes[-1] == "call requested, not sent: the case's project has no contact phone number"
    assert not provider.calls
