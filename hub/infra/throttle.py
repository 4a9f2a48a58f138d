"""Log a recurring problem once per interval per source, with a count of the rest.

A misconfigured device can send the same bad payload ten times a second; the
log should say so once a minute, not ten times a second. Keys come from what
devices send (topics), so the table of keys is bounded: past `max_keys`, keys
quiet for longer than the interval are forgotten, and if that is not enough the
table starts afresh (a few repeated lines, never unbounded memory).
"""

from __future__ import annotations

import logging
import threading

from hub.clock import Clock


class ThrottledLog:
    """At most one warning per key per `interval_s`; suppressed ones are counted."""

    def __init__(
        self,
        logger: logging.Logger,
        clock: Clock,
        interval_s: float = 60.0,
        max_keys: int = 10_000,
    ) -> None:
        self._logger = logger
        self._clock = clock
        self._interval_s = interval_s
        self._max_keys = max_keys
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log unless `key` was logged within the interval; True if it was logged."""
        now = self._clock.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval_s:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            if last is None and len(self._last) >= self._max_keys:
                self._forget_quiet(now)
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += " (%d similar messages suppressed)"
            args = (*args, suppressed)
        self._logger.warning(message, *args)
        return True

    def _forget_quiet(self, now: float) -> None:
        """Drop keys not logged within the interval; all of them if every key is recent."""
        quiet = [k for k, t in self._last.items() if now - t >= self._interval_s]
        for key in quiet if len(quiet) > len(self._last) // 2 else list(self._last):
            del self._last[key]
            self._suppressed.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._last)
