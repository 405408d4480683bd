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


BODY_ONLY = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()  # the old scheme


def _signed(age_s: int, key: str) -> tuple[str, str]:
    """A signature and its timestamp, ``age_s`` seconds old now (computed when the test runs, so that a
    long test session does not age them)."""
    stamp = str(int(time.time()) - age_s)
    return sign_request(SECRET, timestamp=stamp, idempotency_key=key, body=BODY), stamp


@pytest.mark.parametrize(
    ("attempt", "accepted"),
    [
        ("new-key", False),  # the original replayed under a new key
        ("new-time", False),  # the original replayed with another time
        ("body-only", False),  # signed over the body alone
        ("other-body", False),  # the original's signature on another body
        ("ancient", False),  # signed long ago
        ("stale", False),  # more than 5 minutes old
        ("fresh", True),  # a minute in transit
    ],
)
def test_a_replayed_or_stale_webhook_is_refused(
    case_system: DemoCaseSystem, attempt: str, accepted: bool
) -> None:
    original, now = _signed(0, "k1")
    body, signature, timestamp, key = {
        "new-key": (BODY, original, now, "k2"),
        "new-time": (BODY, original, "1", "k1"),
        "body-only": (BODY, BODY_ONLY, now, "k3"),
        "other-body": (BODY + b" ", original, now, "k1"),
        "ancient": (BODY, sign_request(SECRET, timestamp="1", idempotency_key="k4", body=BODY), "1", "k4"),
        "stale": (BODY, *_signed(400, "k5"), "k5"),
        "fresh": (BODY, *_signed(60, "k6"), "k6"),
    }[attempt]
    assert _post(case_system, BODY, original, now, "k1") == 200  # the original, delivered once
    assert _post(case_system, body, signature, timestamp, key) == (200 if accepted else 401)
    assert len(case_system.notices) == (2 if accepted else 1)
