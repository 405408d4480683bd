"""The supervisors' web UI: a static single-page app in ``api/web`` that uses the JSON API.

The page itself holds no data, so ``/`` and ``/ui/*`` are open (like a log-in page); everything the app
shows comes from authenticated API routes with the session cookie.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parents[1] / "web"
# Scripts, styles and images from this origin only; pictures may also be blob: (previews) or data: URLs.
POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> FileResponse:
    """The app's page."""
    return FileResponse(
        WEB / "index.html",
        headers={
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


def mount_static(app: FastAPI) -> None:
    """Serve the app's scripts and styles under ``/ui``."""
    app.mount("/ui", StaticFiles(directory=WEB), name="ui")


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The API's operations, from its OpenAPI document (``/openapi.json``), as a plain local page: no
    script, nothing from another site."""
    schema = request.app.openapi()
    rows = []
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            summary = (operation.get("description") or operation.get("summary") or "").split("\n")[0]
            rows.append(
                f"<tr><td>{escape(method.upper())}</td><td><code>{escape(path)}</code></td>"
                f"<td>{escape(summary)}</td></tr>"
            )
    page = (
        "<!doctype html><meta charset=utf-8><title>sitewatch API</title>"
        f"<h1>{escape(schema['info']['title'])}</h1>"
        '<p>The whole description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3, webhooks too).</p>'
        f"<table>{''.join(rows)}</table>"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"})
