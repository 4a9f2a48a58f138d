"""`rtsp://` camera source: FFmpeg (through PyAV) over RTSP-over-TCP with timeouts.

TCP interleaving, not UDP: camera networks drop UDP and NAT breaks it, and a
lost packet on TCP costs latency instead of a smeared picture. The open
timeout bounds connecting and reading the stream description; the read timeout
bounds the wait for each packet, so a camera that goes dark is noticed within
it and the worker reconnects.
"""

from __future__ import annotations

from adapters.pyav_stream import PyAvStream
from hub.seams import Capture, FrameSource, SourceInfo, SourceOpener, SourceOptions

KIND = "rtsp"


class RtspSource:
    """An RTSP camera stream (H.264/H.265/MJPEG, whatever FFmpeg decodes)."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        av_options = {
            "rtsp_transport": "tcp",
            # Socket I/O timeout in microseconds; the interrupt callback covers the rest.
            "timeout": str(int(options.read_timeout_s * 1_000_000)),
            "fflags": "nobuffer",
            "flags": "low_delay",
            # Half a second of probing finds an H.264/H.265 stream's parameters; FFmpeg's
            # default (5 s, and >1 s in practice) would delay every reconnect by as much.
            "analyzeduration": "500000",
            "probesize": "500000",
        }
        self._stream = PyAvStream(KIND, url, options, av_options)

    def describe(self) -> str:
        return self._stream.describe()

    def open(self) -> SourceInfo:
        return self._stream.open()

    def read(self) -> Capture:
        return self._stream.capture(self._stream.next_frame())

    def close(self) -> None:
        self._stream.close()


def open_rtsp(url: str, options: SourceOptions) -> FrameSource:
    """The `gridhub.sources` entry point for `rtsp://`."""
    return RtspSource(url, options)


plugin = SourceOpener(open_rtsp)
