"""Making the channel object of a configured channel, whatever its type."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from alerts.aliyun import AliyunChannel
from alerts.channels import Channel, RobotChannel, SpeakerChannel, WebhookChannel
from alerts.config import ChannelConfig


def make_channel(
    name: str, config: ChannelConfig, zone: ZoneInfo, *, reveal: Callable[[str], str] | None = None
) -> Channel:
    """The channel object for a configured channel; ``reveal`` reads a stored phone token back (phone
    channels)."""
    if config.type in ("aliyun_sms", "aliyun_voice"):
        return AliyunChannel(name, config, zone, reveal)
    if config.type == "webhook":
        return WebhookChannel(name, config)
    if config.type == "speaker":
        return SpeakerChannel(name, config)
    return RobotChannel(name, config, zone)
