"""Cases with real evidence files for the room's tests: a drawn JPEG snapshot and an H.264 clip.

The files are made by the hub's own encoders (`hub.cameras.media`), so what the
browser plays is what a camera worker writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hub.cameras import media
from hub.cameras.evidence import StoredPicture
from hub.hub import Hub
from hub.model import Alert, EvidenceRef
from tests.test_alerts import _alert

CLIP_FPS = 8


def _picture(i: int, width: int, height: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    image = np.full((height, width, 3), (40, 60, 80), np.uint8)
    cv2.rectangle(image, (width // 3, height // 8), (2 * width // 3, height - 10), (90, 90, 90), -1)
    y = 20 + (i * 15) % (height - 40)
    cv2.circle(image, (width // 2, y), 8, (255, 255, 255), -1)
    return image


def write_evidence(hub: Hub, alert: Alert, seconds: float = 2.0) -> tuple[EvidenceRef, ...]:
    """A snapshot (1280x720, the alert's overlay drawn) and a clip of `seconds` for `alert`."""
    root = hub.site.site.data_dir
    stem = f"evidence/{alert.camera_id}/{alert.confirmed_at:%Y%m%dT%H%M%S%f}"
    drawn = media.draw_overlay(_picture(0, 1280, 720), alert.overlay, alert.kind)
    media.write_jpeg(root / f"{stem}.jpg", drawn)
    start = alert.confirmed_at - timedelta(seconds=seconds)
    pictures = [
        StoredPicture(i / CLIP_FPS, start + timedelta(seconds=i / CLIP_FPS),
                      media.encode_jpeg(_picture(i, 320, 180)))
        for i in range(int(seconds * CLIP_FPS))
    ]  # fmt: skip
    media.write_mp4(root / f"{stem}.mp4", pictures)
    return (EvidenceRef("snapshot", f"{stem}.jpg", "image/jpeg"),
            EvidenceRef("clip", f"{stem}.mp4", "video/mp4"))  # fmt: skip


def case_with_evidence(hub: Hub, repeats: int = 0, **alert: Any) -> int:
    """A case from an alert with real evidence, plus `repeats` repeated alerts joining it."""
    first = _alert(hub, overlay=(((0.5, 0.1), (0.5, 0.9)),), **alert)
    first = replace(first, evidence=write_evidence(hub, first))
    case_id = hub.cases.record(first).case_id
    assert case_id is not None
    for i in range(repeats):
        at = first.confirmed_at + timedelta(seconds=6 * (i + 1))
        repeat = replace(first, confirmed_at=at, evidence=())
        assert hub.cases.record(repeat).case_id == case_id
    return case_id


def evidence_dir(hub: Hub) -> Path:
    return hub.site.site.data_dir / "evidence"


def repeat_alert(hub: Hub, case_id: int) -> None:
    """One more repeat of the case's first alert (no evidence of its own), joining the case."""
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT camera_id, details->>'region' FROM cases WHERE id = %s",
                           (case_id,)).fetchone()  # fmt: skip
    assert row is not None
    assert hub.cases.record(_alert(hub, camera=row[0], region=row[1])).case_id == case_id
