"""Floor calibration: from an image row to the floor it lies on, and its scale.

Rows are normalised (0 = top of the image). The region between slab line `i`
and line `i + 1` is floor ``top_floor - i``. Rows outside the calibrated span
map to the nearest floor with low confidence.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.thrown_object.config import FloorCalibration, G

OUTSIDE_CONFIDENCE = 0.3


@dataclass(frozen=True, slots=True)
class FloorFix:
    """The floor a row lies on, and how sure the mapping is (0..1)."""

    floor: int
    confidence: float


class FloorMap:
    """Maps normalised image points to floors, window columns and metric scale."""

    def __init__(self, calibration: FloorCalibration) -> None:
        self._lines = list(calibration.lines)
        self._top = calibration.top_floor
        self._storey_m = calibration.floor_height_m
        self._columns = calibration.window_columns

    def floor_at(self, row: float) -> FloorFix:
        """The floor of normalised row `row`; confidence 1 mid-storey, 0.5 on a slab line."""
        lines = self._lines
        if row < lines[0]:
            return FloorFix(self._top, OUTSIDE_CONFIDENCE)
        if row >= lines[-1]:
            return FloorFix(self._top - len(lines) + 2, OUTSIDE_CONFIDENCE)
        index = bisect_right(lines, row) - 1
        upper, lower = lines[index], lines[index + 1]
        half = (lower - upper) / 2
        distance = min(row - upper, lower - row)
        return FloorFix(self._top - index, 0.5 + 0.5 * min(1.0, distance / half))

    def heights(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Heights in metres above the lowest slab line of normalised `rows`.

        Piecewise linear between slab lines (a storey is short enough for the
        projection to be linear across it), extended linearly beyond them.
        Fitting a fall in metres removes the perspective of a tilted view.
        """
        lines, levels = self._line_levels()  # rows increasing, heights decreasing
        inside = np.interp(rows, lines, levels)
        above = levels[0] + (lines[0] - rows) / (lines[1] - lines[0]) * self._storey_m
        below = (lines[-1] - rows) / (lines[-1] - lines[-2]) * self._storey_m
        result: npt.NDArray[np.float64] = np.where(
            rows < lines[0], above, np.where(rows > lines[-1], below, inside)
        )
        return result

    def rows(self, heights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Normalised rows of `heights` (metres above the lowest slab line)."""
        lines, levels = self._line_levels()
        inside = np.interp(heights, levels[::-1], lines[::-1])
        above = lines[0] - (heights - levels[0]) / self._storey_m * (lines[1] - lines[0])
        below = lines[-1] - heights / self._storey_m * (lines[-1] - lines[-2])
        result: npt.NDArray[np.float64] = np.where(
            heights > levels[0], above, np.where(heights < 0, below, inside)
        )
        return result

    def _line_levels(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        lines = np.asarray(self._lines, dtype=np.float64)
        levels = np.arange(len(lines) - 1, -1, -1, dtype=np.float64) * self._storey_m
        return lines, levels

    def rows_per_metre(self, row: float) -> float:
        """Normalised rows per metre of height near `row` (nearest storey outside the span)."""
        lines = self._lines
        index = min(max(bisect_right(lines, row) - 1, 0), len(lines) - 2)
        return (lines[index + 1] - lines[index]) / self._storey_m

    def gravity_rows(self, row: float) -> float:
        """g at `row` in normalised rows per second squared."""
        return G * self.rows_per_metre(row)

    def column_at(self, x: float, row: float) -> int | None:
        """Window column (from 1, left to right) of a point, or None when uncalibrated."""
        if not self._columns:
            return None
        column = 1
        for boundary in self._columns:
            (x0, y0), (x1, y1) = boundary.top, boundary.bottom
            share = 0.0 if y1 == y0 else (row - y0) / (y1 - y0)
            if x > x0 + share * (x1 - x0):
                column += 1
        return column
