"""The event kinds as the API names them, from :mod:`detector.kinds`: the name type of its schemas and the
kinds counted as violations."""

from __future__ import annotations

from detector.kinds import PERSON_KINDS, KindName

#: The name of an event kind in every request and answer.
EventKindName = KindName

#: The kinds counted as violations: what a person's look raises (:data:`detector.kinds.PERSON_KINDS`).
VIOLATIONS = PERSON_KINDS
