"""The count of events waiting for review that the web UI's badge polls: scoped to the caller's sites,
authenticated, and changed by a new event and by a verdict."""

from __future__ import annotations

from datetime import datetime

from tests.api.builders import event, post
from tests.api.conftest import Api


def count(api: Api, who: str) -> dict[str, object]:
    response = api.client.get("/api/v1/events/pending-count", headers=api.as_(who))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_pending_count_is_scoped_and_follows_events_and_verdicts(api: Api) -> None:
    assert api.client.get("/api/v1/events/pending-count").status_code == 401
    assert count(api, "supervisor") == {"pending": 0, "newest_started_at": None}
    post(api, event("evt-a-00001", started_at="2026-11-23T02:00:00+00:00"))
    post(api, event("evt-a-00002", started_at="2026-11-23T03:00:00+08:00"))  # 19:00 UTC the day before
    post(api, event("evt-b-00001", site="site-b", started_at="2026-11-24T02:00:00+00:00"), key="edge_b")
    mine = count(api, "supervisor")
    assert mine["pending"] == 2
    assert datetime.fromisoformat(str(mine["newest_started_at"])) == datetime.fromisoformat(
        "2026-11-23T02:00:00+00:00"
    )
    assert count(api, "other_site")["pending"] == 1
    assert count(api, "admin")["pending"] == 3
    review = {"verdict": "confirmed", "note": ""}
    assert (
        api.client.post(
            "/api/v1/events/evt-a-00001/review", json=review, headers=api.as_("supervisor")
        ).status_code
        == 200
    )
    after = count(api, "supervisor")
    assert after["pending"] == 1
    assert datetime.fromisoformat(str(after["newest_started_at"])) == datetime.fromisoformat(
        "2026-11-22T19:00:00+00:00"
    )
    assert api.client.get("/api/v1/events/evt-a-00002", headers=api.as_("supervisor")).status_code == 200
