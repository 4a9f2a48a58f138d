"""Tracking gates: predicted positions, gate sizes, track ends, the track cap."""

from __future__ import annotations

import numpy as np

from detectors.thrown_object.foreground import Blobs
from detectors.thrown_object.tracking import Tracker, TrackGates

GATES = TrackGates(
    gate_px=4.0,
    first_step_px=20.0,
    gate_speed_factor=0.5,
    max_missed=2,
    max_tracks=5,
    max_age_s=6.0,
)


def blobs(*points: tuple[float, float]) -> Blobs:
    xs = np.array([p[0] for p in points], float)
    ys = np.array([p[1] for p in points], float)
    return Blobs(xs, ys, np.ones(len(points)))


def test_an_accelerating_object_stays_one_track() -> None:
    tracker = Tracker(GATES)
    for k in range(12):
        t = k * 0.04
        tracker.update(t, blobs((100.0, 10.0 + 0.5 * 400 * t**2), (300.0, 50.0)))
    lengths = sorted(len(track.t) for track in tracker.live)
    assert lengths == [12, 12]


def test_a_blob_outside_the_gate_starts_a_new_track() -> None:
    tracker = Tracker(GATES)
    tracker.update(0.0, blobs((100.0, 100.0)))
    tracker.update(0.04, blobs((100.0, 105.0)))  # inside the first-step gate (20 px)
    tracker.update(0.08, blobs((100.0, 140.0)))  # predicted 110, gate 4 + 0.5 * 5: too far
    assert sorted(len(track.t) for track in tracker.live) == [1, 2]


def test_first_step_gate_limits_a_new_track() -> None:
    tracker = Tracker(GATES)
    tracker.update(0.0, blobs((100.0, 100.0)))
    tracker.update(0.04, blobs((100.0, 125.0)))  # 25 px > 20 px
    assert [len(track.t) for track in tracker.live] == [1, 1]


def test_nearest_blob_wins_when_two_are_in_the_gate() -> None:
    tracker = Tracker(GATES)
    tracker.update(0.0, blobs((100.0, 100.0)))
    tracker.update(0.04, blobs((100.0, 112.0), (100.0, 104.0)))
    taken = [track for track in tracker.live if len(track.t) == 2]
    assert len(taken) == 1 and taken[0].y[-1] == 104.0


def test_a_track_ends_after_max_missed_frames() -> None:
    tracker = Tracker(GATES)
    tracker.update(0.0, blobs((50.0, 50.0)))
    ended = [tracker.update(0.04 * k, blobs()) for k in range(1, 5)]
    assert [len(e) for e in ended] == [0, 0, 1, 0]
    assert tracker.live == []


def test_track_count_is_capped() -> None:
    tracker = Tracker(GATES)
    tracker.update(0.0, blobs(*[(float(40 * k), 10.0) for k in range(9)]))
    assert len(tracker.live) == 5
