"""``sitewatch report``: a weekly or monthly brief from the API's database."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, logger
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from sitewatch.cli.common import Subparsers


def cmd_report(args: argparse.Namespace) -> int:
    """Write a brief from the API's database (SQLite in the data folder or SITEWATCH_DATABASE_URL)."""
    from alerts.config import AlertsConfig
    from api.access.auth import Principal
    from api.core.db import make_engine, migrate, session_factory
    from api.core.settings import ApiSettings
    from api.reports.brief_file import brief_stem
    from api.reports.briefs import brief_data, render_html
    from api.reports.closed_loop import targets_of
    from api.reports.pdf import PdfUnavailableError, render_pdf
    from api.reports.periods import Period, PeriodError
    from api.storage import open_store

    settings = ApiSettings.from_env(data_dir=args.data_dir)
    try:
        period = Period.parse(args.period or args.month, args.tz or AlertsConfig().timezone)
    except PeriodError as exc:
        logger.error("%s", exc)
        return EXIT_USAGE
    engine = make_engine(settings.database_url)
    migrate(engine)
    with session_factory(engine)() as session:
        data = brief_data(
            session,
            principal=Principal(name="sitewatch report", role="admin"),
            period=period,
            store=open_store(settings),
            site_id=args.site,
            lang=args.lang,
            targets=targets_of(settings),
        )
    engine.dispose()
    html = render_html(data)
    args.out.mkdir(parents=True, exist_ok=True)
    # The language in the name: a --lang en run next to a zh one overwrites nothing.
    stem = args.out / brief_stem(period.label, args.site, args.lang)
    written = []
    if args.format in ("html", "both"):
        stem.with_suffix(".html").write_text(html, encoding="utf-8")
        written.append(stem.with_suffix(".html"))
    if args.format in ("pdf", "both"):
        try:
            stem.with_suffix(".pdf").write_bytes(render_pdf(html))
            written.append(stem.with_suffix(".pdf"))
        except PdfUnavailableError as exc:
            logger.error("%s", exc)
            return EXIT_FAILED
    print(data["title"])
    if data["partial"]:
        print(data["partial"])
    rows = [[f["label"], f["shown"], f["previous"], f["delta"], f["judged"]] for f in data["figures"]]
    print(format_table(["figure", "this period", "previous", "change", "judged"], rows))
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``report``."""
    p = sub.add_parser("report", help="a weekly or monthly brief, as HTML and PDF")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--period", help="an ISO week, e.g. 2026-W48 (or a month, 2026-11)")
    when.add_argument("--month", help="a month, e.g. 2026-11")
    p.add_argument("--site", help="one site (default: the whole district)")
    p.add_argument("--format", choices=["html", "pdf", "both"], default="both")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument(
        "--tz",
        help="time zone of days and weeks (default: the alerts configuration's, as the API counts them)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="folder for the files (default: reports/); their names carry the period, scope and language",
    )
    p.add_argument(
        "--data-dir", type=Path, help="the API's data folder (default: $SITEWATCH_DATA_DIR or data)"
    )
    p.set_defaults(func=cmd_report)
