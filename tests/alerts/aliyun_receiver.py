"""A real HTTP server standing in for Alibaba Cloud's SMS and voice APIs.

It checks each request's RPC signature with its own implementation of the documented algorithm (not the
one under test): percent-encoding byte by byte, the sorted canonical query, ``METHOD&%2F&...``, HMAC-SHA1
keyed by the secret and ``&``. A request with a wrong signature, an unknown key id, a stale timestamp or a
repeated nonce is refused as the provider refuses it (HTTP 400 with a ``Code``). The others get
``{"Code": "OK", ...}``, or the configured error code for the first ``fail_first`` (or all) of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def encode(text: str) -> str:
    """RFC 3986, as the provider documents it: unreserved bytes kept, every other byte as %XY."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def expected_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params) if k != "Signature")
    to_sign = method + "&" + encode("/") + "&" + encode(canonical)
    return base64.b64encode(
        hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class Call:
    method: str
    params: dict[str, str]
    signed: bool
    reason: str


@dataclass
class AliyunProvider:
    access_key_id: str
    secret: str
    fail_first: int = 0
    fail_always: bool = False
    fail_code: str = "isv.BUSINESS_LIMIT_CONTROL"
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._nonces: set[str] = set()
        self._served = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                status, answer = owner.handle("POST", dict(parse_qsl(raw, keep_blank_values=True)))
                self._answer(status, answer)

            def do_GET(self) -> None:
                query = self.path.partition("?")[2]
                status, answer = owner.handle("GET", dict(parse_qsl(query, keep_blank_values=True)))
                self._answer(status, answer)

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, method: str, params: dict[str, str]) -> str:
        """Why the provider would refuse the request ("" when it would not)."""
        if params.get("AccessKeyId") != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            return "InvalidSignatureMethod"
        if not hmac.compare_digest(
            expected_signature(self.secret, method, params), params.get("Signature", "")
        ):
            return "SignatureDoesNotMatch"
        try:
            sent = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "InvalidTimeStamp.Format"
        if abs((datetime.now(UTC) - sent).total_seconds()) > 900:
            return "InvalidTimeStamp.Expired"
        nonce = params.get("SignatureNonce", "")
        if not nonce or nonce in self._nonces:
            return "SignatureNonceUsed"
        self._nonces.add(nonce)
        return ""

    def handle(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            reason = self.check(method, params)
            self.calls.append(Call(method, params, not reason, reason))
            if reason:
                return 400, {"Code": reason, "Message": "refused", "RequestId": "r-refused"}
            self._served += 1
            if self.fail_always or self._served <= self.fail_first:
                return 200, {
                    "Code": self.fail_code,
                    "Message": "触发小时级流控Permits:5",
                    "RequestId": "r-fail",
                }
            if params.get("Action") == "SingleCallByTts":
                return 200, {
                    "Code": "OK",
                    "Message": "OK",
                    "RequestId": "r-ok",
                    "CallId": f"1160^{self._served}",
                }
            return 200, {"Code": "OK", "Message": "OK", "RequestId": "r-ok", "BizId": f"biz-{self._served}"}

    def accepted(self) -> list[dict[str, str]]:
        with self._lock:
            return [c.params for c in self.calls if c.signed]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
