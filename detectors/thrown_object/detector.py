"""The thrown-object `Detector`: foreground -> tracks -> free-fall test -> floor -> alert.

It runs on every frame the camera worker hands it (the camera's full frame
rate), on a downscaled grey crop of the facade zone. A track is judged when it
ends (the object left the region, hit the ground or was lost for a few frames),
so an alert follows the end of a fall by `max_missed_frames` frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from detectors.thrown_object.config import ThrownObjectConfig
from detectors.thrown_object.floors import FloorMap
from detectors.thrown_object.foreground import Crop, ForegroundExtractor
from detectors.thrown_object.freefall import FallVerdict, FreeFallTest, TrackPath
from detectors.thrown_object.stitching import StitchLimits, stitch
from detectors.thrown_object.tracking import Tracker, TrackGates, without_rest
from hub.model import Alert, Frame

log = logging.getLogger(__name__)

KIND = "thrown_object"
TRAJECTORY_POINTS = 40
MAX_REMEMBERED = 200
STITCH_MIN_POINTS = 4


@dataclass(frozen=True, slots=True)
class FacadeZone:
    """The zone the detector watches: its id and normalised polygon."""

    id: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Fall:
    """An accepted track: its path (normalised) and verdict."""

    path: TrackPath
    verdict: FallVerdict


class ThrownObjectDetector:
    """Watches one facade of one camera for objects falling from it."""

    kind = KIND

    def __init__(self, camera_id: str, zone: FacadeZone, settings: ThrownObjectConfig) -> None:
        self.camera_id = camera_id
        self.zone = zone
        self.settings = settings
        self.floors = FloorMap(settings.floors)
        self._foreground = ForegroundExtractor(zone.points, settings)
        self._tracker = Tracker(
            TrackGates(
                gate_px=settings.gate_px,
                first_step_px=settings.first_step_px,
                gate_speed_factor=settings.gate_speed_factor,
                max_missed=settings.max_missed_frames,
                max_tracks=settings.max_tracks,
                max_age_s=settings.max_fall_s,
                rest_px=settings.rest_px,
                rest_frames=settings.rest_frames,
            )
        )
        self._test = FreeFallTest(settings, self.floors)
        self._ended: list[TrackPath] = []
        self._limits = StitchLimits(
            settings.stitch_px, settings.stitch_px_per_s, settings.stitch_gap_s
        )
        self._recent: list[tuple[float, float]] = []  # (origin time, origin x) of alerts
        self.rejected_frames = 0
        self.global_changes = 0

    def process(self, frame: Frame) -> list[Alert]:
        """Consume one frame; return an alert for each fall that ended on it."""
        image = frame.image
        if (
            image.ndim != 3
            or image.shape[2] != 3
            or image.dtype != np.uint8
            or min(image.shape[:2]) < 8
        ):
            self.rejected_frames += 1
            log.warning(
                "camera %s: frame %s is not a BGR image; skipped", self.camera_id, frame.seq
            )
            return []
        blobs = self._foreground.blobs(image)
        if blobs.global_change:
            self.global_changes += 1
            ended = self._tracker.clear()
        else:
            ended = self._tracker.update(frame.mono, blobs)
        alerts = []
        for track in ended:
            alert = self._judge(*without_rest(track, self.settings.rest_px), frame)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _judge(
        self, t: Sequence[float], x: Sequence[float], y: Sequence[float], frame: Frame
    ) -> Alert | None:
        crop = self._foreground.crop
        if crop is None or len(t) < 2:
            return None
        path = normalised_path(crop, t, x, y)
        fall = self._fall(path)
        self._remember(path)
        if fall is None or self._duplicate(fall.verdict):
            return None
        self._recent.append((fall.verdict.origin_t, fall.verdict.origin_x))
        return self._alert(fall, frame)

    def _fall(self, path: TrackPath) -> Fall | None:
        """The fall this track is part of, with earlier broken-off pieces stitched on."""
        if len(path.t) < STITCH_MIN_POINTS or self._test.implausible(path, 0.0):
            return None
        verdict = self._test.judge(path)
        longer = stitch(path, self._ended, self.floors, self._limits)
        if len(longer.t) > len(path.t):
            again = self._test.judge(longer)
            added = len(longer.t) - len(path.t)
            log.debug(
                "camera %s: %d points + %d stitched: %s / %s",
                self.camera_id, len(path.t), added, verdict.reason, again.reason,
            )  # fmt: skip
            if again.accepted:
                return Fall(longer, again)
        return Fall(path, verdict) if verdict.accepted else None

    def _remember(self, path: TrackPath) -> None:
        """Keep ended tracks a while: a later fall may continue one of them."""
        if path.y[-1] < path.y[0]:
            return  # a fall never continues a rising track
        horizon = float(path.t[-1]) - self.settings.stitch_gap_s - self.settings.max_fall_s
        self._ended = [p for p in self._ended if p.t[-1] >= horizon][-MAX_REMEMBERED:] + [path]

    def _duplicate(self, verdict: FallVerdict) -> bool:
        window = self.settings.duplicate_window_s
        self._recent = [(t, x) for t, x in self._recent if verdict.origin_t - t <= window]
        return any(
            abs(x - verdict.origin_x) <= self.settings.duplicate_dx for _t, x in self._recent
        )

    def _alert(self, fall: Fall, frame: Frame) -> Alert:
        verdict, path = fall.verdict, fall.path
        fix = self.floors.floor_at(verdict.origin_y)
        confidence = fix.confidence * (
            1 - 0.5 * min(1.0, verdict.backtrack_s / max(self.settings.max_backtrack_s, 1e-6))
        )
        column = self.floors.column_at(verdict.origin_x, verdict.origin_y)
        started = frame.wall - timedelta(seconds=frame.mono - verdict.origin_t)
        step = max(1, len(path.t) // TRAJECTORY_POINTS)
        line = tuple(
            (round(float(a), 4), round(float(b), 4))
            for a, b in zip(path.x[::step], path.y[::step], strict=True)
        )
        trajectory = [
            [round(float(tt - path.t[0]), 3), round(float(a), 4), round(float(b), 4)]
            for tt, a, b in zip(path.t, path.x, path.y, strict=True)
        ]
        return Alert(
            kind=KIND,
            started_at=started,
            confirmed_at=frame.wall,
            confidence=round(confidence, 3),
            camera_id=self.camera_id,
            region=self.zone.id,
            summary=f"object thrown from floor {fix.floor}"
            + (f", window column {column}" if column else ""),
            overlay=(((round(verdict.origin_x, 4), round(verdict.origin_y, 4)), *line),),
            details={
                "floor": fix.floor,
                "floor_confidence": round(fix.confidence, 3),
                "window_column": column,
                "trajectory": trajectory,
                "origin": [round(verdict.origin_x, 4), round(verdict.origin_y, 4)],
                "accel_ratio": round(verdict.accel_ratio, 3),
            },
        )


def normalised_path(
    crop: Crop, t: Sequence[float], x: Sequence[float], y: Sequence[float]
) -> TrackPath:
    """A track of analysed-crop pixels in normalised full-image coordinates."""
    sx = (crop.x1 - crop.x0) / crop.work_w / crop.image_w
    sy = (crop.y1 - crop.y0) / crop.work_h / crop.image_h
    xs = (crop.x0 / crop.image_w) + (np.asarray(x, np.float64) + 0.5) * sx
    ys = (crop.y0 / crop.image_h) + (np.asarray(y, np.float64) + 0.5) * sy
    return TrackPath(np.asarray(t, np.float64), xs, ys, 1.0 / sx, 1.0 / sy)
