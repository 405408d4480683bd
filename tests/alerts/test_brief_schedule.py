"""Scheduled briefs: generated once per period and sent through the channels as links that need no key."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select

from api.http.services import services_of
from api.models import Brief
from api.ops.jobs import JOBS
from api.reports.schedule import due_period
from tests.alerts.conftest import MakeLoop
from tests.alerts.receiver import CaseSystem
from tests.waiting import wait_for


def test_a_weekly_brief_reaches_the_group_once_with_working_links(make_loop: MakeLoop) -> None:
    robot = CaseSystem(check_signature=False, answer={"errcode": 0})
    try:
        channel = {"type": "wecom", "url": robot.url}
        schedule = {"every": "week", "at": "00:00", "channels": ["group"]}
        loop = make_loop({"group": channel}, [], briefs=[schedule], public_url="http://testserver")
        wait_for(lambda: robot.requests, 30, "the brief in the group")
        briefs = services_of(loop.app).get(JOBS).briefs
        week = due_period(briefs.schedules[0], datetime.now(UTC), briefs.zone)
        message = json.loads(robot.requests[0].body)["markdown"]["content"]
        assert f"周报 {week}" in message and "违规" in message
        links = re.findall(r"\((http://testserver/api/v1/evidence/[^)]+)\)", message)
        assert len(links) == 2  # the page and the PDF
        page, pdf = (httpx.URL(link) for link in links)
        html = loop.client.get(page.path, params=dict(page.params))
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert f"周报 {week}" in html.text and "default-src 'none'" in html.headers["content-security-policy"]
        printed = loop.client.get(pdf.path, params=dict(pdf.params))
        assert printed.status_code == 200 and printed.content.startswith(b"%PDF")

        assert briefs.send_briefs() == 0  # due again, but already sent
        with services_of(loop.app).sessions() as session:
            assert session.scalar(select(func.count()).select_from(Brief)) == 1
        assert len(robot.requests) == 1
    finally:
        robot.close()
