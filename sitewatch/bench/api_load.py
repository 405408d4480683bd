"""The load generator of ``sitewatch bench api``: edge boxes posting event updates with snapshots, as
raw multipart requests over keep-alive connections (an HTTP client library would cost the shared cores more
than the server it measures)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from detector.kinds import PERSON_KINDS

KINDS = PERSON_KINDS

BOUNDARY = "sitewatch-bench-boundary"


def noise_jpeg(rng: np.random.Generator, size: int) -> bytes:
    """A real JPEG (the API decodes what claims to be one) of at least ``size`` bytes: noise compresses
    poorly, so a few hundred pixels square reach it. Each request's unique bytes follow its end marker."""
    side = 160
    while True:
        picture = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok and len(encoded) >= size:
            return bytes(encoded.tobytes())
        side += 40


class Load:
    """The load generator: ``clients`` edge boxes, each posting its share of ``events`` one after another
    over a keep-alive connection of its own.

    It shares this machine's cores with the server it measures, so every millisecond it spends is the
    server's loss: all clients run on one asyncio loop (no threads contending for the GIL), requests are
    assembled from bytes, each snapshot's hash is finished from the hash of their common prefix, and only
    the status line and length of each answer are read.
    """

    def __init__(
        self, *, port: int, key: str, site: str, events: int, clients: int, snapshot: bytes, bar: tqdm[Any]
    ) -> None:
        self.port, self.key, self.site = port, key, site
        self.events, self.clients = events, clients
        self.snapshot, self.bar = snapshot, bar
        self._prefix_hash = hashlib.sha256(snapshot)

    async def run(self) -> list[float]:
        """Post every event; the latency of each request (ms).

        Raises:
            RuntimeError: a client failed (an answer other than 201, or a broken connection).
        """
        latencies: list[float] = []
        results = await asyncio.gather(
            *(self._client(worker, latencies) for worker in range(self.clients)), return_exceptions=True
        )
        if failures := [r for r in results if isinstance(r, BaseException)]:
            raise RuntimeError(f"{len(failures)} ingest clients failed; the first: {failures[0]!r}")
        return latencies

    def _request(self, i: int) -> list[bytes]:
        suffix = i.to_bytes(8, "big")  # every event its own file, as on site
        digest = self._prefix_hash.copy()
        digest.update(suffix)
        now = datetime.now(UTC).isoformat()
        event = {
            "event_id": f"bench-{i:08d}-{uuid.uuid4().hex[:8]}",
            "seq": 0,
            "phase": "start",
            "kind": KINDS[i % 3],
            "site_id": self.site,
            "camera_id": f"cam-{i % 8}",
            "started_at": now,
            "updated_at": now,
            "evidence": {"snapshot_sha256": digest.hexdigest()},
        }
        head, tail = multipart_around(event)
        length = len(head) + len(self.snapshot) + len(suffix) + len(tail)
        headers = (
            "POST /api/v1/ingest/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n"
        )
        return [headers.encode(), head, self.snapshot, suffix, tail]

    async def _client(self, worker: int, latencies: list[float]) -> None:
        # Edge boxes connect at different moments. A burst of simultaneous connects would all be accepted
        # by whichever server process wakes first, leaving the others idle for the whole run.
        await asyncio.sleep(worker * 0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            for i in range(worker, self.events, self.clients):
                pieces = self._request(i)
                start = time.perf_counter()
                writer.writelines(pieces)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = _content_length(head)
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - start) * 1000)
                if status != 201:
                    raise RuntimeError(f"ingest answered {status}")
                self.bar.update(1)
        finally:
            writer.close()


def _content_length(head: bytes) -> int:
    """The ``Content-Length`` of a response head (the API's answers always carry one)."""
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line[15:])
    raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")


def multipart_around(event: dict[str, object]) -> tuple[bytes, bytes]:
    """An ingest request's body is the ``event`` JSON part and a ``snapshot`` JPEG part: the bytes before
    and after the snapshot's."""
    head = b"".join(
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="event"\r\n\r\n'.encode(),
            json.dumps(event).encode(),
            f"\r\n--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="snapshot"; filename="s.jpg"\r\n',
            b"Content-Type: image/jpeg\r\n\r\n",
        )
    )
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()
