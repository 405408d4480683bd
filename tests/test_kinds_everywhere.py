"""Every part takes its event kinds from ``detector.kinds``: the API accepts exactly those kinds and has a
default case policy for each, the alerts and the briefs name each, the person kinds are what is counted,
clipped and remembered, and the site configuration has a rule per person kind and a policy per kind.

A kind added to ``detector.kinds`` alone fails here where a part has no answer for it; a list of kinds
kept anywhere else fails ``tests/detector/test_kinds.py``. The API's routes and the web UI are checked in
``tests/api/test_kinds_api.py`` and ``tests/web/test_kinds_ui.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from alerts import prompts
from alerts.contract import EventInfo, EventNotice, Evidence
from alerts.markdown import markdown
from api.cases.service import default_policy
from api.core.kinds import EventKindName
from api.events.schemas import IngestEventIn
from api.reports import stats
from api.reports.briefs import WORDS
from api.sites import false_alarm_memory as false_alarms
from detector.kinds import KINDS, LANGUAGES, PERSON_KINDS, SPECS, EventKind, name
from sitewatch.config import CasePolicyConfig, RulesConfig, config_from_text
from sitewatch.edge import rule_params_of
from streams.clips import CLIP_KINDS

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_the_api_accepts_exactly_the_kinds() -> None:
    assert get_args(EventKindName) == KINDS
    assert IngestEventIn.model_json_schema()["properties"]["kind"]["enum"] == list(KINDS)


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_kind_has_the_default_case_policy_of_its_spec(kind: EventKind) -> None:
    assert default_policy(kind) == (SPECS[kind].case_trigger, SPECS[kind].deadline_hours)


@pytest.mark.parametrize(
    ("kind", "trigger", "hours"),
    [
        ("no_helmet", "on_confirm", 24.0),
        ("no_vest", "on_confirm", 24.0),
        ("smoking", "on_confirm", 4.0),
        ("officer_absent", "on_confirm", 8.0),
        ("camera_offline", "on_start", 24.0),
    ],
)
def test_the_default_case_policies_are_unchanged(kind: str, trigger: str, hours: float) -> None:
    assert default_policy(kind) == (trigger, hours)


def notice(kind: str) -> EventNotice:
    evidence = Evidence(
        snapshot_url="https://api.example/s.jpg",
        annotated_url=None,
        clip_url=None,
        snapshot_sha256=None,
        annotated_sha256=None,
        clip_sha256=None,
        links_expire_at=NOW,
    )
    event = EventInfo(
        id="evt-00000001",
        site_id="site-a",
        camera_id="gate",
        kind=kind,
        started_at=NOW,
        ended_at=None,
        score=0.9,
        people_count=1,
        review_status="pending",
        evidence=evidence,
    )
    return EventNotice(type="event.started", notification_id=1, sent_at=NOW, event=event)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_alerts_name_every_kind(kind: str, language: str) -> None:
    title, text = markdown(notice(kind), language, ZoneInfo("Asia/Shanghai"))
    assert title.endswith(": " + name(kind, language)) and kind not in text


def test_the_alerts_contract_documents_every_kind() -> None:
    description = EventInfo.model_fields["kind"].description or ""
    assert [k for k in KINDS if k in description] == list(KINDS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_every_person_kind_has_its_own_voice_prompt(kind: str, language: str) -> None:
    assert prompts.text(kind, language) != prompts.GENERIC[language]
    assert prompts.audio(kind, language).name == f"{kind}.wav"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_briefs_name_every_kind(language: str) -> None:
    assert {k: WORDS[language][k] for k in KINDS} == {k: name(k, language) for k in KINDS}


def test_the_person_kinds_are_counted_clipped_and_remembered() -> None:
    assert stats.VIOLATIONS == PERSON_KINDS
    assert set(PERSON_KINDS) == false_alarms.PERSON_KINDS
    assert set(PERSON_KINDS) == CLIP_KINDS


def test_the_configuration_has_a_rule_per_person_kind_and_a_policy_per_kind() -> None:
    assert set(PERSON_KINDS) <= set(RulesConfig.model_fields)
    policies = "\n".join(f"  {kind}: {{trigger: never}}" for kind in KINDS)
    config = config_from_text(
        "site: {id: demo, timezone: Asia/Shanghai}\ncameras:\n  gate: {url: rtsp://127.0.0.1/gate}\n"
        f"case_policies:\n{policies}\n"
    )
    assert config.case_policies == {kind: CasePolicyConfig(trigger="never") for kind in KINDS}
    assert list(rule_params_of(config).persistence) == list(PERSON_KINDS)
