"""The generic retry queue: batches in order, holding a batch through retryable errors,
skipping one that fails for good, a bound that never drops the batch in hand, and a stop
that gives back what the database would not take (the applier is a seam we own)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from hub.infra.retry_queue import RetryPolicy, RetryQueue
from tests.conftest import wait_until


class Unavailable(Exception):
    """Stands for "the database is unavailable"."""


@dataclass
class Script:
    """What the applier does: errors to raise first, and a gate it waits on."""

    errors: list[Exception] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)


class Recorder(RetryQueue[int]):
    def __init__(self, script: Script, policy: RetryPolicy) -> None:
        super().__init__(policy)
        self.script = script
        self.batches: list[list[int]] = []
        self.events: list[tuple[str, object]] = []

    def _apply(self, batch: list[int]) -> None:
        self.script.gate.wait(5)
        if self.script.errors:
            raise self.script.errors.pop(0)
        self.batches.append(list(batch))

    def _held(self, batch: list[int], exc: BaseException) -> None:
        self.events.append(("held", list(batch)))

    def _failed(self, batch: list[int], exc: Exception) -> None:
        self.events.append(("failed", list(batch)))

    def _dropped(self, item: int, overflow: int) -> None:
        self.events.append(("dropped", (item, overflow)))

    def _applied(self, batch: list[int], overflow: int) -> None:
        self.events.append(("applied", overflow))


POLICY = RetryPolicy(
    "test-queue", 100, (Unavailable,), batch_size=3, max_delay_s=0.01, first_backoff_s=0.01,
    max_backoff_s=0.05,
)  # fmt: skip


def test_batches_wait_out_retryable_errors_in_order_and_a_bad_one_is_skipped() -> None:
    script = Script([Unavailable(), Unavailable(), ValueError("a bug")])
    script.gate.set()
    queue = Recorder(script, POLICY)
    for n in range(7):  # not started: three batches of at most 3
        queue.submit(n)
    queue.start()
    wait_until(lambda: queue.pending == 0)
    queue.stop()
    assert queue.batches == [[3, 4, 5], [6]]  # [0, 1, 2] held twice, then failed for good
    assert [kind for kind, _ in queue.events] == ["held", "held", "failed", "applied", "applied"]
    assert queue.pending == 0


def test_a_full_queue_drops_the_oldest_waiting_never_the_batch_in_hand() -> None:
    script = Script()  # the gate is closed: the first batch stays in hand
    queue = Recorder(script, replace(POLICY, limit=2, batch_size=1))
    queue.start()
    queue.submit(0)
    wait_until(lambda: queue.pending == 1 and not queue._waiting)  # noqa: SLF001
    for n in (1, 2, 3, 4):
        queue.submit(n)
    assert queue.pending == 3  # two waiting, one in hand
    script.gate.set()
    queue.stop()
    assert queue.batches == [[0], [3], [4]]
    assert queue.events[:2] == [("dropped", (1, 1)), ("dropped", (2, 2))]
    assert ("applied", 2) in queue.events  # the overflow, told once writing resumes


def test_stop_while_unavailable_gives_the_batch_back() -> None:
    script = Script([Unavailable()] * 100)
    script.gate.set()
    queue = Recorder(script, replace(POLICY, max_backoff_s=60.0))
    for n in range(4):
        queue.submit(n)
    queue.start()
    wait_until(lambda: queue.events)  # held once, now pausing a minute
    queue.stop(timeout_s=5)  # cuts the pause short, fails once more, gives up
    assert not queue._thread.is_alive()  # noqa: SLF001
    assert queue.pending == 4 and list(queue._waiting) == [0, 1, 2, 3]  # noqa: SLF001
