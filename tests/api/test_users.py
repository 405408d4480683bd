"""People log in with passwords (stored as scrypt hashes) and get a session cookie; roles and sites apply."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from api.access.login import LOGIN_THROTTLE, PASSWORD_CHECKS
from api.http.services import services_of
from tests.api.builders import ANNOTATED, JPEG, event, post
from tests.api.conftest import Api

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
        "timezone": "Asia/Shanghai",
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
    with services_of(api.app).engine.connect() as db:
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
    from api.access.throttle import LoginThrottle

    now = [1000.0]
    services_of(api.app).owned.swap(
        LOGIN_THROTTLE, LoginThrottle(services_of(api.app).sessions, clock=lambda: now[0])
    )
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
    engine = services_of(api.app).engine
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


def _held_checks(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[list[None], threading.Event]:
    """Password checks (scrypt calls) that wait at a gate the test opens, all at once (no hashing limit):
    a list that grows by one per check begun, and the gate."""
    entered: list[None] = []
    gate = threading.Event()
    scrypt = hashlib.scrypt

    def held(*args: Any, **kwargs: Any) -> bytes:
        entered.append(None)
        gate.wait(10)
        return scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", held)
    services_of(api.app).owned.swap(PASSWORD_CHECKS, asyncio.Semaphore(64))
    return entered, gate


def _wait_until(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the requests neither answered nor began their checks"
        time.sleep(0.01)


@pytest.mark.parametrize(("names", "checks"), [("li", 5), ("*", 20)], ids=["one-name", "one-address"])
def test_concurrent_logins_get_no_more_checks_than_the_throttle_allows(
    api: Api, monkeypatch: pytest.MonkeyPatch, names: str, checks: int
) -> None:
    """39 wrong log-ins at once (of one name, or of 39 names from one address), then the right password
    while their checks are still running: the checks in flight count, so only as many run as failures
    are left before the lock (5 per name, 20 per address) and the right password is refused (429)."""
    make_user(api, "li", "viewer", [])
    entered, gate = _held_checks(api, monkeypatch)
    answered: list[int] = []

    def attempt(username: str, password: str) -> int:
        answered.append(code := _log_in(api.client, username, password))
        return code

    with ThreadPoolExecutor(max_workers=40) as pool:
        wrong = [pool.submit(attempt, "li" if names == "li" else f"guess{i}", "wrong") for i in range(39)]
        _wait_until(lambda: len(answered) + len(entered) >= 39)
        right = pool.submit(attempt, "li", PASSWORD)
        _wait_until(lambda: len(answered) + len(entered) >= 40)
        gate.set()
        codes = Counter(f.result() for f in wrong)
    api.client.cookies.clear()
    assert (right.result(), len(entered), codes) == (429, checks, {401: checks, 429: 39 - checks})
    assert _log_in(api.client, "li", PASSWORD) == 429  # and now the failures lock it


def test_concurrent_wrong_old_passwords_get_no_more_checks_than_the_throttle_allows(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id(api, "qian.viewer")
    with TestClient(api.app) as person:
        assert log_in(person, "qian.viewer", PASSWORD) == 204
        entered, gate = _held_checks(api, monkeypatch)
        answered: list[int] = []

        def change(old: str) -> int:
            body = {"old_password": old, "new_password": NEW_PASSWORD}
            answered.append(code := person.post("/api/v1/auth/password", json=body).status_code)
            return code

        with ThreadPoolExecutor(max_workers=12) as pool:
            wrong = [pool.submit(change, "guess") for _ in range(11)]
            _wait_until(lambda: len(answered) + len(entered) >= 11)
            right = pool.submit(change, PASSWORD)
            _wait_until(lambda: len(answered) + len(entered) >= 12)
            gate.set()
            codes = Counter(f.result() for f in wrong)
    assert (right.result(), len(entered), codes) == (429, 5, {403: 5, 429: 6})


def test_the_throttle_is_shared_by_every_process_on_the_database(api: Api) -> None:
    """Two throttles on engines of their own (two server processes) count the same attempts: 40 log-ins
    of one name begun at once across both let exactly 5 in, and their failures, settled through either,
    lock the name in both."""
    from api.access.throttle import LoginThrottle
    from api.core.db import make_engine

    engines = [make_engine(api.database_url) for _ in range(2)]
    throttles = [LoginThrottle(sessionmaker(engine)) for engine in engines]

    def begin(i: int) -> float:
        return throttles[i % 2].begin(username="li", address=f"198.51.100.{i}")

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            waits = list(pool.map(begin, range(40)))
        let_in = [i for i, wait in enumerate(waits) if wait == 0]
        assert len(let_in) == 5, waits
        for i in let_in:
            throttles[i % 2].failed(username="li", address=f"198.51.100.{i}")
        assert all(throttle.begin(username="li", address="192.0.2.1") > 0 for throttle in throttles)
    finally:
        for engine in engines:
            engine.dispose()


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


NEW_PASSWORD = "a brand new password"


def user_id(api: Api, username: str, role: str = "viewer", sites: tuple[str, ...] = ("site-a",)) -> int:
    body = {"username": username, "password": PASSWORD, "role": role, "site_ids": list(sites)}
    created = api.client.post("/api/v1/users", json=body, headers=api.as_("admin"))
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def log_in(client: TestClient, username: str, password: str) -> int:
    client.cookies.clear()
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code


@pytest.mark.parametrize(
    ("steps", "disabled", "logs_in_with"),
    [
        ([("post", "disable", None, "disable_user")], True, None),
        (
            [("post", "disable", None, "disable_user"), ("post", "enable", None, "enable_user")],
            False,
            PASSWORD,
        ),
        ([("put", "password", {"password": NEW_PASSWORD}, "set_user_password")], False, NEW_PASSWORD),
        ([("delete", "sessions", None, "end_user_sessions")], False, PASSWORD),
    ],
    ids=["disable", "enable", "set-password", "end-sessions"],
)
def test_an_admin_disables_sets_the_password_or_ends_the_sessions_of_a_user(
    api: Api,
    steps: list[tuple[str, str, dict[str, str] | None, str]],
    disabled: bool,
    logs_in_with: str | None,
) -> None:
    # Regression (issue 13, finding 12c): there was no way to disable a user, reset a password or end
    # another person's sessions.
    uid = user_id(api, "sun.viewer")
    with TestClient(api.app) as person:
        assert log_in(person, "sun.viewer", PASSWORD) == 204
        assert person.get("/api/v1/auth/me").status_code == 200
        for method, action, body, _ in steps:
            path = f"/api/v1/users/{uid}/{action}"
            answer = api.client.request(method, path, json=body, headers=api.as_("admin"))
            assert answer.status_code == 200, answer.text
        assert answer.json()["user"]["disabled"] is disabled
        assert person.get("/api/v1/auth/me").status_code == 401  # every change ended the session
        for password in (PASSWORD, NEW_PASSWORD):
            assert log_in(person, "sun.viewer", password) == (204 if password == logs_in_with else 401)
    audit = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
    done = {e["action"] for e in audit if e["target"] == "user:sun.viewer"}
    assert done == {"create_user"} | {audited for *_, audited in steps}


@pytest.mark.parametrize(
    ("who", "user_sites", "expected"),
    [
        ("scoped_admin", ("site-a",), 200),
        ("scoped_admin", ("site-a", "site-b"), 404),
        ("scoped_admin", (), 404),  # a user of every site
        ("admin", ("site-b",), 200),
        ("supervisor", ("site-a",), 403),
    ],
)
@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("post", "disable", None),
        ("post", "enable", None),
        ("put", "password", {"password": NEW_PASSWORD}),
        ("delete", "sessions", None),
    ],
)
def test_a_site_scoped_admin_manages_only_users_within_its_sites(
    api: Api,
    who: str,
    user_sites: tuple[str, ...],
    expected: int,
    method: str,
    action: str,
    body: dict[str, str] | None,
) -> None:
    api.keys["scoped_admin"] = api.client.post(
        "/api/v1/keys",
        json={"name": "admin a", "role": "admin", "site_ids": ["site-a"]},
        headers=api.as_("admin"),
    ).json()["key"]
    uid = user_id(api, "zhou", sites=user_sites)
    answer = api.client.request(method, f"/api/v1/users/{uid}/{action}", json=body, headers=api.as_(who))
    assert answer.status_code == expected, answer.text
    listed = {u["username"]: u for u in api.client.get("/api/v1/users", headers=api.as_("admin")).json()}
    assert listed["zhou"]["disabled"] is (expected == 200 and action == "disable")
    assert log_in(api.client, "zhou", PASSWORD) == (
        401 if expected == 200 and action in ("disable", "password") else 204
    )
    api.client.cookies.clear()


@pytest.mark.parametrize(
    ("how", "body", "expected"),
    [
        ("session", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, 204),
        ("session", {"old_password": "not my password", "new_password": NEW_PASSWORD}, 403),
        ("session", {"old_password": PASSWORD, "new_password": "short"}, 422),
        ("key", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, 403),
        ("nobody", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, 401),
    ],
)
def test_a_person_changes_their_own_password_with_the_old_one(
    api: Api, how: str, body: dict[str, str], expected: int
) -> None:
    user_id(api, "wu.viewer")
    with TestClient(api.app) as other, TestClient(api.app) as person:
        assert log_in(other, "wu.viewer", PASSWORD) == 204  # another device of the same person
        if how == "session":
            assert log_in(person, "wu.viewer", PASSWORD) == 204
        headers = api.as_("viewer") if how == "key" else {}
        answer = person.post("/api/v1/auth/password", json=body, headers=headers)
        assert answer.status_code == expected, answer.text
        changed = expected == 204
        if how == "session":
            assert person.get("/api/v1/auth/me").status_code == 200  # this session goes on
        assert other.get("/api/v1/auth/me").status_code == (401 if changed else 200)
        assert log_in(other, "wu.viewer", NEW_PASSWORD if changed else PASSWORD) == 204
    audit = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
    assert any(e["action"] == "change_password" for e in audit) is changed


def test_wrong_old_passwords_are_throttled_like_log_ins(api: Api) -> None:
    user_id(api, "qian.viewer")
    with TestClient(api.app) as person:
        assert log_in(person, "qian.viewer", PASSWORD) == 204
        wrong = {"old_password": "guess", "new_password": NEW_PASSWORD}
        answers = [person.post("/api/v1/auth/password", json=wrong) for _ in range(6)]
        assert [a.status_code for a in answers] == [403] * 5 + [429]
    # The refusals are domain errors answered by the app's one handler: the detail, and Retry-After.
    assert answers[0].json() == {"detail": "the old password is wrong"}
    assert "Retry-After" not in answers[0].headers
    retry = int(answers[-1].headers["Retry-After"])
    assert retry >= 1 and answers[-1].json() == {
        "detail": f"too many wrong passwords: try again in {retry} s"
    }
