"""A bounded hand-off between a camera's decode thread and its analysis thread.

When analysis falls behind, `put` drops the oldest waiting capture, so the
detectors always see the freshest picture and decoding never waits for them.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """A queue of at most `maxsize` items whose `put` never blocks."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._ready = threading.Condition()

    def put(self, item: T) -> int:
        """Add `item`; returns how many old items were dropped to make room (0 or 1)."""
        with self._ready:
            dropped = 0
            while len(self._items) >= self._maxsize:
                self._items.popleft()
                dropped += 1
            self._items.append(item)
            self._ready.notify()
            return dropped

    def get(self, timeout: float) -> T | None:
        """The oldest item, waiting up to `timeout` seconds; None when none came."""
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)
