"""``/metrics`` shows a caller scoped to some sites only the series of those sites (issue 13, 12a)."""

from __future__ import annotations

import pytest

from tests.api.builders import event, post
from tests.api.conftest import Api

A_OPEN = 'sitewatch_site_events{site="site-a",status="open"} 1.0'
B_OPEN = 'sitewatch_site_events{site="site-b",status="open"} 1.0'


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        (
            "viewer",  # every site: every series
            [A_OPEN, B_OPEN, "sitewatch_http_requests"],
            [],
        ),
        (
            "supervisor",  # site-a only
            [A_OPEN],
            ['site="site-b"', "sitewatch_http_requests", "sitewatch_events{", "sitewatch_evidence_bytes"],
        ),
        (
            "other_site",  # site-b only
            [B_OPEN],
            ['site="site-a"', "sitewatch_ingest_updates", "sitewatch_deliveries"],
        ),
    ],
)
def test_a_scoped_reader_sees_only_the_series_of_its_sites(
    api: Api, who: str, shown: list[str], hidden: list[str]
) -> None:
    assert post(api, event("evt-site-a-0001")).status_code == 201
    assert post(api, event("evt-site-b-0001", site="site-b"), key="edge_b").status_code == 201
    response = api.client.get("/metrics", headers=api.as_(who))
    assert response.status_code == 200
    for text in shown:
        assert text in response.text, text
    for text in hidden:
        assert text not in response.text, text
