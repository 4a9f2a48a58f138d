"""Small-object tracking: greedy nearest-neighbour assignment inside predicted gates.

A track predicts its next position from its last points (constant acceleration
once it has three, constant velocity with two, standing still with one); a blob
joins the nearest track whose gate holds it, the gate growing with the track's
speed. Unmatched blobs start tracks; a track unseen for more than
`max_missed` frames, or one that came down and stopped (landed), ends and is
handed back for the free-fall test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detectors.thrown_object.foreground import Blobs

MAX_POINTS = 400


@dataclass(frozen=True, slots=True)
class TrackGates:
    """How far a blob may lie from a track's prediction, and how long tracks live."""

    gate_px: float
    first_step_px: float
    gate_speed_factor: float
    max_missed: int
    max_tracks: int
    max_age_s: float
    rest_px: float = 1.0
    rest_frames: int = 3


@dataclass(slots=True)
class Track:
    """One moving thing: times (s) and positions (analysed pixels)."""

    id: int
    t: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    missed: int = 0

    def add(self, t: float, x: float, y: float) -> None:
        if len(self.t) < MAX_POINTS:
            self.t.append(t)
            self.x.append(x)
            self.y.append(y)
        self.missed = 0

    def predict(self, t: float) -> tuple[float, float, float]:
        """Predicted (x, y) at time `t` and the recent step length per frame.

        From three points spread over the last few frames (so centroid jitter
        matters less): a parabola in y (never accelerating upwards), a line in x.
        """
        n = len(self.t)
        if n == 1:
            return self.x[0], self.y[0], 0.0
        h = max(1, min(3, (n - 1) // 2))
        t2, x2, y2 = self.t[-1], self.x[-1], self.y[-1]
        t1, x1, y1 = self.t[-1 - h], self.x[-1 - h], self.y[-1 - h]
        dt = max(t2 - t1, 1e-3)
        vx, vy = (x2 - x1) / dt, (y2 - y1) / dt
        ay = 0.0
        if n >= 3:
            t0, y0 = self.t[-1 - 2 * h], self.y[-1 - 2 * h]
            ay = max(2 * (vy - (y1 - y0) / max(t1 - t0, 1e-3)) / max(t2 - t0, 1e-3), 0.0)
        ahead = t - t2
        step = float(np.hypot(x2 - x1, y2 - y1)) / h
        return x2 + vx * ahead, y2 + (vy + 0.5 * ay * dt) * ahead + 0.5 * ay * ahead**2, step


class Tracker:
    """Keeps the live tracks of one camera."""

    def __init__(self, gates: TrackGates) -> None:
        self._gates = gates
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def live(self) -> list[Track]:
        return list(self._tracks)

    def clear(self) -> list[Track]:
        """End every track (after a global change); returns them."""
        ended, self._tracks = self._tracks, []
        return ended

    def update(self, t: float, blobs: Blobs) -> list[Track]:
        """Assign `blobs` seen at time `t`; returns the tracks that ended."""
        taken = self._assign(t, blobs)
        for index in range(len(blobs)):
            if index not in taken and len(self._tracks) < self._gates.max_tracks:
                track = Track(self._next_id)
                self._next_id += 1
                track.add(t, float(blobs.x[index]), float(blobs.y[index]))
                self._tracks.append(track)
        ended = [tr for tr in self._tracks if self._finished(tr, t)]
        self._tracks = [tr for tr in self._tracks if not self._finished(tr, t)]
        return ended

    def _finished(self, track: Track, t: float) -> bool:
        gates = self._gates
        if track.missed > gates.max_missed or t - track.t[0] > gates.max_age_s:
            return True
        return track.missed == 0 and landed(track, gates.rest_px, gates.rest_frames)

    def _assign(self, t: float, blobs: Blobs) -> set[int]:
        """Greedy: closest (track, blob) pairs first, each inside the track's gate."""
        pairs: list[tuple[float, int, int]] = []
        for k, track in enumerate(self._tracks):
            px, py, step = track.predict(t)
            lost = 1 + track.missed  # the longer unseen, the less sure the prediction
            gate = (self._gates.gate_px + self._gates.gate_speed_factor * step) * lost
            if len(track.t) == 1:
                gate = self._gates.first_step_px
            distance = np.hypot(blobs.x - px, blobs.y - py)
            pairs.extend((float(distance[i]), k, int(i)) for i in np.flatnonzero(distance <= gate))
        pairs.sort()
        used_tracks: set[int] = set()
        taken: set[int] = set()
        for _distance, k, i in pairs:
            if k in used_tracks or i in taken:
                continue
            used_tracks.add(k)
            taken.add(i)
            self._tracks[k].add(t, float(blobs.x[i]), float(blobs.y[i]))
        for k, track in enumerate(self._tracks):
            if k not in used_tracks:
                track.missed += 1
        return taken


def landed(track: Track, rest_px: float, rest_frames: int) -> bool:
    """Has a track that came down a long way stopped moving (the object hit the ground)?"""
    if len(track.y) <= rest_frames or track.y[-1] - track.y[0] < 10 * rest_px:
        return False
    tail_x, tail_y = track.x[-rest_frames - 1 :], track.y[-rest_frames - 1 :]
    steps = np.hypot(np.diff(tail_x), np.diff(tail_y))
    return bool(np.all(steps < rest_px))


def without_rest(track: Track, rest_px: float) -> tuple[list[float], list[float], list[float]]:
    """The track's points up to where it came to rest."""
    end = len(track.t)
    while (
        end > 2
        and np.hypot(track.x[end - 1] - track.x[end - 2], track.y[end - 1] - track.y[end - 2])
        < rest_px
    ):
        end -= 1
    return track.t[:end], track.x[:end], track.y[:end]
