"""The box of an event's best frame (issue 24, item 7): four finite numbers within a frame, or 422. NaN was
stored and came back as ``null``; infinities, 1e308 and boxes of any length were stored as sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.builders import ANNOTATED, JPEG, event
from tests.api.conftest import Api

FILES = {
    "snapshot": ("snapshot.jpg", JPEG, "image/jpeg"),
    "annotated": ("annotated.jpg", ANNOTATED, "image/jpeg"),
}


def send(api: Api, box: Any) -> Any:
    # json.dumps writes NaN and Infinity as Python's json module does, which is what a careless edge sends.
    body = json.dumps(event(best_box=box))
    return api.client.post(
        "/api/v1/ingest/events", data={"event": body}, files=FILES, headers=api.as_("edge")
    )


@pytest.mark.parametrize(
    "box",
    [
        [float("nan"), 1.0, 2.0, 3.0],
        [0.0, 1.0, float("inf"), 3.0],
        [0.0, float("-inf"), 2.0, 3.0],
        [0.0, 0.0, 1e308, 1e308],
        [-1e308, 0.0, 10.0, 10.0],
        [0.0, 0.0, 10.0],
        [0.0, 0.0, 10.0, 10.0, 20.0],
        [10.0, 0.0, 5.0, 10.0],  # corners out of order
        [],
    ],
)
def test_a_box_that_is_not_four_finite_numbers_in_a_frame_is_refused(api: Api, box: list[float]) -> None:
    response = send(api, box)
    assert response.status_code == 422, response.text
    assert "best_box" in response.json()["detail"]
    assert api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"] == []


@pytest.mark.parametrize("box", [[134.1, 106.0, 479.3, 635.1], [0.0, 0.0, 3840.0, 2160.0], None])
def test_a_box_within_its_frame_is_stored_as_sent(api: Api, box: list[float] | None) -> None:
    response = send(api, box)
    assert response.status_code == 201, response.text
    stored = api.client.get("/api/v1/events/evt-00000001", headers=api.as_("admin")).json()
    assert stored["best_box"] == box
