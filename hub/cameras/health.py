"""Camera health: what a worker counts, and the backoff between reconnection attempts.

`HealthTracker` is written by a worker's threads and read by the API, the
metrics collector and the manager's tick; `snapshot()` returns a `CameraHealth`
record. A camera is online from its first frame after connecting until the
stream fails; the length of the last outage stays visible after it ends.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from hub.clock import Clock
from hub.redact import scrub

RATE_WINDOW = 50  # frames over which the input and analysis rates are measured


@dataclass(frozen=True, slots=True)
class CameraHealth:
    """One camera's state, as the API, /metrics and the MQTT status show it."""

    camera_id: str
    state: str  # starting | online | offline | stopped | remote | unassigned | disabled | error
    online: bool
    source: str  # kind and URL without credentials
    fps_in: float
    fps_analysed: float
    frames_in: int
    frames_analysed: int
    dropped_frames: int
    corrupt_frames: int
    detector_errors: int
    reconnects: int
    outages: int
    last_frame_age_s: float | None
    offline_since: datetime | None
    last_outage_s: float | None
    last_error: str | None
    evidence_failures: int = 0  # snapshots and clips that could not be written
    instance: str | None = None  # the hub instance running the camera (camera leases)


class Backoff:
    """Capped exponential backoff with jitter: each delay is drawn from [d/2, d]."""

    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.initial_s, self.max_s = initial_s, max_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        capped: float = min(self.max_s, self.initial_s * 2.0**self.attempt)
        self.attempt += 1
        return capped / 2 + self._rng.random() * capped / 2

    def reset(self) -> None:
        self.attempt = 0


class _Rate:
    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=RATE_WINDOW)
        self.count = 0

    def tick(self, mono: float) -> None:
        self.times.append(mono)
        self.count += 1

    def per_second(self, now: float) -> float:
        if len(self.times) < 2 or now - self.times[-1] > 2.0:
            return 0.0
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0


class HealthTracker:
    """Counters and state of one camera worker; every method is thread-safe."""

    def __init__(self, camera_id: str, source: str, clock: Clock) -> None:
        self.camera_id, self.source, self.clock = camera_id, scrub(source), clock
        self._lock = threading.Lock()
        self._in, self._out = _Rate(), _Rate()
        self._counts = {"dropped": 0, "corrupt": 0, "detector": 0, "reconnects": 0, "outages": 0,
                        "evidence": 0}  # fmt: skip
        self._state = "starting"
        self._last_frame: float | None = None
        self._down_mono: float | None = None
        self._down_wall: datetime | None = clock.now()
        self._last_outage: float | None = None
        self._error: str | None = None

    def frame_in(self, mono: float) -> bool:
        """Count a decoded frame; True when it ends an outage (the camera is back)."""
        with self._lock:
            self._in.tick(mono)
            self._last_frame = mono
            if self._state == "online":
                return False
            if self._down_mono is not None:
                self._last_outage = mono - self._down_mono
            self._state, self._down_mono, self._down_wall = "online", None, None
            return True

    def analysed(self, mono: float) -> None:
        with self._lock:
            self._out.tick(mono)

    def count(self, what: str, n: int = 1) -> None:
        """Add to one of: dropped, corrupt, detector, reconnects, evidence."""
        with self._lock:
            self._counts[what] += n

    def failed(self, reason: str) -> bool:
        """The source failed to open or broke; True when this starts an outage."""
        with self._lock:
            self._error = scrub(reason)  # decoders quote the URL they failed on
            if self._state == "offline":
                return False
            starts_outage = self._state == "online"
            self._state = "offline"
            self._down_mono = self._last_frame if starts_outage else self.clock.monotonic()
            if starts_outage or self._down_wall is None:
                self._down_wall = self.clock.now()
            self._counts["outages"] += 1
            return True

    def stopped(self) -> None:
        with self._lock:
            self._state = "stopped"

    def offline_for(self) -> float | None:
        """Seconds since the camera went dark, or None while it is up (or never came up)."""
        with self._lock:
            if self._state != "offline" or self._down_mono is None:
                return None
            return self.clock.monotonic() - self._down_mono

    def snapshot(self) -> CameraHealth:
        now = self.clock.monotonic()
        with self._lock:
            c = self._counts
            return CameraHealth(
                camera_id=self.camera_id,
                state=self._state,
                online=self._state == "online",
                source=self.source,
                fps_in=round(self._in.per_second(now), 2),
                fps_analysed=round(self._out.per_second(now), 2),
                frames_in=self._in.count,
                frames_analysed=self._out.count,
                dropped_frames=c["dropped"],
                corrupt_frames=c["corrupt"],
                detector_errors=c["detector"],
                reconnects=c["reconnects"],
                outages=c["outages"],
                last_frame_age_s=None
                if self._last_frame is None
                else round(now - self._last_frame, 3),
                offline_since=self._down_wall if self._state != "online" else None,
                last_outage_s=None if self._last_outage is None else round(self._last_outage, 3),
                last_error=self._error,
                evidence_failures=c["evidence"],
            )
