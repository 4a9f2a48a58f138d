"""Dwell, tolerance, cooldown and one alert per episode, on a monotonic clock.

An *episode* is a stretch of time in which something occupies a zone. The
caller reports, at each analysed frame, since when the current occupant has
been there (`since`, or ``None`` when the zone looks empty). The timer

- raises ``ALERT`` once, when the occupant has stayed `dwell_s`;
- keeps the episode open through gaps shorter than `clear_s` (occlusion,
  a missed detection), so the same parked car never alerts twice;
- raises ``CLEARED`` when the zone has been empty for `clear_s`;
- holds back a new episode's alert until `cooldown_s` after the last one ended.

No clock is read here: time comes in with each call, so tables of
``(time, since) → event`` test it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Event(Enum):
    """What an update confirmed."""

    ALERT = "alert"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class EpisodeRules:
    """The timing of one zone rule (seconds)."""

    dwell_s: float
    clear_s: float
    cooldown_s: float = 0.0


@dataclass
class EpisodeTimer:
    """The state of one zone (or one track in a zone) across frames."""

    rules: EpisodeRules
    started: float | None = None  # start of the open episode's current occupant
    alerted_at: float | None = None  # when this episode alerted (None: not yet)
    last_seen: float | None = None  # last time the zone was seen occupied
    last_end: float | None = None  # when the previous alerted episode cleared

    @property
    def open(self) -> bool:
        return self.started is not None

    def update(self, now: float, since: float | None) -> Event | None:
        """Feed one observation; return the event it confirmed, if any."""
        if since is not None:
            return self._occupied(now, since)
        if self.last_seen is None or now - self.last_seen < self.rules.clear_s:
            return None
        return self._close()

    def _occupied(self, now: float, since: float) -> Event | None:
        if self.alerted_at is None or self.started is None:
            self.started = since
        self.last_seen = now
        if self.alerted_at is not None or now - since < self.rules.dwell_s:
            return None
        if self.last_end is not None and now - self.last_end < self.rules.cooldown_s:
            return None
        self.alerted_at = now
        return Event.ALERT

    def _close(self) -> Event | None:
        alerted = self.alerted_at is not None
        if alerted:
            assert self.last_seen is not None
            self.last_end = self.last_seen + self.rules.clear_s
        self.started = self.alerted_at = self.last_seen = None
        return Event.CLEARED if alerted else None


@dataclass
class Continuity:
    """Since when a yes/no condition has held, forgiving gaps up to `gap_s`."""

    gap_s: float
    since: float | None = None
    last_true: float | None = None

    def update(self, now: float, holds: bool) -> float | None:
        if holds:
            if self.since is None or (
                self.last_true is not None and now - self.last_true > self.gap_s
            ):
                self.since = now
            self.last_true = now
            return self.since
        if self.last_true is not None and now - self.last_true > self.gap_s:
            self.since = self.last_true = None
        return None
