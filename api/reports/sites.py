"""The brief's sites by their projects (issue 16): the per-site table, and the project and company of the
sites its cases name."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.projects.service import names_of


def site_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per site of :func:`api.reports.stats.compute_stats`'s ``by_site`` (which names each site's
    project and company), most violations first.

    Example:
        >>> tally = {"violations": 3, "false_alarm_share": 0.25, "project_name": "P", "company": "C"}
        >>> site_rows({"by_site": {"site-a": tally}})[0]["false_alarm_share"]
        '25.0%'
    """
    rows = []
    for site, tally in stats["by_site"].items():
        share = tally["false_alarm_share"]
        rows.append(
            {
                "site_id": site,
                "project_name": tally.get("project_name"),
                "company": tally.get("company"),
                "violations": tally["violations"],
                "false_alarm_share": "—" if share is None else f"{share:.1%}",
            }
        )
    return sorted(rows, key=lambda row: (-row["violations"], row["site_id"]))


def name_projects(session: Session, *, rows: list[dict[str, Any]]) -> None:
    """Add ``project_name`` and ``company`` (``None`` without a project) to each row with a ``site_id``,
    in one query."""
    names = names_of(session, site_ids=[row["site_id"] for row in rows])
    for row in rows:
        row["project_name"], row["company"] = names.get(row["site_id"], (None, None))
