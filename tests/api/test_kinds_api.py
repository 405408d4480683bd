"""The API takes every kind of :mod:`detector.kinds` and no other, through its routes, and serves the
kinds to the web UI."""

from __future__ import annotations

import json
import re

from detector.kinds import KIND_NAMES, KINDS, PERSON_KINDS, SPECS
from tests.api.builders import ANNOTATED, JPEG, event, post
from tests.api.conftest import Api


def test_every_kind_is_ingested_listed_and_given_a_policy_and_no_other(api: Api) -> None:
    for i, kind in enumerate(KINDS):
        files = {"snapshot": JPEG, "annotated": ANNOTATED}
        response = post(api, event(f"evt-kind-{i}", kind=kind), files=files)
        assert response.status_code == 201, (kind, response.text)
        policy = api.client.put(
            f"/api/v1/sites/site-a/case-policies/{kind}",
            json={"trigger": "on_start", "deadline_hours": 2},
            headers=api.as_("admin"),
        )
        assert policy.status_code == 204, (kind, policy.text)
    listed = api.client.get("/api/v1/events?limit=50", headers=api.as_("viewer")).json()["data"]
    assert sorted(e["kind"] for e in listed) == sorted(KINDS)

    unknown = post(api, event("evt-kind-x", kind="flood"))
    assert unknown.status_code == 422 and "kind" in unknown.text
    policy = api.client.put(
        "/api/v1/sites/site-a/case-policies/flood",
        json={"trigger": "on_start", "deadline_hours": 2},
        headers=api.as_("admin"),
    )
    assert policy.status_code == 422


def test_the_web_ui_gets_its_kinds_from_the_module(api: Api) -> None:
    response = api.client.get("/ui/kinds.js")  # open, like the app's other scripts: no one's data
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    lines = re.finditer(r"^export const (\w+) = (.*);$", response.text, re.MULTILINE)
    exports = {m[1]: json.loads(m[2]) for m in lines}
    assert exports == {
        "KINDS": list(KINDS),
        "PERSON_KINDS": list(PERSON_KINDS),
        "COLORS": {kind.value: spec.color for kind, spec in SPECS.items()},
        "KIND_TEXT": {lang: {f"k.{k}": n for k, n in names.items()} for lang, names in KIND_NAMES.items()},
    }
    core = api.client.get("/ui/core.js").text
    assert re.search(r'^import \{[^}]*\bKINDS\b[^}]*\} from "\./kinds\.js";', core, re.MULTILINE)
