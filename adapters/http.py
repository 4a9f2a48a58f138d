"""`http://` and `https://` camera sources: JPEG snapshot polling and MJPEG streams.

What the URL answers decides the mode: `multipart/x-mixed-replace` is an MJPEG
stream, read picture by picture (each JPEG is cut out at its start and end
markers, so a camera's sloppy part headers do not matter); a single image is a
snapshot URL, fetched again at the camera's analysis rate. Credentials in the
URL are sent as Basic or Digest authentication, whichever the camera asks for,
and never appear in messages.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from http.client import HTTPResponse
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hub.cameras.source import redact_url
from hub.errors import CorruptFrame, SourceOpenError, SourceReadError
from hub.seams import Capture, FrameSource, Image, SourceInfo, SourceOpener, SourceOptions

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
CHUNK = 64 * 1024
MAX_PICTURE = 16 * 1024 * 1024  # bytes without a complete JPEG before the stream is called broken


class HttpSource:
    """An HTTP snapshot URL or MJPEG stream."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        self.options = options
        self.kind = urlsplit(url).scheme
        self._tracked = _Tracked()
        self._url, self._opener = _opener_for(url, self._tracked)
        self._redacted = redact_url(url)
        self._response: HTTPResponse | None = None
        self._buffer = b""
        self._next_poll = 0.0
        self._first: bytes | None = None

    def describe(self) -> str:
        return f"{self.kind} {self._redacted}"

    def open(self) -> SourceInfo:
        self.close()
        response = self._request(self.options.open_timeout_s, SourceOpenError)
        content_type = response.headers.get_content_type()
        if content_type.startswith("multipart/"):
            self._response = response
            jpeg, mode = self._next_mjpeg(SourceOpenError), "mjpeg"
        else:
            jpeg, mode = _read_body(response, self.describe(), SourceOpenError), "snapshot"
            self._next_poll = self.options.clock.monotonic()
        image = _decode(jpeg)
        if image is None:
            self.close()
            raise SourceOpenError(f"{self.describe()}: answered {content_type}, not a JPEG picture")
        self._first = jpeg
        return SourceInfo(self.kind, mode, int(image.shape[1]), int(image.shape[0]), None)

    def read(self) -> Capture:
        if self._first is not None:
            jpeg, self._first = self._first, None
        elif self._response is not None:
            jpeg = self._next_mjpeg(SourceReadError)
        else:
            jpeg = self._poll()
        image = _decode(jpeg)
        if image is None:
            raise CorruptFrame(f"{self.describe()}: a picture did not decode")
        clock = self.options.clock
        return Capture(
            clock.monotonic(), clock.now(), int(image.shape[1]), int(image.shape[0]),
            _Scaler(image),
        )  # fmt: skip

    def close(self) -> None:
        response, self._response, self._buffer, self._first = self._response, None, b"", None
        if response is not None:
            response.close()

    def _poll(self) -> bytes:
        delay = self._next_poll - self.options.clock.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_poll = self.options.clock.monotonic() + 1.0 / self.options.poll_fps
        response = self._request(self.options.read_timeout_s, SourceReadError)
        return _read_body(response, self.describe(), SourceReadError)

    def _request(
        self, timeout: float, error: type[SourceOpenError | SourceReadError]
    ) -> HTTPResponse:
        response: HTTPResponse | None = None
        try:
            response = self._opener.open(self._url, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise error(f"{self.describe()}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise error(f"{self.describe()}: cannot connect: {_reason(exc.reason)}") from None
        except (OSError, ValueError) as exc:
            raise error(f"{self.describe()}: {_reason(exc)}") from None
        finally:
            self._tracked.close_all_but(response)
        assert response is not None
        return response

    def _next_mjpeg(self, error: type[SourceOpenError | SourceReadError]) -> bytes:
        assert self._response is not None
        while True:
            start = self._buffer.find(SOI)
            end = self._buffer.find(EOI, start + 2) if start >= 0 else -1
            if end >= 0:
                jpeg, self._buffer = self._buffer[start : end + 2], self._buffer[end + 2 :]
                return jpeg
            if len(self._buffer) > MAX_PICTURE:
                raise error(f"{self.describe()}: no complete JPEG in {MAX_PICTURE} bytes")
            try:
                chunk = self._response.read1(CHUNK)
            except (OSError, ValueError) as exc:
                raise error(f"{self.describe()}: stream broke: {_reason(exc)}") from None
            if not chunk:
                raise error(f"{self.describe()}: the camera closed the stream")
            self._buffer = self._buffer[start:] if start > 0 else self._buffer
            self._buffer += chunk


class _Scaler:
    __slots__ = ("image",)

    def __init__(self, image: Image) -> None:
        self.image = image

    def __call__(self, width: int | None) -> Image:
        from hub.cameras import media

        return media.scale_to_width(self.image, width)


def _decode(jpeg: bytes) -> Image | None:
    from hub.cameras import media

    return media.decode_jpeg(jpeg)


def _read_body(
    response: HTTPResponse, where: str, error: type[SourceOpenError | SourceReadError]
) -> bytes:
    try:
        with response:
            return response.read(MAX_PICTURE)
    except (OSError, ValueError) as exc:
        raise error(f"{where}: {_reason(exc)}") from None


def _reason(exc: object) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return type(exc).__name__ if isinstance(exc, BaseException) else "unreachable"


class _Tracked:
    """Every response urllib gets while following one request (auth retries included),
    so the ones it drops (a 401 before the retry) and sockets of timed-out requests are
    closed at once instead of by the garbage collector."""

    def __init__(self) -> None:
        self.responses: list[HTTPResponse] = []
        self.connections: list[http.client.HTTPConnection] = []

    def open(
        self,
        handler: urllib.request.AbstractHTTPHandler,
        connection: type[http.client.HTTPConnection],
        req: urllib.request.Request,
    ) -> HTTPResponse:
        def connect(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = connection(host, **kwargs)
            self.connections.append(conn)
            return conn

        response: HTTPResponse = handler.do_open(connect, req)
        self.responses.append(response)
        return response

    def close_all_but(self, keep: HTTPResponse | None) -> None:
        for response in self.responses:
            if response is not keep:
                response.close()
        if keep is None:
            for conn in self.connections:
                conn.close()
        self.responses.clear()
        self.connections.clear()


class _HttpHandler(urllib.request.HTTPHandler):
    def __init__(self, tracked: _Tracked) -> None:
        super().__init__()
        self.tracked = tracked

    def http_open(self, req: urllib.request.Request) -> HTTPResponse:
        return self.tracked.open(self, http.client.HTTPConnection, req)


class _HttpsHandler(urllib.request.HTTPSHandler):
    def __init__(self, tracked: _Tracked) -> None:
        super().__init__()
        self.tracked = tracked

    def https_open(self, req: urllib.request.Request) -> HTTPResponse:
        return self.tracked.open(self, http.client.HTTPSConnection, req)


def _opener_for(url: str, tracked: _Tracked) -> tuple[str, urllib.request.OpenerDirector]:
    """The URL without credentials, and an opener that answers Basic and Digest challenges."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    handlers: list[urllib.request.BaseHandler] = [_HttpHandler(tracked), _HttpsHandler(tracked)]
    if parts.username:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, bare, unquote(parts.username), unquote(parts.password or ""))
        handlers += [
            urllib.request.HTTPBasicAuthHandler(passwords),
            urllib.request.HTTPDigestAuthHandler(passwords),
        ]
    return bare, urllib.request.build_opener(*handlers)


def open_http(url: str, options: SourceOptions) -> FrameSource:
    """The `gridhub.sources` entry point for `http://` and `https://`."""
    return HttpSource(url, options)


plugin = SourceOpener(open_http)
