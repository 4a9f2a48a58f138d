"""Dispatching a case to the nearest available patrol, through a transactional outbox.

`dispatch(case_id)` opens the dispatch row (state `pending`) and moves the case to
`dispatched` in ONE transaction (assign.py); the relay thread then publishes the
row (outbox.py) and expires dispatches nobody accepted in time, asking the next
candidate (timeouts.py); when none is left the case is escalated. The database
enforces one live dispatch per case and per patrol, so nothing is dispatched
twice even when two hubs race.

Replies on `gridhub/patrols/{patrol_id}/reply` move the dispatch and the case on
(replies.py): parsed on the MQTT thread, applied in order on a queue of their
own, held while the database is down. At start, every dispatch that is neither
answered nor expired is published again, and a case the hub accepted itself for
dispatch but stopped before dispatching (killed between the two commits) is
dispatched then.

`Dispatcher` is the stage as the rest of the hub sees it: these entry points,
the relay thread, and what follows each commit (the live index, the metrics).
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg_pool import ConnectionPool

from hub.cases.workflow import AUTO_ACCEPT_ACTOR
from hub.clock import Clock
from hub.config import SiteConfig
from hub.dispatch.assign import Assigner, DispatchOutcome
from hub.dispatch.outbox import Outbox
from hub.dispatch.replies import (
    REPLY_RULES,
    REPLY_TOPIC,
    RETRYABLE,
    PatrolReply,
    ReplyApplier,
    ReplyQueue,
    reply_patrol,
)
from hub.dispatch.rows import LIVE, DispatchRef, DispatchRow, dispatches_of
from hub.dispatch.timeouts import DeadlineWatch
from hub.errors import HubError, PayloadError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.infra.throttle import ThrottledLog
from hub.patrols.index import PatrolIndex
from hub.patrols.payloads import Reply, parse_reply
from hub.storage.rows import many

log = logging.getLogger(__name__)


class Dispatcher:
    """Creates, publishes, times out and follows up dispatches."""

    def __init__(
        self, pool: ConnectionPool, index: PatrolIndex, link: MqttLink,
        metrics: HubMetrics, clock: Clock, site: SiteConfig,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._index = index
        self._link = link
        self._metrics = metrics
        self._clock = clock
        self._throttle = ThrottledLog(log, clock)
        self._assigner = Assigner(index, clock, site)
        self._outbox = Outbox(pool, link, metrics, clock)
        self._deadlines = DeadlineWatch(pool, clock, self._assigner)
        self._reply_applier = ReplyApplier(clock, self._assigner)
        self._replies = ReplyQueue(
            self._apply_queued, metrics.mqtt_rejected.labels("reply", "queue_full").inc
        )
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatch-relay", daemon=True)
        self.poll_s = 1.0

    # ---- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Resume: mark busy patrols, re-send unanswered dispatches, start the relay."""
        with self._pool.connection() as conn:
            live = many(
                conn,
                DispatchRef,
                "SELECT id, case_id, patrol_id, state FROM dispatches WHERE state = ANY(%s)",
                (LIVE,),
            )
            for dispatch in live:
                self._index.set_dispatch(dispatch.patrol_id, dispatch.id)
            self._outbox.requeue_unanswered(conn)
        self._resume_auto_dispatch()
        self._replies.start()
        self._thread.start()

    def subscribe(self) -> None:
        """Take replies: before the link connects, since a resumed MQTT session delivers
        at once (they wait in the reply queue until `start()` has resumed)."""
        self._link.subscribe(REPLY_TOPIC, self.on_reply, acks=True)

    def _resume_auto_dispatch(self) -> None:
        """Dispatch the cases the hub accepted to dispatch at once but never dispatched."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                """SELECT c.id FROM cases c
                   WHERE c.state = 'accepted'
                     AND NOT EXISTS (SELECT 1 FROM dispatches d WHERE d.case_id = c.id)
                     AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id
                                   AND e.action = 'accept' AND e.actor = %s)""",
                (AUTO_ACCEPT_ACTOR,),
            ).fetchall()
        for (case_id,) in rows:
            outcome = self.dispatch(int(case_id))
            log.warning("case %d was accepted but not dispatched when the hub stopped; now %s",
                        case_id, f"sent to {outcome.patrol_id}" if outcome.patrol_id
                        else "escalated")  # fmt: skip

    def stop(self) -> None:
        self._replies.stop()
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.relay_once()
                self.expire_once()
            except (psycopg.Error, HubError) as exc:
                log.warning("dispatch relay: %s (will retry)", exc)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    # ---- dispatching, relaying, expiring --------------------------------------

    def dispatch(
        self, case_id: int, actor: str = "system", role: str = "system"
    ) -> DispatchOutcome:
        """Send the case to the best available patrol, or escalate it if there is none.

        A case that already has a live dispatch keeps it: calling this twice, or from
        two hubs at once, dispatches once.
        """
        with self._pool.connection() as conn, conn.transaction():
            outcome = self._assigner.dispatch_case(conn, case_id, actor, role)
        self._after_commit(outcome)
        return outcome

    def _after_commit(self, outcome: DispatchOutcome) -> None:
        if outcome.patrol_id is not None:
            self._index.set_dispatch(outcome.patrol_id, outcome.dispatch_id)
            self._metrics.dispatches.labels("created").inc()
            self._wake.set()
        if outcome.escalated:
            self._metrics.dispatches.labels("escalated").inc()
            log.warning("case %d escalated: no available patrol", outcome.case_id)

    def relay_once(self) -> int:
        """Publish pending dispatches; return how many (outbox.py)."""
        return self._outbox.relay_once()

    def expire_once(self) -> int:
        """Expire unanswered dispatches past their deadline and ask the next patrol.

        Not while replies are held (the database was down): one may be an accept the
        patrol sent in time, and it is judged first."""
        if self._replies.pending:
            return 0
        expired = 0
        while (done := self._deadlines.expire_next()) is not None:
            self._index.set_dispatch(done.patrol_id, None)
            self._metrics.dispatches.labels("expired").inc()
            self._after_commit(done.next)
            expired += 1
        return expired

    def cancel_live(self, case_id: int) -> None:
        """The case was closed or rejected: withdraw its live dispatch and tell the patrol."""
        with self._pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                """UPDATE dispatches SET state = 'cancelled', answered_at = %s
                   WHERE case_id = %s AND state = ANY(%s) RETURNING id, patrol_id""",
                (self._clock.now(), case_id, LIVE),
            ).fetchall()
        for dispatch_id, patrol_id in rows:
            self._index.set_dispatch(str(patrol_id), None)
            self._outbox.send_cancel(str(patrol_id), int(dispatch_id), case_id)

    # ---- replies --------------------------------------------------------------

    def on_reply(self, message: ReceivedMessage) -> None:
        """Parse on the MQTT thread; apply on the reply queue's (see replies.py)."""
        try:
            patrol_id = reply_patrol(message, self._index)
            reply = parse_reply(message.payload)
        except PayloadError as exc:
            self._reject_reply(message.topic, exc)
            message.ack()
            return
        self._replies.submit(PatrolReply(patrol_id, reply, message.ack))

    def _apply_queued(self, item: PatrolReply) -> None:
        try:
            self.handle_reply(item.patrol_id, item.reply)
        except PayloadError as exc:
            self._reject_reply(f"gridhub/patrols/{item.patrol_id}/reply", exc)
        except RETRYABLE:
            raise  # the queue holds the reply until the database answers
        except Exception:  # the queue logs it and moves on; every reply is accounted for
            self._metrics.mqtt_handler_errors.labels(REPLY_TOPIC).inc()
            raise

    def _reject_reply(self, topic: str, exc: PayloadError) -> None:
        self._metrics.mqtt_rejected.labels("reply", exc.reason).inc()
        self._throttle.warning(
            f"reply:{topic}:{exc.reason}", "rejected reply on %s: %s", topic, exc
        )

    def handle_reply(self, patrol_id: str, reply: Reply) -> None:
        """Apply a patrol's reply; raises `PayloadError` when it does not fit."""
        with self._pool.connection() as conn, conn.transaction():
            applied = self._reply_applier.apply(conn, patrol_id, reply)
        if not applied.repeated:
            self._metrics.dispatches.labels(REPLY_RULES[reply.action][1]).inc()
        if reply.action in ("decline", "resolve"):  # on a repeat too: this hub's index learns
            self._index.set_dispatch(patrol_id, None)
        if applied.followup is not None:
            self._after_commit(applied.followup)

    # ---- reading ----------------------------------------------------------------

    def dispatches_for(self, case_id: int) -> list[DispatchRow]:
        with self._pool.connection() as conn:
            return dispatches_of(conn, case_id)
