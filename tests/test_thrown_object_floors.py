"""Floor calibration: rows to floors (with confidence), heights, window columns."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.thrown_object.config import ColumnBoundary, FloorCalibration
from detectors.thrown_object.floors import FloorMap

CALIBRATION = FloorCalibration(
    lines=[0.1, 0.2, 0.3, 0.4],
    top_floor=12,
    window_columns=[
        ColumnBoundary(top=(0.3, 0.1), bottom=(0.3, 0.4)),
        ColumnBoundary(top=(0.62, 0.1), bottom=(0.58, 0.4)),  # leans with perspective
    ],
)


@pytest.mark.parametrize(
    ("row", "floor", "confidence"),
    [
        (0.15, 12, 1.0),  # middle of the top storey
        (0.25, 11, 1.0),
        (0.35, 10, 1.0),
        (0.2, 11, 0.5),  # on a slab line: could be either
        (0.125, 12, 0.75),
        (0.05, 12, 0.3),  # above the roof line: nearest floor, low confidence
        (0.5, 10, 0.3),  # below the lowest line
    ],
)
def test_floor_at(row: float, floor: int, confidence: float) -> None:
    fix = FloorMap(CALIBRATION).floor_at(row)
    assert fix.floor == floor
    assert fix.confidence == pytest.approx(confidence)


@pytest.mark.parametrize(
    ("x", "row", "column"),
    [(0.1, 0.2, 1), (0.45, 0.2, 2), (0.61, 0.1, 2), (0.61, 0.4, 3), (0.9, 0.3, 3)],
)
def test_window_column(x: float, row: float, column: int) -> None:
    assert FloorMap(CALIBRATION).column_at(x, row) == column


def test_no_columns_calibrated_means_no_column() -> None:
    calibration = FloorCalibration(lines=[0.1, 0.5], top_floor=3)
    assert FloorMap(calibration).column_at(0.5, 0.3) is None


def test_heights_and_rows_are_inverse_and_extrapolate() -> None:
    floors = FloorMap(CALIBRATION)
    rows = np.array([0.0, 0.1, 0.15, 0.3, 0.4, 0.55])
    heights = floors.heights(rows)
    assert heights == pytest.approx([12.0, 9.0, 7.5, 3.0, 0.0, -4.5])
    assert floors.rows(heights) == pytest.approx(rows)


def test_lines_must_increase() -> None:
    with pytest.raises(ValueError, match="increase strictly"):
        FloorCalibration(lines=[0.3, 0.2], top_floor=5)
