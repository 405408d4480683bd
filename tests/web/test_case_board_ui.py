"""The case board of a district in a real Chromium (issue 21): a supervisor of every site filters the board,
pages it, opens a case and works it through the dialog (dispatch, extend, note, call, close), each step in
the history the dialog shows and in the API's."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import cv2
import httpx
import numpy as np
from playwright.sync_api import Page, expect

from api.access.auth import create_key
from api.access.users import create_user
from api.http.services import services_of
from tests.api.builders import seed_district
from tests.web.conftest import PASSWORD, Site, log_in, shot


def test_a_district_supervisor_works_a_case_from_the_board(page: Page, site: Site) -> None:
    with services_of(site.app).sessions() as session:
        seeded = seed_district(session, cases=140, now=datetime.now(UTC))
        create_user(session, username="dora", password=PASSWORD, role="supervisor", site_ids=[])
        admin = create_key(session, name="admin", role="admin")
    event_id = site.events["site-a"][0]
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {admin}"}) as client:
        opened = client.post("/api/v1/cases", json={"event_ids": [event_id]})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["id"]
    active = sum(c["status"] != "closed" for c in seeded) + 1
    pages = -(-active // 50)
    log_in(page, site, "dora")
    page.click("a[href='#/cases']")

    info = page.locator("#page-info")
    expect(info).to_have_text(f"第 1 / {pages} 页 · 共 {active} 条")  # open cases first: closed ones filtered
    rows = page.locator("#board tr.case")
    expect(rows).to_have_count(50)
    expect(page.locator("#case-counts [data-status=active] b")).to_have_text(str(active))
    closed = sum(c["status"] == "closed" for c in seeded)
    expect(page.locator("#case-counts [data-status=closed] b")).to_have_text(str(closed))
    page.click("#next-page")
    expect(info).to_have_text(f"第 2 / {pages} 页 · 共 {active} 条")
    expect(page.locator("#prev-page")).to_be_enabled()
    shot(page, "case-board")
    assert page.evaluate("document.documentElement.scrollHeight") < 4 * 860  # a page, not a wall

    page.fill("#case-filters input[name=contractor]", "鹏安")
    page.click("#case-filters button[type=submit]")
    pengan = sum(c["status"] != "closed" and "鹏安" in c["company"] for c in seeded) + 1  # + the case opened
    expect(info).to_have_text(f"第 1 / 1 页 · 共 {pengan} 条")
    page.reload()  # the filters are kept in the page's address
    expect(info).to_have_text(f"第 1 / 1 页 · 共 {pengan} 条")
    expect(page.locator("#case-filters input[name=contractor]")).to_have_value("鹏安")
    page.fill("#case-filters input[name=q]", f"#{case_id}")
    page.click("#case-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("滨江花园三期")
    expect(rows.first).to_contain_text("深圳市鹏安建设有限公司")
    expect(rows.first).to_contain_text("13900000000")  # in full for a supervisor (audited)
    rows.first.click()

    dialog = page.locator("#case-dialog")
    history = dialog.locator("#case-history tr")
    expect(history).to_have_count(2)  # the header and the opening
    expect(dialog.locator("#case-evidence img")).to_have_count(1)
    dialog.locator("[data-move=dispatched]").click()
    expect(history).to_have_count(3)
    expect(history.last).to_contain_text("待派发 → 已派发")
    dialog.locator("#extend-hours").fill("48")
    dialog.locator("#extend-reason").fill("等待钢材进场")
    dialog.locator("#extend").click()
    expect(history).to_have_count(4)
    expect(history.last).to_contain_text("等待钢材进场")
    dialog.locator("#case-note").fill("已电话联系项目经理")
    dialog.locator("#add-note").click()
    expect(history).to_have_count(5)
    expect(history.last).to_contain_text("已电话联系项目经理")
    dialog.locator("[data-contact=call]").click()  # no phone channel here: refused, and said so
    expect(dialog.locator("#case-message")).to_contain_text("未配置电话通道")
    expect(history).to_have_count(5)  # the dialog keeps what it showed until the next step
    dialog.locator("[data-move=closed]").click()  # a case is not closed without a word
    expect(dialog.locator("#case-message")).to_contain_text("结案请先填写处理说明")
    dialog.locator("#case-note").fill("安全帽已全部配齐，复查合格")
    dialog.locator("[data-move=closed]").click()
    expect(dialog.locator("h2 .tag")).to_have_text("已结案")
    expect(history.last).to_contain_text("已派发 → 已结案")
    expect(history.last).to_contain_text("安全帽已全部配齐，复查合格")
    expect(dialog.locator("#case-history")).to_contain_text("电话通知未发出：未配置电话通道")
    expect(dialog.locator("#case-history")).to_contain_text("期限延至 ")
    expect(dialog.locator("[data-move=reopened]")).to_be_visible()
    for button in dialog.locator("button").all():  # every button in Chinese
        assert "OK" not in button.inner_text()
    shot(page, "case-dialog")
    dialog.locator("#close-dialog").click()

    expect(page.locator("#board")).to_contain_text("没有符合条件的案件")  # closed: behind the status filter
    page.click("#case-counts [data-status=closed]")
    expect(rows).to_have_count(1)
    page.click("#reset-filters")  # every open case again, the worked one no longer among them
    expect(info).to_have_text(f"第 1 / {-(-(active - 1) // 50)} 页 · 共 {active - 1} 条")
    # The rankings link to the board by project, site and camera: filters the form has no field for.
    project_c = next(c["project_id"] for c in seeded if c["site_id"] == "site-c")
    page.goto(f"{site.url}/#/cases?project_id={project_c}")
    in_c = sum(c["status"] != "closed" and c["site_id"] == "site-c" for c in seeded)
    expect(info).to_have_text(f"第 1 / 1 页 · 共 {in_c} 条")
    page.click("#case-counts [data-clear=project_id]")
    expect(info).to_have_text(f"第 1 / {-(-(active - 1) // 50)} 页 · 共 {active - 1} 条")
    page.goto(f"{site.url}/#/cases?site_id=site-b&camera_id=cam-1")
    on_camera = sum(
        c["status"] != "closed" and c["site_id"] == "site-b" and c["camera_id"] == "cam-1" for c in seeded
    )
    expect(info).to_have_text(f"第 1 / 1 页 · 共 {on_camera} 条")
    expect(page.locator("#case-filters select[name=site]")).to_have_value("site-b")
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {admin}"}) as client:
        case = client.get(f"/api/v1/cases/{case_id}").json()
    assert case["status"] == "closed"
    notes = [h["note"] for h in case["history"]]
    assert any(n.endswith(": 等待钢材进场") for n in notes) and "已电话联系项目经理" in notes
    assert notes[-1] == "安全帽已全部配齐，复查合格"


def test_the_dialog_plays_the_first_events_clip(page: Page, site: Site) -> None:
    jpeg = cv2.imencode(".jpg", np.full((240, 320, 3), 120, np.uint8))[1].tobytes()
    mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    now = datetime.now(UTC).isoformat()
    body = {
        "event_id": "evt-with-clip", "seq": 0, "phase": "start", "kind": "smoking", "site_id": "site-a",
        "camera_id": "cam-9", "started_at": now, "updated_at": now, "people_count": 1, "score": 0.9,
        "evidence": {"snapshot_sha256": hashlib.sha256(jpeg).hexdigest(),
                     "clip_sha256": hashlib.sha256(mp4).hexdigest()},
    }  # fmt: skip
    with services_of(site.app).sessions() as session:
        edge = create_key(session, name="edge clip", role="edge", site_ids=["site-a"])
        admin = create_key(session, name="admin", role="admin")
    with httpx.Client(base_url=site.url) as client:
        sent = client.post(
            "/api/v1/ingest/events",
            data={"event": json.dumps(body)},
            files={"snapshot": ("s.jpg", jpeg, "image/jpeg"), "clip": ("c.mp4", mp4, "video/mp4")},
            headers={"Authorization": f"Bearer {edge}"},
        )
        assert sent.status_code == 201, sent.text
        opened = client.post(
            "/api/v1/cases",
            json={"event_ids": ["evt-with-clip"]},
            headers={"Authorization": f"Bearer {admin}"},
        )
        without = client.post(
            "/api/v1/cases",
            json={"event_ids": [site.events["site-a"][1]]},
            headers={"Authorization": f"Bearer {admin}"},
        )
    log_in(page, site, "anna")
    page.click("a[href='#/cases']")
    page.locator(f"#board tr.case[data-id='{opened.json()['id']}']").click()
    video = page.locator("#case-evidence video")
    expect(video).to_have_count(1)
    assert video.get_attribute("src") == "/api/v1/events/evt-with-clip/clip"
    assert video.get_attribute("controls") is not None
    page.locator("#close-dialog").click()
    page.locator(f"#board tr.case[data-id='{without.json()['id']}']").click()
    expect(page.locator("#case-evidence img")).to_have_count(1)
    page.wait_for_load_state("networkidle")  # the event's answer is in: no clip, no player
    expect(page.locator("#case-evidence video")).to_have_count(0)
