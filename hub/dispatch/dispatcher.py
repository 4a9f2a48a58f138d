"""Dispatching a case to the nearest available patrol, through a transactional outbox.

`dispatch(case_id)` picks a candidate from the live index, and in ONE transaction
inserts the dispatch row (state `pending`) and moves the case to `dispatched`.
The relay then publishes pending rows with QoS 1 on
`gridhub/patrols/{patrol_id}/dispatch` and marks them `sent`; rows are claimed
with ``FOR UPDATE SKIP LOCKED`` so several hub processes share the work. The
database enforces one live dispatch per case and per patrol, so nothing is
dispatched twice even when two hubs race.

Replies on `gridhub/patrols/{patrol_id}/reply` move the dispatch and the case on;
they are applied in order on a queue of their own, held while the database is
down (replies.py), never on the MQTT thread.
A dispatch not accepted by its deadline expires and the next candidate is asked;
when none is left the case is escalated. At start, every dispatch that is neither
answered nor expired is published again: a crash between commit and publish, or
a broker that lost the message, costs a repeat, never a loss. A case the hub
accepted itself for dispatch but stopped before dispatching (killed between the
two commits) is dispatched then too.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hub.cases.store import CaseRow, get_case
from hub.cases.workflow import AUTO_ACCEPT_ACTOR, CaseAction, apply
from hub.clock import Clock
from hub.config import SiteConfig
from hub.dispatch.replies import RETRYABLE, PatrolReply, ReplyQueue
from hub.dispatch.rows import DispatchRow, dispatch_payload, dispatches_of
from hub.errors import BrokerError, HubError, PayloadError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.infra.throttle import ThrottledLog
from hub.patrols.index import PatrolIndex
from hub.patrols.payloads import Reply, parse_reply

log = logging.getLogger(__name__)

REPLY_TOPIC = "gridhub/patrols/+/reply"
LIVE = ["pending", "sent", "accepted", "arrived"]
Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class DispatchOutcome:
    """What `dispatch()` did: a dispatch to a patrol, or an escalation."""

    case_id: int
    dispatch_id: int | None
    patrol_id: str | None
    escalated: bool


# Reply action -> (dispatch states it may follow, dispatch state after it).
REPLY_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("pending", "sent"), "accepted"),
    "decline": (("pending", "sent", "accepted"), "declined"),
    "arrive": (("pending", "sent", "accepted"), "arrived"),
    "resolve": (("accepted", "arrived"), "resolved"),
}


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
        self._timeout = timedelta(seconds=site.sla.dispatch_timeout_s)
        self._site = site
        self._throttle = ThrottledLog(log, clock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatch-relay", daemon=True)
        self._replies = ReplyQueue(
            self._apply_queued, metrics.mqtt_rejected.labels("reply", "queue_full").inc
        )
        self.poll_s = 1.0

    # ---- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Resume: mark busy patrols, re-send unanswered dispatches, start the relay."""
        with self._pool.connection() as conn:
            for row in conn.execute(
                "SELECT patrol_id, id FROM dispatches WHERE state = ANY(%s)", (LIVE,)
            ).fetchall():
                self._index.set_dispatch(str(row[0]), int(row[1]))
            conn.execute("UPDATE dispatches SET state = 'pending' WHERE state = 'sent'")
        self._resume_auto_dispatch()
        self._replies.start()
        self._link.subscribe(REPLY_TOPIC, self.on_reply)
        self._thread.start()

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

    # ---- creating dispatches ---------------------------------------------------

    def dispatch(
        self, case_id: int, actor: str = "system", role: str = "system"
    ) -> DispatchOutcome:
        """Send the case to the best available patrol, or escalate it if there is none.

        A case that already has a live dispatch keeps it: calling this twice, or from
        two hubs at once, dispatches once.
        """
        with self._pool.connection() as conn, conn.transaction():
            case = get_case(conn, case_id, lock=True)
            live = conn.execute(
                "SELECT id, patrol_id FROM dispatches WHERE case_id = %s AND state = ANY(%s)",
                (case_id, LIVE),
            ).fetchone()
            if live is not None:
                return DispatchOutcome(case_id, int(live[0]), str(live[1]), False)
            action = "dispatch" if case.state != "dispatched" else "redispatch"
            outcome = self._assign(conn, case, CaseAction(case_id, action, actor, role))
        self._after_commit(outcome)
        return outcome

    def _assign(self, conn: Conn, case: CaseRow, action: CaseAction) -> DispatchOutcome:
        """In the caller's transaction (case row locked): a dispatch row and the case
        transition, or an escalation when no patrol is available."""
        now = self._clock.now()
        exclude = self._unavailable(conn, case.id)
        for candidate in self._candidates(case, exclude):
            dispatch_id = self._insert(conn, case, candidate.patrol_id, now)
            if dispatch_id is not None:
                note = f"patrol {candidate.patrol_id}, {candidate.distance_m:.0f} m"
                apply(
                    conn, CaseAction(case.id, action.action, action.actor, action.role, note), now
                )
                arrive_s = self._site.deadlines(case.kind, case.grid_id)[1]
                conn.execute(
                    "UPDATE cases SET arrive_deadline = %s WHERE id = %s",
                    (now + timedelta(seconds=arrive_s), case.id),
                )
                return DispatchOutcome(case.id, dispatch_id, candidate.patrol_id, False)
        if case.state != "escalated":
            note = "no available patrol in range"
            apply(conn, CaseAction(case.id, "escalate", "system", "system", note), now)
        return DispatchOutcome(case.id, None, None, True)

    def _candidates(self, case: CaseRow, exclude: frozenset[str]) -> list[Any]:
        if case.lat is None or case.lon is None:
            return []
        return self._index.nearest(case.lat, case.lon, case.grid_id, k=5, exclude=exclude)

    @staticmethod
    def _unavailable(conn: Conn, case_id: int) -> frozenset[str]:
        """Patrols already asked for this case, or busy with another (any hub's)."""
        rows = conn.execute(
            "SELECT patrol_id FROM dispatches WHERE case_id = %s OR state = ANY(%s)",
            (case_id, LIVE),
        ).fetchall()
        return frozenset(str(r[0]) for r in rows)

    def _insert(self, conn: Conn, case: CaseRow, patrol_id: str, now: datetime) -> int | None:
        """Insert a pending dispatch; None if a racing hub just took this patrol."""
        attempt_row = conn.execute(
            "SELECT coalesce(max(attempt), 0) + 1 FROM dispatches WHERE case_id = %s", (case.id,)
        ).fetchone()
        attempt = int(attempt_row[0]) if attempt_row else 1
        deadline = now + self._timeout
        try:
            with conn.transaction():  # a savepoint: a lost race does not abort the caller
                row = conn.execute(
                    """INSERT INTO dispatches (case_id, patrol_id, attempt, state, payload,
                           created_at, deadline)
                       VALUES (%s, %s, %s, 'pending', '{}', %s, %s) RETURNING id""",
                    (case.id, patrol_id, attempt, now, deadline),
                ).fetchone()
        except psycopg.errors.UniqueViolation:
            return None
        assert row is not None
        dispatch_id = int(row[0])
        payload = dispatch_payload(case, dispatch_id, patrol_id, attempt, deadline)
        conn.execute(
            "UPDATE dispatches SET payload = %s WHERE id = %s",
            (json.dumps(payload, ensure_ascii=False), dispatch_id),
        )
        return dispatch_id

    def _after_commit(self, outcome: DispatchOutcome) -> None:
        if outcome.patrol_id is not None:
            self._index.set_dispatch(outcome.patrol_id, outcome.dispatch_id)
            self._metrics.dispatches.labels("created").inc()
            self._wake.set()
        if outcome.escalated:
            self._metrics.dispatches.labels("escalated").inc()
            log.warning("case %d escalated: no available patrol", outcome.case_id)

    # ---- the outbox relay and timeouts ------------------------------------------

    def relay_once(self) -> int:
        """Publish pending dispatches (claimed with SKIP LOCKED); return how many."""
        published = 0
        with self._pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                """SELECT id, patrol_id, payload FROM dispatches WHERE state = 'pending'
                   ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"""
            ).fetchall()
            for dispatch_id, patrol_id, payload in rows:
                if not self._publish(str(patrol_id), payload):
                    break
                conn.execute(
                    "UPDATE dispatches SET state = 'sent', published_at = %s WHERE id = %s",
                    (self._clock.now(), dispatch_id),
                )
                published += 1
        self._metrics.dispatches.labels("published").inc(published)
        return published

    def _publish(self, patrol_id: str, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self._link.publish_confirmed(f"gridhub/patrols/{patrol_id}/dispatch", body)
        except BrokerError as exc:
            log.warning("could not publish dispatch to %s: %s", patrol_id, exc)
            return False
        return True

    def expire_once(self) -> int:
        """Expire unanswered dispatches past their deadline and ask the next patrol."""
        expired = 0
        while True:
            with self._pool.connection() as conn, conn.transaction():
                row = conn.execute(
                    """SELECT id, case_id, patrol_id FROM dispatches
                       WHERE state IN ('pending', 'sent') AND deadline < %s
                       ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED""",
                    (self._clock.now(),),
                ).fetchone()
                if row is None:
                    return expired
                outcome = self._close_and_redispatch(conn, int(row[0]), int(row[1]), "expired")
            self._index.set_dispatch(str(row[2]), None)
            self._metrics.dispatches.labels("expired").inc()
            self._after_commit(outcome)
            expired += 1

    def _close_and_redispatch(
        self, conn: Conn, dispatch_id: int, case_id: int, state: str
    ) -> DispatchOutcome:
        conn.execute(
            "UPDATE dispatches SET state = %s, answered_at = %s WHERE id = %s",
            (state, self._clock.now(), dispatch_id),
        )
        case = get_case(conn, case_id, lock=True)
        if case.state != "dispatched":  # the operator moved it on meanwhile
            return DispatchOutcome(case_id, None, None, False)
        return self._assign(conn, case, CaseAction(case_id, "redispatch", "system", "system"))

    # ---- replies --------------------------------------------------------------

    def on_reply(self, message: ReceivedMessage) -> None:
        """Parse on the MQTT thread; apply on the reply queue's (see replies.py)."""
        try:
            patrol_id = self._reply_patrol(message)
            self._replies.submit(PatrolReply(patrol_id, parse_reply(message.payload)))
        except PayloadError as exc:
            self._reject_reply(message.topic, exc)

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

    def _reply_patrol(self, message: ReceivedMessage) -> str:
        """The patrol of a reply topic, which must exist and be enabled."""
        patrol_id = message.topic_levels(4)[2]
        state = self._index.get(patrol_id)
        if state is None:
            raise PayloadError("unknown_patrol", f"no patrol {patrol_id!r} in the registry")
        if not state.enabled:
            raise PayloadError("disabled_patrol", f"patrol {patrol_id} is disabled")
        return patrol_id

    def handle_reply(self, patrol_id: str, reply: Reply) -> None:
        """Apply a patrol's reply; raises `PayloadError` when it does not fit."""
        outcome = None
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT case_id, patrol_id, state FROM dispatches WHERE id = %s FOR UPDATE",
                (reply.dispatch_id,),
            ).fetchone()
            if row is None or str(row[1]) != patrol_id:
                raise PayloadError("unknown_dispatch", f"no dispatch {reply.dispatch_id} for you")
            case_id, state = int(row[0]), str(row[2])
            sources, target = REPLY_RULES[reply.action]
            if state == target:  # a repeated reply (QoS 1 redelivery, or another hub's)
                if reply.action in ("decline", "resolve"):
                    self._index.set_dispatch(patrol_id, None)  # this hub's index learns too
                return
            if state not in sources:
                raise PayloadError("bad_state", f"dispatch {reply.dispatch_id} is {state}")
            outcome = self._apply_reply(conn, reply, case_id, patrol_id)
        self._metrics.dispatches.labels(REPLY_RULES[reply.action][1]).inc()
        if reply.action in ("decline", "resolve"):
            self._index.set_dispatch(patrol_id, None)
        if outcome is not None:
            self._after_commit(outcome)

    def _apply_reply(
        self, conn: Conn, reply: Reply, case_id: int, patrol_id: str
    ) -> DispatchOutcome | None:
        now = self._clock.now()
        target = REPLY_RULES[reply.action][1]
        if reply.action == "decline":
            conn.execute(
                "UPDATE dispatches SET note = %s WHERE id = %s", (reply.note, reply.dispatch_id)
            )
            return self._close_and_redispatch(conn, reply.dispatch_id, case_id, "declined")
        conn.execute(
            """UPDATE dispatches SET state = %s, note = coalesce(%s, note),
                   answered_at = coalesce(answered_at, %s) WHERE id = %s""",
            (target, reply.note, now, reply.dispatch_id),
        )
        case_action = {"accept": "patrol_accept", "arrive": "arrive", "resolve": "resolve"}
        state = get_case(conn, case_id).state
        if reply.action == "resolve" and state == "dispatched":
            apply(conn, CaseAction(case_id, "arrive", patrol_id, "system"), now)
        apply(
            conn,
            CaseAction(case_id, case_action[reply.action], patrol_id, "system", reply.note),
            now,
        )
        return None

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
            body = {"dispatch_id": int(dispatch_id), "case_id": case_id, "cancelled": True}
            self._link.publish(f"gridhub/patrols/{patrol_id}/dispatch", json.dumps(body).encode())

    # ---- reading ----------------------------------------------------------------

    def dispatches_for(self, case_id: int) -> list[DispatchRow]:
        with self._pool.connection() as conn:
            return dispatches_of(conn, case_id)
