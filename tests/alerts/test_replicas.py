"""Dispatchers of several replicas on PostgreSQL take turns routing instead of routing the same rows."""

from __future__ import annotations

from alerts.config import AlertsConfig
from api.core.db import make_engine, migrate, session_factory
from api.delivery.dispatcher import Dispatcher
from tests.pg import PostgresServer


def test_one_dispatcher_routes_at_a_time_and_the_turn_passes_on_commit(postgres: PostgresServer) -> None:
    engine = make_engine(postgres.new_database())
    migrate(engine)
    sessions = session_factory(engine)
    try:
        with sessions() as first, sessions() as second:
            assert Dispatcher._route_turn(first)
            assert not Dispatcher._route_turn(second)  # the first replica is routing
            first.commit()
            assert Dispatcher._route_turn(second)
        dispatcher = Dispatcher(sessions, AlertsConfig(), links=lambda digest, ttl: None)
        try:
            assert dispatcher.route() == 0  # nothing to route, and the turn was free
        finally:
            dispatcher.stop()
    finally:
        engine.dispose()
