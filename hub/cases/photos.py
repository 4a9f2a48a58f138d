"""Photos added to a case (a patrol's picture of the scene): checked, upright, stored, listed.

`normalise_photo` refuses what is not a picture (`PhotoRejected` with the reason and
the HTTP status to answer), applies the EXIF orientation a phone camera records
instead of rotating the pixels, caps the size, and re-encodes the picture as a
JPEG without its metadata (so a phone's GPS tags do not travel on). Pillow does
the work when it is installed (each format opened by its own plugin), else
OpenCV (whose decoder honours the orientation too). `store_photo` writes the file
under ``DATA_DIR/evidence/photos/`` and the row in `case_photos`, in the caller's
transaction; nothing is stored for a refused photo.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from hub.errors import HubError
from hub.storage import rows

Conn = psycopg.Connection[Any]
MAX_SIDE = 2560  # longest side kept, in pixels: enough to read a plate, small to send
JPEG_QUALITY = 85


class PhotoRejected(HubError):
    """An upload that is not a usable photo; `status` is the HTTP answer: 413 too large,
    422 not a usable picture (empty, not JPEG/PNG/WebP, too many pixels), 503 no decoder."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo ready to store: an upright JPEG and its size."""

    jpeg: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """A stored photo of a case."""

    id: int
    case_id: int
    path: str
    bytes: int
    width: int
    height: int
    uploaded_by: str
    note: str | None
    at: datetime


def normalise_photo(data: bytes, max_bytes: int) -> Photo:
    """The upload as an upright JPEG, or `PhotoRejected` saying why not."""
    if not data:
        raise PhotoRejected(422, "the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise PhotoRejected(413, f"the photo is larger than the limit of {max_bytes} bytes "
                                 "(api.max_photo_bytes)")  # fmt: skip
    try:
        import PIL  # noqa: F401  (Pillow is optional: OpenCV does the same without it)
    except ImportError:
        return _with_opencv(data)
    return _with_pillow(data)


_OPENERS = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb


def picture_format(data: bytes) -> str:
    """JPEG, PNG or WEBP from the file's magic bytes, or `PhotoRejected`."""
    for magic, name in _OPENERS.items():
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise PhotoRejected(422, "the file is not a picture (JPEG, PNG or WebP)")


def _open_with_pillow(data: bytes) -> Any:
    """The picture opened by its own Pillow plugin, never through `Image.open`:
    ultralytics replaces that with a wrapper which, on a file it cannot identify,
    tries to pip-install a HEIF plugin at request time."""
    from PIL import JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    kind = picture_format(data)
    stream = io.BytesIO(data)
    if kind == "JPEG":
        return JpegImagePlugin.jpeg_factory(stream)
    if kind == "PNG":
        return PngImagePlugin.PngImageFile(stream)
    return WebPImagePlugin.WebPImageFile(stream)


def _with_pillow(data: bytes) -> Photo:
    from PIL import ImageOps

    try:
        with _open_with_pillow(data) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PhotoRejected(422, "the picture has too many pixels")
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoRejected(422, "the file is not a picture (JPEG, PNG or WebP)") from exc
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY)
    return Photo(out.getvalue(), picture.width, picture.height)


def _with_opencv(data: bytes) -> Photo:
    try:
        import cv2
        import numpy as np
    except ImportError as exc:
        raise PhotoRejected(503, "photo uploads need Pillow or OpenCV on the hub") from exc
    picture_format(data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # EXIF-rotated
    if image is None:
        raise PhotoRejected(422, "the file is not a picture (JPEG, PNG or WebP)")
    height, width = image.shape[:2]
    scale = min(1.0, MAX_SIDE / max(height, width))
    if scale < 1.0:
        image = cv2.resize(image, (round(width * scale), round(height * scale)),
                           interpolation=cv2.INTER_AREA)  # fmt: skip
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PhotoRejected(422, "the picture cannot be re-encoded")
    return Photo(buf.tobytes(), image.shape[1], image.shape[0])


@dataclass(frozen=True, slots=True)
class PhotoUpload:
    """Who adds which photo to which case, when."""

    case_id: int
    photo: Photo
    uploaded_by: str
    note: str | None
    at: datetime


def store_photo(conn: Conn, data_dir: Path, upload: PhotoUpload) -> int:
    """Write the file and its row (the caller commits); returns the photo's id."""
    rel = Path("evidence") / "photos" / f"case-{upload.case_id}" / (
        f"{upload.at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jpg"
    )  # fmt: skip
    photo_id = rows.scalar(
        conn,
        """INSERT INTO case_photos (case_id, path, bytes, width, height, uploaded_by, note, at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (upload.case_id, str(rel), len(upload.photo.jpeg), upload.photo.width,
         upload.photo.height, upload.uploaded_by, upload.note, upload.at),
    )  # fmt: skip
    path = data_dir / rel  # written after the row: a refused row leaves no file behind
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(upload.photo.jpeg)
    tmp.replace(path)
    return int(photo_id)


def case_photos(conn: Conn, case_id: int) -> list[PhotoRow]:
    return rows.many(
        conn, PhotoRow,
        "SELECT id, case_id, path, bytes, width, height, uploaded_by, note, at"
        " FROM case_photos WHERE case_id = %s ORDER BY id",
        (case_id,),
    )  # fmt: skip
