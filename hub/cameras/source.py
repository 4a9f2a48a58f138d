"""The seam between camera workers and the adapters that read cameras.

A `gridhub.sources` entry point, keyed by URL scheme (file, rtsp, http, https,
onvif), names a `SourceFactory`: called with a URL and `SourceOptions`, it
returns a `FrameSource`. The worker opens it, reads `Capture`s until it fails,
closes it and opens it again after a backoff.

A `Capture` keeps the decoded picture in the decoder's own format and converts
it to BGR only when asked (`to_bgr`), so frames that are neither analysed nor
kept as evidence cost no colour conversion. Everything a source says about
itself (`describe`, error messages) goes through `redact_url`: credentials in
camera URLs are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from hub.clock import Clock, SystemClock
from hub.errors import PluginError, SourceOpenError
from hub.plugins import Registry

Image = npt.NDArray[np.uint8]
# Query parameters that carry secrets in snapshot URLs of common camera brands.
SECRET_PARAMS = re.compile(r"pass|pwd|token|key|secret|auth|sig", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What an opened source reports about its stream (for `camera probe`)."""

    kind: str
    codec: str
    width: int
    height: int
    fps: float | None  # nominal frame rate, when the stream declares one


@dataclass(frozen=True, slots=True)
class Capture:
    """One decoded picture with its capture times; `to_bgr` converts it on demand.

    `to_bgr(width)` returns an H x W x 3 BGR image, scaled to `width` pixels wide
    (keeping the aspect ratio) when given.
    """

    mono: float
    wall: datetime
    width: int
    height: int
    to_bgr: Callable[[int | None], Image]


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How a source is opened and read."""

    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    realtime: bool = True  # a file source plays at its native rate (False: as fast as decoded)
    loop: bool = True  # a file source starts again at its end
    poll_fps: float = 5.0  # how often a snapshot URL is fetched (the camera's analysis rate)
    decode_threads: int = 1  # one decoding thread per camera is the most efficient on few cores
    clock: Clock = SystemClock()


class FrameSource(Protocol):
    """A camera stream: open, read captures, close. Not thread-safe: one reader."""

    def open(self) -> SourceInfo:
        """Connect and read the stream header; `SourceOpenError` within the open timeout."""
        ...

    def read(self) -> Capture:
        """The next picture; `SourceReadError` when the stream broke, `SourceEnded` at the end."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice or on a source never opened."""
        ...

    def describe(self) -> str:
        """Kind and URL without credentials, for logs and the API."""
        ...


class SourceFactory(Protocol):
    """What a `gridhub.sources` entry point loads."""

    def __call__(self, url: str, options: SourceOptions) -> FrameSource: ...


def scheme_of(url: str) -> str:
    """The URL scheme in lower case: the source kind unless a camera names another."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def redact_url(url: str) -> str:
    """`url` without user name, password or secret-looking query parameters."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{scheme_of(url) or 'unparseable'}://(redacted)"
    if ":" in host:
        host = f"[{host}]"
    query = urlencode(
        [(k, "***" if SECRET_PARAMS.search(k) else v) for k, v in parse_qsl(parts.query)]
    )
    userinfo = "***@" if parts.username or parts.password else ""
    return urlunsplit((parts.scheme, f"{userinfo}{host}{port}", parts.path, query, ""))


def make_source(registry: Registry, kind: str, url: str, options: SourceOptions) -> FrameSource:
    """Build the source of `kind` for `url`, or `SourceOpenError`/`PluginError` saying why."""
    if not kind:
        raise SourceOpenError(f"{redact_url(url)}: not a URL with a scheme")
    try:
        factory = registry.get("gridhub.sources", kind)
    except PluginError as exc:
        raise SourceOpenError(f"{redact_url(url)}: {exc}") from None
    if not callable(factory):
        raise PluginError(f"gridhub.sources plugin '{kind}' is not callable")
    source: FrameSource = factory(url, options)
    return source
