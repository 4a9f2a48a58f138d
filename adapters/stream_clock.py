"""Capture times from a stream's own timestamps, anchored to when frames arrive.

When a frame is decoded says little about when it was taken: over RTSP on a busy
machine or network, arrival times jitter by tens of milliseconds (measured by
bench/system: a standard deviation of 13-18 ms at 25 fps on two shared cores),
and a detector that fits motion against time — the thrown-object free-fall
test — then sees no parabola at all. The presentation timestamps do not jitter.

`StreamClock` gives each frame the time `pts + offset`, where `offset` is the
smallest `arrival - pts` seen over the last `window_s` seconds: the least
delayed frame anchors the rest. The times keep the stream's own spacing, never
run ahead of arrival, never go backwards, and follow a lasting change of delay
(a hub that falls behind, a camera clock that drifts) within `window_s`. A
timestamp that goes backwards or jumps ahead (a new stream, a looped file)
starts afresh; a frame without one keeps its arrival time.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 10.0
MAX_STEP_S = 5.0  # a larger jump in presentation time is a new timeline


class StreamClock:
    """Maps (presentation time, arrival time) to a capture time on the arrival clock."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._delays: deque[tuple[float, float]] = deque()  # (arrival, arrival - pts), rising
        self._last_pts: float | None = None
        self._last_time = float("-inf")

    def reset(self) -> None:
        """Forget the anchor (a reopened or rewound stream)."""
        self._delays.clear()
        self._last_pts = None

    def time_of(self, pts_s: float | None, arrival: float) -> float:
        """The capture time of a frame presented at `pts_s` that arrived at `arrival`."""
        if pts_s is None:
            self.reset()
            return self._monotonic(arrival)
        if self._last_pts is not None and not 0.0 <= pts_s - self._last_pts <= MAX_STEP_S:
            self.reset()
        self._last_pts = pts_s
        delay = arrival - pts_s
        while self._delays and self._delays[-1][1] >= delay:
            self._delays.pop()  # never again the smallest while this one is in the window
        self._delays.append((arrival, delay))
        while self._delays[0][0] < arrival - self.window_s:
            self._delays.popleft()
        return self._monotonic(pts_s + self._delays[0][1])

    def _monotonic(self, t: float) -> float:
        self._last_time = max(self._last_time, t)
        return self._last_time
