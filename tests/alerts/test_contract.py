"""The webhook contract is published as a JSON Schema in the repository and in the API's OpenAPI."""

from __future__ import annotations

import json

import jsonschema
import pytest

from alerts.contract import SCHEMA_FILE, json_schema
from tests.alerts.conftest import MakeLoop


def test_the_committed_schema_is_the_contract_of_the_code() -> None:
    assert SCHEMA_FILE.read_text() == json_schema(), "regenerate it: python -m alerts.contract"
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("notice", ["case-notice", "event-notice"])
def test_openapi_documents_the_webhooks(make_loop: MakeLoop, notice: str) -> None:
    loop = make_loop({}, [])
    document = loop.client.get("/openapi.json").json()
    assert document["webhooks"][notice]["post"]["requestBody"]["content"]["application/json"]


def test_a_notice_missing_its_case_does_not_pass_the_schema() -> None:
    schema = json.loads(json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "case.created", "schema_version": 1, "notification_id": 1}, schema)
