"""Capture times from presentation timestamps: jitter removed, never ahead of arrival."""

from __future__ import annotations

import random

import pytest

from adapters.stream_clock import StreamClock

PERIOD = 0.04  # 25 fps


def jittered(frames: int, delay: float = 0.2, jitter: float = 0.03, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [100.0 + i * PERIOD + delay + rng.uniform(0, jitter) for i in range(frames)]


def test_times_keep_the_streams_spacing_however_arrivals_jitter() -> None:
    clock = StreamClock()
    arrivals = jittered(250)
    times = [clock.time_of(i * PERIOD, at) for i, at in enumerate(arrivals)]
    steps = [b - a for a, b in zip(times[50:], times[51:], strict=False)]
    assert max(steps) - min(steps) < 1e-9  # once the least delayed frame anchors them
    assert all(t <= at + 1e-9 for t, at in zip(times, arrivals, strict=True))
    assert all(b >= a for a, b in zip(times, times[1:], strict=False))
    assert times[-1] == pytest.approx(100.2 + 249 * PERIOD, abs=0.03)


def test_a_lasting_longer_delay_is_followed_within_the_window() -> None:
    clock = StreamClock(window_s=2.0)
    for i in range(100):
        clock.time_of(i * PERIOD, 50.0 + i * PERIOD + 0.1)
    # From frame 100 on every frame arrives 1.5 s late (the hub fell behind).
    late = [clock.time_of(i * PERIOD, 50.0 + i * PERIOD + 1.6) for i in range(100, 200)]
    assert late[-1] == pytest.approx(50.0 + 199 * PERIOD + 1.6)
    assert late[0] == pytest.approx(50.0 + 100 * PERIOD + 0.1)


def test_a_timestamp_going_back_starts_a_new_anchor_and_time_never_goes_back() -> None:
    clock = StreamClock()
    first = [clock.time_of(i * PERIOD, 10.0 + i * PERIOD + 0.05) for i in range(50)]
    # A looped file or a new stream: presentation times start again at 0.
    again = clock.time_of(0.0, 10.0 + 50 * PERIOD + 0.05)
    assert again == pytest.approx(10.0 + 50 * PERIOD + 0.05)
    assert again >= first[-1]


def test_a_frame_without_a_timestamp_keeps_its_arrival_time() -> None:
    clock = StreamClock()
    assert clock.time_of(None, 5.0) == 5.0
    assert clock.time_of(None, 4.0) == 5.0  # never backwards
