"""A bounded queue drained in batches by its own thread, held while the database is down.

Alert intake, patrol replies and patrol positions are the same loop: producers
(camera workers, MQTT threads) must never wait on PostgreSQL nor lose what they
handed over because it is briefly unreachable. `submit()` only appends to a
bounded FIFO; one thread takes up to `batch_size` items at a time (giving a
short batch `max_delay_s` to fill) and hands them to `_apply`, in order.

- `_apply` raising one of the policy's `retryable` errors keeps the batch in
  hand and retries it, pausing with capped exponential backoff, nothing behind
  it overtaking it; `_held` says so (log it).
- Any other error is reported to `_failed` (log it, count it) and the queue
  moves on: one bad item never stops the ones behind it.
- Past `limit` waiting items the oldest waiting one is dropped and reported to
  `_dropped`, with the number dropped since a batch was last applied (so an
  owner can log an overflow once). The batch in hand is never dropped.
- `stop()` applies what is queued while the database answers (within its
  timeout); when it does not, the queue gives up at the first failure, or with
  `retry_while_stopping` once its backoff has reached the cap, and what was in
  hand goes back to the front of the queue (still counted in `pending`).

An owner subclasses `RetryQueue[Item]`, passes its `RetryPolicy` and
implements `_apply` and the hooks it needs; the hooks run on the queue's
thread, except `_dropped`, which runs on the submitting thread under the
queue's lock (keep it cheap: count and log).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one queue is bounded, batched and retried."""

    name: str  # its thread's name
    limit: int  # items waiting (the batch in hand is not counted)
    retryable: tuple[type[BaseException], ...]  # errors that mean "the database is unavailable"
    batch_size: int = 1
    max_delay_s: float = 0.0  # how long a batch short of `batch_size` waits to fill
    first_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    retry_while_stopping: bool = False  # after stop(), retry until the backoff is capped


class RetryQueue(Generic[Item]):
    """A bounded FIFO with one applying thread; see the module docs."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.max_backoff_s = policy.max_backoff_s  # tests shorten it
        self._waiting: deque[Item] = deque()
        self._in_hand: list[Item] = []
        self._overflow = 0  # items dropped since a batch was last applied
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=policy.name, daemon=True)

    # ---- the owner's part -------------------------------------------------------

    def _apply(self, batch: list[Item]) -> None:
        """Apply a batch; raise one of `policy.retryable` to keep it and retry."""
        raise NotImplementedError

    def _held(self, batch: list[Item], exc: BaseException) -> None:
        """The batch failed with a retryable error and will be retried."""

    def _failed(self, batch: list[Item], exc: Exception) -> None:
        """The batch failed for good (called in the `except` block: `log.exception` works)."""

    def _dropped(self, item: Item, overflow: int) -> None:
        """The queue was full: `item` went; `overflow` counts the drops since the last batch."""

    def _applied(self, batch: list[Item], overflow: int) -> None:
        """The batch was applied; `overflow` items had been dropped since the previous one."""

    # ---- producers and lifecycle ------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue `item` without waiting; a full queue drops its oldest waiting item."""
        with self._cond:
            if len(self._waiting) >= self.policy.limit:
                self._overflow += 1
                self._dropped(self._waiting.popleft(), self._overflow)
            self._waiting.append(item)
            if len(self._waiting) == 1 or len(self._waiting) >= self.policy.batch_size:
                self._cond.notify()

    @property
    def pending(self) -> int:
        """Items accepted but not yet dealt with: waiting, or in the batch in hand."""
        return len(self._waiting) + len(self._in_hand)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Apply what is queued (while the database answers, within `timeout_s`), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    # ---- the queue's thread -----------------------------------------------------

    def _run(self) -> None:
        backoff = self.policy.first_backoff_s
        while batch := self._take():
            while not self._done(batch):
                if self._stopping and (
                    not self.policy.retry_while_stopping or backoff >= self.max_backoff_s
                ):
                    self._give_back(batch)
                    return  # the database is down at shutdown: nothing more to be done
                self._pause(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            backoff = self.policy.first_backoff_s

    def _take(self) -> list[Item]:
        """Wait for items, give a short batch `max_delay_s` to fill; empty means stop."""
        with self._cond:
            while not self._waiting and not self._stopping:
                self._cond.wait()
            if not self._stopping and len(self._waiting) < self.policy.batch_size:
                self._cond.wait(self.policy.max_delay_s)
            n = min(len(self._waiting), self.policy.batch_size)
            self._in_hand = [self._waiting.popleft() for _ in range(n)]
            return self._in_hand

    def _done(self, batch: list[Item]) -> bool:
        """Apply the batch: True when it is dealt with (applied, or failed for good)."""
        try:
            self._apply(batch)
        except self.policy.retryable as exc:
            self._held(batch, exc)
            return False
        except Exception as exc:  # a bug must not stop the items behind this batch
            self._failed(batch, exc)
            with self._cond:
                self._in_hand = []
            return True
        with self._cond:
            self._in_hand = []
            overflow, self._overflow = self._overflow, 0
        self._applied(batch, overflow)
        return True

    def _pause(self, seconds: float) -> None:
        """Wait before a retry; stop() cuts the wait short once, for a last try."""
        if self._stopping:  # still retrying after stop() (`retry_while_stopping`): keep the pace
            time.sleep(seconds)
            return
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, seconds)

    def _give_back(self, batch: list[Item]) -> None:
        with self._cond:
            self._waiting.extendleft(reversed(batch))
            self._in_hand = []
