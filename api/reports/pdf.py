"""A brief's HTML printed to PDF by headless Chromium, offline."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from api.core.errors import UnavailableError


class PdfUnavailableError(UnavailableError, RuntimeError):
    """No Chromium to print with (answered with 503)."""


def chromium() -> str | None:
    """The Chromium executable (``SITEWATCH_CHROMIUM``, else the usual names on the PATH)."""
    import os

    configured = os.environ.get("SITEWATCH_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(html: str, *, timeout_s: float = 60.0) -> bytes:
    """Print ``html`` to PDF with headless Chromium, offline (no network: the page is self-contained).

    Raises:
        PdfUnavailableError: Chromium is not installed, or it failed.
    """
    binary = chromium()
    if binary is None:
        raise PdfUnavailableError("PDF briefs need Chromium: apt install chromium, or set SITEWATCH_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="sitewatch-brief-") as folder:
        page, pdf = Path(folder) / "brief.html", Path(folder) / "brief.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailableError(f"Chromium failed to print the brief: {exc}") from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise PdfUnavailableError("Chromium printed no PDF")
        return pdf.read_bytes()
