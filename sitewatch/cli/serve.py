"""``sitewatch worker``, ``run`` and ``api``: the long-running services."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from api.http.services import services_of
from sitewatch.cli.common import EXIT_OK, EXIT_USAGE, logger, positive_int
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from fastapi import FastAPI

    from sitewatch.cli.common import Subparsers
    from sitewatch.config import Config
    from sitewatch.health_reporter import HealthReporter
    from streams.worker import Worker


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the edge worker on the configuration's cameras until interrupted (or ``--duration``)."""
    from sitewatch.config import load_config
    from sitewatch.edge import build_worker

    if args.from_api:
        config, args.config = _config_from_api(args)
    else:
        config = load_config(args.config)
    if args.log_level is None:  # no --log-level: the configuration's (INFO by default) shows the events
        from sitewatch.logsetup import setup_logging

        setup_logging(config.log_level)
    if not any(c.enabled for c in config.cameras.values()):
        logger.error("%s has no enabled camera", args.config)
        return EXIT_USAGE
    from sitewatch.edge import officer_sync
    from sitewatch.false_alarms import false_alarm_sync
    from sitewatch.health_reporter import HealthReporter
    from streams.sinks import HEALTH_PATH, json_poster

    sync = officer_sync(config)
    if sync is not None:
        sync.start()
    memory_sync = false_alarm_sync(config)
    if memory_sync is not None:
        memory_sync.start()
    worker = build_worker(
        config,
        gallery=sync.gallery if sync else None,
        on_sighting=sync.sighting if sync else None,
        memory=memory_sync.memory if memory_sync else None,
    )
    reporter = live = None
    if config.sink.type == "http" and config.sink.url:
        from sitewatch.live import LiveUploader

        send = json_poster(config.sink.url, config.sink.api_key, HEALTH_PATH)
        reporter = HealthReporter(worker, config.site.id, send)
        # The cameras' live view, sent only while someone watches (the API asks over the box's own requests)
        live = LiveUploader.of_worker(
            worker, site_id=config.site.id, api_url=config.sink.url, api_key=config.sink.api_key
        )
        live.start()
    try:
        return _run_worker(worker, args.duration, reporter)
    finally:
        if live is not None:
            live.stop()
        if sync is not None:
            sync.stop()
        if memory_sync is not None:
            memory_sync.stop()


def cmd_run(args: argparse.Namespace) -> int:
    """Everything on one box: the API with its dispatcher, the worker and (configured) a demo receiver."""
    from sitewatch.allinone import HEADER, AllInOne
    from sitewatch.config import load_config
    from sitewatch.edge import build_worker
    from sitewatch.health_reporter import HealthReporter

    config = load_config(args.config)
    product = AllInOne(config, host=args.host, port=args.port)
    memory_sync = live = None
    product.start_api()
    try:
        print("\n".join(product.banner()), flush=True)
        print("events (Ctrl-C stops):\n" + HEADER, flush=True)
        memory_sync = product.false_alarm_sync()
        if memory_sync is not None:
            memory_sync.start()
        worker = build_worker(
            config,
            sink=product.sink,
            gallery=product.gallery,
            on_sighting=product.record_sighting,
            memory=memory_sync.memory if memory_sync else None,
        )
        reporter = HealthReporter(worker, config.site.id, product.record_health, interval_s=5.0)
        live = product.live_uploader(worker)
        live.start()
        return _run_worker(worker, args.duration, reporter)
    finally:
        if live is not None:
            live.stop()
        if memory_sync is not None:
            memory_sync.stop()
        product.stop()


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the central API (SQLite in the data folder unless SITEWATCH_DATABASE_URL says otherwise)."""
    from api.app import create_app
    from api.core.settings import ApiSettings
    from api.ops.serve import serve
    from sitewatch.remote_config import check_site_config

    settings = ApiSettings.from_env(data_dir=args.data_dir)
    alerts = None
    if args.config is not None:
        from sitewatch.config import load_central_config

        alerts = load_central_config(args.config).alerts
    # Migrates and makes the admin key once, before any worker.
    app = create_app(settings, alerts=alerts, config_check=check_site_config)
    if services_of(app).new_admin_key:
        print(
            f"first start: admin key (shown once, store it now): {services_of(app).new_admin_key}", flush=True
        )
    print(
        f"sitewatch API on http://{args.host}:{args.port} (docs at /docs), data in {settings.data_dir}"
        + (f", {args.workers} worker processes" if args.workers > 1 else ""),
        flush=True,
    )
    if args.workers > 1:
        services_of(app).engine.dispose()
        # Worker processes rebuild the app from the environment; the API keeps no state between requests.
        os.environ["SITEWATCH_DATA_DIR"] = str(settings.data_dir)
        os.environ["SITEWATCH_DATABASE_URL"] = settings.database_url
        if alerts is not None:  # secrets included: they came from this environment in the first place
            os.environ["SITEWATCH_ALERTS_JSON"] = alerts.model_dump_json()
    serve(app, host=args.host, port=args.port, workers=args.workers, factory=f"{__name__}:api_from_env")
    return EXIT_OK


def api_from_env() -> FastAPI:
    """The app each process of ``sitewatch api --workers N`` builds: :func:`api.app.app_from_env` with the
    workers' configuration check."""
    from api.app import app_from_env
    from sitewatch.remote_config import check_site_config

    return app_from_env(config_check=check_site_config)


def _run_worker(worker: Worker, duration: float | None, reporter: HealthReporter | None = None) -> int:
    import signal
    import time

    # The handler only flips a flag: setting a threading.Event from a signal handler can deadlock when
    # the signal lands while the main thread holds that Event's lock inside wait().
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    worker.start()
    if reporter is not None:
        reporter.start()
    deadline = None if duration is None else time.monotonic() + duration
    while not stopping and (deadline is None or time.monotonic() < deadline):
        time.sleep(0.2)
    worker.stop()
    if reporter is not None:
        reporter.stop()
    rows = [
        [
            cid,
            "online" if h["online"] else "offline",
            h["input_fps"],
            h["frames_processed"],
            h["skipped_motion"],
            h["dropped_overload"],
            h["last_error"] or "-",
        ]
        for cid, h in worker.health().items()
    ]
    print(format_table(["camera", "state", "input fps", "processed", "still", "dropped", "last error"], rows))
    return EXIT_OK


def _config_from_api(args: argparse.Namespace) -> tuple[Config, Path]:
    """The worker's configuration from the central API (``--from-api``), with the key from the environment."""
    from sitewatch.remote_config import RemoteConfigError, fetch_config

    key = os.environ.get(args.key_env)
    if not args.site or not key:
        raise RemoteConfigError(f"--from-api needs --site and the edge key in ${args.key_env}")
    return fetch_config(
        api_url=args.from_api, site_id=args.site, api_key=key, key_env=args.key_env, folder=args.data_dir
    )


def add_parsers(sub: Subparsers) -> None:
    """Add ``worker``, ``run`` and ``api``."""
    for name, func, text in (
        ("worker", cmd_worker, "run the edge worker: cameras in, events to the configured sink"),
        ("run", cmd_run, "run everything on one box (the demo: make run)"),
    ):
        p = sub.add_parser(name, help=text)
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument("--config", type=Path)
        p.add_argument("--duration", type=float, help="stop after this many seconds")
        if name == "worker":
            source.add_argument(
                "--from-api", metavar="URL", help="take the site's configuration from the central API"
            )
            p.add_argument("--site", help="with --from-api: the site this worker watches")
            p.add_argument(
                "--key-env",
                default="SITEWATCH_EDGE_KEY",
                help="with --from-api: the variable holding the edge key (default SITEWATCH_EDGE_KEY)",
            )
            p.add_argument(
                "--data-dir",
                type=Path,
                default=Path("data/edge"),
                help="with --from-api: where the fetched configuration is kept (default data/edge)",
            )
        if name == "run":
            p.add_argument("--host", default="127.0.0.1", help="address of the API and web UI")
            p.add_argument("--port", type=int, default=8000, help="port of the API and web UI")
        p.set_defaults(func=func)

    p = sub.add_parser("api", help="serve the central API")
    p.add_argument(
        "--config", type=Path, help="its alerts: channels and routes (not needed: the API starts without one)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--data-dir", type=Path, help="database and evidence folder (default: $SITEWATCH_DATA_DIR or data)"
    )
    p.add_argument("--workers", type=positive_int, default=1, help="server processes (one per core)")
    p.set_defaults(func=cmd_api)
