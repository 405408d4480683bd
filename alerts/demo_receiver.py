"""A stand-in for the city's case-management system, for ``sitewatch run``: it checks each request's
signature over its timestamp, idempotency key, its own URL and body (a request signed for another receiver
that shares the secret is refused), refuses one older than 5 minutes, keeps one case
per idempotency key, answers with its own case number and prints what it got. Once :meth:`connected
<DemoCaseSystem.connect>` to the API with an integration key, it calls back as a real system would
(``PATCH /api/v1/cases/{id}``: each new case ``dispatched``), signing each callback with the same scheme.

It shows an integrator the whole contract working on one laptop; a real deployment points the webhook
channel at the real system instead.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from alerts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, check_request, sign_request

logger = logging.getLogger(__name__)


class DemoCaseSystem:
    """Serve on ``host:port`` (0: any free port) until :meth:`close`.

    Attributes:
        notices: the accepted bodies, in arrival order (one per idempotency key).
        rejected: requests refused for a bad signature or an old timestamp.
    """

    def __init__(self, secret: str, *, host: str = "127.0.0.1", port: int = 0, echo: bool = True) -> None:
        self.secret = secret
        self.echo = echo
        self.notices: list[dict[str, Any]] = []
        self.answers: dict[str, str] = {}
        self.rejected = 0
        self.callbacks: list[tuple[int, int]] = []  # (case id, the API's answer) of each callback made
        self.api_url: str | None = None
        self.api_key: str | None = None
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the dispatcher reuses its connections

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's algorithm holds the body
                # for the client's delayed ACK (~40 ms per request on keep-alive connections).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = owner.handle(
                    raw,
                    self.headers.get(SIGNATURE_HEADER),
                    self.headers.get(IDEMPOTENCY_HEADER),
                    self.headers.get(TIMESTAMP_HEADER),
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/cases"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="demo-case-system", daemon=True
        )
        self._thread.start()

    def handle(
        self, raw: bytes, signature: str | None, key: str | None, timestamp: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Check (:func:`alerts.signing.check_request`), deduplicate, number and keep one request."""
        problem = check_request(
            self.secret, body=raw, signature=signature, timestamp=timestamp, idempotency_key=key, url=self.url
        )
        if problem is not None or not key:
            with self._lock:
                self.rejected += 1
            return 401, {"error": problem or "no Idempotency-Key"}
        with self._lock:
            if key in self.answers:  # a retry: the same answer, nothing new
                return 200, {"case_number": self.answers[key]}
            body = json.loads(raw)
            number = f"DEMO-{len(self.answers) + 1:06d}"
            self.answers[key] = number
            self.notices.append(body)
        if self.echo:
            print(_describe(body, number), flush=True)  # noqa: T201 - the demo's console output
        if self.api_url and body.get("type") == "case.created":  # after this answer, as a real one would
            change = {"status": "dispatched", "external_id": number, "note": "demo case system"}
            threading.Thread(
                target=self.callback, args=(body["case"]["id"], change), name="demo-callback", daemon=True
            ).start()
        return 200, {"case_number": number}

    def connect(self, api_url: str, api_key: str) -> None:
        """Call back into the API at ``api_url`` with an ``integration`` key from now on."""
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key

    def signed_patch(
        self, case_id: int, change: dict[str, Any], *, idempotency_key: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a signed ``PATCH /api/v1/cases/{id}``: ``X-Sitewatch-Timestamp`` (now),
        ``Idempotency-Key`` (a fresh one unless given) and ``X-Sitewatch-Signature`` over both and the
        body and the URL it goes to, keyed by this system's webhook secret
        (:func:`alerts.signing.sign_request`)."""
        if self.api_url is None:
            raise RuntimeError("the demo case system is not connected to the API (connect)")
        raw = json.dumps(change).encode()
        key = idempotency_key or uuid.uuid4().hex
        timestamp = str(int(time.time()))
        url = self.case_url(case_id)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            IDEMPOTENCY_HEADER: key,
            SIGNATURE_HEADER: sign_request(
                self.secret, timestamp=timestamp, idempotency_key=key, url=url, body=raw
            ),
        }
        return raw, headers

    def case_url(self, case_id: int) -> str:
        """The address of a callback for ``case_id``."""
        return f"{self.api_url}/api/v1/cases/{case_id}"

    def callback(self, case_id: int, change: dict[str, Any]) -> int:
        """Send one signed callback (retried under the same idempotency key on a network error, which the
        API answers once); the API's status, 0 if it could not be reached."""
        if self.api_url is None:
            raise RuntimeError("the demo case system is not connected to the API (connect)")
        raw, headers = self.signed_patch(case_id, change)
        code = 0
        for attempt in range(3):
            try:
                code = httpx.patch(
                    self.case_url(case_id), content=raw, headers=headers, timeout=10
                ).status_code
                break
            except httpx.HTTPError as exc:
                logger.warning("demo callback for case %d failed (%s), attempt %d", case_id, exc, attempt + 1)
                time.sleep(0.5)
        with self._lock:
            self.callbacks.append((case_id, code))
        if code != 200:
            logger.warning("demo callback for case %d answered %d", case_id, code)
        return code

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _describe(body: dict[str, Any], number: str) -> str:
    if "case" in body:
        case = body["case"]
        change = body.get("change") or {}
        to = f" -> {change['to_status']}" if change else ""
        return (
            f"case system   {body['type']:<14}  case {case['id']} {case['kind']} at "
            f"{case['camera_id']}{to}  (evidence: {len(body['events'])} events)  [{number}]"
        )
    event = body["event"]
    return (
        f"case system   {body['type']:<14}  event {event['id'][:8]} {event['kind']} at {event['camera_id']}"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m alerts.demo_receiver --port 8001``: serve until interrupted (secret from
    ``SITEWATCH_DEMO_WEBHOOK_SECRET``)."""
    import argparse
    import os
    import signal

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--quiet", action="store_true", help="do not print each notice")
    args = parser.parse_args(argv)
    secret = os.environ.get("SITEWATCH_DEMO_WEBHOOK_SECRET", "demo-webhook-secret")
    receiver = DemoCaseSystem(secret, host=args.host, port=args.port, echo=not args.quiet)
    print(f"demo case system on {receiver.url}", flush=True)  # noqa: T201 - a command's output
    stopping: list[int] = []  # a handler that only appends cannot deadlock on a lock the main thread holds
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    while not stopping:
        time.sleep(0.2)
    receiver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
