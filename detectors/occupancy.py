"""Class-agnostic lane occupancy: stationary foreground against a learned empty lane.

Objects no detector knows (boxes, furniture, construction waste) still block a
lane. `LaneOccupancy` keeps a slowly learned reference of the empty lane on a
downscaled, blurred grey image and marks pixels that differ from it
(*foreground*) and have not changed since the previous analysed frame
(*still*). Lighting drifts are absorbed two ways: the median difference over
the lane is subtracted (a cloud or a street lamp shifts the whole lane), and the
reference keeps learning wherever the lane looks empty. People (boxes from the
object detector) are masked out: a person standing in the lane does not block it.

`update` returns since when the current occupant has been there: the earliest
time its pixels became foreground, or ``None`` while the lane looks clear.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from detectors.zones.geometry import Points

Grey = npt.NDArray[np.float32]
RING = np.ones((5, 5), dtype=np.uint8)


def _edges(grey: Grey) -> Grey:
    """Gradient magnitude (Sobel) of a grey image."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class OccupancyRules:
    """Tuning of the reference model (see docs/fire-lane.md)."""

    diff_threshold: float = 25.0  # grey levels from the reference that count as foreground
    still_threshold: float = 12.0  # grey levels of change since the last frame that count as moving
    min_fraction: float = 0.02  # share of the lane that must be occupied
    settle_s: float = 5.0  # a pixel counts once it has been still foreground this long
    learn_s: float = 20.0  # time constant of learning where the lane looks empty
    gap_s: float = 10.0  # a pixel hidden or moving this long loses its start time
    width: int = 320  # analysis width in pixels
    warmup_s: float = 10.0  # the first reference is the median of this many seconds of frames


@dataclass
class LaneOccupancy:
    """The empty-lane reference and per-pixel start times for one lane."""

    polygon: Points  # lane in full-image pixels
    rules: OccupancyRules = field(default_factory=OccupancyRules)
    reference: Grey | None = None
    previous: Grey | None = None
    fg_since: npt.NDArray[np.float64] | None = None
    last_fg: npt.NDArray[np.float64] | None = None
    lane: npt.NDArray[np.bool_] | None = None
    scale: float = 1.0
    last_mono: float | None = None
    occupied: npt.NDArray[np.bool_] | None = None
    warmup: list[Grey] = field(default_factory=list)
    started_at: float | None = None

    def update(
        self, now: float, image: npt.NDArray[np.uint8], ignore: npt.NDArray[np.float32]
    ) -> float | None:
        """Feed one BGR frame and the xyxy boxes to ignore (people); return since or None."""
        grey = self._prepare(image)
        assert self.lane is not None
        ignored = self._box_mask(ignore, grey.shape)
        if self.reference is None or self.previous is None:
            self._warm_up(now, np.where(ignored, np.nan, grey).astype(np.float32))
            return None
        diff = grey - self.reference
        diff -= float(np.median(diff[self.lane]))
        foreground = (np.abs(diff) > self.rules.diff_threshold) & self.lane
        still = np.abs(grey - self.previous) < self.rules.still_threshold
        self._track_times(now, foreground & ~ignored)
        self._learn(now, grey, foreground | ignored)
        self.previous, self.last_mono = grey, now
        return self._since(now, grey, foreground & still & ~ignored)

    def _prepare(self, image: npt.NDArray[np.uint8]) -> Grey:
        h, w = image.shape[:2]
        self.scale = min(1.0, self.rules.width / w)
        size = (round(w * self.scale), round(h * self.scale))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if self.scale < 1 else image
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        if self.lane is None or self.lane.shape != grey.shape:
            mask = np.zeros(grey.shape, dtype=np.uint8)
            cv2.fillPoly(mask, [np.round(self.polygon * self.scale).astype(np.int32)], 1)
            self.lane = mask.astype(bool)
            self.reference, self.warmup, self.started_at = None, [], None
        return grey.astype(np.float32)

    def _warm_up(self, now: float, grey: Grey) -> None:
        """Collect frames (NaN under people); their per-pixel median (people walk on, the
        road stays) is the first reference, so nobody in the first frame leaves a ghost."""
        self.started_at = now if self.started_at is None else self.started_at
        self.warmup.append(grey)
        if now - self.started_at < self.rules.warmup_s:
            return
        stack = np.stack(self.warmup)
        with warnings.catch_warnings():  # a pixel under a person in every frame: all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            reference = np.nanmedian(stack, axis=0)
        reference = np.where(np.isnan(reference), stack[-1], reference).astype(np.float32)
        self.warmup = []
        self.reference, self.last_mono = reference, now
        self.previous = np.where(np.isnan(grey), reference, grey).astype(np.float32)
        self.fg_since = np.full(grey.shape, np.nan)
        self.last_fg = np.full(grey.shape, -np.inf)

    def _box_mask(
        self, boxes: npt.NDArray[np.float32], shape: tuple[int, ...]
    ) -> npt.NDArray[np.bool_]:
        mask = np.zeros(shape[:2], dtype=bool)
        for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * self.scale:
            mask[max(int(y1), 0) : int(np.ceil(y2)), max(int(x1), 0) : int(np.ceil(x2))] = True
        return mask

    def _track_times(self, now: float, foreground: npt.NDArray[np.bool_]) -> None:
        assert self.fg_since is not None and self.last_fg is not None
        expired = ~foreground & (now - self.last_fg > self.rules.gap_s)
        self.fg_since[expired] = np.nan
        self.fg_since[foreground & np.isnan(self.fg_since)] = now
        self.last_fg[foreground] = now

    def _learn(self, now: float, grey: Grey, busy: npt.NDArray[np.bool_]) -> None:
        assert self.reference is not None and self.last_mono is not None
        rate = min(1.0, (now - self.last_mono) / self.rules.learn_s)
        learn = ~busy
        self.reference[learn] += rate * (grey[learn] - self.reference[learn])

    def _since(self, now: float, grey: Grey, candidate: npt.NDArray[np.bool_]) -> float | None:
        assert self.fg_since is not None and self.lane is not None
        settled = candidate & (now - np.nan_to_num(self.fg_since, nan=now) >= self.rules.settle_s)
        settled = self._drop_ghosts(grey, settled)
        self.occupied = settled
        if settled.sum() < self.rules.min_fraction * self.lane.sum():
            return None
        return float(np.median(self.fg_since[settled]))

    def _drop_ghosts(self, grey: Grey, settled: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Forget blobs whose outline is in the reference, not in the frame.

        Something that left (or stood in the warm-up frames) leaves a *ghost*: the
        reference still shows it, the frame shows bare lane. A real object brings its
        edges into the frame; a ghost's edges are in the reference. Ghost pixels are
        relearned at once.
        """
        assert self.reference is not None and self.fg_since is not None
        count, labels = cv2.connectedComponents(settled.astype(np.uint8), connectivity=8)
        if count <= 1:
            return settled
        now_edges, ref_edges = _edges(grey), _edges(self.reference)
        kept = settled.copy()
        for label in range(1, count):
            blob = labels == label
            ring = cv2.dilate(blob.astype(np.uint8), RING).astype(bool)
            if now_edges[ring].mean() < ref_edges[ring].mean():
                self.reference[ring] = grey[ring]
                self.fg_since[ring] = np.nan
                kept[ring] = False
        return kept

    def occupied_box(self) -> tuple[float, float, float, float] | None:
        """Bounding box (full-image pixels) of the pixels that counted last frame."""
        if self.occupied is None or not self.occupied.any():
            return None
        rows, cols = np.nonzero(self.occupied)
        s = self.scale
        return (cols.min() / s, rows.min() / s, (cols.max() + 1) / s, (rows.max() + 1) / s)
