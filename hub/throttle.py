"""Log a recurring problem once per interval per source, with a count of the rest.

A misconfigured device can send the same bad payload ten times a second; the
log should say so once a minute, not ten times a second.
"""

from __future__ import annotations

import logging
import threading

from hub.clock import Clock


class ThrottledLog:
    """At most one warning per key per `interval_s`; suppressed ones are counted."""

    def __init__(self, logger: logging.Logger, clock: Clock, interval_s: float = 60.0) -> None:
        self._logger = logger
        self._clock = clock
        self._interval_s = interval_s
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
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += " (%d similar messages suppressed)"
            args = (*args, suppressed)
        self._logger.warning(message, *args)
        return True
