"""`Detections`: one frame's objects as columns, filtered with boolean masks.

Modelled on supervision's `Detections`: boxes (xyxy pixels), scores, class ids
and track ids are parallel numpy arrays, so zone tests and thresholds are
vectorised (``dets[zone.contains(dets) & (dets.scores > 0.5)]``) and nothing
passes ``(label, score, box)`` tuples around.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
NO_TRACK = -1


@dataclass(frozen=True, slots=True)
class Detections:
    """Objects found in one image; track ids are ``-1`` until a tracker assigns them."""

    boxes: FloatArray  # N x 4, x1 y1 x2 y2 in image pixels
    scores: FloatArray  # N
    classes: IntArray  # N
    track_ids: IntArray  # N

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or not (
            len(self.scores) == len(self.classes) == len(self.track_ids) == n
        ):
            raise ValueError(
                f"Detections columns disagree: boxes {self.boxes.shape}, scores "
                f"{self.scores.shape}, classes {self.classes.shape}, track_ids "
                f"{self.track_ids.shape}"
            )

    @classmethod
    def empty(cls) -> Detections:
        return cls.of(np.zeros((0, 4)), np.zeros(0), np.zeros(0))

    @classmethod
    def of(
        cls,
        boxes: npt.ArrayLike,
        scores: npt.ArrayLike,
        classes: npt.ArrayLike,
        track_ids: npt.ArrayLike | None = None,
    ) -> Detections:
        """Build from anything array-like, converting to the column dtypes."""
        box_array = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        ids = np.full(len(box_array), NO_TRACK) if track_ids is None else track_ids
        return cls(
            boxes=box_array,
            scores=np.asarray(scores, dtype=np.float32).reshape(-1),
            classes=np.asarray(classes, dtype=np.int64).reshape(-1),
            track_ids=np.asarray(ids, dtype=np.int64).reshape(-1),
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: Mask | IntArray | slice) -> Detections:
        """Rows selected by a boolean mask, an index array or a slice."""
        return Detections(
            boxes=self.boxes[index],
            scores=self.scores[index],
            classes=self.classes[index],
            track_ids=self.track_ids[index],
        )

    def with_track_ids(self, track_ids: npt.ArrayLike) -> Detections:
        return Detections.of(self.boxes, self.scores, self.classes, track_ids)

    def anchors(self, anchor: str = "bottom_center") -> FloatArray:
        """N x 2 points that stand for each box: ``bottom_center`` (feet, wheels) or ``center``."""
        x = (self.boxes[:, 0] + self.boxes[:, 2]) / 2
        if anchor == "center":
            y: FloatArray = (self.boxes[:, 1] + self.boxes[:, 3]) * np.float32(0.5)
        elif anchor == "bottom_center":
            y = self.boxes[:, 3]
        else:
            raise ValueError(f"unknown anchor {anchor!r}: use bottom_center or center")
        return np.stack([x, y], axis=1).astype(np.float32)

    def of_classes(self, classes: frozenset[int]) -> Mask:
        """Mask of rows whose class id is in `classes`."""
        return np.isin(self.classes, np.fromiter(classes, dtype=np.int64, count=len(classes)))
