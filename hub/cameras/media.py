"""Pictures in and out: JPEG encoding, drawing alert overlays, writing MP4 clips.

The only camera module that imports OpenCV and PyAV (the [vision] extra); the
rest of `hub.cameras` imports it when it first needs a picture encoded, so the
hub starts without them when a site has no cameras. A file the disk refuses (full,
read-only, gone) is an `EvidenceWriteError` whose reason is the system's, e.g.
"No space left on device", and leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import cv2
import numpy as np

from hub.cameras.evidence import StoredPicture
from hub.errors import EvidenceError, EvidenceWriteError
from hub.seams import Image

Overlay = tuple[tuple[tuple[float, float], ...], ...]
ALERT_COLOUR = (0, 0, 255)  # BGR red


def encode_jpeg(image: Image, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise EvidenceError("JPEG encoding failed")
    return bytes(buf)


def decode_jpeg(data: bytes) -> Image | None:
    """The BGR image of a JPEG, or None when the bytes are not a picture."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cast(Image, image) if image is not None and image.size else None


def scale_to_width(image: Image, width: int | None) -> Image:
    """`image` scaled to `width` pixels wide (even height), or itself when smaller."""
    h, w = image.shape[:2]
    if width is None or width >= w:
        return image
    height = max(2, round(h * width / w / 2) * 2)
    scaled = cast(Image, cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
    return scaled


def draw_overlay(image: Image, overlay: Overlay, label: str = "") -> Image:
    """A copy of `image` with the overlay's polylines (normalised 0..1) and a label drawn."""
    out = image.copy()
    h, w = out.shape[:2]
    thickness = max(2, w // 320)
    for line in overlay:
        if not line:
            continue
        pts = np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in line], np.int32)
        if len(pts) == 1:
            cv2.circle(out, tuple(int(v) for v in pts[0]), thickness * 3, ALERT_COLOUR, thickness)
        else:
            cv2.polylines(out, [pts], False, ALERT_COLOUR, thickness, cv2.LINE_AA)
    if label:
        scale = max(0.5, w / 1280)
        cv2.putText(out, label, (8, int(28 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    ALERT_COLOUR, thickness, cv2.LINE_AA)  # fmt: skip
    return out


def write_jpeg(path: Path, image: Image, quality: int = 85) -> int:
    """Write `image` as a JPEG file; returns its size in bytes."""
    data = encode_jpeg(image, quality)
    _write_atomically(path, data)
    return len(data)


def write_mp4(path: Path, pictures: Sequence[StoredPicture]) -> int:
    """Write the pictures as an H.264 MP4 keeping their real spacing in time; returns bytes."""
    if not pictures:
        raise EvidenceError(f"{path.name}: no frames in the requested window")
    first = decode_jpeg(pictures[0].jpeg)
    if first is None:
        raise EvidenceError(f"{path.name}: the ring buffer holds an unreadable picture")
    height, width = first.shape[:2]
    tmp = path.with_suffix(".part.mp4")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _encode(tmp, pictures, width - width % 2, height - height % 2)
        tmp.replace(path)
        return path.stat().st_size
    except OSError as exc:  # PyAV's I/O errors are OSErrors too, with the errno
        _discard(tmp)
        raise _write_error(path, exc) from exc
    except av.error.FFmpegError as exc:
        _discard(tmp)
        raise EvidenceError(f"{path.name}: cannot encode clip: {type(exc).__name__}") from exc


def _encode(path: Path, pictures: Sequence[StoredPicture], width: int, height: int) -> None:
    # faststart: the index goes first, so a browser plays and seeks before it has the file
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        container.metadata["comment"] = f"gridhub evidence from {pictures[0].wall.isoformat()}"
        last_pts = -1
        for picture in pictures:
            image = decode_jpeg(picture.jpeg)
            if image is None:
                continue
            pts = max(last_pts + 1, round((picture.mono - pictures[0].mono) * 1000))
            frame = av.VideoFrame.from_ndarray(image[:height, :width], format="bgr24")
            frame.pts, last_pts = pts, pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        _discard(tmp)
        raise _write_error(path, exc) from exc


def _discard(partial: Path) -> None:
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> EvidenceWriteError:
    reason = exc.strerror or type(exc).__name__
    return EvidenceWriteError(f"{path.name}: cannot write: {reason}", reason)
