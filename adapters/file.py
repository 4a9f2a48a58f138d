"""`file://` camera source: plays a video file, looping, at its native rate or flat out.

For tests, demos and detector evaluation. At its native rate (`realtime`) each
frame is released when its presentation time comes, as from a live camera; a
file that ends starts again (`loop`) or ends the source. A truncated or
partly corrupt file plays what decodes and counts the rest as corrupt frames.
"""

from __future__ import annotations

import time
from urllib.parse import unquote, urlsplit

from adapters.pyav_stream import PyAvStream
from hub.errors import SourceEnded, SourceOpenError
from hub.seams import Capture, FrameSource, SourceInfo, SourceOpener, SourceOptions

KIND = "file"


class FileSource:
    """A video file played like a camera."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        self.options = options
        self.path = _path_of(url)
        self._stream = PyAvStream(KIND, self.path, options, {})
        self._start_mono = 0.0
        self._offset_s = 0.0  # presentation time at which the current pass started
        self._last_pts_s = 0.0

    def describe(self) -> str:
        return f"{KIND} {self.path}"

    def open(self) -> SourceInfo:
        info = self._stream.open()
        self._start_mono = self.options.clock.monotonic()
        self._offset_s = self._last_pts_s = 0.0
        return info

    def read(self) -> Capture:
        try:
            frame = self._stream.next_frame()
        except SourceEnded:
            if not self.options.loop:
                raise
            self._stream.rewind()
            self._offset_s = self._last_pts_s + 1.0 / (self._stream_fps() or 25.0)
            frame = self._stream.next_frame()
        pts = self._stream.time_of(frame)
        if pts is not None:
            self._last_pts_s = self._offset_s + pts
            if self.options.realtime:
                self._wait_until(self._last_pts_s)
        return self._stream.capture(frame)

    def _stream_fps(self) -> float | None:
        rate = self._stream.stream.average_rate
        return float(rate) if rate else None

    def _wait_until(self, pts_s: float) -> None:
        delay = self._start_mono + pts_s - self.options.clock.monotonic()
        if delay > 0:
            time.sleep(min(delay, 1.0))

    def close(self) -> None:
        self._stream.close()


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != KIND:
        raise SourceOpenError(f"not a file:// URL: {parts.scheme}://")
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise SourceOpenError("file:// URL has no path")
    return path


def open_file(url: str, options: SourceOptions) -> FrameSource:
    """The `gridhub.sources` entry point for `file://`."""
    return FileSource(url, options)


plugin = SourceOpener(open_file)
