"""Inputs at the edges of what parsers, calendars and time zones take: each is a 4xx with a reason."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.api.builders import event, post
from tests.api.conftest import Api


def nested(depth: int) -> Any:
    """A list ``depth`` levels deep around a string."""
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FAR = "9999-12-31T23:59:59-23:59"
HEALTH = {"site_id": "site-a", "camera_id": "gate", "online": True}


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "reason"),
    [
        ("viewer", "get", f"/api/v1/events?cursor={cursor('[' * 3000)}", None, "invalid cursor"),
        ("viewer", "get", f"/api/v1/events?since={FAR}", None, "outside the years"),
        ("viewer", "get", "/api/v1/events?until=9999-12-31T00:00:00Z", None, "outside the years"),
        ("viewer", "get", "/api/v1/stats?tz=America", None, "unknown time zone"),
        ("viewer", "get", f"/api/v1/stats?tz={'A' * 5000}", None, "tz"),
        ("viewer", "get", f"/api/v1/stats?since={FAR}", None, "outside the years"),
        ("viewer", "get", "/api/v1/briefs?period=9999-W52", None, "outside the years"),
        ("viewer", "get", "/api/v1/briefs?period=0001-W01", None, "outside the years"),
        ("viewer", "get", "/api/v1/briefs?period=1970-01&tz=Pacific/Kiritimati", None, "outside the years"),
        ("viewer", "get", "/api/v1/briefs?period=2026-11&tz=America", None, "unknown time zone"),
        (
            "viewer",
            "get",
            "/api/v1/sites/site-a/presence?day=2026-11-23&tz=America",
            None,
            "unknown time zone",
        ),
        (None, "post", "/api/v1/auth/login", {"username": nested(400), "password": "x"}, "nested"),
        ("admin", "put", "/api/v1/sites/site-a/config", {"cameras": nested(300)}, "nested"),
        (
            "supervisor",
            "post",
            "/api/v1/events/evt-00000001/review",
            {"verdict": "confirmed", "note": nested(600)},
            "nested",
        ),
        (
            "edge",
            "post",
            "/api/v1/ingest/sightings",
            {"site_id": "site-a", "officer": "li", "at": FAR},
            "outside the years",
        ),
        (
            "edge",
            "post",
            "/api/v1/ingest/sightings",
            {"site_id": "site-a", "officer": "li", "at": "9999-12-31T23:59:59Z"},
            "outside the years",
        ),
        (
            "edge",
            "post",
            "/api/v1/ingest/health",
            [HEALTH | {"last_frame_at": "9999-12-31T23:59:59Z"}],
            "outside the years",
        ),
        ("edge", "post", "/api/v1/ingest/health", [HEALTH | {"offline_since": FAR}], "outside the years"),
    ],
)
def test_edge_inputs_are_refused_with_a_reason_not_a_500(
    api: Api, who: str | None, method: str, path: str, body: object, reason: str
) -> None:
    # Regression (issue 13, finding 5): each of these answered 500.
    assert post(api, event(), files={}).status_code == 201  # an event to review
    headers = api.as_(who) if who else {}
    response = api.client.request(method, path, json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text[:500]
    assert reason in json.dumps(response.json()["detail"])[:5000]
