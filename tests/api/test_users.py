"""People log in with passwords (stored as scrypt hashes) and get a session cookie; roles and sites apply."""

from __future__ import annotations

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
