"""H.264 encoding through PyAV's libx264 (OpenCV's wheels carry no H.264 encoder).

The rate is constant-bitrate-like (``bit_rate`` with a matching VBV buffer)
with a two-second GOP, as security cameras stream.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import numpy.typing as npt


class H264Writer:
    """Writes BGR frames to an MP4 file as H.264 at `bitrate_kbps`."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, bitrate_kbps: int) -> None:
        self._container = av.open(str(path), mode="w")
        rate = Fraction(fps).limit_denominator(1000)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate_kbps * 1000
        stream.codec_context.gop_size = max(int(round(fps * 2)), 1)
        stream.options = {
            "preset": "veryfast",
            "threads": "1",  # one thread: the same frames give the same bytes
            "maxrate": f"{bitrate_kbps}k",
            "bufsize": f"{bitrate_kbps * 2}k",
        }
        self._stream = stream

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        for packet in self._stream.encode(picture):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
