"""A dispatcher in its own process, to be killed: ``python -m tests.alerts.dispatch DB_URL CONFIG_JSON``."""

from __future__ import annotations

import sys
import time

from alerts.config import AlertsConfig
from api.core.db import make_engine, session_factory
from api.delivery.dispatcher import Dispatcher


def main() -> None:
    sessions = session_factory(make_engine(sys.argv[1]))
    config = AlertsConfig.model_validate_json(sys.argv[2])
    dispatcher = Dispatcher(
        sessions, config, links=lambda digest, ttl: f"http://api/{digest}", lease_margin_s=1.0
    )
    dispatcher.start()
    print("dispatching", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
