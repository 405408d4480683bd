"""The edge's health reporter (the API's own ``/healthz`` is :mod:`api.ops.health`): camera health
from the edge to the API: online, input fps, last frame time and a small thumbnail of the last frame,
every few seconds. Health is a latest-state report: a failed send is simply replaced by
the next one (no outbox).

A camera with a substream (``detect_url``) is online while the stream detection watches is; a problem of
its main stream (snapshots then come from the substream) is reported in ``last_error`` as
``main stream: ...``, after the detect stream's own."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import cv2

from streams.worker import Worker

logger = logging.getLogger(__name__)


def _iso(moment: object) -> str | None:
    if isinstance(moment, int | float) and moment > 0:
        return datetime.fromtimestamp(moment, UTC).isoformat()
    return None


def _last_error(health: dict[str, object]) -> str | None:
    """The detect stream's problem, and the main stream's after it."""
    problems = [str(health["last_error"])] if health["last_error"] else []
    main = health.get("main_stream")
    if isinstance(main, dict) and not main.get("online"):
        problems.append(f"main stream: {main.get('last_error') or 'no frame yet'}")
    return "; ".join(problems)[:500] or None


def health_report(worker: Worker, site_id: str, *, thumbnail_width: int = 320) -> list[dict[str, Any]]:
    """The body of ``POST /api/v1/ingest/health`` for every camera of ``worker``."""
    report = []
    for camera_id, health in worker.health().items():
        item: dict[str, Any] = {
            "site_id": site_id,
            "camera_id": camera_id,
            "online": bool(health["online"]),
            "input_fps": float(health["input_fps"]),  # type: ignore[arg-type]
            "frames_processed": int(health["frames_processed"]),  # type: ignore[call-overload]
            "last_frame_at": _iso(health["last_frame_at"]),
            "offline_since": _iso(health["offline_since"]),
            "last_error": _last_error(health),
            "suppressions": health["suppressions"],
            "suppressions_run": worker.run_id,
        }
        _, _, frame = worker.cameras[camera_id].capture.latest()
        if frame is not None:
            scale = thumbnail_width / frame.shape[1]
            small = cv2.resize(frame, (thumbnail_width, max(1, round(frame.shape[0] * scale))))
            ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
            if ok:
                item["thumbnail_jpeg"] = base64.b64encode(jpeg.tobytes()).decode()
        report.append(item)
    return report


class HealthReporter:
    """Sends ``health_report`` to ``send`` every ``interval_s`` seconds in a background thread."""

    def __init__(
        self,
        worker: Worker,
        site_id: str,
        send: Callable[[list[dict[str, Any]]], None],
        interval_s: float = 10.0,
    ) -> None:
        self.worker = worker
        self.site_id = site_id
        self.send = send
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-reporter", daemon=True)

    def start(self) -> None:
        """Start reporting."""
        self._thread.start()

    def stop(self) -> None:
        """Send a last report (cameras offline after a stop) and end."""
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._once()
        self._once()

    def _once(self) -> None:
        try:
            self.send(health_report(self.worker, self.site_id))
        except Exception as exc:  # the next report replaces this one
            logger.warning("camera health not reported: %s", exc)
