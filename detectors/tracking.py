"""Track ids across frames with ByteTrack, the tracker ultralytics ships.

`ByteTracker` feeds columnar `Detections` to ultralytics' `BYTETracker` and
returns them with track ids. Lost tracks are kept `lost_s` seconds, so an
object hidden for a moment keeps its id (and its dwell time).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.backends.ultralytics_model import quiet_ultralytics
from detectors.detections import Detections


@dataclass(frozen=True, slots=True)
class _TrackerInput:
    """The slice of ultralytics' `Boxes` interface that `BYTETracker.update` reads."""

    conf: npt.NDArray[np.float32]
    xywh: npt.NDArray[np.float32]
    cls: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: npt.NDArray[np.bool_]) -> _TrackerInput:
        return _TrackerInput(self.conf[index], self.xywh[index], self.cls[index])


class ByteTracker:
    """ByteTrack over one camera's analysed frames."""

    def __init__(self, fps: float, lost_s: float = 10.0, min_score: float = 0.25) -> None:
        quiet_ultralytics()
        from ultralytics.trackers.byte_tracker import BYTETracker

        args = SimpleNamespace(
            track_high_thresh=min_score,
            track_low_thresh=0.1,
            new_track_thresh=min_score,
            track_buffer=max(1, round(lost_s * fps)),  # frames
            match_thresh=0.8,
            fuse_score=True,
        )
        self._tracker: Any = BYTETracker(args)

    def update(self, detections: Detections) -> Detections:
        """The tracked objects of this frame (Kalman-smoothed boxes), with their ids."""
        boxes = detections.boxes
        xywh = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
        rows = self._tracker.update(
            _TrackerInput(detections.scores, xywh, detections.classes.astype(np.float32))
        )
        if len(rows) == 0:
            return Detections.empty()
        rows = np.asarray(rows, dtype=np.float32)
        return Detections.of(rows[:, :4], rows[:, 5], rows[:, 6], rows[:, 4])
