"""A background thread that does one thing every few seconds until stopped.

The SLA monitor, each notifier and the audit-log feed are the same loop: wait
`interval_s` (or until stopped), do one pass, and when the database or the
broker fails, log it and try again next time. This is that loop, once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg_pool import PoolTimeout

from hub.errors import HubError

log = logging.getLogger(__name__)
RETRYABLE = (psycopg.Error, PoolTimeout, HubError)


class Ticker:
    """Calls `tick()` every `interval_s` in a daemon thread named `name`."""

    def __init__(self, name: str, tick: Callable[[], object], interval_s: float) -> None:
        self.name = name
        self.interval_s = interval_s
        self._tick = tick
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self._tick()
            except RETRYABLE as exc:
                log.warning("%s: %s (will retry)", self.name, exc)
