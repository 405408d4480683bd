"""The ingest route reads its body itself (api.http.multipart): every malformed body gets a 4xx that says why,
and stores nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from api.http.services import services_of
from tests.api.builders import JPEG, event
from tests.api.conftest import Api

BOUNDARY = "test-boundary-7d3f"
# The form reader does not depend on the database: SQLite is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def part(name: str, data: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    kind = "image/jpeg" if filename else "text/plain"
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: {kind}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )


def body(*parts: bytes, end: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if end else b"")


def send(
    api: Api, content: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}"
) -> httpx.Response:
    response: httpx.Response = api.client.post(
        "/api/v1/ingest/events",
        content=content,
        headers={**api.as_("edge"), "Content-Type": content_type},
    )
    return response


def stored(api: Api) -> list[dict[str, object]]:
    return list(api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"])


EVENT = json.dumps(event()).encode()


def test_a_hand_built_body_with_an_unknown_part_is_stored(api: Api) -> None:
    content = body(
        part("event", EVENT),
        part("snapshot", JPEG, "snapshot.jpg"),
        part("thumbnail", b"ignored", "t.jpg"),  # a part the route does not know is read past
    )
    response = send(api, content)
    assert response.status_code == 201, response.text
    assert response.json() == {"status": "stored", "event_id": "evt-00000001", "seq": 0}
    assert [e["id"] for e in stored(api)] == ["evt-00000001"]


@pytest.mark.parametrize(
    ("content", "content_type", "code", "message"),
    [
        (body(part("event", EVENT)), "application/json", 415, "multipart/form-data"),
        (body(part("event", EVENT)), "multipart/form-data", 415, "boundary"),
        (body(part("event", EVENT), end=False), None, 400, "ends before its last part"),
        (b"--" + BOUNDARY.encode() + b"\r\nno headers end here", None, 400, "malformed multipart body"),
        (body(part("snapshot", JPEG, "s.jpg")), None, 422, "missing part 'event'"),
        (body(part("event", EVENT), part("event", EVENT)), None, 422, "part 'event' is sent twice"),
        (body(part("event", b"x" * (2**20 + 1))), None, 413, "part 'event' exceeds 1048576 bytes"),
        (
            body(part("event", EVENT), part("snapshot", JPEG + b"\0" * 2**20, "s.jpg")),
            None,
            413,
            "'snapshot'",
        ),
        (body(part("event", b"{not json")), None, 422, "invalid event"),
        (
            body(part("event", EVENT), part("padding", b"\0" * 5 * 2**20, "p.bin")),
            None,
            413,
            "the body exceeds",
        ),
    ],
    ids=[
        "json",
        "no-boundary",
        "cut-short",
        "garbage",
        "no-event",
        "event-twice",
        "event-too-large",
        "snapshot-too-large",
        "event-not-json",
        "unknown-parts-too-large",
    ],
)
def test_malformed_bodies_are_refused_with_the_reason(
    api: Api, content: bytes, content_type: str | None, code: int, message: str
) -> None:
    # The snapshot case crosses this limit (the route reads the settings on each request).
    services_of(api.app).settings = services_of(api.app).settings.model_copy(update={"max_upload_mb": 1.0})
    response = send(api, content, *([content_type] if content_type else []))
    assert response.status_code == code, response.text
    assert message in response.json()["detail"]
    assert stored(api) == []


def test_a_url_encoded_form_without_files_is_read(api: Api) -> None:
    update = event(details={"note": "工地东门"})  # non-ASCII survives the percent-encoding
    response = api.client.post(
        "/api/v1/ingest/events", data={"event": json.dumps(update)}, headers=api.as_("edge")
    )
    assert response.status_code == 201, response.text
    row = api.client.get("/api/v1/events/evt-00000001", headers=api.as_("admin")).json()
    assert row["details"]["note"] == "工地东门"
