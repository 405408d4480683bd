"""Camera sources: RTSP, video files and USB cameras, and how to read each (:class:`SourceParams`).

Camera URLs carry credentials, so this module also says what is wrong with one without quoting them
(:func:`url_problem`), hides them for logs and health (:func:`redact_url`) and encodes them for FFmpeg
(:func:`stream_url`). The thread that reads a source is :class:`streams.capture.CaptureThread`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

#: URL schemes read as network streams through FFmpeg.
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
#: Query parameters whose values are secrets (some cameras take their credentials there).
SECRET_PARAMS = ("password", "passwd", "pwd", "pass", "token", "key", "secret", "auth", "signature")
_USERINFO_SAFE = "!$&'()*+,;=%:"  # kept as they are in user names and passwords; "%" keeps encodings


def redact_url(url: str) -> str:
    """``url`` with its credentials (and secret query values) replaced by ``***``, for logs and health.

    Everything between the scheme and the *last* ``@`` is the user information, so that a password with
    an ``@``, ``/`` or ``#`` in it is hidden too, written raw or percent-encoded.

    Example:
        >>> redact_url("rtsp://admin:p@ss#1@10.0.0.5:554/live?token=abc&ch=1")
        'rtsp://***@10.0.0.5:554/live?token=***&ch=1'
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    if "?" in rest:
        head, _, query = rest.partition("?")
        query, hash_, fragment = query.partition("#")
        pairs = [
            (k, "***" if k.lower() in SECRET_PARAMS else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        rest = f"{head}?{urlencode(pairs, safe='*')}{hash_}{fragment}"
    return f"{scheme}://{rest}"


def url_problem(url: str) -> str | None:
    """Why a camera URL cannot work, in words that never quote its credentials; ``None`` when it can.

    Credentials must be percent-encoded where they hold a character that ends the address early: ``#``
    (``%23``), ``/`` (``%2F``) or ``?`` (``%3F``). A raw ``@`` is understood (the host follows the last
    one) and encoded before the stream is opened.
    """
    if "://" not in url:
        return None  # a video file path or a USB device index
    scheme = url.split("://", 1)[0].lower()
    if scheme not in STREAM_SCHEMES:
        return f"unsupported scheme {scheme!r} (rtsp, rtsps, http, https; or a file path)"
    parts = urlsplit(url)
    if "#" in url:
        return "'#' ends the address: percent-encode it as %23 in a user name or password"
    if "@" in parts.path or "@" in parts.query:
        return "'@' after the host: percent-encode a '/' (%2F) or '?' (%3F) in the user name or password"
    try:
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "the port is not a number"
    if not parts.hostname:
        return "no host in the address"
    return None


def stream_url(url: str) -> str:
    """The URL as FFmpeg gets it: the user information percent-encoded (a raw ``@`` in a password would
    otherwise be taken for the end of the credentials), existing ``%XX`` encodings kept."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    encoded = quote(user, safe=_USERINFO_SAFE.replace(":", "")) + colon + quote(password, safe=_USERINFO_SAFE)
    return f"{scheme}://{encoded}@{host}{slash}{path}"


@dataclass(frozen=True, slots=True)
class SourceParams:
    """How to read one camera.

    Attributes:
        url: ``rtsp://...``, a video file path, or a USB device index (``"0"``).
        loop: restart a video file at its end (demo and benchmarks); a camera never ends.
        realtime: pace a video file at its own frame rate, as a camera would deliver it.
        read_timeout_s: a stream with no frame for this long is treated as dropped.
        backoff_initial_s: first wait before reconnecting.
        backoff_max_s: cap of the exponential backoff.
        max_fps: frames per second worth converting to images (the detect rate); ``None``: all.
        hwaccel: decode on the box's video hardware when it has some (NVDEC, VAAPI, Quick Sync),
            else in software (:func:`streams.capture.hardware_decoders`).
    """

    url: str
    loop: bool = False
    realtime: bool = True
    read_timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 5.0
    max_fps: float | None = None
    hwaccel: bool = True

    @property
    def kind(self) -> str:
        """``rtsp``, ``usb`` or ``file``."""
        if self.url.lower().startswith(tuple(f"{scheme}://" for scheme in STREAM_SCHEMES)):
            return "rtsp"
        if self.url.isdigit():
            return "usb"
        return "file"
