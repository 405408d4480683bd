"""A small real HTTP receiver standing in for the central API's ingest route in tests.

It parses the multipart body, stores each (event id, seq) once, counts repeats, and can fail the first
N requests or refuse chosen events, to exercise the edge's retries.
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from streams.sinks import INGEST_PATH


class Receiver:
    """Run with ``with Receiver() as r: ... r.url``; ``port`` picks a fixed port (0: any free one)."""

    def __init__(
        self, *, fail_first: int = 0, fail_status: int = 503, refuse: set[str] | None = None, port: int = 0
    ) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.refuse = refuse or set()
        self.stored: list[dict[str, Any]] = []
        self.files: dict[tuple[str, int], dict[str, bytes]] = {}
        self.seen: set[tuple[str, int]] = set()
        self.duplicates = 0
        self.failed = 0
        self.requests = 0
        self.auth: set[str] = set()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = owner.handle(
                    self.path, self.headers.get("Content-Type", ""), self.headers.get("Authorization"), body
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, path: str, content_type: str, auth: str | None, body: bytes) -> int:
        with self._lock:
            self.requests += 1
            if path != INGEST_PATH:
                return 404
            if self.failed < self.fail_first:
                self.failed += 1
                return self.fail_status
            if auth:
                self.auth.add(auth)
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body
            )
            parts = {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()
            }
            event = json.loads(parts.pop("event"))
            if event["event_id"] in self.refuse:
                return 422
            key = (event["event_id"], event["seq"])
            if key in self.seen:
                self.duplicates += 1
                return 409
            self.seen.add(key)
            self.stored.append(event)
            self.files[key] = parts
            return 201

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
