"""The supervisors' web UI: a static single-page app in ``api/web`` that uses the JSON API.

The page itself holds no data, so ``/`` and ``/ui/*`` are open (like a log-in page); everything the app
shows comes from authenticated API routes with the session cookie, the map's settings included
(``/api/v1/ui/map``).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.deps import Reader
from api.settings import ApiSettings

WEB = Path(__file__).resolve().parents[1] / "web"
# Scripts, styles and images from this origin only; pictures may also be blob: (previews) or data: URLs.
POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter()


def page_policy(settings: ApiSettings) -> str:
    """:data:`POLICY`, with the map's tile server admitted as a source of images when one is configured
    on another host (``{s}.host`` becomes ``*.host``)."""
    template = settings.map_tiles
    if not template or "://" not in template:
        return POLICY
    scheme, _, rest = template.partition("://")
    host = rest.split("/", 1)[0].replace("{s}.", "*.", 1)
    return POLICY.replace("img-src 'self'", f"img-src 'self' {scheme}://{host}", 1)


class MapSettingsPublic(BaseModel):
    """How the UI draws the district map.

    Attributes:
        tiles: the tiles' URL template (Leaflet's ``{z}/{x}/{y}``); ``null``: no tiles, the markers on a
            plain background with a scale.
        attribution: the tiles' attribution, shown on the map.
    """

    tiles: str | None
    attribution: str


@router.get("/api/v1/ui/map", response_model=MapSettingsPublic, operation_id="get_map_settings", tags=["ui"])
def map_settings(principal: Reader, request: Request) -> MapSettingsPublic:
    """The district map's tile server and attribution (``SITEWATCH_MAP_TILES``,
    ``SITEWATCH_MAP_ATTRIBUTION``); ``tiles`` is null when none is configured."""
    settings: ApiSettings = request.app.state.settings
    return MapSettingsPublic(tiles=settings.map_tiles, attribution=settings.map_attribution)


@router.get("/", include_in_schema=False)
def home(request: Request) -> FileResponse:
    """The app's page."""
    return FileResponse(
        WEB / "index.html",
        headers={
            "Content-Security-Policy": page_policy(request.app.state.settings),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


def mount_static(app: FastAPI) -> None:
    """Serve the app's scripts and styles under ``/ui``."""
    app.mount("/ui", StaticFiles(directory=WEB), name="ui")


@router.get("/docs", include_in_schema=False)
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
