"""The one list of event kinds (``detector.kinds``) agrees with itself, and no other module keeps a list of
its own: a kind added in one place only fails here or in the test of the part that missed it
(``tests/test_kinds_everywhere.py``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

import pytest

from detector.kinds import (
    KIND_NAMES,
    KINDS,
    LANGUAGES,
    PERSON_KINDS,
    SPECS,
    EventKind,
    Group,
    KindName,
    Phase,
    PhaseName,
    Violation,
    name,
)
from detector.wire import EventUpdateWire

ROOT = Path(__file__).resolve().parents[2]


def test_the_enum_the_type_and_the_table_list_the_same_kinds_in_the_same_order() -> None:
    assert tuple(EventKind) == get_args(KindName) == tuple(SPECS) == KINDS
    assert all(spec.kind is kind for kind, spec in SPECS.items())
    assert tuple(Phase) == get_args(PhaseName) == ("start", "update", "end")


def test_the_person_violations_are_the_person_group() -> None:
    assert tuple(Violation) == PERSON_KINDS == tuple(k for k, s in SPECS.items() if s.group is Group.PERSON)
    assert PERSON_KINDS == ("no_helmet", "no_vest", "smoking")


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_kind_has_a_distinct_name_in_every_language_a_colour_and_a_case_policy(kind: EventKind) -> None:
    spec = SPECS[kind]
    assert set(spec.names) == set(LANGUAGES)
    for language in LANGUAGES:
        assert spec.names[language].strip() and name(kind, language) == spec.names[language]
        others = [s.names[language] for k, s in SPECS.items() if k is not kind]
        assert spec.names[language] not in others
    assert re.fullmatch(r"#[0-9a-f]{6}", spec.color)
    assert spec.case_trigger in ("on_start", "on_confirm") and spec.deadline_hours > 0


@pytest.mark.parametrize(
    ("kind", "language", "expected"),
    [
        ("no_helmet", "zh", "未戴安全帽"),
        ("officer_absent", "en", "Safety officer absent"),
        ("camera_offline", "fr", "摄像头离线"),  # a language without names: Chinese, the default
        ("flood", "en", "flood"),  # a kind stored by a newer version: shown as it is
    ],
)
def test_name(kind: str, language: str, expected: str) -> None:
    assert name(kind, language) == expected


def test_the_wire_format_accepts_exactly_the_kinds_and_phases() -> None:
    schema = EventUpdateWire.model_json_schema()["properties"]
    assert schema["kind"]["enum"] == list(KINDS) and schema["phase"]["enum"] == list(get_args(PhaseName))


def test_importing_the_kinds_pulls_in_nothing_heavy() -> None:
    tree = ast.parse((ROOT / "detector" / "kinds.py").read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "dataclasses", "enum", "typing"}


def kind_literals(path: Path) -> set[str]:
    """The kinds a module spells out as string literals."""
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KINDS
    }


#: Modules that may spell out several kinds: content per kind that is not a list of them.
SPELLED_OUT = {"alerts/prompts/__init__.py": "the voice prompts' words (one WAV file per person kind)"}


def test_no_other_module_keeps_a_list_of_kinds() -> None:
    lists = {}
    for package in ("api", "alerts", "streams", "sitewatch"):
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if where not in SPELLED_OUT and len(found := kind_literals(path)) >= 2:
                lists[where] = sorted(found)
    assert not lists, f"take these kinds from detector.kinds: {lists}"


# The app's own scripts, its pages in views/ included; the vendored map library is not ours.
WEB_SCRIPTS = sorted(p for p in ROOT.glob("api/web/**/*.js") if "vendor" not in p.relative_to(ROOT).parts)


@pytest.mark.parametrize("path", [*WEB_SCRIPTS, *sorted(ROOT.glob("api/reports/templates/*"))])
def test_the_web_ui_and_the_templates_spell_out_no_kind(path: Path) -> None:
    text = path.read_text()
    assert not [kind for kind in KINDS if re.search(rf"\b{kind}\b", text)], path.name
    assert not [n for names in KIND_NAMES.values() for n in names.values() if n in text], path.name
