"""`onvif://` camera source: discovers the RTSP stream through ONVIF, then reads it.

`onvif://user:password@host[:port]/?profile=TOKEN` asks the device (through
the maintained `onvif-zeep-async` client) for its services, its media profiles
(GetProfiles) and the stream URI of the chosen profile, or the first one
(GetStreamUri, RTP-Unicast over RTSP); the ONVIF credentials are added to the
RTSP URI when the device returns one without. The URI is looked up again on
every reconnect (a camera may change it after a reboot); when the lookup
fails, the last good URI is tried.

A GB/T 28181 platform source would come through the same seam: a SIP client
that registers with the platform, INVITEs a channel and receives PS-over-RTP,
which FFmpeg can demux; not built yet.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from adapters.rtsp import RtspSource
from hub.cameras.source import redact_url
from hub.errors import SourceOpenError, SourceReadError
from hub.seams import Capture, FrameSource, SourceInfo, SourceOpener, SourceOptions

KIND = "onvif"


class OnvifSource:
    """An ONVIF camera read over the RTSP stream it advertises."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise SourceOpenError(f"{redact_url(url)}: onvif:// URL has no host")
        self.options = options
        self.host, self.port = parts.hostname, parts.port or 80
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        profiles = parse_qs(parts.query).get("profile")
        self.profile: str | None = profiles[0] if profiles else None
        self._redacted = redact_url(url)
        self._stream_uri: str | None = None
        self._rtsp: RtspSource | None = None

    def describe(self) -> str:
        return f"{KIND} {self._redacted}"

    def open(self) -> SourceInfo:
        self.close()
        try:
            self._stream_uri = self.stream_uri()
        except SourceOpenError:
            if self._stream_uri is None:
                raise
        self._rtsp = RtspSource(self._stream_uri, self.options)
        info = self._rtsp.open()
        return SourceInfo(KIND, info.codec, info.width, info.height, info.fps)

    def read(self) -> Capture:
        if self._rtsp is None:
            raise SourceReadError(f"{self.describe()}: not open")
        return self._rtsp.read()

    def close(self) -> None:
        rtsp, self._rtsp = self._rtsp, None
        if rtsp is not None:
            rtsp.close()

    def stream_uri(self) -> str:
        """Ask the device for the RTSP URI of the profile, with the credentials added."""
        try:
            uri = asyncio.run(self._lookup())
        except TimeoutError:
            raise SourceOpenError(
                f"{self.describe()}: no ONVIF answer within the timeout"
            ) from None
        except SourceOpenError:
            raise
        except Exception as exc:  # the ONVIF client raises zeep, aiohttp and httpx errors
            raise SourceOpenError(
                f"{self.describe()}: ONVIF lookup failed: {_reason(exc)}"
            ) from None
        return self._with_credentials(uri)

    async def _lookup(self) -> str:
        from onvif import ONVIFCamera

        camera = ONVIFCamera(self.host, self.port, self.user, self.password)
        try:
            # Only the questions are timed: closing the client's sessions must not be cut short.
            return await asyncio.wait_for(self._ask(camera), timeout=self.options.open_timeout_s)
        finally:
            await camera.close()

    async def _ask(self, camera: Any) -> str:
        await camera.update_xaddrs()
        media = await camera.create_media_service()
        profiles = await media.GetProfiles()
        tokens = [p.token for p in profiles or []]
        if not tokens:
            raise SourceOpenError(f"{self.describe()}: the device has no media profiles")
        if self.profile is not None and self.profile not in tokens:
            raise SourceOpenError(
                f"{self.describe()}: no profile '{self.profile}' (has: {', '.join(tokens)})"
            )
        answer = await media.GetStreamUri(
            {
                "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                "ProfileToken": self.profile or tokens[0],
            }
        )
        return str(answer.Uri)

    def _with_credentials(self, uri: str) -> str:
        parts = urlsplit(uri)
        if parts.username or not self.user or not parts.hostname:
            return uri
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        netloc = f"{auth}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _reason(exc: BaseException) -> str:
    text = str(exc)
    # Library messages may quote the device address with its credentials: keep the type only
    # unless the message is free of anything URL-like.
    if "://" in text or "@" in text or not text:
        return type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


def open_onvif(url: str, options: SourceOptions) -> FrameSource:
    """The `gridhub.sources` entry point for `onvif://`."""
    return OnvifSource(url, options)


plugin = SourceOpener(open_onvif)
