"""Signatures of outgoing requests: ours (webhooks) and the IM platforms' robot signing schemes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Sitewatch-Signature"
TIMESTAMP_HEADER = "X-Sitewatch-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


#: How old (or how far ahead) a webhook's timestamp may be for a receiver to accept it.
MAX_AGE_S = 300


def _signed_text(timestamp: str, idempotency_key: str, url: str, body: bytes) -> bytes:
    return f"{timestamp}.{idempotency_key}.{url}.".encode() + body


def sign_request(secret: str, *, timestamp: str, idempotency_key: str, url: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<idempotency key>.<url>." + raw body>``, the value of
    ``X-Sitewatch-Signature``: the timestamp, the key and the receiver's URL (the address the request is
    sent to, exactly as the sender has it) are signed with the body, so that a captured request cannot be
    sent again under a new key or a fresh time, nor to another receiver that shares the secret.

    Example:
        >>> sign_request("s3cret", timestamp="1767225600", idempotency_key="k1", url="https://cs/cases",
        ...              body=b'{"a":1}')[:15]
        'sha256=ae299d74'
    """
    text = _signed_text(timestamp, idempotency_key, url, body)
    return "sha256=" + hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def check_request(
    secret: str,
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    idempotency_key: str | None,
    url: str,
    now: float | None = None,
    max_age_s: float = MAX_AGE_S,
) -> str | None:
    """What a receiver at ``url`` (its own address, as its senders have it) checks: ``None`` when the
    request is ours, meant for it and fresh, else why it is not.

    The signature must cover this timestamp, key, URL and body (compared in constant time), and the
    timestamp must lie within ``max_age_s`` of ``now``. A receiver also keeps the keys it accepted for
    longer than ``max_age_s`` and answers a repeated key with its first answer: together, no request counts
    twice, nor at a second receiver.
    """
    if not signature or not timestamp or not idempotency_key:
        return "the signature, timestamp or idempotency key is missing"
    expected = sign_request(secret, timestamp=timestamp, idempotency_key=idempotency_key, url=url, body=body)
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "the timestamp is not a number"
    if abs((time.time() if now is None else now) - sent) > max_age_s:
        return f"the timestamp is more than {max_age_s:.0f} s away from now"
    return None


def shared_secrets(secrets: dict[str, str | None]) -> list[list[str]]:
    """The groups of channel names (of ``name -> secret``) that share one secret, for a warning at start:
    the URL in the signed text keeps their requests apart, as long as each receiver checks its own.

    Example:
        >>> shared_secrets({"a": "s1", "b": "s2", "c": "s1", "d": None})
        [['a', 'c']]
    """
    names: dict[str, list[str]] = {}
    for name, secret in secrets.items():
        if secret:
            names.setdefault(secret, []).append(name)
    return [sorted(group) for group in names.values() if len(group) > 1]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robots: base64 HMAC-SHA256 of ``"<ms>\\n<secret>"`` keyed by the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu robots: base64 HMAC-SHA256 of an empty message keyed by ``"<s>\\n<secret>"``."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
