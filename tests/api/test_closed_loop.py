"""The closed loop's four figures in ``/api/v1/stats`` against the seeded month of :mod:`tests.api.loop_seed`
(every expected value below is worked out by hand from the hours listed there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.access.auth import Principal
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Case
from api.reports.closed_loop import LoopTargets, change, figures_of, judge, named_span
from tests.api.conftest import Api, counted_statements
from tests.api.loop_seed import ZONE, seed_loop

OCTOBER = {
    "since": "2026-10-01T00:00:00+08:00",
    "until": "2026-11-01T00:00:00+08:00",
    "tz": "Asia/Shanghai",
    "baseline_since": "2025-01-01",
    "baseline_until": "2025-01-31",
}


def query(params: dict[str, str]) -> dict[str, str]:
    """October's query with ``params`` in it (an empty value leaves that parameter out)."""
    return {k: v for k, v in (OCTOBER | params).items() if v}


def loop(api: Api, who: str, **params: str) -> dict[str, Any]:
    answer = api.client.get("/api/v1/stats", params=query(params), headers=api.as_(who))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_four_figures_of_a_seeded_month(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    # supervisor A sees site-a: 10 cases created in October, 9 closed in it (the tenth on 2 November)
    figures = loop(api, "supervisor")["closed_loop"]["figures"]
    assert figures["closure_rate"] | {"previous": None, "baseline": None} == {
        "value": 0.9,
        "count": 9,
        "total": 10,
        "unit": "share",
        "better": "higher",
        "previous": None,
        "baseline": None,
        "change_vs_previous": 40.0,  # September: 2 of 4
        "change_vs_baseline": 10.0,  # January 2025: 4 of 5
        "judged_vs_previous": "good",
        "judged_vs_baseline": "good",
    }
    assert figures["closure_rate"]["previous"] == {"value": 0.5, "count": 2, "total": 4}
    assert figures["closure_rate"]["baseline"] == {"value": 0.8, "count": 4, "total": 5}
    mean = figures["mean_handling_hours"]
    assert (mean["value"], mean["count"], mean["previous"]["value"], mean["baseline"]["value"]) == (
        pytest.approx(18.3, abs=1e-3),
        9,
        pytest.approx(168.6, abs=1e-3),
        pytest.approx(48.0, abs=1e-3),
    )
    assert (mean["change_vs_previous"], mean["judged_vs_previous"]) == (-150.3, "good")
    assert (mean["change_vs_baseline"], mean["judged_vs_baseline"]) == (-29.7, "good")
    assert figures["median_handling_hours"]["value"] == pytest.approx(5.0, abs=1e-3)
    assert figures["median_handling_hours"]["previous"]["value"] == pytest.approx(168.6, abs=1e-3)
    fast = figures["fast_close_rate"]
    assert (fast["value"], fast["count"], fast["total"]) == (pytest.approx(7 / 9, abs=1e-4), 7, 9)
    assert fast["change_vs_previous"] == 77.8
    calls = figures["call_share"]
    assert (calls["value"], calls["count"], calls["total"], calls["change_vs_previous"]) == (0.4, 4, 10, 40.0)

    # the viewer sees both sites: site-b's two open cases, both texted, join in
    everything = loop(api, "viewer")
    figures = everything["closed_loop"]["figures"]
    assert (figures["closure_rate"]["count"], figures["closure_rate"]["total"]) == (9, 12)
    assert figures["closure_rate"]["value"] == 0.75
    assert (figures["closure_rate"]["change_vs_baseline"], figures["closure_rate"]["judged_vs_baseline"]) == (
        -5.0,
        "bad",
    )
    assert (figures["call_share"]["count"], figures["call_share"]["value"]) == (6, 0.5)
    assert everything["closed_loop"]["period"]["partial"] is False
    assert everything["closed_loop"]["previous"] == {
        "since": "2026-08-31T00:00:00+08:00",
        "until": "2026-10-01T00:00:00+08:00",
    }
    assert everything["closed_loop"]["baseline"] == {
        "since": "2025-01-01T00:00:00+08:00",
        "until": "2025-02-01T00:00:00+08:00",
    }
    # the older fields are all still there
    assert {"totals", "by_day", "by_site", "by_camera", "cases", "officer_on_site_share"} <= set(everything)

    # site-b's supervisor: none closed, both texted
    figures = loop(api, "other_site")["closed_loop"]["figures"]
    assert (figures["closure_rate"]["value"], figures["call_share"]["value"]) == (0.0, 1.0)
    assert figures["mean_handling_hours"]["value"] is None and figures["fast_close_rate"]["value"] is None


def test_open_and_overdue_now_are_counted_by_the_server_and_scoped(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    now = datetime.now(UTC)
    with services_of(api.app).sessions() as session:  # one more open case on site-a, not yet due
        session.add(
            Case(
                site_id="site-a",
                kind="no_vest",
                status="open",
                created_at=now,
                updated_at=now,
                deadline_at=now + timedelta(hours=24),
            )
        )
        session.commit()
    # open: on site-a September's two and January 2025's one (past due) and the new one; site-b's two
    for who, open_now, overdue_now in [("supervisor", 4, 3), ("other_site", 2, 2), ("viewer", 6, 5)]:
        stats = loop(api, who)
        assert (stats["open_now"], stats["overdue_now"]) == (open_now, overdue_now), who
    this_month = loop(api, "viewer", period="this_month", since="", until="")
    assert (
        this_month["period"]["partial"] is True
        and this_month["closed_loop"]["period"]["name"] == "this_month"
    )
    assert this_month["closed_loop"]["figures"]["closure_rate"]["total"] == 1


def test_the_number_of_queries_does_not_grow_with_the_cases(api: Api) -> None:
    engine = services_of(api.app).engine
    loop(api, "viewer")  # the key is looked up once, then cached
    with counted_statements(engine) as empty:
        loop(api, "viewer")
    seed_loop(services_of(api.app).sessions)
    with counted_statements(engine) as seeded:
        loop(api, "viewer")
    assert len(seeded) == len(empty)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"period": "this_month"}, 400),  # with since and until
        ({"period": "next_year", "since": "", "until": ""}, 422),
        ({"baseline_since": "2025-02-01", "baseline_until": "2025-01-01"}, 400),
        ({"baseline_since": "2025-01-01", "baseline_until": ""}, 400),
        ({"baseline_since": "1999-01-01"}, 422),
    ],
)
def test_bad_closed_loop_queries(api: Api, params: dict[str, str], status: int) -> None:
    answer = api.client.get("/api/v1/stats", params=query(params), headers=api.as_("viewer"))
    assert answer.status_code == status, answer.text


def test_the_fast_close_target_and_the_baseline_come_from_the_settings(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEWATCH_FAST_CLOSE_HOURS", "4")
    monkeypatch.setenv("SITEWATCH_BASELINE_SINCE", "2025-01-01")
    monkeypatch.setenv("SITEWATCH_BASELINE_UNTIL", "2025-01-31")
    settings = ApiSettings.from_env()
    assert (settings.fast_close_hours, str(settings.baseline_since), str(settings.baseline_until)) == (
        4.0,
        "2025-01-01",
        "2025-01-31",
    )
    monkeypatch.delenv("SITEWATCH_BASELINE_UNTIL")
    with pytest.raises(ValueError, match="BASELINE"):
        ApiSettings.from_env()
    seed_loop(services_of(api.app).sessions)
    with services_of(api.app).sessions() as session:
        figures = figures_of(
            session,
            principal=Principal(name="t", role="viewer", site_ids=("site-a",)),
            since=datetime(2026, 10, 1, tzinfo=ZONE),
            until=datetime(2026, 11, 1, tzinfo=ZONE),
            targets=LoopTargets(fast_close_hours=4),
        )
    assert (figures["fast_close_rate"]["count"], figures["fast_close_rate"]["total"]) == (
        4,
        9,
    )  # 1, 2, 3, 4 h


@pytest.mark.parametrize(
    ("figure", "now", "before", "delta", "verdict"),
    [
        ("closure_rate", 0.99, 0.89, 10.0, "good"),
        ("closure_rate", 0.70, 0.892, -19.2, "bad"),
        ("mean_handling_hours", 18.3, 168.6, -150.3, "good"),
        ("mean_handling_hours", 20.0, 18.5, 1.5, "bad"),
        ("median_handling_hours", 5.0, 5.0, 0.0, "same"),
        ("fast_close_rate", 0.964, 0.305, 65.9, "good"),
        ("call_share", 0.036, 0.518, -48.2, "bad"),
        ("call_share", None, 0.5, None, ""),
    ],
)
def test_changes_in_points_and_hours_judged_by_the_figure(
    figure: str, now: float | None, before: float | None, delta: float | None, verdict: str
) -> None:
    assert change(figure, now, before) == delta
    assert judge(figure, delta) == verdict


@pytest.mark.parametrize(
    ("name", "now", "since", "previous"),
    [
        # Thursday 3 December 2026, 10:00 in Shanghai
        (
            "this_week",
            "2026-12-03T02:00",
            "2026-11-30T00:00",
            ("2026-11-23", "2026-11-26T10:00"),
        ),
        (
            "this_month",
            "2026-12-03T02:00",
            "2026-12-01T00:00",
            ("2026-11-01", "2026-11-03T10:00"),
        ),
        (
            "last_month",
            "2026-12-03T02:00",
            "2026-11-01T00:00",
            ("2026-10-01", "2026-11-01T00:00"),
        ),
        (
            "last_month",
            "2026-01-15T02:00",
            "2025-12-01T00:00",
            ("2025-11-01", "2025-12-01T00:00"),
        ),
        (
            "last_7d",
            "2026-12-03T02:00",
            "2026-11-26T10:00",
            ("2026-11-19", "2026-11-26T10:00"),
        ),
    ],
)
def test_named_periods_in_the_time_zone(name: str, now: str, since: str, previous: tuple[str, str]) -> None:
    span = named_span(name, now=datetime.fromisoformat(now).replace(tzinfo=UTC), zone=ZONE)
    assert span.since.astimezone(ZONE).isoformat()[:16] == since
    assert span.previous_since.astimezone(ZONE).date().isoformat() == previous[0]
    assert span.previous_until.astimezone(ZONE).isoformat()[:16] == previous[1]
    assert span.partial is name.startswith("this_")
