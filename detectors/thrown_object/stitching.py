"""Stitching: extend an accepted fall backwards with points of earlier, broken tracks.

A falling object is often lost for a few frames near its start (it moves
slowly at first, crosses a window of its own brightness, or is smeared by the
encoder), so the track the free-fall test accepts may begin well below the
window it came from. Points of recently ended tracks that lie on the backward
extension of the fitted fall are added, nearest in time first, refitting as
they come (a fifth of a second at a time); the origin is then traced from the longer track.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from detectors.thrown_object.config import G
from detectors.thrown_object.floors import FloorMap
from detectors.thrown_object.freefall import TrackPath

STEP_BACK_S = 0.2  # stitch this much at a time, refitting in between
FREE_FIT_POINTS = 12
NEAR_X = 0.15  # only tracks ending this close (normalised) to the fall's start


@dataclass(frozen=True, slots=True)
class StitchLimits:
    """How close (analysed pixels) and how far apart in time a stitched point may be."""

    tolerance_px: float
    tolerance_px_per_s: float  # extrapolation grows less certain with the gap
    max_gap_s: float


def stitch(
    path: TrackPath, earlier: Iterable[TrackPath], floors: FloorMap, limits: StitchLimits
) -> TrackPath:
    """`path` with the points of `earlier` tracks that continue it backwards."""
    start, x0 = float(path.t[0]), float(path.x[0])
    near = [p for p in earlier if p.t[0] < start and abs(float(p.x[-1]) - x0) < NEAR_X]
    if not near:
        return path
    ct = np.concatenate([p.t for p in near])
    cx = np.concatenate([p.x for p in near])
    cy = np.concatenate([p.y for p in near])
    t, x, y = path.t, path.x, path.y
    free = np.ones(len(ct), bool)
    while True:
        window = free & (ct < t[0]) & (ct >= t[0] - STEP_BACK_S)
        if not window.any():
            window = free & (ct < t[0]) & (ct >= t[0] - limits.max_gap_s)
        if not window.any():
            break
        fit_h, fit_x = _fit(t, x, y, floors)
        rows = floors.rows(np.polyval(fit_h, ct[window]))
        dx = (cx[window] - np.polyval(fit_x, ct[window])) * path.px_per_unit_x
        dy = (cy[window] - rows) * path.px_per_unit_y
        allowed = limits.tolerance_px + limits.tolerance_px_per_s * (t[0] - ct[window])
        index = np.flatnonzero(window)[np.hypot(dx, dy) <= allowed]
        free[np.flatnonzero(window)] = False
        if len(index):
            order = np.argsort(np.concatenate([ct[index], t]))
            t = np.concatenate([ct[index], t])[order]
            x = np.concatenate([cx[index], x])[order]
            y = np.concatenate([cy[index], y])[order]
    if len(t) == len(path.t):
        return path
    return TrackPath(t, x, y, path.px_per_unit_x, path.px_per_unit_y)


def _fit(
    t: np.ndarray, x: np.ndarray, y: np.ndarray, floors: FloorMap
) -> tuple[np.ndarray, np.ndarray]:
    """Height (metres) and x polynomials of the points so far.

    A short track's own acceleration is too noisy to extrapolate, so below
    `FREE_FIT_POINTS` points the height is fitted with g fixed.
    """
    times = np.asarray(t)
    heights = floors.heights(np.asarray(y))
    side = np.polyfit(times, np.asarray(x), 2 if len(t) >= FREE_FIT_POINTS else 1)
    if len(t) >= FREE_FIT_POINTS:
        return np.polyfit(times, heights, 2), side
    lifted = heights + 0.5 * G * times**2
    c1, c0 = np.polyfit(times, lifted, 1)
    return np.array([-0.5 * G, c1, c0]), side
