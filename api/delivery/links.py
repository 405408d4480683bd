"""Time-limited signed links to evidence, so that a case system or an IM group can open a snapshot
without holding an API key.

A link carries its expiry and an HMAC-SHA256 of ``sha256:expiry`` under the link key; it opens one file
until it expires and cannot be altered to open another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from api.core.settings import ApiSettings
from api.http.services import Slot


def link_key(settings: ApiSettings) -> bytes:
    """``SITEWATCH_LINK_KEY``, or a random key made once and kept in ``data_dir/link.key`` (mode 0600)."""
    if settings.link_key:
        return settings.link_key.encode()
    path = Path(settings.data_dir) / "link.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def signature(key: bytes, sha256: str, expires: int) -> str:
    """The hex HMAC-SHA256 of ``sha256:expires``."""
    return hmac.new(key, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()


def evidence_link(base_url: str, key: bytes, sha256: str, *, ttl_s: float, now: float | None = None) -> str:
    """A URL that opens the file ``sha256`` for ``ttl_s`` seconds.

    Example:
        >>> evidence_link("http://api", b"k", "ab" * 32, ttl_s=60, now=1000).split("?")[1][:13]
        'expires=1060&'
    """
    expires = int((now if now is not None else time.time()) + ttl_s)
    return (
        f"{base_url.rstrip('/')}/api/v1/evidence/{sha256}"
        f"?expires={expires}&sig={signature(key, sha256, expires)}"
    )


def valid(key: bytes, sha256: str, expires: int, sig: str, *, now: float | None = None) -> bool:
    """Whether a link's signature matches and it has not expired."""
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature(key, sha256, expires), sig)


#: The key that signs evidence links.
LINK_KEY: Slot[bytes] = Slot("the key of evidence links")
