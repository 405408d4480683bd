"""Signatures of outgoing requests: ours (webhooks) and the IM platforms' robot signing schemes."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Sitewatch-Signature"
TIMESTAMP_HEADER = "X-Sitewatch-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign_body(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body>``, the value of ``X-Sitewatch-Signature``.

    Example:
        >>> sign_body("s3cret", b'{"a":1}')[:15]
        'sha256=5910e620'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_body(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (what a receiver checks), in constant time."""
    return header is not None and hmac.compare_digest(sign_body(secret, body), header)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robots: base64 HMAC-SHA256 of ``"<ms>\\n<secret>"`` keyed by the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu robots: base64 HMAC-SHA256 of an empty message keyed by ``"<s>\\n<secret>"``."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
