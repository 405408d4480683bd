"""Alibaba Cloud (阿里云) text messages and voice calls to a project's safety contact: Short Message Service
``SendSms`` (dysmsapi) and Voice Service ``SingleCallByTts`` (dyvmsapi), both API version 2017-05-25.

Both are RPC-style APIs signed as the provider documents (SignatureMethod ``HMAC-SHA1``, SignatureVersion
``1.0``): every parameter but ``Signature`` is percent-encoded per RFC 3986 (UTF-8; only ``A-Z a-z 0-9 - _ .
~`` stay as they are, so a space is ``%20``, ``*`` is ``%2A`` and ``~`` is kept), the pairs are sorted by name
and joined with ``&``; the string to sign is ``METHOD&%2F&`` followed by that query percent-encoded once
more, and ``Signature`` is the base64 HMAC-SHA1 of it keyed by the AccessKey secret followed by ``&``.

The stored body (rendered when the notification is routed) holds the contact's phone number only as the
project's Fernet token; the channel reads it back through ``reveal`` just before sending, so the outbox and
``GET /api/v1/deliveries`` never show it in clear. Nothing here logs the keys or the number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from alerts.channels import Outcome
from alerts.config import ChannelConfig
from alerts.contract import BriefNotice, CaseNotice, EventNotice
from detector.kinds import name as kind_name

API_VERSION = "2017-05-25"
ENDPOINTS = {"aliyun_sms": "https://dysmsapi.aliyuncs.com/", "aliyun_voice": "https://dyvmsapi.aliyuncs.com/"}
ACTIONS = {"aliyun_sms": "SendSms", "aliyun_voice": "SingleCallByTts"}
#: Answers worth another attempt later: flow control (the provider's own per-number limits) and outages.
RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "ServiceUnavailable",
        "InternalError",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
    }
)
#: Template variables longer than this are cut (the provider refuses longer variable values).
MAX_VARIABLE = 35


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 text, as Alibaba Cloud's signature requires.

    Example:
        >>> percent_encode("a b*~/阿")
        'a%20b%2A~%2F%E9%98%BF'
    """
    return quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&<the sorted, encoded query, encoded again>``; ``Signature`` itself is left out."""
    query = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The ``Signature`` of a request: base64 HMAC-SHA1 of :func:`string_to_sign`, keyed by ``secret + "&"``.

    Example (the provider's documented vector):
        >>> signature("testsecret", "GET", {"AccessKeyId": "testid", "Action": "DescribeRegions",
        ...     "Format": "XML", "SignatureMethod": "HMAC-SHA1", "SignatureNonce":
        ...     "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
        ...     "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"})
        'OLeaidS1JvxuMvnyHOwuJ+uX5qY='
    """
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_params(
    action: str,
    params: Mapping[str, str],
    *,
    access_key_id: str,
    secret: str,
    region_id: str,
    method: str = "POST",
    nonce: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """``params`` with the common parameters of an RPC call and its ``Signature``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    full = {
        "AccessKeyId": access_key_id,
        "Action": action,
        "Format": "JSON",
        "RegionId": region_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": API_VERSION,
        **params,
    }
    full["Signature"] = signature(secret, method, full)
    return full


def masked(phone: str) -> str:
    """A phone number as people other than its owner's supervisors see it.

    Example:
        >>> masked("13812345678")
        '138****5678'
    """
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


@dataclass(frozen=True, slots=True)
class Contact:
    """Whom a case's project names as responsible for safety.

    Attributes:
        project: the project's name.
        name: the contact's name.
        phone_token: the phone number as stored (a Fernet token), ``None`` when there is none.
        masked: the number masked (``138****5678``), for the case history.
    """

    project: str
    name: str
    phone_token: str | None
    masked: str


class AliyunChannel:
    """A text message (``aliyun_sms``) or a voice call (``aliyun_voice``) to a case's safety contact.

    Args:
        name: the channel's name.
        config: its configuration (keys, template, endpoint).
        zone: the time zone of the deadline in the message.
        reveal: reads a stored phone token back into the number.
    """

    def __init__(
        self, name: str, config: ChannelConfig, zone: ZoneInfo, reveal: Callable[[str], str] | None = None
    ) -> None:
        self.name = name
        self.config = config
        self.zone = zone
        self.reveal = reveal
        self.action = ACTIONS[config.type]
        self.endpoint = config.url or ENDPOINTS[config.type]

    def render(self, notice: CaseNotice | EventNotice | BriefNotice) -> dict[str, Any]:
        """The body when the case's contact is unknown: it fails for good when sent, saying why."""
        return self.render_for(notice, None)

    def render_for(
        self, notice: CaseNotice | EventNotice | BriefNotice, contact: Contact | None
    ) -> dict[str, Any]:
        """What to send and to whom: the template's variables and the contact's stored phone token."""
        if not isinstance(notice, CaseNotice):
            raise ValueError("phone channels take case notices only")  # refused by the configuration already
        case = notice.case
        deadline = case.deadline_at.astimezone(self.zone).strftime("%m-%d %H:%M")
        return {
            "topic": notice.type,
            "case_id": case.id,
            "site_id": case.site_id,
            "to": contact.phone_token if contact else None,
            "masked": contact.masked if contact else "",
            "params": {
                "project": (contact.project if contact and contact.project else case.site_id)[:MAX_VARIABLE],
                "kind": kind_name(case.kind, self.config.language)[:MAX_VARIABLE],
                "case": str(case.id),
                "deadline": deadline,
            },
        }

    def request_params(self, phone: str, body: dict[str, Any], *, idempotency_key: str) -> dict[str, str]:
        """The action's own parameters (before the common ones and the signature)."""
        variables = json.dumps(body["params"], ensure_ascii=False, separators=(",", ":"))
        assert self.config.template_code is not None
        # OutId comes back in the provider's reports; the idempotency key names the delivery.
        if self.config.type == "aliyun_sms":
            assert self.config.sign_name is not None
            return {
                "PhoneNumbers": phone,
                "SignName": self.config.sign_name,
                "TemplateCode": self.config.template_code,
                "TemplateParam": variables,
                "OutId": idempotency_key,
            }
        params = {
            "CalledNumber": phone,
            "TtsCode": self.config.template_code,
            "TtsParam": variables,
            "OutId": idempotency_key,
        }
        if self.config.called_show_number:
            params["CalledShowNumber"] = self.config.called_show_number
        return params

    def send(self, client: httpx.Client, body: dict[str, Any], *, idempotency_key: str) -> Outcome:
        """POST the signed request (a form body, so that the number stays out of URLs and their logs);
        the answer's ``Code`` decides: ``OK``, worth a retry (flow control, outages), or refused for good."""
        if not body.get("to"):
            return Outcome(
                False, permanent=True, detail=f"no safety contact phone for site {body['site_id']}"
            )
        if self.reveal is None:
            return Outcome(False, detail="no key to read the contact's phone number")
        try:
            phone = self.reveal(str(body["to"]))
        except Exception as exc:  # the key is missing or wrong: an operator can fix it, then replay
            return Outcome(False, detail=f"cannot read the contact's phone number: {type(exc).__name__}")
        assert self.config.access_key_id is not None and self.config.secret is not None
        params = signed_params(
            self.action,
            self.request_params(phone, body, idempotency_key=idempotency_key),
            access_key_id=self.config.access_key_id,
            secret=self.config.secret,
            region_id=self.config.region_id,
        )
        form = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
        response = client.post(
            self.endpoint,
            content=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.config.timeout_s,
        )
        return outcome_of(response)


def call_id_of(detail: str | None) -> str | None:
    """The provider's ``CallId`` of a delivered voice call, read back from the detail :func:`outcome_of` gave
    it (what the delivery row keeps as the provider's answer); ``None`` when none was given.

    Example:
        >>> call_id_of("OK 116012354148^10281378"), call_id_of(None), call_id_of("OK")
        ('116012354148^10281378', None, None)
    """
    if not detail or not detail.startswith("OK "):
        return None
    return detail.removeprefix("OK ").strip() or None


def outcome_of(response: httpx.Response) -> Outcome:
    """What the provider's answer means: ``{"Code": "OK", "BizId" | "CallId": ...}`` is delivered."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        retry = response.status_code >= 500 or response.status_code == 429
        return Outcome(False, permanent=not retry, detail=f"HTTP {response.status_code}: not JSON")
    code = str(answer.get("Code", ""))
    if code == "OK":
        ident = answer.get("CallId") or answer.get("BizId") or ""
        return Outcome(True, detail=f"OK {ident}".strip()[:200])
    retry = code in RETRY_CODES or code.startswith("Throttling") or response.status_code >= 500
    message = str(answer.get("Message", ""))[:150]
    return Outcome(False, permanent=not retry, detail=f"{code or f'HTTP {response.status_code}'}: {message}")
