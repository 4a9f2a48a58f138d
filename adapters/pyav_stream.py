"""Decoding a video stream with PyAV (FFmpeg): the engine under the file and RTSP sources.

`PyAvStream` opens a URL with open and read timeouts (FFmpeg's interrupt
callback, so a camera that never answers fails within the open timeout),
demuxes the first video stream and decodes it packet by packet. A packet that
does not decode is a `CorruptFrame` and the next read goes on with the next
packet; a demuxing failure is a `SourceReadError` and the worker reconnects.
A frame's capture time comes from its presentation timestamp, anchored to when
frames arrive (`StreamClock`), not from when it happened to be decoded.
FFmpeg's error messages hold the URL: only `strerror` is ever repeated.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from fractions import Fraction
from typing import Any, cast

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from adapters.stream_clock import StreamClock
from hub.cameras.source import redact_url
from hub.errors import CorruptFrame, SourceEnded, SourceOpenError, SourceReadError
from hub.seams import Capture, Image, SourceInfo, SourceOptions

log = logging.getLogger(__name__)
av.logging.set_level(None)  # FFmpeg's own log lines would print camera URLs with passwords


def ffmpeg_reason(exc: BaseException) -> str:
    """Why FFmpeg failed, without the file name (which is the URL)."""
    if isinstance(exc, av.error.FFmpegError):
        return str(exc.strerror or type(exc).__name__)
    if isinstance(exc, OSError):
        return str(exc.strerror or type(exc).__name__)
    return type(exc).__name__


class PyAvStream:
    """Demux and decode the first video stream of `url` (not thread-safe: one reader)."""

    def __init__(self, kind: str, url: str, options: SourceOptions, av_options: dict[str, str]):
        self.kind = kind
        self.url = url
        self.options = options
        self.av_options = av_options
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._packets: Iterator[av.Packet[Any]] | None = None
        self._pending: deque[VideoFrame] = deque()
        self._clock = StreamClock()

    def describe(self) -> str:
        return f"{self.kind} {redact_url(self.url)}"

    @property
    def stream(self) -> VideoStream:
        if self._stream is None:
            raise SourceReadError(f"{self.describe()}: not open")
        return self._stream

    def open(self) -> SourceInfo:
        self.close()
        self._clock.reset()
        timeouts = (self.options.open_timeout_s, self.options.read_timeout_s)
        try:
            container = av.open(self.url, options=self.av_options, timeout=timeouts)
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceOpenError(f"{self.describe()}: cannot open: {ffmpeg_reason(exc)}") from None
        if not container.streams.video:
            container.close()
            raise SourceOpenError(f"{self.describe()}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_count = self.options.decode_threads
        self._container, self._stream = container, stream
        self._packets = iter(container.demux(stream))
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        return SourceInfo(self.kind, ctx.name, ctx.width, ctx.height, float(rate) if rate else None)

    def next_frame(self) -> VideoFrame:
        """The next decoded frame; `CorruptFrame`, `SourceReadError` or `SourceEnded`."""
        while not self._pending:
            self._decode_next_packet()
        return self._pending.popleft()

    def _decode_next_packet(self) -> None:
        if self._packets is None:
            raise SourceReadError(f"{self.describe()}: not open")
        try:
            packet = next(self._packets)
        except StopIteration:
            raise SourceEnded(f"{self.describe()}: end of stream") from None
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceReadError(f"{self.describe()}: {ffmpeg_reason(exc)}") from None
        if packet.size == 0 and packet.dts is None:
            # The flush packet at the end of a stream: drain the decoder, then end.
            self._pending.extend(self._decode(packet))
            if not self._pending:
                raise SourceEnded(f"{self.describe()}: end of stream")
            return
        frames = self._decode(packet)
        if packet.is_corrupt or any(f.is_corrupt for f in frames):
            # Decoded all the same to keep the decoder's reference pictures; not shown.
            raise CorruptFrame(f"{self.describe()}: corrupt packet")
        self._pending.extend(frames)

    def _decode(self, packet: av.Packet[Any]) -> list[VideoFrame]:
        try:
            return [f for f in packet.decode() if isinstance(f, VideoFrame)]
        except (av.error.FFmpegError, ValueError) as exc:
            raise CorruptFrame(
                f"{self.describe()}: undecodable packet: {ffmpeg_reason(exc)}"
            ) from None

    def rewind(self) -> None:
        """Start the stream again from its first frame (files only)."""
        if self._container is None or self._stream is None:
            raise SourceReadError(f"{self.describe()}: not open")
        try:
            self._container.seek(0)
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceReadError(
                f"{self.describe()}: cannot rewind: {ffmpeg_reason(exc)}"
            ) from None
        self._stream.codec_context.flush_buffers()
        self._pending.clear()
        self._clock.reset()
        self._packets = iter(self._container.demux(self._stream))

    def capture(self, frame: VideoFrame) -> Capture:
        """Wrap a decoded frame, timed by the stream (`StreamClock`); converted only on demand."""
        clock = self.options.clock
        arrival, wall = clock.monotonic(), clock.now()
        mono = self._clock.time_of(self.time_of(frame), arrival)
        wall -= timedelta(seconds=arrival - mono)
        return Capture(mono, wall, frame.width, frame.height, _Convert(frame))

    def time_of(self, frame: VideoFrame) -> float | None:
        """The frame's presentation time in seconds from the stream start, when known."""
        if frame.pts is None or frame.time_base is None:
            return None
        return float(frame.pts * Fraction(frame.time_base))

    def close(self) -> None:
        container, self._container, self._stream, self._packets = self._container, None, None, None
        self._pending.clear()
        if container is not None:
            try:
                container.close()
            except (av.error.FFmpegError, OSError) as exc:
                log.debug("%s: close failed: %s", self.describe(), ffmpeg_reason(exc))


class _Convert:
    """`Capture.to_bgr` of a PyAV frame: one swscale pass converts and scales.

    A frame keeps one scaler (`VideoFrame.reformatter`), which PyAV reconfigures
    and runs without the GIL: two threads converting the same frame at once (the
    analysis, the evidence buffer, a camera wall's snapshots and previews) corrupt
    it and crash the process in libswscale. The lock makes them take turns.
    """

    __slots__ = ("frame", "lock")

    def __init__(self, frame: VideoFrame) -> None:
        self.frame = frame
        self.lock = threading.Lock()

    def __call__(self, width: int | None) -> Image:
        with self.lock:
            return self._convert(width)

    def _convert(self, width: int | None) -> Image:
        frame = self.frame
        if width is None or width >= frame.width:
            image = cast(Image, frame.to_ndarray(format="bgr24"))
            return image
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
        # FAST_BILINEAR: a quarter of swscale's default cost, plenty for previews and evidence.
        scaled = cast(
            Image,
            frame.to_ndarray(
                format="bgr24", width=width, height=height, interpolation="FAST_BILINEAR"
            ),
        )
        return scaled
