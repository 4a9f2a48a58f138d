"""Zone geometry tables: polygons, sides of a line, crossings with direction, anchors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from detectors.detections import Detections
from detectors.zones.geometry import crossings, points_in_polygon, side_of_line, to_pixels


def f32(values: object) -> npt.NDArray[np.float32]:
    return np.asarray(values, dtype=np.float32)


SQUARE = f32([[0, 0], [10, 0], [10, 10], [0, 10]])
L_SHAPE = f32([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]])


@pytest.mark.parametrize(
    ("polygon", "point", "inside"),
    [
        (SQUARE, (5, 5), True),
        (SQUARE, (11, 5), False),
        (SQUARE, (-0.01, 5), False),
        (SQUARE, (0, 5), True),  # on an edge
        (SQUARE, (10, 10), True),  # on a vertex
        (L_SHAPE, (7, 7), False),  # in the notch
        (L_SHAPE, (2, 8), True),
        (L_SHAPE, (8, 2), True),
    ],
)
def test_points_in_polygon(
    polygon: npt.NDArray[np.float32], point: tuple[float, float], inside: bool
) -> None:
    assert points_in_polygon(f32([point]), polygon).tolist() == [inside]


def test_points_in_polygon_is_vectorised_and_handles_none() -> None:
    pts = f32([[5, 5], [20, 20], [1, 9]])
    assert points_in_polygon(pts, SQUARE).tolist() == [True, False, True]
    assert points_in_polygon(np.zeros((0, 2), np.float32), SQUARE).shape == (0,)


@pytest.mark.parametrize(
    ("point", "side"),
    [((5, -1), 1), ((5, 1), -1), ((5, 0), 0)],  # line drawn left→right: upper side is left
)
def test_side_of_line(point: tuple[float, float], side: int) -> None:
    start, end = f32([0, 0]), f32([10, 0])
    assert side_of_line(f32([point]), start, end).tolist() == [side]


LINE = f32([[0, 5], [10, 5]])
BENT = f32([[0, 5], [5, 5], [5, 10]])


@pytest.mark.parametrize(
    ("line", "before", "after", "direction"),
    [
        (LINE, (5, 8), (5, 2), 1),  # downwards-drawn image: moving up crosses right → left
        (LINE, (5, 2), (5, 8), -1),
        (LINE, (5, 2), (6, 3), 0),  # stays on one side
        (LINE, (12, 8), (12, 2), 0),  # passes beside the end of the line
        (LINE, (5, 8), (5, 5), 0),  # touches it: not yet a crossing
        (BENT, (7, 7), (3, 7), -1),  # second segment, drawn downwards: its left is +x
    ],
)
def test_crossings(
    line: npt.NDArray[np.float32],
    before: tuple[float, float],
    after: tuple[float, float],
    direction: int,
) -> None:
    assert crossings(f32([before]), f32([after]), line).tolist() == [direction]


def test_to_pixels_scales_normalised_points() -> None:
    assert to_pixels([(0.5, 0.25), (1.0, 1.0)], 200, 100).tolist() == [[100, 25], [200, 100]]


def test_detections_filter_with_masks_and_give_anchors() -> None:
    dets = Detections.of([[0, 0, 10, 20], [5, 5, 15, 15]], [0.9, 0.3], [2, 0], [7, 8])
    strong = dets[dets.scores > 0.5]
    assert len(strong) == 1 and strong.track_ids.tolist() == [7]
    assert dets.anchors().tolist() == [[5, 20], [10, 15]]
    assert dets.anchors("center").tolist() == [[5, 10], [10, 10]]
    assert dets.of_classes(frozenset({0})).tolist() == [False, True]
    assert len(Detections.empty()) == 0
    with pytest.raises(ValueError, match="columns disagree"):
        Detections(dets.boxes, dets.scores[:1], dets.classes, dets.track_ids)
