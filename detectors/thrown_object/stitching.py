"""Stitching: extend an accepted fall backwards with points of earlier, broken tracks.

A falling object is often lost for a few frames near its start (it moves
slowly at first, crosses a window of its own brightness, or is smeared by the
encoder), so the track the free-fall test accepts may begin well below the
window it came from. Points of recently ended tracks that lie on the backward
extension of the fitted fall are added, nearest in time first, refitting as
they come; the origin is then traced from the longer track.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from detectors.thrown_object.config import G
from detectors.thrown_object.floors import FloorMap
from detectors.thrown_object.freefall import TrackPath

REFIT_EVERY = 1
FREE_FIT_POINTS = 12


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
    candidates = sorted(
        (
            (float(t), float(x), float(y))
            for p in earlier
            for t, x, y in zip(p.t, p.x, p.y, strict=True)
            if t < path.t[0]
        ),
        reverse=True,
    )
    t, x, y = list(path.t), list(path.x), list(path.y)
    fit_h, fit_x = _fit(t, x, y, floors)
    added = 0
    for ct, cx, cy in candidates:
        if t[0] - ct > limits.max_gap_s:
            break
        row = float(floors.rows(np.array([np.polyval(fit_h, ct)]))[0])
        dx = (cx - float(np.polyval(fit_x, ct))) * path.px_per_unit_x
        dy = (cy - row) * path.px_per_unit_y
        allowed = limits.tolerance_px + limits.tolerance_px_per_s * (t[0] - ct)
        if np.hypot(dx, dy) > allowed:
            continue
        t.insert(0, ct)
        x.insert(0, cx)
        y.insert(0, cy)
        added += 1
        if added % REFIT_EVERY == 0:
            fit_h, fit_x = _fit(t, x, y, floors)
    if not added:
        return path
    return TrackPath(np.array(t), np.array(x), np.array(y), path.px_per_unit_x, path.px_per_unit_y)


def _fit(
    t: list[float], x: list[float], y: list[float], floors: FloorMap
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
