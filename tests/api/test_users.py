"""People log in with passwords (stored as scrypt hashes) and get a session cookie; roles and sites apply."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import text

from tests.api.conftest import Api
from tests.api.test_api import ANNOTATED, JPEG, event, post

PASSWORD = "correct horse battery"


def make_user(api: Api, username: str, role: str, sites: list[str]) -> None:
    body = {"username": username, "password": PASSWORD, "role": role, "site_ids": sites}
    assert api.client.post("/api/v1/users", json=body, headers=api.as_("admin")).status_code == 201


def test_login_session_roles_and_logout(api: Api) -> None:
    make_user(api, "li.supervisor", "supervisor", ["site-a"])
    make_user(api, "wang.viewer", "viewer", ["site-a"])
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    client = api.client

    assert (
        client.post("/api/v1/auth/login", json={"username": "li.supervisor", "password": "wrong"}).status_code
        == 401
    )
    assert (
        client.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code
        == 401
    )
    response = client.post("/api/v1/auth/login", json={"username": "li.supervisor", "password": PASSWORD})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/v1/auth/me").json() == {
        "name": "li.supervisor",
        "role": "supervisor",
        "site_ids": ["site-a"],
    }
    assert client.post("/api/v1/events/evt-00000001/review", json={"verdict": "confirmed"}).status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401

    client.post("/api/v1/auth/login", json={"username": "wang.viewer", "password": PASSWORD})
    assert client.get("/api/v1/events").status_code == 200
    assert (
        client.post("/api/v1/events/evt-00000001/review", json={"verdict": "false_alarm"}).status_code == 403
    )
    client.cookies.clear()


def test_a_user_of_one_site_sees_nothing_of_another(api: Api) -> None:
    make_user(api, "zhao.b", "supervisor", ["site-b"])
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    api.client.post("/api/v1/auth/login", json={"username": "zhao.b", "password": PASSWORD})
    assert api.client.get("/api/v1/events").json()["data"] == []
    assert api.client.get("/api/v1/events/evt-00000001").status_code == 404
    api.client.cookies.clear()


def test_passwords_are_hashed_and_users_validated(api: Api) -> None:
    make_user(api, "chen", "viewer", [])
    with api.app.state.engine.connect() as db:
        stored = db.execute(text("SELECT password_hash FROM users WHERE username = 'chen'")).scalar()
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    again = {"username": "chen", "password": PASSWORD, "role": "viewer"}
    assert api.client.post("/api/v1/users", json=again, headers=api.as_("admin")).status_code == 409
    short = {"username": "x", "password": "short", "role": "viewer"}
    assert api.client.post("/api/v1/users", json=short, headers=api.as_("admin")).status_code == 422
    assert api.client.post("/api/v1/users", json=again, headers=api.as_("supervisor")).status_code == 403
    assert [u["username"] for u in api.client.get("/api/v1/users", headers=api.as_("admin")).json()] == [
        "chen"
    ]


def _throttled_clock(api: Api) -> list[float]:
    """Give the API a log-in throttle on a clock the test moves."""
    from api.login import LoginThrottle

    now = [1000.0]
    api.app.state.login_throttle = LoginThrottle(clock=lambda: now[0])
    return now


def _log_in(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return int(response.status_code)


@pytest.mark.parametrize(
    ("wrong", "wrong_name", "spacing_s", "wait_s", "other_address", "expected"),
    [
        (4, "li", 0.0, 0.0, False, 204),  # a few mistakes are let through
        (5, "li", 0.0, 0.0, False, 429),  # then the name is locked, the right password included
        (5, "li", 0.0, 1.5, False, 204),  # for a second
        (8, "li", 20.0, 1.5, False, 429),  # each further failure doubles the lock (8 s)
        (8, "li", 20.0, 9.0, False, 204),
        (200, "li", 0.0, 0.0, False, 429),  # 200 guesses then the right one: refused
        (5, "li", 0.0, 0.0, True, 429),  # the name is locked from every address
        (25, "*", 0.0, 0.0, False, 429),  # many names from one address lock the address
        (25, "*", 0.0, 0.0, True, 204),  # but not another address
    ],
)
def test_failed_logins_are_throttled(
    api: Api, wrong: int, wrong_name: str, spacing_s: float, wait_s: float, other_address: bool, expected: int
) -> None:
    make_user(api, "li", "viewer", [])
    now = _throttled_clock(api)
    codes = []
    for i in range(wrong):
        now[0] += spacing_s if i else 0.0
        codes.append(_log_in(api.client, wrong_name if wrong_name != "*" else f"guess{i}", "wrong"))
    assert set(codes) <= {401, 429} and codes[:4] == [401] * min(4, wrong)
    now[0] += wait_s
    if other_address:
        with TestClient(api.app, client=("192.0.2.7", 5000)) as other:
            response = other.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD})
    else:
        response = api.client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD})
    api.client.cookies.clear()
    assert response.status_code == expected
    if expected == 429:
        assert int(response.headers["Retry-After"]) >= 1


def test_a_password_check_holds_no_database_connection(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(api, "li", "viewer", [])
    held: dict[int, int] = {}  # checked-out connection -> the thread that took it
    engine = api.app.state.engine
    sa_event.listen(
        engine, "checkout", lambda _c, record, _p: held.__setitem__(id(record), threading.get_ident())
    )
    sa_event.listen(engine, "checkin", lambda _c, record: held.pop(id(record), None))
    seen: list[bool] = []
    scrypt = hashlib.scrypt

    def watched(*args: Any, **kwargs: Any) -> bytes:
        seen.append(threading.get_ident() in held.values())
        return scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", watched)
    assert _log_in(api.client, "li", "wrong") == 401
    assert _log_in(api.client, "li", PASSWORD) == 204
    api.client.cookies.clear()
    assert seen == [False, False]


def test_a_login_flood_leaves_other_users_alone(api: Api) -> None:
    def wrong(i: int) -> int:
        return _log_in(api.client, f"guess{i}", "wrong")

    def read(_: int) -> tuple[int, float]:
        start = time.monotonic()
        code = api.client.get("/api/v1/events", headers=api.as_("viewer")).status_code
        return code, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=48) as pool:
        logins = pool.map(wrong, range(40))
        reads = list(pool.map(read, range(8)))
        codes = list(logins)
    assert set(codes) <= {401, 429, 503}, codes
    assert all(code == 200 for code, _ in reads), reads
    assert max(s for _, s in reads) < 5.0, reads


EVIL = {"Origin": "https://evil.example"}
ENROL_FILES = {"photos": ("p.jpg", JPEG, "image/jpeg")}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "headers", "refused"),
    [
        ("POST", "/api/v1/ingest/events", {"data": {"event": "{}"}}, EVIL, True),  # URL-encoded, as admin
        ("POST", "/api/v1/sites/site-a/officers", {"data": {"name": "x"}, "files": ENROL_FILES}, EVIL, True),
        ("POST", "/api/v1/auth/logout", {}, EVIL, True),  # no body at all
        ("DELETE", "/api/v1/keys/1", {}, {"Sec-Fetch-Site": "cross-site"}, True),
        ("POST", "/api/v1/events/evt-1/review", {"json": {"verdict": "confirmed"}}, EVIL, True),
        ("POST", "/api/v1/auth/login", {"json": {"username": "boss", "password": PASSWORD}}, EVIL, True),
        (
            "POST",
            "/api/v1/auth/logout",
            {},
            {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
            False,
        ),
        ("POST", "/api/v1/auth/logout", {}, {"Origin": "http://127.0.0.1:8000"}, False),  # the public URL
        ("POST", "/api/v1/auth/logout", {}, {}, False),  # a program, not a page
        ("GET", "/api/v1/events", {}, EVIL, False),  # reading is not changing
    ],
    ids=[
        "form-ingest",
        "multipart-enrol",
        "bodyless",
        "fetch-site",
        "json",
        "login",
        "same",
        "public",
        "none",
        "get",
    ],
)
def test_a_cookie_does_not_authorise_another_sites_request(
    api: Api, method: str, path: str, kwargs: dict[str, Any], headers: dict[str, str], refused: bool
) -> None:
    make_user(api, "boss", "admin", [])
    assert _log_in(api.client, "boss", PASSWORD) == 204
    response = api.client.request(method, path, headers=headers, **kwargs)
    api.client.cookies.clear()
    assert (response.status_code == 403 and "cross-site" in response.text) == refused, response.text


def test_a_bearer_key_is_not_subject_to_the_origin_check(api: Api) -> None:
    response = api.client.post("/api/v1/ingest/events", data={"event": "{}"}, headers=EVIL | api.as_("edge"))
    assert response.status_code == 422
