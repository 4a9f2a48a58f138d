"""Pure, vectorised geometry on image coordinates: polygons, anchors and crossing lines.

Zones are configured in normalised coordinates (0..1, `hub.config.Zone`);
`to_pixels` scales them to a frame. Every function here is free of state and
of OpenCV, and is tested with tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Points = npt.NDArray[np.float32]  # N x 2
Mask = npt.NDArray[np.bool_]


def to_pixels(points: Sequence[tuple[float, float]], width: int, height: int) -> Points:
    """Normalised (0..1) vertices as pixel coordinates of a `width` x `height` image."""
    scale = np.asarray([width, height], dtype=np.float32)
    return np.asarray(np.asarray(points, dtype=np.float32) * scale, dtype=np.float32)


def points_in_polygon(points: Points, polygon: Points) -> Mask:
    """Which `points` lie inside `polygon` (even-odd rule; points on an edge count as inside)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return np.zeros(0, dtype=bool)
    x, y = pts[:, 0:1], pts[:, 1:2]
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    inside = np.logical_xor.reduce(straddles & (x < x_cross), axis=1)
    return np.asarray(inside | _on_boundary(pts, poly), dtype=bool)


def _on_boundary(pts: npt.NDArray[np.float64], poly: npt.NDArray[np.float64]) -> Mask:
    a = poly[None, :, :]
    b = np.roll(poly, -1, axis=0)[None, :, :]
    p = pts[:, None, :]
    ab, ap = b - a, p - a
    cross = ab[..., 0] * ap[..., 1] - ab[..., 1] * ap[..., 0]
    dot = (ap * ab).sum(-1)
    length2 = (ab * ab).sum(-1)
    on = (np.abs(cross) <= 1e-9 * np.maximum(length2, 1.0)) & (dot >= 0) & (dot <= length2)
    return np.asarray(on.any(axis=1), dtype=bool)


def side_of_line(points: Points, start: Points, end: Points) -> npt.NDArray[np.int8]:
    """+1 left of the directed line start→end (image coordinates, y down), -1 right, 0 on it."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)
    rel = p - np.asarray(start, dtype=np.float64)
    cross = d[0] * rel[:, 1] - d[1] * rel[:, 0]
    return np.asarray(np.sign(-cross), dtype=np.int8)


def crossings(before: Points, after: Points, line: Points) -> npt.NDArray[np.int8]:
    """Per movement before→after: +1 crossed `line` from its right to its left, -1 the
    other way, 0 no crossing. `line` is a polyline (M x 2); a touch counts as no crossing.

    "Left" is seen walking along the line from its first to its last vertex, in image
    coordinates (y down): for a line drawn left→right, left is the upper side.
    """
    b = np.asarray(before, dtype=np.float64).reshape(-1, 2)
    a = np.asarray(after, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(len(b), dtype=np.int8)
    poly = np.asarray(line, dtype=np.float64).reshape(-1, 2)
    for start, end in zip(poly[:-1], poly[1:], strict=True):
        s0 = side_of_line(b.astype(np.float32), start.astype(np.float32), end.astype(np.float32))
        s1 = side_of_line(a.astype(np.float32), start.astype(np.float32), end.astype(np.float32))
        cross_segment = _segments_intersect(b, a, start, end) & (s0 != s1) & (s0 != 0) & (s1 != 0)
        out = np.where((out == 0) & cross_segment, s1, out).astype(np.int8)
    return out


def _segments_intersect(
    p0: npt.NDArray[np.float64],
    p1: npt.NDArray[np.float64],
    q0: npt.NDArray[np.float64],
    q1: npt.NDArray[np.float64],
) -> Mask:
    """Whether each movement p0→p1 intersects the segment q0→q1 (proper or touching)."""
    d = q1 - q0
    side_p0 = d[0] * (p0[:, 1] - q0[1]) - d[1] * (p0[:, 0] - q0[0])
    side_p1 = d[0] * (p1[:, 1] - q0[1]) - d[1] * (p1[:, 0] - q0[0])
    m = p1 - p0
    side_q0 = m[:, 0] * (q0[1] - p0[:, 1]) - m[:, 1] * (q0[0] - p0[:, 0])
    side_q1 = m[:, 0] * (q1[1] - p0[:, 1]) - m[:, 1] * (q1[0] - p0[:, 0])
    return np.asarray((side_p0 * side_p1 <= 0) & (side_q0 * side_q1 <= 0), dtype=bool)


def box_overlap_fraction(boxes: Points, polygon_mask: npt.NDArray[np.uint8]) -> Points:
    """Fraction of each xyxy box's area that falls on the non-zero pixels of `polygon_mask`."""
    h, w = polygon_mask.shape
    out = np.zeros(len(boxes), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, dtype=np.float64)):
        c1, r1 = int(np.clip(x1, 0, w)), int(np.clip(y1, 0, h))
        c2, r2 = int(np.clip(np.ceil(x2), 0, w)), int(np.clip(np.ceil(y2), 0, h))
        area = max((c2 - c1) * (r2 - r1), 1)
        out[i] = float(np.count_nonzero(polygon_mask[r1:r2, c1:c2])) / area
    return out
