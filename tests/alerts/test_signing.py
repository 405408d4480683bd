"""Webhook signatures cover the timestamp and the idempotency key: a captured request cannot be replayed
(issue 13, finding 9), checked against the demo case system over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest

from alerts.demo_receiver import DemoCaseSystem
from alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request

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


NOW = int(time.time())
ORIGINAL = sign_request(SECRET, timestamp=str(NOW), idempotency_key="k1", body=BODY)
BODY_ONLY = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()  # the old scheme


@pytest.mark.parametrize(
    ("body", "signature", "timestamp", "key", "accepted"),
    [
        (BODY, ORIGINAL, str(NOW), "k2", False),  # replayed under a new key
        (BODY, ORIGINAL, "1", "k1", False),  # replayed with another time
        (BODY, BODY_ONLY, str(NOW), "k3", False),  # signed over the body alone
        (BODY + b" ", ORIGINAL, str(NOW), "k1", False),  # another body
        (BODY, sign_request(SECRET, timestamp="1", idempotency_key="k4", body=BODY), "1", "k4", False),  # old
        (
            BODY,
            sign_request(SECRET, timestamp=str(NOW - 400), idempotency_key="k5", body=BODY),
            str(NOW - 400),
            "k5",
            False,
        ),  # more than 5 minutes old
        (
            BODY,
            sign_request(SECRET, timestamp=str(NOW - 60), idempotency_key="k6", body=BODY),
            str(NOW - 60),
            "k6",
            True,
        ),  # a minute in transit
    ],
    ids=["new-key", "new-time", "body-only", "other-body", "ancient", "stale", "fresh"],
)
def test_a_replayed_or_stale_webhook_is_refused(
    case_system: DemoCaseSystem, body: bytes, signature: str, timestamp: str, key: str, accepted: bool
) -> None:
    assert _post(case_system, BODY, ORIGINAL, str(NOW), "k1") == 200  # the original, delivered once
    assert _post(case_system, body, signature, timestamp, key) == (200 if accepted else 401)
    assert len(case_system.notices) == (2 if accepted else 1)
