"""``/``: the place of the supervisors' web UI (its pages come with the web UI issue)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>sitewatch 工地安全监管</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>sitewatch 工地安全监管</h1>
<p>监管人员网页端即将上线。 The supervisors' web UI will be served here.</p>
<p><a href="/docs">API 文档 / API documentation</a> · <a href="/healthz">健康检查 / health</a></p>
</body></html>
"""


@router.get("/", response_class=HTMLResponse)
def home() -> str:
    """A static page without data (open, like the log-in page it will become)."""
    return PAGE
