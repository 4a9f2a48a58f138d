"""Patrol replies: which each may follow, what it moves on, and the queue that applies them.

A patrol answers a dispatch on `gridhub/patrols/{patrol_id}/reply` (accept,
decline, arrive, resolve). `REPLY_RULES` says from which dispatch states each may
come; `ReplyApplier` moves the dispatch and its case in one transaction (a
decline asks the next patrol); a repeat of the last reply (QoS 1 redelivery, or
another hub's copy) changes nothing.

A reply is acknowledged to the broker once it is applied (committed), or
rejected, failed or dropped and counted: a hub killed with replies in this queue
gets them again, and a reply applied twice changes nothing the second time. It is
never applied on paho's network thread, which would hold every other message (and
the keepalive) while it waits. `ReplyQueue.submit()` only appends to a bounded
queue (`hub.infra.retry_queue`); one thread applies the replies in arrival order,
retrying with capped backoff while the database is unavailable or a deadlock
was lost. Past `limit` waiting replies the oldest is dropped, counted and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import PoolTimeout

from hub.cases.store import get_case
from hub.cases.workflow import CaseAction, apply
from hub.clock import Clock
from hub.dispatch.assign import Assigner, DispatchOutcome
from hub.dispatch.rows import Conn, DispatchRef
from hub.errors import PayloadError
from hub.infra.mqtt import ReceivedMessage
from hub.infra.retry_queue import RetryPolicy, RetryQueue
from hub.patrols.index import PatrolIndex
from hub.patrols.payloads import Reply
from hub.storage.rows import one

log = logging.getLogger(__name__)
RETRYABLE = (psycopg.OperationalError, psycopg.errors.DeadlockDetected, PoolTimeout)
REPLY_TOPIC = "gridhub/patrols/+/reply"

# Reply action -> (dispatch states it may follow, dispatch state after it).
REPLY_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("pending", "sent"), "accepted"),
    "decline": (("pending", "sent", "accepted"), "declined"),
    "arrive": (("pending", "sent", "accepted"), "arrived"),
    "resolve": (("accepted", "arrived"), "resolved"),
}
# The case action each reply takes (a decline hands the case on instead).
CASE_ACTIONS = {"accept": "patrol_accept", "arrive": "arrive", "resolve": "resolve"}


def _no_ack() -> None:
    return None


@dataclass(frozen=True, slots=True)
class PatrolReply:
    """A parsed reply, the patrol whose topic it came on, and its message's ack."""

    patrol_id: str
    reply: Reply
    ack: Callable[[], None] = _no_ack


class ReplyQueue(RetryQueue[PatrolReply]):
    """A bounded FIFO of replies with one applying thread."""

    def __init__(
        self,
        apply: Callable[[PatrolReply], None],
        on_dropped: Callable[[], None],
        limit: int = 10_000,
    ) -> None:
        policy = RetryPolicy(
            "patrol-replies", limit, RETRYABLE, first_backoff_s=0.2, max_backoff_s=5.0
        )
        super().__init__(policy)
        self._apply_reply = apply
        self._on_dropped = on_dropped

    def _apply(self, batch: list[PatrolReply]) -> None:
        for item in batch:
            self._apply_reply(item)
            item.ack()

    def _held(self, batch: list[PatrolReply], exc: BaseException) -> None:
        log.warning("holding %d patrol repl(ies) until the database answers: %s",
                    self.pending, exc)  # fmt: skip

    def _failed(self, batch: list[PatrolReply], exc: Exception) -> None:
        for item in batch:
            log.exception("could not apply %s's reply to dispatch %d; skipped",
                          item.patrol_id, item.reply.dispatch_id)  # fmt: skip
            item.ack()

    def _dropped(self, item: PatrolReply, overflow: int) -> None:
        self._on_dropped()
        reply = item.reply
        log.error("patrol reply queue full: dropped %s's %s of dispatch %d",
                  item.patrol_id, reply.action, reply.dispatch_id)  # fmt: skip
        item.ack()


def reply_patrol(message: ReceivedMessage, index: PatrolIndex) -> str:
    """The patrol of a reply topic, which must exist and be enabled."""
    patrol_id = message.topic_levels(4)[2]
    state = index.get(patrol_id)
    if state is None:
        raise PayloadError("unknown_patrol", f"no patrol {patrol_id!r} in the registry")
    if not state.enabled:
        raise PayloadError("disabled_patrol", f"patrol {patrol_id} is disabled")
    return patrol_id


@dataclass(frozen=True, slots=True)
class Applied:
    """What a reply did: nothing (a repeat), or a move, perhaps to the next patrol."""

    repeated: bool
    followup: DispatchOutcome | None = None


class ReplyApplier:
    """Applies a reply to its dispatch and case, in the caller's transaction."""

    def __init__(self, clock: Clock, assigner: Assigner) -> None:
        self._clock = clock
        self._assigner = assigner

    def apply(self, conn: Conn, patrol_id: str, reply: Reply) -> Applied:
        """Lock the dispatch and apply the reply; `PayloadError` when it does not fit."""
        dispatch = one(
            conn,
            DispatchRef,
            "SELECT id, case_id, patrol_id, state FROM dispatches WHERE id = %s FOR UPDATE",
            (reply.dispatch_id,),
        )
        if dispatch is None or dispatch.patrol_id != patrol_id:
            raise PayloadError("unknown_dispatch", f"no dispatch {reply.dispatch_id} for you")
        case_id, state = dispatch.case_id, dispatch.state
        sources, target = REPLY_RULES[reply.action]
        if state == target:  # a repeated reply (QoS 1 redelivery, or another hub's)
            return Applied(repeated=True)
        if state not in sources:
            raise PayloadError("bad_state", f"dispatch {reply.dispatch_id} is {state}")
        if reply.action == "decline":
            return Applied(repeated=False, followup=self._decline(conn, reply, case_id))
        self._move_on(conn, reply, case_id, patrol_id)
        return Applied(repeated=False)

    def _decline(self, conn: Conn, reply: Reply, case_id: int) -> DispatchOutcome:
        """Keep the patrol's reason, close the dispatch and ask the next patrol."""
        conn.execute(
            "UPDATE dispatches SET note = %s WHERE id = %s", (reply.note, reply.dispatch_id)
        )
        return self._assigner.reassign(conn, reply.dispatch_id, case_id, "declined")

    def _move_on(self, conn: Conn, reply: Reply, case_id: int, patrol_id: str) -> None:
        """Accept, arrive or resolve: the dispatch's new state and the case's action."""
        now = self._clock.now()
        conn.execute(
            """UPDATE dispatches SET state = %s, note = coalesce(%s, note),
                   answered_at = coalesce(answered_at, %s) WHERE id = %s""",
            (REPLY_RULES[reply.action][1], reply.note, now, reply.dispatch_id),
        )
        state = get_case(conn, case_id).state
        if reply.action == "resolve" and state == "dispatched":
            apply(conn, CaseAction(case_id, "arrive", patrol_id, "system"), now)
        action = CaseAction(case_id, CASE_ACTIONS[reply.action], patrol_id, "system", reply.note)
        apply(conn, action, now)
