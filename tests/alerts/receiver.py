"""A real HTTP receiver standing in for the case-management system (and IM robots, and a speaker).

It checks the signature of every request, can fail the first N requests or all of them, can hold a
request before answering (to kill the sender meanwhile), and keeps one notice per idempotency key, as a
receiver that honours the key would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, check_request


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool


@dataclass
class CaseSystem:
    secret: str = "receiver-secret-0123"
    fail_first: int = 0
    fail_status: int = 503
    fail_always: bool = False
    hold_first_s: float = 0.0
    answer: dict[str, Any] | None = None
    check_signature: bool = True
    requests: list[Request] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    successes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.held = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = owner.handle(self.path, dict(self.headers.items()), raw)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the sender is gone (killed while we held its request)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cases"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        signed = (
            check_request(
                self.secret,
                body=raw,
                signature=headers.get(SIGNATURE_HEADER),
                timestamp=headers.get(TIMESTAMP_HEADER),
                idempotency_key=headers.get(IDEMPOTENCY_HEADER),
                url=self.url,
            )
            is None
        )
        with self._lock:
            self.requests.append(Request(path, headers, raw, signed))
            first = len(self.requests) == 1
            failing = self.fail_always or len(self.requests) <= self.fail_first
        if first and self.hold_first_s:
            self.held.set()
            time.sleep(self.hold_first_s)
        if failing:
            return self.fail_status, {"error": "not now"}
        if self.check_signature and not signed:
            return 401, {"error": "bad signature"}
        key = headers.get(IDEMPOTENCY_HEADER) or f"request-{len(self.requests)}"
        with self._lock:
            self.successes[key] = self.successes.get(key, 0) + 1
            if key not in self.accepted:
                self.accepted[key] = json.loads(raw) if raw.startswith(b"{") else {"raw": raw}
                self.order.append(key)
        return 200, self.answer or {"case_number": f"CS-{key}"}

    def notices(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self.accepted[k] for k in self.order]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
