"""The long-lived objects of one API app, built once by :func:`api.app.create_app` and handed to routes as
typed dependencies, instead of untyped ``app.state`` attributes and process globals.

What every part of the API uses is a field of :class:`Services`: the settings, the database, the evidence
store, the time zone of local dates. What one domain owns (the ingest's group committer, the dispatcher,
the log-in throttle ...) the app puts in under a :class:`Slot`, a typed name the domain declares beside its
class: this module, low in the layers, never imports the domains above it, and each route still gets its
object typed.

>>> COUNTS: Slot[list[int]] = Slot("counts")
>>> owned = Owned()
>>> owned.put(COUNTS, [1, 2])
>>> owned.get(COUNTS)
[1, 2]
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.core.settings import ApiSettings
from api.storage.interface import EvidenceStore

T = TypeVar("T")


class Slot(Generic[T]):
    """The typed name of one object a domain owns among the services; a FastAPI dependency that hands a
    route that object (``Annotated[GroupCommitter, Depends(COMMITTER)]``).

    Args:
        name: what the object is, for errors (``"the ingest's group committer"``).
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"

    def __call__(self, request: Request) -> T:
        return services_of(request.app).get(self)


class Owned:
    """The objects of the domains, each under its :class:`Slot`."""

    def __init__(self) -> None:
        self._values: dict[Slot[Any], object] = {}

    def put(self, slot: Slot[T], value: T) -> None:
        """Provide ``value`` under ``slot`` (once).

        Raises:
            ValueError: ``slot`` is provided already.
        """
        if slot in self._values:
            raise ValueError(f"{slot.name} is provided twice")
        self._values[slot] = value

    def swap(self, slot: Slot[T], value: T) -> T:
        """Put ``value`` under ``slot`` in place of what was there (tests do, to watch a clock or a model);
        the object it replaces."""
        old = self.get(slot)
        self._values[slot] = value
        return old

    def get(self, slot: Slot[T]) -> T:
        """The object under ``slot``.

        Raises:
            LookupError: the app provides none.
        """
        try:
            return cast(T, self._values[slot])
        except KeyError:
            raise LookupError(f"the app provides no {slot.name}") from None


@dataclass(eq=False)
class Services:
    """What one app's routes, jobs and commands share.

    Attributes:
        settings: the API's settings.
        engine: the database engine.
        sessions: the factory of database sessions (its info holds the API keys' pepper).
        store: where evidence files are kept.
        zone: the time zone of local dates and hours (projects' dates, briefs, analyses, quiet hours): the
            alerts configuration's ``timezone``, one for the whole app.
        write_turn: a context in which the busiest writers take turns (SQLite's one writer).
        key_pepper: what API keys are hashed under.
        new_admin_key: an admin key made at this start, for the command to print once; never logged.
        owned: the domains' objects, by :class:`Slot`.
    """

    settings: ApiSettings
    engine: Engine
    sessions: sessionmaker[Session]
    store: EvidenceStore
    zone: ZoneInfo
    write_turn: Callable[[], AbstractContextManager[None]]
    key_pepper: bytes
    new_admin_key: str | None = None
    owned: Owned = field(default_factory=Owned)

    def get(self, slot: Slot[T]) -> T:
        """The domain's object under ``slot`` (see :meth:`Owned.get`)."""
        return self.owned.get(slot)


def services_of(app: Any) -> Services:
    """The services of ``app`` (a FastAPI app made by :func:`api.app.create_app`).

    Raises:
        LookupError: the app was not made by ``create_app``.
    """
    services = getattr(app.state, "services", None)
    if not isinstance(services, Services):
        raise LookupError("this app has no sitewatch services: make it with api.app.create_app")
    return services


def get_services(request: Request) -> Services:
    """The services of the app serving ``request``."""
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]
