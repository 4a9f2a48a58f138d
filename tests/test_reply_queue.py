"""The patrol reply queue: order, a bounded length, and holding a reply while the
database is unavailable (the applier here is a seam we own)."""

from __future__ import annotations

import psycopg

from hub.dispatch.replies import PatrolReply, ReplyQueue
from hub.patrols.payloads import Reply
from tests.conftest import wait_until


def _reply(n: int) -> PatrolReply:
    return PatrolReply("P01", Reply(n, "accept", None))


def test_a_full_queue_drops_the_oldest_and_counts_it() -> None:
    dropped: list[None] = []
    queue = ReplyQueue(lambda _item: None, lambda: dropped.append(None), limit=2)
    for n in (1, 2, 3):  # not started: nothing drains it
        queue.submit(_reply(n))
    assert queue.pending == 2 and len(dropped) == 1


def test_replies_wait_out_an_unavailable_database_in_order() -> None:
    applied: list[int] = []
    failures = [psycopg.OperationalError("server closed the connection")] * 3

    def apply(item: PatrolReply) -> None:
        if failures:
            raise failures.pop()
        applied.append(item.reply.dispatch_id)

    queue = ReplyQueue(apply, lambda: None)
    queue.max_backoff_s = 0.05
    for n in (1, 2, 3):
        queue.submit(_reply(n))
    queue.start()
    try:
        wait_until(lambda: applied == [1, 2, 3])
    finally:
        queue.stop()
    assert queue.pending == 0
