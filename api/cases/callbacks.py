"""Signed callbacks from the case system: the same HMAC scheme as our webhooks, checked the other way.

A ``PATCH /api/v1/cases/{id}`` may carry ``X-Sitewatch-Timestamp``, ``Idempotency-Key`` and
``X-Sitewatch-Signature`` (:func:`alerts.signing.sign_request`, keyed by a webhook channel's secret, over
the URL the callback is sent to: the API's address as the request reached it, or ``public_url`` with the
request's path, ``https://api.example/api/v1/cases/12``). A signed callback with a bad signature or a
timestamp more than 5 minutes from now is refused (401); one whose
idempotency key this process has answered within :data:`KEEP_S` gets the first answer again and changes
nothing. Unsigned callbacks (the API key alone) are taken as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, status

from alerts.config import AlertsConfig
from alerts.signing import (
    IDEMPOTENCY_HEADER,
    MAX_AGE_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_request,
    shared_secrets,
)
from api.http.services import Slot, services_of

logger = logging.getLogger(__name__)

#: How long an answered idempotency key is remembered: a timestamp may be up to 5 minutes ahead of the
#: clock and is accepted until 5 minutes after it, so a key must be kept for twice that.
KEEP_S = 2 * MAX_AGE_S


def warn_shared_secrets(alerts: AlertsConfig | None) -> list[list[str]]:
    """Name, in a warning at start (never the secret), the channels that share a secret: a receiver that
    checks the URL in the signed text refuses what was sent to another, but one that does not would take
    it. Returns the groups named."""
    groups = shared_secrets({name: c.secret for name, c in alerts.channels.items()}) if alerts else []
    for group in groups:
        logger.warning(
            "channels %s share one secret: give each receiver its own (a receiver that does not check the "
            "URL in the signature would accept a request captured at another)",
            ", ".join(group),
        )
    return groups


def callback_secrets(alerts: AlertsConfig | None) -> tuple[str, ...]:
    """The secrets a callback may be signed with: those of the configured webhook channels (each once)."""
    if alerts is None:
        return ()
    return tuple(
        dict.fromkeys(c.secret for c in alerts.channels.values() if c.type == "webhook" and c.secret)
    )


async def signed_callback(request: Request) -> str | None:
    """A FastAPI dependency: the idempotency key of a signed callback whose signature and timestamp hold,
    or ``None`` for an unsigned one.

    Raises:
        HTTPException: 401 for a signature that does not hold, a stale timestamp or a missing header.
    """
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is None:
        return None
    secrets = services_of(request.app).get(CALLBACK_SECRETS)
    body = await request.body()  # already read (and kept) by FastAPI for the JSON body
    problem = "no webhook channel secret is configured to check signed callbacks"
    public_url: str = services_of(request.app).settings.public_url
    urls = dict.fromkeys((str(request.url), public_url.rstrip("/") + request.url.path))
    for secret, url in ((s, u) for s in secrets for u in urls):
        found = check_request(
            secret,
            body=body,
            signature=signature,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            url=url,
        )
        if found is None:
            key = request.headers.get(IDEMPOTENCY_HEADER)
            assert key is not None  # checked
            return key
        if found != "bad signature" or problem.startswith("no webhook"):
            problem = found  # a holding signature's reason (a stale timestamp) wins over another secret's
    logger.warning("signed callback refused: %s", problem)
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"signed callback refused: {problem}")


class CallbackReceipts:
    """The answers given to signed callbacks, by idempotency key, for ``keep_s`` seconds (per process).

    :meth:`answer` applies a callback once: a repeat, or one arriving while the first is applied, gets the
    first answer. Keys are not scoped by case: a key answered for one case answers the same for another,
    so a captured callback cannot be replayed against another case either.
    """

    def __init__(self, keep_s: float = KEEP_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep_s = keep_s
        self.clock = clock
        self._answers: dict[str, tuple[float, int, Any]] = {}
        self._turns: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _known(self, key: str) -> tuple[int, Any] | None:
        now = self.clock()
        for old in [k for k, (until, _, _) in self._answers.items() if until < now]:
            del self._answers[old]
        found = self._answers.get(key)
        return None if found is None else (found[1], found[2])

    def answer(self, key: str, apply: Callable[[], tuple[int, Any]]) -> tuple[int, Any, bool]:
        """``(status, body, repeated)``: ``apply()``'s answer, computed once per key within ``keep_s``."""
        with self._lock:
            if (known := self._known(key)) is not None:
                return (*known, True)
            turn = self._turns.setdefault(key, threading.Lock())
        with turn:
            with self._lock:
                if (known := self._known(key)) is not None:
                    return (*known, True)
            code, body = apply()
            with self._lock:
                self._answers[key] = (self.clock() + self.keep_s, code, body)
                self._turns.pop(key, None)
        return code, body, False


#: The secrets a signed callback may be signed with (the webhook channels').
CALLBACK_SECRETS: Slot[tuple[str, ...]] = Slot("the secrets of signed callbacks")
#: The answers given to signed callbacks, by idempotency key.
CALLBACK_RECEIPTS: Slot[CallbackReceipts] = Slot("the receipts of signed callbacks")
