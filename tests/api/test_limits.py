"""Bounds on what one request may cost: body sizes, validation answers (issue 13, findings 1-3)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.guards import BODY_LIMIT
from tests.api.conftest import Api

BIG = 20 * 2**20


def _chunks(total: int, size: int = 2**16) -> Iterator[bytes]:
    """A JSON-looking body of ``total`` bytes, sent without a Content-Length (chunked)."""
    yield b'{"username": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'", "password": "x"}'


@pytest.mark.parametrize(
    ("path", "content", "headers"),
    [
        ("/api/v1/auth/login", b'{"username": "' + b"a" * BIG + b'"}', {"Content-Type": "application/json"}),
        ("/api/v1/auth/login", b"x" * (BODY_LIMIT + 1), {"Content-Type": "text/plain"}),
        ("/api/v1/auth/login", _chunks(BIG), {"Content-Type": "application/json"}),
        ("/api/v1/users", _chunks(BODY_LIMIT + 10), {"Content-Type": "application/json"}),
        ("/api/v1/events/evt-1/review", _chunks(2 * BODY_LIMIT), {"Content-Type": "application/json"}),
        (
            "/api/v1/ingest/events",
            b"x" * (BODY_LIMIT + 1),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ],
    ids=["declared-json", "declared-other", "chunked-login", "chunked-users", "chunked-review", "form"],
)
def test_a_body_over_the_limit_is_refused_with_413(
    api: Api, path: str, content: bytes | Iterator[bytes], headers: dict[str, str]
) -> None:
    response = api.client.post(path, content=content, headers=headers | api.as_("admin"))
    assert response.status_code == 413
    assert str(BODY_LIMIT) in response.json()["detail"]
    assert len(response.content) < 1000
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/login", {"username": "u" * 5000, "password": "secret-password-echo"}),
        ("/api/v1/auth/login", {"username": ["secret-password-echo"] * 1000, "password": 1}),
        ("/api/v1/users", {"username": "x", "password": "secret-password-echo", "role": "emperor"}),
    ],
    ids=["long", "wrong-type", "bad-role"],
)
def test_a_422_never_echoes_the_input(api: Api, path: str, body: dict[str, object]) -> None:
    response = api.client.post(path, json=body, headers=api.as_("admin"))
    assert response.status_code == 422
    text = response.text
    assert "secret-password-echo" not in text and "u" * 100 not in text
    assert all(set(e) == {"type", "loc", "msg"} for e in json.loads(text)["detail"])


def test_a_body_within_the_limit_still_works(api: Api) -> None:
    body = {"verdict": "confirmed", "note": "n" * 1000}
    # 404: the event does not exist, but the body was read and validated
    assert (
        api.client.post("/api/v1/events/evt-1/review", json=body, headers=api.as_("supervisor")).status_code
        == 404
    )
