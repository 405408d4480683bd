"""API keys: listing, revocation, and how long a replica trusts a key it has checked."""

from __future__ import annotations

import hashlib
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.access.auth import KeyCache, Principal, hash_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from tests.api.conftest import ADMIN_KEY, Api


def create(api: Api, name: str, role: str = "viewer") -> dict[str, object]:
    response = api.client.post("/api/v1/keys", json={"name": name, "role": role}, headers=api.as_("admin"))
    assert response.status_code == 201
    created: dict[str, object] = response.json()
    return created


def test_a_revoked_key_is_refused_at_once_by_the_replica_that_revoked_it(api: Api) -> None:
    created = create(api, "temporary viewer")
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert api.client.get("/api/v1/events", headers=headers).status_code == 200  # checked, now cached
    revoked = api.client.delete(f"/api/v1/keys/{created['id']}", headers=api.as_("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert api.client.get("/api/v1/events", headers=headers).status_code == 401
    listed = {k["name"]: k for k in api.client.get("/api/v1/keys", headers=api.as_("admin")).json()}
    assert listed["temporary viewer"]["revoked_at"] is not None
    assert all("key" not in k and "key_hash" not in k for k in listed.values())
    assert listed["temporary viewer"]["prefix"] == str(created["key"])[:8]
    audit = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
    assert any(entry["action"] == "revoke_key" for entry in audit)


@pytest.mark.parametrize(
    ("who", "path", "expected"),
    [
        ("supervisor", "/api/v1/keys", 403),
        ("edge", "/api/v1/keys", 403),
        ("admin", "/api/v1/keys/999999", 404),
        ("admin", "/api/v1/keys/0", 422),
    ],
)
def test_revoking_needs_an_admin_and_an_existing_key(api: Api, who: str, path: str, expected: int) -> None:
    method = "get" if path == "/api/v1/keys" else "delete"
    response = getattr(api.client, method)(path, headers=api.as_(who))
    assert response.status_code == expected and response.json()["detail"]


def test_the_last_admin_key_cannot_be_revoked(api: Api) -> None:
    keys = api.client.get("/api/v1/keys", headers=api.as_("admin")).json()
    (admin,) = [k for k in keys if k["role"] == "admin"]
    refused = api.client.delete(f"/api/v1/keys/{admin['id']}", headers=api.as_("admin"))
    assert refused.status_code == 409 and "last admin key" in refused.json()["detail"]
    assert api.client.get("/api/v1/keys", headers=api.as_("admin")).status_code == 200


def test_another_replica_stops_trusting_a_revoked_key_when_its_cache_expires(api: Api) -> None:
    # A second app on the same database stands for another replica; its cache lives 0.3 s here.
    created = create(api, "viewer on two replicas")
    headers = {"Authorization": f"Bearer {created['key']}"}
    other = create_app(services_of(api.app).settings.model_copy(update={"key_cache_s": 0.3}), dispatch=False)
    try:
        with TestClient(other) as replica:
            assert replica.get("/api/v1/events", headers=headers).status_code == 200
            api.client.delete(f"/api/v1/keys/{created['id']}", headers=api.as_("admin"))
            time.sleep(0.4)
            assert replica.get("/api/v1/events", headers=headers).status_code == 401
    finally:
        services_of(other).engine.dispose()


def test_the_cache_forgets_keys_after_their_time_and_keeps_only_the_newest() -> None:
    cache = KeyCache(ttl_s=0.2, size=2)
    someone = Principal(name="edge", role="edge", site_ids=("site-a",))
    for digest in ("a", "b", "c"):
        cache.put(digest, someone)
    assert cache.get("a") is None and cache.get("b") == someone and cache.get("c") == someone
    time.sleep(0.25)
    assert cache.get("b") is None
    off = KeyCache(ttl_s=0)
    off.put("a", someone)
    assert off.get("a") is None


@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "reason"),
    [
        ("post", "/api/v1/keys", {"name": "x", "role": "admin"}, 403, "may not grant every site"),
        ("post", "/api/v1/keys", {"name": "x", "role": "edge", "site_ids": ["site-b"]}, 403, "sites site-b"),
        (
            "post",
            "/api/v1/keys",
            {"name": "x", "role": "admin", "site_ids": ["site-a", "site-b"]},
            403,
            "site-b",
        ),
        (
            "post",
            "/api/v1/users",
            {"username": "wide", "password": "0123456789ab", "role": "admin"},
            403,
            "every",
        ),
        ("put", "/api/v1/sites/site-b/config", {"site": {"id": "site-b"}}, 404, "no site site-b"),
        (
            "put",
            "/api/v1/sites/site-b/case-policies/no_helmet",
            {"trigger": "never", "deadline_hours": 1},
            404,
            "",
        ),
        ("get", "/api/v1/audit", None, 403, "spans every site"),
        ("get", "/api/v1/deliveries", None, 403, "spans every site"),
        ("delete", "/api/v1/keys/1", None, 404, "no key 1"),  # the unscoped first admin key
        # within its scope it works
        ("post", "/api/v1/keys", {"name": "x", "role": "edge", "site_ids": ["site-a"]}, 201, ""),
        (
            "put",
            "/api/v1/sites/site-a/case-policies/no_helmet",
            {"trigger": "never", "deadline_hours": 1},
            204,
            "",
        ),
    ],
)
def test_a_site_scoped_admin_key_stays_in_its_sites(
    api: Api, method: str, path: str, body: dict[str, object] | None, expected: int, reason: str
) -> None:
    # Regression (issue 13, finding 8): an admin key scoped to ["a"] minted an unscoped admin key, changed
    # site b's configuration and case policy and read site b's audit log.
    scoped = api.client.post(
        "/api/v1/keys",
        json={"name": "admin a", "role": "admin", "site_ids": ["site-a"]},
        headers=api.as_("admin"),
    ).json()["key"]
    headers = {"Authorization": f"Bearer {scoped}"}
    response = api.client.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if reason:
        assert reason in response.json()["detail"]


def test_a_site_scoped_admin_lists_only_keys_within_its_sites(api: Api) -> None:
    scoped = api.client.post(
        "/api/v1/keys",
        json={"name": "admin a", "role": "admin", "site_ids": ["site-a"]},
        headers=api.as_("admin"),
    ).json()["key"]
    listed = api.client.get("/api/v1/keys", headers={"Authorization": f"Bearer {scoped}"}).json()
    assert {k["name"] for k in listed} == {"edge box A", "supervisor A", "admin a"}


@pytest.mark.parametrize(
    ("admin_key", "accepted"),
    [("sw_short", False), ("x" * 31, False), ("x" * 32, True), (None, True)],
    ids=["short", "31", "32", "made"],
)
def test_the_data_is_private_and_a_chosen_admin_key_long(
    tmp_path: Path, admin_key: str | None, accepted: bool
) -> None:
    folder = tmp_path / "data"
    settings = ApiSettings(
        database_url=f"sqlite:///{folder / 'sitewatch.db'}", data_dir=folder, admin_key=admin_key
    )
    if not accepted:
        with pytest.raises(ValueError, match="at least 32"):
            create_app(settings, dispatch=False)
        return
    app = create_app(settings, dispatch=False)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    databases = list(folder.glob("sitewatch.db*"))
    assert databases and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in databases), databases
    services_of(app).engine.dispose()


def stored_hashes(api: Api) -> dict[str, str]:
    with services_of(api.app).engine.connect() as db:
        return {name: digest for name, digest in db.execute(text("SELECT name, key_hash FROM api_keys"))}


@pytest.mark.parametrize(
    ("pepper", "file_made"),
    [(None, True), ("pepper-from-the-environment-0123456789", False)],
    ids=["file", "env"],
)
def test_keys_are_stored_under_a_pepper_the_database_does_not_hold(
    api: Api, pepper: str | None, file_made: bool
) -> None:
    # Regression (issue 13, finding 12b): keys were stored as a bare SHA-256, so a database dump let anyone
    # test guesses of a chosen admin key offline.
    app = create_app(services_of(api.app).settings.model_copy(update={"key_pepper": pepper}), dispatch=False)
    try:
        used = services_of(app).key_pepper
        path = api.data_dir / "key.pepper"
        assert used == (path.read_bytes().strip() if file_made else str(pepper).encode())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # made by the fixture's app in any case
        hashes = stored_hashes(api)
        admin = [d for n, d in hashes.items() if n.startswith("admin")]
        assert hashlib.sha256(ADMIN_KEY.encode()).hexdigest() not in hashes.values()
        assert hash_key(ADMIN_KEY, used) in admin
        with TestClient(app) as client:
            answer = client.get("/api/v1/events", headers=api.as_("viewer"))
            assert answer.status_code == (401 if pepper else 200)  # another pepper opens no key
        assert all(len(k["prefix"]) == 3 for k in listed_admins(api))  # a chosen key keeps 3 characters
    finally:
        services_of(app).engine.dispose()


def listed_admins(api: Api) -> list[dict[str, object]]:
    keys: list[dict[str, object]] = api.client.get("/api/v1/keys", headers=api.as_("admin")).json()
    return [k for k in keys if str(k["name"]).startswith("admin (SITEWATCH")]


@pytest.mark.parametrize("used_by", ["request", "start"])
def test_a_key_stored_before_the_pepper_works_and_is_rehashed_on_first_use(api: Api, used_by: str) -> None:
    old_key = {"request": "sw_an-old-viewer-key-0123456789abcdefghijklmn", "start": ADMIN_KEY}[used_by]
    legacy = hashlib.sha256(old_key.encode()).hexdigest()
    with services_of(api.app).engine.begin() as db:
        if used_by == "request":
            db.execute(
                text(
                    "INSERT INTO api_keys (name, prefix, key_hash, role, site_ids, created_at) "
                    "VALUES ('old viewer', 'sw_an-ol', :h, 'viewer', '[]', :now)"
                ),
                {"h": legacy, "now": datetime.now(UTC)},
            )
        else:
            db.execute(text("UPDATE api_keys SET key_hash = :h WHERE role = 'admin'"), {"h": legacy})
    before = len(stored_hashes(api))
    if used_by == "request":
        headers = {"Authorization": f"Bearer {old_key}"}
        assert api.client.get("/api/v1/events", headers=headers).status_code == 200
    else:
        services_of(
            create_app(services_of(api.app).settings, dispatch=False)
        ).engine.dispose()  # ensure_admin
    hashes = stored_hashes(api)
    assert (
        legacy not in hashes.values()
        and hash_key(old_key, services_of(api.app).key_pepper) in hashes.values()
    )
    assert len(hashes) == before  # rewritten, not added
    assert api.client.get("/api/v1/events", headers={"Authorization": f"Bearer {old_key}"}).status_code == 200
    wrong = {"Authorization": f"Bearer {old_key}x"}
    assert api.client.get("/api/v1/events", headers=wrong).status_code == 401
