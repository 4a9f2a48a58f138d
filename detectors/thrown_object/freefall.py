"""The free-fall test: does a track fall like a dropped object?

A thrown object's height follows a parabola with downward acceleration close
to g. Rows are turned into metres with the floor calibration before the fit,
so the perspective of a tilted view (image-space acceleration growing toward
the bottom) does not distort the test. Birds drift
sideways or rise, insects zig-zag, leaves drift slowly, rain streaks and
hovering things do not accelerate: each fails one of the checks below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.thrown_object.config import G, ThrownObjectConfig
from detectors.thrown_object.floors import FloorMap

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrackPath:
    """A track in normalised image coordinates, with the analysed pixels per unit."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    px_per_unit_x: float
    px_per_unit_y: float


@dataclass(frozen=True, slots=True)
class FallVerdict:
    """Whether a track is a free fall, why not, and where it started."""

    accepted: bool
    reason: str
    accel_ratio: float = 0.0
    origin_x: float = 0.0
    origin_y: float = 0.0
    origin_t: float = 0.0
    backtrack_s: float = 0.0


def rejected(reason: str, accel_ratio: float = 0.0) -> FallVerdict:
    return FallVerdict(False, reason, accel_ratio)


class FreeFallTest:
    """Applies the configured thresholds to a track."""

    def __init__(self, settings: ThrownObjectConfig, floors: FloorMap) -> None:
        self._s = settings
        self._floors = floors

    def judge(self, path: TrackPath) -> FallVerdict:
        """Accept a free fall, or say which check it failed."""
        if len(path.t) < self._s.min_track_frames:
            return rejected("too few points")
        problem = self.implausible(path, self._s.min_fall_fraction)
        if problem:
            return rejected(problem)
        return self._shape(path, path.t - path.t[0])

    def implausible(self, path: TrackPath, min_drop: float) -> str:
        """The first cheap check a track fails ('' if none): coverage, drop, direction, drift."""
        s = self._s
        steps_s = np.diff(path.t)
        frame_s = float(np.min(steps_s)) if len(steps_s) else 1.0
        seen = len(path.t) / (1 + float(path.t[-1] - path.t[0]) / max(frame_s, 1e-3))
        if seen < s.min_coverage:
            return "seen in too few of its frames"
        drop = float(path.y[-1] - path.y[0])
        if drop < min_drop:
            return "does not drop far enough"
        if np.mean(np.diff(path.y) > 0) < s.min_down_fraction:
            return "not mostly downward"
        dx_px = abs(float(path.x[-1] - path.x[0])) * path.px_per_unit_x
        if dx_px > s.max_drift_ratio * drop * path.px_per_unit_y:
            return "drifts sideways"
        return ""

    def _shape(self, path: TrackPath, t: FloatArray) -> FallVerdict:
        """Fit the height (metres, from the floor calibration) with a parabola."""
        s = self._s
        heights = self._floors.heights(path.y)
        c2, c1, c0 = np.polyfit(t, heights, 2)
        fitted_rows = self._floors.rows(np.polyval([c2, c1, c0], t))
        rms_y = float(np.sqrt(np.mean((path.y - fitted_rows) ** 2))) * path.px_per_unit_y
        ratio = -2 * float(c2) / G
        if not s.accel_ratio_min <= ratio <= s.accel_ratio_max:
            return rejected("acceleration is not gravity", ratio)
        drop_px = float(path.y[-1] - path.y[0]) * path.px_per_unit_y
        if rms_y > max(s.max_fit_residual_px, s.max_fit_residual_share * drop_px):
            return rejected("height is not a parabola", ratio)
        end_speed = -(2 * float(c2) * float(t[-1]) + float(c1))
        if end_speed < s.min_end_speed_mps:
            return rejected("falls too slowly", ratio)
        side = np.polyfit(t, path.x, 2)  # perspective bends a straight path a little
        rms_x = float(np.sqrt(np.mean((path.x - np.polyval(side, t)) ** 2))) * path.px_per_unit_x
        if rms_x > s.max_x_residual_px:
            return rejected("zig-zags sideways", ratio)
        vertex = -float(c1) / (2 * float(c2))
        if vertex < -s.max_unseen_s:
            return rejected("was falling long before it was seen", ratio)
        origin = max(vertex, -s.max_backtrack_s) if vertex < 0 else 0.0
        return FallVerdict(
            accepted=True,
            reason="free fall",
            accel_ratio=ratio,
            origin_x=float(np.polyval(side, origin)),
            origin_y=float(self._floors.rows(np.array([np.polyval([c2, c1, c0], origin)]))[0]),
            origin_t=float(path.t[0] + origin),
            backtrack_s=-origin,
        )
