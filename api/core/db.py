"""The database: engine, sessions, and migrations applied on start."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.core.secretkeys import KEYS_INFO, DataKeys

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str, *, connections: int | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    Args:
        url: a SQLAlchemy database URL.
        connections: hold at most this many connections (default: SQLAlchemy's pool of 5 plus 10 more).
    """
    sizing: dict[str, Any] = {} if connections is None else {"pool_size": connections, "max_overflow": 0}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **sizing)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **sizing)


def writer_lock(url: str) -> AbstractContextManager[None]:
    """A lock that the writers of a SQLite file take in turn, across the processes of a host.

    SQLite lets one transaction write at a time, and one that finds the file locked polls, sleeping
    1, 2, 5, 10 ... ms between tries: two busy API processes lose much of their time asleep. Waiting on
    an OS lock instead wakes the next writer the moment the last one commits. Other databases need no
    lock (a context that does nothing).
    """
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if not path or path == ":memory:":
        return nullcontext()
    return _flock(Path(f"{path}.writer-lock"))


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def alembic_config(connection: Connection) -> AlembicConfig:
    """The Alembic configuration of our migrations, running on ``connection``."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


#: Where a session's factory keeps the time zone of local dates (see :func:`local_zone`).
ZONE_INFO = "zone"


def session_factory(
    engine: Engine,
    *,
    key_pepper: bytes | None = None,
    zone: ZoneInfo | None = None,
    keys: DataKeys | None = None,
) -> sessionmaker[Session]:
    """Sessions that keep objects readable after commit; with ``key_pepper``, sessions that can hash API
    keys (:func:`api.access.auth.key_digest`); with ``zone``, sessions that know the app's time zone of
    local dates (:func:`local_zone`); with ``keys``, the app's keys of personal data
    (:func:`api.core.secretkeys.data_keys`)."""
    info: dict[str, object] = {} if key_pepper is None else {"key_pepper": key_pepper}
    if zone is not None:
        info[ZONE_INFO] = zone
    if keys is not None:
        info[KEYS_INFO] = keys
    return sessionmaker(engine, expire_on_commit=False, info=info)


def local_zone(session: Session) -> ZoneInfo:
    """The time zone of local dates (projects' dates, days of briefs) of the app ``session`` belongs to:
    the one its factory was made with, else UTC. Code that holds a session reads it here rather than from a
    process global, so that two apps in one process (tests, replicas) keep their own.

    >>> from sqlalchemy import create_engine
    >>> local_zone(session_factory(create_engine("sqlite://"), zone=ZoneInfo("Asia/Shanghai"))()).key
    'Asia/Shanghai'
    """
    zone = session.info.get(ZONE_INFO)
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


def sessions(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session per request (a FastAPI dependency body)."""
    with factory() as session:
        yield session
