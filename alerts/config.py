"""The ``alerts`` section of a configuration: channels, and routes from notifications to channels."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ChannelType = Literal["webhook", "wecom", "dingtalk", "feishu", "speaker", "aliyun_sms", "aliyun_voice"]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
TopicName = Literal[
    "case.created", "case.updated", "case.due_soon", "event.started", "event.ended", "event.confirmed"
]
#: The channels that call or text a project's safety contact through Alibaba Cloud.
ALIYUN_TYPES = ("aliyun_sms", "aliyun_voice")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelConfig(_Strict):
    """One receiver of notifications."""

    type: ChannelType = Field(
        description="webhook: the case-management contract, signed; wecom/dingtalk/feishu: an IM group "
        "robot; speaker: an on-site warning (an IP speaker's HTTP endpoint, or a command); aliyun_sms / "
        "aliyun_voice: a text message or a voice call to the project's safety contact (Alibaba Cloud)."
    )
    url: str | None = Field(
        default=None,
        description="Where to POST (webhook, robots, speaker over HTTP); aliyun_*: the API endpoint "
        "(https://dysmsapi.aliyuncs.com/ or https://dyvmsapi.aliyuncs.com/ by default).",
    )
    secret: str | None = Field(
        default=None,
        repr=False,
        description="HMAC secret (webhook signature; DingTalk and Feishu robot signing; aliyun_*: the "
        "AccessKey secret). Write it as ${VARIABLE}: secrets come from the environment.",
    )
    access_key_id: str | None = Field(
        default=None, repr=False, description="aliyun_*: the AccessKey id; write it as ${VARIABLE}."
    )
    template_code: str | None = Field(
        default=None,
        max_length=64,
        description="aliyun_sms: the approved TemplateCode (SMS_...); aliyun_voice: the TtsCode (TTS_...). "
        "The template's variables: ${project}, ${kind}, ${case}, ${deadline}.",
    )
    sign_name: str | None = Field(
        default=None, max_length=64, description="aliyun_sms: the approved SignName."
    )
    called_show_number: str | None = Field(
        default=None,
        max_length=32,
        description="aliyun_voice: the number shown to the called person (a bought number); none in the "
        "provider's public mode.",
    )
    region_id: str = Field(default="cn-hangzhou", max_length=32, description="aliyun_*: RegionId.")
    per_number_per_hour: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="aliyun_*: messages or calls to one phone number per hour at most; more wait.",
    )
    command: list[str] | None = Field(
        default=None,
        description="speaker: run this command instead of an HTTP call; {audio}, {text}, {kind}, {camera} "
        "in its arguments are replaced.",
    )
    language: Literal["zh", "en"] = Field(default="zh", description="Language of messages and voice prompts.")
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="Per request.")
    concurrency: int = Field(
        default=4, ge=1, le=64, description="Requests in flight to this channel at most."
    )
    max_attempts: int = Field(default=8, ge=1, le=100, description="Then the delivery is dead-lettered.")
    backoff_s: float = Field(
        default=2.0, gt=0, le=3600, description="First retry delay; doubles, with jitter."
    )
    backoff_max_s: float = Field(default=600.0, gt=0, le=86400, description="Cap of the retry delay.")
    rate_per_minute: int | None = Field(
        default=None, ge=1, le=6000, description="Messages per minute at most (robots: 20 by default)."
    )
    max_age_s: float | None = Field(
        default=None, gt=0, description="Drop a delivery older than this (speakers: 120 s by default)."
    )
    link_ttl_s: float = Field(
        default=7 * 86400, gt=0, le=90 * 86400, description="Lifetime of evidence links in messages."
    )

    @model_validator(mode="after")
    def _target(self) -> ChannelConfig:
        if self.type == "speaker":
            if (self.url is None) == (self.command is None):
                raise ValueError("a speaker channel needs exactly one of url and command")
        elif self.type in ALIYUN_TYPES:
            if not self.access_key_id or not self.secret or not self.template_code:
                raise ValueError(
                    f"a {self.type} channel needs access_key_id, secret and template_code "
                    "(write the keys as ${VARIABLE})"
                )
            if self.type == "aliyun_sms" and not self.sign_name:
                raise ValueError("an aliyun_sms channel needs a sign_name")
        elif self.url is None:
            raise ValueError(f"a {self.type} channel needs a url")
        if self.type == "webhook" and not self.secret:
            raise ValueError("a webhook channel needs a secret (write it as ${VARIABLE})")
        return self

    @property
    def per_minute(self) -> int | None:
        """The rate limit, with the robots' documented default."""
        if self.rate_per_minute is not None:
            return self.rate_per_minute
        return 20 if self.type in ("wecom", "dingtalk", "feishu") else None

    @property
    def expires_after_s(self) -> float | None:
        """How old a delivery may get; a late voice warning is worse than none."""
        if self.max_age_s is not None:
            return self.max_age_s
        return 120.0 if self.type == "speaker" else None


class QuietHours(_Strict):
    """A daily span (local time) during which a route holds its messages until the span ends."""

    start: time = Field(description="HH:MM")
    end: time = Field(description="HH:MM; before start means the span crosses midnight.")

    def contains(self, moment: time) -> bool:
        """Whether ``moment`` falls inside the span."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class RouteConfig(_Strict):
    """Which notifications go to which channels."""

    channels: list[Name] = Field(min_length=1, description="Channel names.")
    topics: list[TopicName] = Field(
        default_factory=lambda: ["case.created", "case.updated"],  # type: ignore[arg-type]
        description="case.created, case.updated, case.due_soon (a case's deadline is near, once per case), "
        "event.started (at once), event.confirmed (after a supervisor's confirmation), event.ended.",
    )
    sites: list[str] = Field(default_factory=lambda: ["*"], description="Site ids, or * for all.")
    kinds: list[str] = Field(default_factory=lambda: ["*"], description="Event kinds, or * for all.")
    quiet_hours: QuietHours | None = Field(default=None, description="Hold messages during these hours.")

    def matches(self, *, topic: str, site_id: str, kind: str) -> bool:
        """Whether a notification of ``topic`` about ``site_id`` and ``kind`` takes this route."""
        return (
            topic in self.topics
            and ("*" in self.sites or site_id in self.sites)
            and ("*" in self.kinds or kind in self.kinds)
        )


class BriefSchedule(_Strict):
    """A brief generated on a schedule and sent through channels."""

    every: Literal["week", "month"] = Field(
        description="week: each Monday for the week before; month: each 1st."
    )
    at: time = Field(default=time(8, 0), description="Local time (HH:MM) to send, in the alerts time zone.")
    site: str = Field(default="*", description="A site id, or * for the whole district.")
    lang: Literal["zh", "en"] = Field(default="zh", description="Language of the brief.")
    channels: list[Name] = Field(min_length=1, description="Channels that get the brief's links.")


class DemoReceiverConfig(_Strict):
    """A stand-in case-management system that ``sitewatch run`` starts on loopback (demos only)."""

    port: int = Field(default=8001, ge=0, le=65535, description="Loopback port (0: any free one).")
    secret: str = Field(min_length=8, description="The webhook secret it checks; write it as ${VARIABLE}.")


class AlertsConfig(_Strict):
    """Where notifications go."""

    demo_receiver: DemoReceiverConfig | None = Field(
        default=None, description="Start a demo case-management receiver with `sitewatch run`."
    )
    channels: dict[Name, ChannelConfig] = Field(default_factory=dict, description="Receivers by name.")
    routes: list[RouteConfig] = Field(default_factory=list, description="Notifications to channels.")
    briefs: list[BriefSchedule] = Field(default_factory=list, description="Briefs sent on a schedule.")
    poll_s: float = Field(default=0.2, gt=0, le=60, description="How often the dispatcher looks for work.")
    timezone: str = Field(default="Asia/Shanghai", description="Time zone of quiet hours and messages.")
    due_soon_hours: float = Field(
        default=4.0,
        gt=0,
        le=24 * 30,
        description="case.due_soon is raised once per open case this long before its deadline (when a "
        "route takes that topic).",
    )

    @model_validator(mode="after")
    def _known_channels(self) -> AlertsConfig:
        for i, route in enumerate(self.routes):
            unknown = [c for c in route.channels if c not in self.channels]
            if unknown:
                raise ValueError(f"routes[{i}] names unknown channels: {', '.join(unknown)}")
        for i, brief in enumerate(self.briefs):
            unknown = [c for c in brief.channels if c not in self.channels]
            if unknown:
                raise ValueError(f"briefs[{i}] names unknown channels: {', '.join(unknown)}")
            speakers = [c for c in brief.channels if self.channels[c].type in ("speaker", *ALIYUN_TYPES)]
            if speakers:
                raise ValueError(
                    f"briefs[{i}]: a speaker or a phone cannot take a brief: {', '.join(speakers)}"
                )
        for i, route in enumerate(self.routes):
            phones = [c for c in route.channels if self.channels[c].type in ALIYUN_TYPES]
            if phones and any(not t.startswith("case.") for t in route.topics):
                raise ValueError(f"routes[{i}]: {', '.join(phones)} take case topics only")
        return self
