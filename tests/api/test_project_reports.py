"""Statistics and briefs name each site's project and construction company (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.api.builders import create_project, violation
from tests.api.conftest import Api


def seed(api: Api) -> None:
    """A project on site-a, none on site-b; a violation on each (now) and a case of site-a's."""
    create_project(api, name="幸福路外墙", company="宏达建筑")
    now = datetime.now(UTC).isoformat()
    for event_id, site, key in (("evt-report-a", "site-a", "edge"), ("evt-report-b", "site-b", "edge_b")):
        violation(api, event_id, key=key, site=site, started_at=now, updated_at=now)
    opened = api.client.post("/api/v1/cases", json={"event_ids": ["evt-report-a"]}, headers=api.as_("admin"))
    assert opened.status_code == 201


@pytest.mark.parametrize(
    ("site", "project_name", "company"),
    [("site-a", "幸福路外墙", "宏达建筑"), ("site-b", None, None)],
)
def test_statistics_name_the_project_of_each_site(
    api: Api, site: str, project_name: str | None, company: str | None
) -> None:
    seed(api)
    stats = api.client.get("/api/v1/stats", headers=api.as_("viewer"))
    assert stats.status_code == 200, stats.text
    row = stats.json()["by_site"][site]
    assert (row["violations"], row["project_name"], row["company"]) == (1, project_name, company)


def test_the_brief_lists_sites_with_their_projects(api: Api) -> None:
    seed(api)
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # the brief's default zone
    html = api.client.get("/api/v1/briefs", params={"period": month}, headers=api.as_("admin"))
    assert html.status_code == 200, html.text
    rows = dict(re.findall(r'<tr data-site="([^"]+)">(.*?)</tr>', html.text))
    assert set(rows) == {"site-a", "site-b"}
    assert "<td>幸福路外墙</td><td>宏达建筑</td><td>1</td>" in rows["site-a"]
    assert "<td>-</td><td>-</td><td>1</td>" in rows["site-b"]
    typical = re.search(r'<div class="case" data-case="\d+">(.*?)</div></div>', html.text, re.S)
    assert typical is not None and "site-a 幸福路外墙 (宏达建筑)" in typical.group(1)
