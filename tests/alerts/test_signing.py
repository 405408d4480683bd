"""Webhook signatures cover the timestamp and the idempotency key: a captured request cannot be replayed
(issue 13, finding 9), checked against the demo case system over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from alerts.demo_receiver import DemoCaseSystem
from alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request
from tests.alerts.conftest import SECRET as CHANNEL_SECRET
from tests.alerts.conftest import MakeLoop, webhook
from tests.alerts.receiver import CaseSystem
from tests.waiting import wait_for

SECRET = "case-secret"
BODY = b'{"type":"case.created","case":{"id":1}}'


@pytest.fixture
def case_system() -> Iterator[DemoCaseSystem]:
    system = DemoCaseSystem(SECRET, echo=False)
    yield system
    system.close()


def _post(system: DemoCaseSystem, body: bytes, signature: str, timestamp: str, key: str) -> int:
    headers = {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp, IDEMPOTENCY_HEADER: key}
    return httpx.post(system.url, content=body, headers=headers, timeout=10).status_code


BODY_ONLY = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()  # the old scheme


def _signed(age_s: int, key: str, url: str) -> tuple[str, str]:
    """A signature for the receiver at ``url`` and its timestamp, ``age_s`` seconds old now (computed when
    the test runs, so that a long test session does not age them)."""
    stamp = str(int(time.time()) - age_s)
    return sign_request(SECRET, timestamp=stamp, idempotency_key=key, url=url, body=BODY), stamp


@pytest.mark.parametrize(
    ("attempt", "accepted"),
    [
        ("new-key", False),  # the original replayed under a new key
        ("new-time", False),  # the original replayed with another time
        ("body-only", False),  # signed over the body alone
        ("other-body", False),  # the original's signature on another body
        ("ancient", False),  # signed long ago
        ("stale", False),  # more than 5 minutes old
        ("other-receiver", False),  # signed for another receiver that shares the secret
        ("fresh", True),  # a minute in transit
    ],
)
def test_a_replayed_or_stale_webhook_is_refused(
    case_system: DemoCaseSystem, attempt: str, accepted: bool
) -> None:
    url = case_system.url
    original, now = _signed(0, "k1", url)
    ancient = sign_request(SECRET, timestamp="1", idempotency_key="k4", url=url, body=BODY)
    body, signature, timestamp, key = {
        "new-key": (BODY, original, now, "k2"),
        "new-time": (BODY, original, "1", "k1"),
        "body-only": (BODY, BODY_ONLY, now, "k3"),
        "other-body": (BODY + b" ", original, now, "k1"),
        "ancient": (BODY, ancient, "1", "k4"),
        "stale": (BODY, *_signed(400, "k5", url), "k5"),
        "other-receiver": (BODY, *_signed(0, "k7", "http://127.0.0.1:9/cases"), "k7"),
        "fresh": (BODY, *_signed(60, "k6", url), "k6"),
    }[attempt]
    assert _post(case_system, BODY, original, now, "k1") == 200  # the original, delivered once
    assert _post(case_system, body, signature, timestamp, key) == (200 if accepted else 401)
    assert len(case_system.notices) == (2 if accepted else 1)


def test_a_delivery_captured_at_one_receiver_is_refused_by_another_sharing_its_secret(
    make_loop: MakeLoop, caplog: pytest.LogCaptureFixture
) -> None:
    # Regression (issue 24, item 6): the key names the channel, but nothing bound the signature to the
    # receiver, so the other channel's receiver took a replayed delivery as new within 5 minutes.
    first, second = CaseSystem(secret=CHANNEL_SECRET), CaseSystem(secret=CHANNEL_SECRET)
    try:
        with caplog.at_level(logging.WARNING, logger="api.cases.callbacks"):
            loop = make_loop(
                {"first": webhook(first.url), "second": webhook(second.url)},
                [{"channels": ["first", "second"]}],
            )
        loop.ingest("evt-shared-0")
        wait_for(lambda: first.notices() and second.notices(), 10, "both deliveries")
        [captured] = [r for r in first.requests if r.signed]
        headers = {
            k: v
            for k, v in captured.headers.items()
            if k in (SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_HEADER, "Content-Type")
        }
        replayed = httpx.post(second.url, content=captured.body, headers=headers, timeout=10)
        assert replayed.status_code == 401
        assert len(second.notices()) == 1
        # Named at start, the secret never.
        warned = [r.getMessage() for r in caplog.records if "share one secret" in r.getMessage()]
        assert len(warned) == 1 and "first, second" in warned[0]
        assert CHANNEL_SECRET not in caplog.text
    finally:
        first.close()
        second.close()
