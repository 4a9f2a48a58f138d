"""Moving blobs of the facade region: background subtraction on a small grey crop.

Only the bounding box of the facade zone is analysed, downscaled and grey. A
running-average background absorbs slow light changes; a frame whose moving
share is high is first checked for camera shake (a global shift, estimated by
phase correlation and compensated), and if it stays high it is a global change
(lights, IR switch, exposure jump): the background restarts from it and it
yields no blobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from cv2.typing import MatLike

from detectors.thrown_object.config import ThrownObjectConfig

FloatArray = npt.NDArray[np.float64]
NOISE_EVERY = 4  # frames between refreshes of the threshold map
NOISE_LEARNING = 0.04  # learning rate of the per-pixel deviation
MIN_SHIFT_PX = 0.4
KERNEL = np.ones((3, 3), np.uint8)
SHAKE_DOWNSCALE = 4  # the global shift is estimated on a 4x smaller image
FOREGROUND_LEARNING = 0.1  # share of the learning rate where something moves


@dataclass(frozen=True, slots=True)
class Blobs:
    """Moving blobs of one frame, columnar, in analysed-crop pixels."""

    x: FloatArray
    y: FloatArray
    area: FloatArray
    global_change: bool = False

    def __len__(self) -> int:
        return len(self.x)


def no_blobs(global_change: bool) -> Blobs:
    empty = np.zeros(0, dtype=np.float64)
    return Blobs(empty, empty, empty, global_change)


def _clear_border(mask: MatLike, band: int) -> None:
    mask[:band, :] = 0
    mask[-band:, :] = 0
    mask[:, :band] = 0
    mask[:, -band:] = 0


@dataclass(frozen=True, slots=True)
class Crop:
    """Where the analysed crop lies on the full image and how it is scaled."""

    x0: int
    y0: int
    x1: int
    y1: int
    work_w: int
    work_h: int
    image_w: int
    image_h: int

    @classmethod
    def around(
        cls, polygon: Sequence[tuple[float, float]], size: tuple[int, int], scale: float
    ) -> Crop:
        width, height = size
        xs = [p[0] * width for p in polygon]
        ys = [p[1] * height for p in polygon]
        x0, y0 = max(int(min(xs)), 0), max(int(min(ys)), 0)
        x1, y1 = min(int(np.ceil(max(xs))), width), min(int(np.ceil(max(ys))), height)
        factor = round(1 / scale)
        if abs(1 / scale - factor) < 1e-6 and factor > 1:
            # Whole multiples of the factor take OpenCV's fast area-averaging path.
            x1 = x0 + max((x1 - x0) // factor, 8) * factor
            y1 = y0 + max((y1 - y0) // factor, 8) * factor
            x1, y1 = min(x1, width), min(y1, height)
        work_w = max(int(round((x1 - x0) * scale)), 8)
        work_h = max(int(round((y1 - y0) * scale)), 8)
        return cls(x0, y0, x1, y1, work_w, work_h, width, height)

    def to_normalised(self, x: float, y: float) -> tuple[float, float]:
        """A crop point (pixel centres) in normalised full-image coordinates."""
        fx = self.x0 + (x + 0.5) * (self.x1 - self.x0) / self.work_w
        fy = self.y0 + (y + 0.5) * (self.y1 - self.y0) / self.work_h
        return fx / self.image_w, fy / self.image_h


class ForegroundExtractor:
    """Turns frames into moving blobs inside the facade polygon."""

    def __init__(
        self, polygon: Sequence[tuple[float, float]], settings: ThrownObjectConfig
    ) -> None:
        self._polygon = list(polygon)
        self._settings = settings
        self.crop: Crop | None = None
        self._mask: npt.NDArray[np.uint8] = np.zeros((0, 0), np.uint8)
        self._mask_area = 1
        self._background: MatLike | None = None
        self._deviation: MatLike | None = None
        self._limits: MatLike | None = None
        self._frames = 0

    def reset(self, size: tuple[int, int]) -> None:
        """Start over for images of `size` (width, height)."""
        self.crop = crop = Crop.around(self._polygon, size, self._settings.scale)
        points = np.array(
            [[(x * crop.image_w - crop.x0) * crop.work_w / (crop.x1 - crop.x0),
              (y * crop.image_h - crop.y0) * crop.work_h / (crop.y1 - crop.y0)]
             for x, y in self._polygon],
            dtype=np.int32,
        )  # fmt: skip
        self._mask = np.zeros((crop.work_h, crop.work_w), np.uint8)
        cv2.fillPoly(self._mask, [points], 255)
        self._mask_area = max(int(np.count_nonzero(self._mask)), 1)
        self._background = None
        self._deviation = None
        self._limits = None
        self._frames = 0

    def blobs(self, image: npt.NDArray[np.uint8]) -> Blobs:
        """The moving blobs of `image` (BGR, full size)."""
        size = (int(image.shape[1]), int(image.shape[0]))
        crop = self.crop
        if crop is None or (crop.image_w, crop.image_h) != size:
            self.reset(size)
            crop = self.crop
            assert crop is not None
        grey = self._grey(image, crop)
        if self._background is None:
            self._background = grey.astype(np.float32)
            return no_blobs(False)
        moving = self._moving(grey)
        if moving is None:
            self._background = grey.astype(np.float32)
            return no_blobs(True)
        moving = cv2.dilate(moving, KERNEL)  # join the pieces of one object
        self._learn(grey, moving)
        return self._components(moving)

    def _learn(self, grey: MatLike, moving: MatLike) -> None:
        """Update the background, slowly where something moves (so it leaves no ghost)."""
        background = self._background
        assert background is not None
        alpha = self._settings.background_alpha
        cv2.accumulateWeighted(grey, background, alpha, mask=cv2.bitwise_not(moving))
        cv2.accumulateWeighted(grey, background, alpha * FOREGROUND_LEARNING, mask=moving)

    def _grey(self, image: npt.NDArray[np.uint8], crop: Crop) -> MatLike:
        region = image[crop.y0 : crop.y1, crop.x0 : crop.x1]
        small = cv2.resize(region, (crop.work_w, crop.work_h), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)

    def _moving(self, grey: MatLike) -> MatLike | None:
        """Foreground mask, shake-compensated; None when the whole view changed."""
        assert self._background is not None
        difference = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        moving = self._threshold_mask(difference)
        share = np.count_nonzero(moving) / self._mask_area
        if share > self._settings.shake_check_fraction:
            shifted = self._compensate_shake(grey)
            if shifted is not None:
                background, band = shifted
                difference = cv2.absdiff(grey, background)
                moving = self._threshold_mask(difference)
                _clear_border(moving, band)  # what the shake brought into view
                share = np.count_nonzero(moving) / self._mask_area
        if share > self._settings.max_foreground_fraction:
            return None
        self._learn_noise(difference, moving)
        return moving

    def _threshold_mask(self, difference: MatLike) -> MatLike:
        """Pixels that changed by more than their own usual flicker allows."""
        if self._limits is None:
            self._limits = np.full(difference.shape, self._settings.diff_threshold, np.uint8)
        moving = cv2.compare(difference, self._limits, cv2.CMP_GT)
        return cv2.bitwise_and(moving, self._mask)

    def _learn_noise(self, difference: MatLike, moving: MatLike) -> None:
        """Track each pixel's mean absolute deviation; refresh the threshold map now and then.

        Edges that flicker under compression and noisy dark areas get a higher
        threshold than flat, clean wall, so they do not breed blobs.
        """
        deviation = self._deviation
        if deviation is None:
            deviation = self._deviation = np.zeros(difference.shape, np.float32)
        # Slowly where something moves: a passing object is not flicker.
        cv2.accumulateWeighted(difference, deviation, NOISE_LEARNING, mask=cv2.bitwise_not(moving))
        cv2.accumulateWeighted(
            difference, deviation, NOISE_LEARNING * FOREGROUND_LEARNING, mask=moving
        )
        self._frames += 1
        if self._frames % NOISE_EVERY == 0:
            self._limits = cv2.convertScaleAbs(
                deviation,
                alpha=self._settings.noise_factor,
                beta=self._settings.diff_threshold,
            )

    def _compensate_shake(self, grey: MatLike) -> tuple[MatLike, int] | None:
        """The background moved onto `grey` by the global shift (and the shift's size in
        whole pixels), or None if there is none."""
        assert self._background is not None
        step = SHAKE_DOWNSCALE
        before = np.ascontiguousarray(self._background[::step, ::step])
        after = np.ascontiguousarray(grey[::step, ::step], dtype=np.float32)
        (dx, dy), response = cv2.phaseCorrelate(before, after)
        dx, dy = dx * step, dy * step
        if response < 0.05 or np.hypot(dx, dy) < MIN_SHIFT_PX:
            return None
        shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float32)
        size = (grey.shape[1], grey.shape[0])
        moved = cv2.warpAffine(self._background, shift, size, borderMode=cv2.BORDER_REPLICATE)
        self._background = moved
        return cv2.convertScaleAbs(moved), int(np.ceil(max(abs(dx), abs(dy)))) + 1

    def _components(self, moving: MatLike) -> Blobs:
        """Centroid and pixel count of each blob (contours: cheap on a sparse mask).

        Tall thin blobs are streaks: one is a fast falling object, many at once
        are rain, and then all streaks of the frame are dropped.
        """
        contours, _hierarchy = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        settings = self._settings
        rows = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < settings.min_blob_area:
                continue
            m = cv2.moments(moving[y : y + h, x : x + w], binaryImage=True)
            if settings.min_blob_area <= m["m00"] <= settings.max_blob_area:
                streak = h > settings.max_elongation * w
                rows.append((x + m["m10"] / m["m00"], y + m["m01"] / m["m00"], m["m00"], streak))
        table = np.array(rows, dtype=np.float64).reshape(-1, 4)
        if np.count_nonzero(table[:, 3]) >= settings.rain_streaks:
            table = table[table[:, 3] == 0]
        if len(table) > settings.max_blobs:
            table = table[np.argsort(table[:, 2])[::-1][: settings.max_blobs]]
        if not len(table):
            return no_blobs(False)
        return Blobs(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(), False)
