"""Evidence: a ring buffer of recent pictures per camera, and the files made from it.

`RingBuffer` keeps the last few seconds of a camera as downscaled JPEGs at a
reduced rate, bounded in seconds and in bytes, so memory stays flat whatever
the camera sends. `EvidenceStore` writes an alert's snapshot (the analysed
frame with `Alert.overlay` drawn) and clip (an MP4 of the ring buffer from
`before` seconds ahead of the alert's start to `after` seconds past its
confirmation) under ``DATA_DIR/evidence/CAMERA/DAY/``, and deletes the oldest
files when the total passes the retention limit.

When the disk refuses a file (full, read-only, gone) the store says so once in
the log and keeps the reason in `failing` until a write succeeds again (logged
too, with how many files were missed); the camera worker marks the alert's
evidence missing with that reason and the alert still becomes a case.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hub.errors import EvidenceWriteError
from hub.model import Alert, EvidenceRef
from hub.seams import Capture, Image

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPicture:
    """One JPEG of the evidence ring buffer with its capture times."""

    mono: float
    wall: datetime
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    """How much of each camera is kept, and how much disk evidence may use."""

    fps: float = 8.0
    width: int = 640
    jpeg_quality: int = 75
    ring_s: float = 20.0
    ring_max_bytes: int = 16 * 1024 * 1024
    clip_before_s: float = 5.0
    clip_after_s: float = 5.0
    max_disk_bytes: int = 2 * 1024**3


class RingBuffer:
    """The last `ring_s` seconds of one camera as JPEGs; thread-safe."""

    def __init__(self, settings: EvidenceSettings) -> None:
        self.settings = settings
        self._pictures: deque[StoredPicture] = deque()
        self._bytes = 0
        self._last_mono = float("-inf")
        self._lock = threading.Lock()

    def due(self, mono: float) -> bool:
        """Whether a capture at `mono` should be stored (the buffer runs at `fps`)."""
        return mono - self._last_mono >= 1.0 / self.settings.fps - 1e-3

    def add(self, capture: Capture) -> None:
        """Downscale, encode and keep `capture`, evicting what is too old or too much."""
        from hub.cameras import media

        self._last_mono = capture.mono
        jpeg = media.encode_jpeg(capture.to_bgr(self.settings.width), self.settings.jpeg_quality)
        picture = StoredPicture(capture.mono, capture.wall, jpeg)
        with self._lock:
            self._pictures.append(picture)
            self._bytes += len(jpeg)
            horizon = capture.mono - self.settings.ring_s
            while self._pictures and (
                self._pictures[0].mono < horizon or self._bytes > self.settings.ring_max_bytes
            ):
                self._bytes -= len(self._pictures.popleft().jpeg)

    def between(self, start: datetime, end: datetime) -> list[StoredPicture]:
        """The stored pictures captured from `start` to `end` (wall clock), oldest first."""
        with self._lock:
            return [p for p in self._pictures if start <= p.wall <= end]

    def newest_wall(self) -> datetime | None:
        with self._lock:
            return self._pictures[-1].wall if self._pictures else None

    @property
    def nbytes(self) -> int:
        return self._bytes


@dataclass(frozen=True, slots=True)
class ClipWindow:
    """The stretch of time a clip covers."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, alert: Alert, before_s: float, after_s: float) -> ClipWindow:
        return cls(
            alert.started_at - timedelta(seconds=before_s),
            alert.confirmed_at + timedelta(seconds=after_s),
        )


class EvidenceStore:
    """Evidence files under one directory, with a disk budget."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._files: deque[tuple[Path, int]] = deque()  # oldest first
        self._total = 0
        self._failing: str | None = None
        self._missed = 0
        self._index_existing()

    def path_for(self, alert: Alert, suffix: str) -> Path:
        """Where an alert's evidence file goes, relative to the store's root."""
        camera = _safe(alert.camera_id or alert.sensor_id or "site")
        stamp = alert.confirmed_at.strftime("%Y%m%dT%H%M%S.%f")[:-3]
        return (
            Path(camera)
            / alert.confirmed_at.strftime("%Y%m%d")
            / (f"{stamp}-{_safe(alert.label)}{suffix}")
        )

    def snapshot(self, alert: Alert, image: Image) -> EvidenceRef:
        """Write the analysed frame with the alert's overlay drawn on it."""
        from hub.cameras import media

        rel = self.path_for(alert, ".jpg")
        drawn = media.draw_overlay(image, alert.overlay, f"{alert.label} {alert.confidence:.2f}")
        self._added(rel, self._guarded(lambda: media.write_jpeg(self.root / rel, drawn)))
        return self.snapshot_ref(alert)

    def snapshot_ref(self, alert: Alert, missing: str | None = None) -> EvidenceRef:
        """The reference of the alert's snapshot (`missing`: why it was not written)."""
        rel = Path("evidence") / self.path_for(alert, ".jpg")
        return EvidenceRef("snapshot", str(rel), "image/jpeg", missing)

    def clip_ref(self, alert: Alert) -> EvidenceRef:
        """The reference the clip will have once `write_clip` has run."""
        return EvidenceRef(
            "clip", str(Path("evidence") / self.path_for(alert, ".mp4")), "video/mp4"
        )

    def write_clip(self, alert: Alert, ring: RingBuffer, window: ClipWindow) -> Path:
        """Write the ring buffer's pictures within `window` as the alert's MP4 clip."""
        from hub.cameras import media

        rel = self.path_for(alert, ".mp4")
        pictures = ring.between(window.start, window.end)
        self._added(rel, self._guarded(lambda: media.write_mp4(self.root / rel, pictures)))
        return self.root / rel

    def resolve(self, ref: EvidenceRef) -> Path:
        """The file behind an evidence reference (relative to the data directory)."""
        return self.root.parent / ref.path

    @property
    def total_bytes(self) -> int:
        return self._total

    @property
    def failing(self) -> str | None:
        """Why the disk refused the last file, until a file is written again."""
        return self._failing

    def skipped(self) -> None:
        """Count a file not even tried because the disk refuses files (see `failing`)."""
        with self._lock:
            self._missed += 1

    def _guarded(self, write: Callable[[], int]) -> int:
        """Run a write; a refusal is remembered (and logged when it starts an outage)."""
        try:
            return write()
        except EvidenceWriteError as exc:
            with self._lock:
                starts = self._failing is None
                self._failing = exc.reason
                self._missed += 1
            if starts:
                log.error(
                    "evidence cannot be written to %s: %s; alerts still become cases, with "
                    "their evidence marked missing", self.root, exc.reason,
                )  # fmt: skip
            raise

    def _added(self, rel: Path, size: int) -> None:
        with self._lock:
            if self._failing is not None:
                log.warning("evidence is written again to %s (%d file(s) missed meanwhile)",
                            self.root, self._missed)  # fmt: skip
                self._failing, self._missed = None, 0
            self._files.append((self.root / rel, size))
            self._total += size
            while self._total > self.max_bytes and len(self._files) > 1:
                path, old = self._files.popleft()
                path.unlink(missing_ok=True)
                self._total -= old
                log.info("evidence retention: deleted %s", path.relative_to(self.root))

    def _index_existing(self) -> None:
        if not self.root.is_dir():
            return
        files = [p for p in self.root.rglob("*") if p.is_file() and ".part" not in p.suffixes]
        for path in sorted(files, key=lambda p: p.stat().st_mtime):
            size = path.stat().st_size
            self._files.append((path, size))
            self._total += size


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64] or "_"
