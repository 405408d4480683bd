"""The event kinds: the one list of what the system reports, and what every part needs to know of each.

Edge workers raise events of these kinds (:mod:`streams`); the API accepts, stores, counts and opens
cases for them (:mod:`api`); the alerts name them in messages (:mod:`alerts`); and the web UI loads
their names and colours from the API (``/ui/kinds.js``, made by :func:`api.ops.ui.kinds_module`).
Adding a kind means adding it to :class:`EventKind`, :data:`KindName` and :data:`SPECS` here
(``tests/detector/test_kinds.py`` checks that the three agree, and the tests of each part that it takes
its kinds from here).

It lives in ``detector``, the bottom layer that every package may import (see ``tests/test_imports.py``),
and imports nothing but the standard library, so that importing it costs nothing and knows nothing of
cameras or servers.

Example:
    >>> SPECS[EventKind.NO_HELMET].names["en"], name("camera_offline", "zh")
    ('No hard hat', '摄像头离线')
    >>> PERSON_KINDS
    ('no_helmet', 'no_vest', 'smoking')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal


class EventKind(StrEnum):
    """Kinds of event."""

    NO_HELMET = "no_helmet"
    NO_VEST = "no_vest"
    SMOKING = "smoking"
    OFFICER_ABSENT = "officer_absent"
    CAMERA_OFFLINE = "camera_offline"


#: The kinds as a type, for pydantic schemas and mypy (the values of :class:`EventKind`, in its order).
KindName = Literal["no_helmet", "no_vest", "smoking", "officer_absent", "camera_offline"]


class Violation(StrEnum):
    """Kinds of violation the rules raise on a person (the :data:`Group.PERSON` kinds)."""

    NO_HELMET = EventKind.NO_HELMET.value
    NO_VEST = EventKind.NO_VEST.value
    SMOKING = EventKind.SMOKING.value


class Phase(StrEnum):
    """Where an event is in its life."""

    START = "start"
    UPDATE = "update"
    END = "end"


#: The phases as a type (the values of :class:`Phase`).
PhaseName = Literal["start", "update", "end"]


class Group(StrEnum):
    """What raises a kind of event."""

    PERSON = "person"  # a person's look: missing PPE, smoking (evidence, clips, false-alarm memory)
    PRESENCE = "presence"  # the site's safety officer not seen in working hours (site-wide)
    CAMERA = "camera"  # a camera's health


#: The languages kinds are named in (the UI's and the briefs'; Chinese first, the default).
LANGUAGES: Final = ("zh", "en")


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What the system knows of one kind.

    Attributes:
        kind: the kind.
        group: what raises it.
        names: its display name per language of :data:`LANGUAGES`.
        color: its colour in charts (CSS).
        case_trigger: when an event of it opens a case on a site that set no policy (``on_start``, or
            ``on_confirm``: once a supervisor confirmed it).
        deadline_hours: the deadline of such a case.
    """

    kind: EventKind
    group: Group
    names: dict[str, str]
    color: str
    case_trigger: Literal["on_start", "on_confirm"]
    deadline_hours: float


#: Every kind, in the order they are listed everywhere (filters, charts).
SPECS: Final[dict[EventKind, KindSpec]] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            EventKind.NO_HELMET,
            Group.PERSON,
            names={"zh": "未戴安全帽", "en": "No hard hat"},
            color="#e4572e",
            case_trigger="on_confirm",
            deadline_hours=24.0,
        ),
        KindSpec(
            EventKind.NO_VEST,
            Group.PERSON,
            names={"zh": "未穿反光背心", "en": "No reflective vest"},
            color="#f3a712",
            case_trigger="on_confirm",
            deadline_hours=24.0,
        ),
        KindSpec(
            EventKind.SMOKING,
            Group.PERSON,
            names={"zh": "现场吸烟", "en": "Smoking"},
            color="#6c5ce7",
            case_trigger="on_confirm",
            deadline_hours=4.0,
        ),
        KindSpec(
            EventKind.OFFICER_ABSENT,
            Group.PRESENCE,
            names={"zh": "安全员不在岗", "en": "Safety officer absent"},
            color="#29335c",
            case_trigger="on_confirm",
            deadline_hours=8.0,
        ),
        KindSpec(
            EventKind.CAMERA_OFFLINE,
            Group.CAMERA,
            names={"zh": "摄像头离线", "en": "Camera offline"},
            color="#8d99ae",
            case_trigger="on_start",
            deadline_hours=24.0,
        ),
    )
}

#: Every kind's name, in order.
KINDS: Final[tuple[str, ...]] = tuple(kind.value for kind in SPECS)
#: The kinds a person's look raises (counted as violations, with clips and a false-alarm memory), in order.
PERSON_KINDS: Final[tuple[str, ...]] = tuple(
    k.value for k, spec in SPECS.items() if spec.group is Group.PERSON
)
#: Display names: language, then kind.
KIND_NAMES: Final[dict[str, dict[str, str]]] = {
    language: {kind.value: spec.names[language] for kind, spec in SPECS.items()} for language in LANGUAGES
}


def name(kind: str, language: str) -> str:
    """The display name of ``kind`` in ``language``; the kind itself for a kind not known here (an event
    stored by a newer version), and the Chinese name for a language without names.

    Example:
        >>> name("smoking", "en"), name("flood", "en")
        ('Smoking', 'flood')
    """
    return KIND_NAMES.get(language, KIND_NAMES[LANGUAGES[0]]).get(kind, kind)
