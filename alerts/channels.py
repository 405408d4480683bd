"""How each kind of receiver is spoken to: render a notice once (the stored body, identical on every
retry), then send it.

A channel's ``send`` reports one of three outcomes: delivered, worth retrying (network errors, 5xx, 429,
timeouts), or refused for good (other 4xx, a robot's error code): the dispatcher dead-letters the latter
at once, where an operator can replay it after fixing the cause.

The robots' messages are written by :mod:`alerts.markdown`.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from alerts import prompts
from alerts.config import ChannelConfig
from alerts.contract import BriefNotice, CaseNotice, EventNotice
from alerts.markdown import markdown
from alerts.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    dingtalk_sign,
    feishu_sign,
    sign_request,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to.

    Attributes:
        delivered: the receiver took it.
        permanent: it refused it for good (no retry).
        detail: the status or error, for the delivery row and the log.
        case_number: the case system's own number, when it answered with one.
    """

    delivered: bool
    permanent: bool = False
    detail: str = ""
    case_number: str | None = None


class Channel(Protocol):
    """One configured receiver."""

    name: str
    config: ChannelConfig

    def render(self, notice: CaseNotice | EventNotice | BriefNotice) -> dict[str, Any]:
        """The body to store and send (a JSON object)."""
        ...

    def send(self, client: httpx.Client, body: dict[str, Any], *, idempotency_key: str) -> Outcome:
        """One attempt to deliver ``body``."""
        ...


def _http_outcome(response: httpx.Response) -> Outcome:
    detail = f"HTTP {response.status_code}"
    if response.is_success or response.status_code == 409:
        return Outcome(True, detail=detail)
    retry = response.status_code >= 500 or response.status_code in (408, 425, 429)
    return Outcome(False, permanent=not retry, detail=f"{detail}: {response.text[:200]}")


class WebhookChannel:
    """The case-management contract of :mod:`alerts.contract`, signed with the channel's secret."""

    def __init__(self, name: str, config: ChannelConfig) -> None:
        self.name = name
        self.config = config

    def render(self, notice: CaseNotice | EventNotice | BriefNotice) -> dict[str, Any]:
        """The notice as JSON."""
        body: dict[str, Any] = notice.model_dump(mode="json")
        return body

    def send(self, client: httpx.Client, body: dict[str, Any], *, idempotency_key: str) -> Outcome:
        """POST the raw JSON with its timestamp and idempotency key, and their signature with the body and
        the channel's URL (the receiver's own address: another receiver sharing the secret refuses it)."""
        assert self.config.url is not None and self.config.secret is not None
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        signature = sign_request(
            self.config.secret,
            timestamp=timestamp,
            idempotency_key=idempotency_key,
            url=self.config.url,
            body=raw,
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            TIMESTAMP_HEADER: timestamp,
            IDEMPOTENCY_HEADER: idempotency_key,
        }
        response = client.post(self.config.url, content=raw, headers=headers, timeout=self.config.timeout_s)
        outcome = _http_outcome(response)
        if outcome.delivered:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            number = answer.get("case_number") if isinstance(answer, dict) else None
            if isinstance(number, str | int) and str(number).strip():
                return Outcome(True, detail=outcome.detail, case_number=str(number)[:100])
        return outcome


class RobotChannel:
    """An IM group robot webhook: WeCom, DingTalk or Feishu, each in its own message format and signing."""

    def __init__(self, name: str, config: ChannelConfig, zone: ZoneInfo) -> None:
        self.name = name
        self.config = config
        self.zone = zone

    def render(self, notice: CaseNotice | EventNotice | BriefNotice) -> dict[str, Any]:
        """The platform's markdown message."""
        title, text = markdown(notice, self.config.language, self.zone)
        if self.config.type == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": text}}
        if self.config.type == "dingtalk":
            return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        return {  # feishu: an interactive card with a markdown element
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "markdown", "content": text}],
            },
        }

    def send(self, client: httpx.Client, body: dict[str, Any], *, idempotency_key: str) -> Outcome:
        """POST the message, signed the platform's way when a secret is set; the answer's code decides."""
        assert self.config.url is not None
        url, payload = self.config.url, dict(body)
        if self.config.secret and self.config.type == "dingtalk":
            ms = int(time.time() * 1000)
            url = str(
                httpx.URL(url).copy_merge_params(
                    {"timestamp": ms, "sign": dingtalk_sign(self.config.secret, ms)}
                )
            )
        elif self.config.secret and self.config.type == "feishu":
            seconds = int(time.time())
            payload |= {"timestamp": str(seconds), "sign": feishu_sign(self.config.secret, seconds)}
        response = client.post(url, json=payload, timeout=self.config.timeout_s)
        outcome = _http_outcome(response)
        if not outcome.delivered:
            return outcome
        try:
            answer = response.json()
        except ValueError:
            return Outcome(False, detail=f"{outcome.detail}: not JSON")
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if code in (0, None):
            return outcome
        # The platforms' rate-limit codes are worth a retry; others (bad key, bad format) are not.
        retry = code in (45009, 130101, 11232, 9499)
        return Outcome(False, permanent=not retry, detail=f"robot error {code}: {str(answer)[:200]}")


class SpeakerChannel:
    """An on-site warning: the kind's voice prompt sent to an IP speaker's HTTP endpoint (multipart: the
    WAV file and its text) or played by a configured command."""

    def __init__(self, name: str, config: ChannelConfig) -> None:
        self.name = name
        self.config = config

    def render(self, notice: CaseNotice | EventNotice | BriefNotice) -> dict[str, Any]:
        """Which prompt to play, and where."""
        if isinstance(notice, BriefNotice):
            raise ValueError("a speaker does not read briefs")  # refused by the configuration already
        if isinstance(notice, CaseNotice):
            kind, camera = notice.case.kind, notice.case.camera_id
        else:
            kind, camera = notice.event.kind, notice.event.camera_id
        language = self.config.language
        return {
            "kind": kind,
            "camera": camera or "",
            "text": prompts.text(kind, language),
            "prompt": f"{language}/{prompts.audio(kind, language).name}",
        }

    def send(self, client: httpx.Client, body: dict[str, Any], *, idempotency_key: str) -> Outcome:
        """Play the prompt."""
        audio = prompts.FOLDER / body["prompt"]
        if self.config.command is not None:
            values = {
                "audio": str(audio),
                "text": body["text"],
                "kind": body["kind"],
                "camera": body["camera"],
            }
            argv = [part.format(**values) for part in self.config.command]
            try:
                done = subprocess.run(argv, capture_output=True, timeout=self.config.timeout_s, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return Outcome(False, detail=f"command failed: {exc}")
            if done.returncode != 0:
                return Outcome(False, detail=f"command exited {done.returncode}: {done.stderr[:200]!r}")
            return Outcome(True, detail="played")
        assert self.config.url is not None
        response = client.post(
            self.config.url,
            data={"text": body["text"], "kind": body["kind"], "camera": body["camera"]},
            files={"audio": (audio.name, audio.read_bytes(), "audio/wav")},
            headers={IDEMPOTENCY_HEADER: idempotency_key},
            timeout=self.config.timeout_s,
        )
        return _http_outcome(response)
