"""Choosing the patrol for a case and opening its dispatch row.

`Assigner` works in the caller's transaction, with the case row locked. It asks
the live index for the nearest available patrols (own grid first, then the
neighbours), leaves out those already asked for this case or busy with another
(any hub's), and inserts a `pending` dispatch row for the first one the database
lets it have, with the case's move to `dispatched`: both commit together, and
the outbox (outbox.py) publishes the row afterwards. When no patrol is left the
case is escalated. `reassign` closes a dispatch (expired, declined) and asks the
next patrol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from hub.cases.store import CaseRow, get_case
from hub.cases.workflow import CaseAction, apply
from hub.clock import Clock
from hub.config import SiteConfig
from hub.dispatch.rows import LIVE, Conn, dispatch_payload
from hub.model import Candidate
from hub.patrols.index import PatrolIndex
from hub.storage.rows import scalar, scalars


@dataclass(frozen=True, slots=True)
class DispatchOutcome:
    """What `dispatch()` did: a dispatch to a patrol, or an escalation."""

    case_id: int
    dispatch_id: int | None
    patrol_id: str | None
    escalated: bool


class Assigner:
    """Opens dispatch rows and moves their cases on, inside the caller's transaction."""

    def __init__(self, index: PatrolIndex, clock: Clock, site: SiteConfig) -> None:
        self._index = index
        self._clock = clock
        self._timeout = timedelta(seconds=site.sla.dispatch_timeout_s)
        self._site = site

    def dispatch_case(self, conn: Conn, case_id: int, actor: str, role: str) -> DispatchOutcome:
        """Lock the case and dispatch it, unless it has a live dispatch already (kept)."""
        case = get_case(conn, case_id, lock=True)
        live = conn.execute(
            "SELECT id, patrol_id FROM dispatches WHERE case_id = %s AND state = ANY(%s)",
            (case_id, LIVE),
        ).fetchone()
        if live is not None:
            return DispatchOutcome(case_id, int(live[0]), str(live[1]), False)
        action = "dispatch" if case.state != "dispatched" else "redispatch"
        return self.assign(conn, case, CaseAction(case_id, action, actor, role))

    def assign(self, conn: Conn, case: CaseRow, action: CaseAction) -> DispatchOutcome:
        """A dispatch row and the case transition, or an escalation when no patrol is
        available (the case row locked by the caller)."""
        now = self._clock.now()
        for candidate in self._candidates(case, self._unavailable(conn, case.id)):
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

    def reassign(self, conn: Conn, dispatch_id: int, case_id: int, state: str) -> DispatchOutcome:
        """Close a dispatch as `state` (expired, declined) and ask the next patrol."""
        conn.execute(
            "UPDATE dispatches SET state = %s, answered_at = %s WHERE id = %s",
            (state, self._clock.now(), dispatch_id),
        )
        case = get_case(conn, case_id, lock=True)
        if case.state != "dispatched":  # the operator moved it on meanwhile
            return DispatchOutcome(case_id, None, None, False)
        return self.assign(conn, case, CaseAction(case_id, "redispatch", "system", "system"))

    def _candidates(self, case: CaseRow, exclude: frozenset[str]) -> list[Candidate]:
        if case.lat is None or case.lon is None:
            return []
        return self._index.nearest(case.lat, case.lon, case.grid_id, k=5, exclude=exclude)

    @staticmethod
    def _unavailable(conn: Conn, case_id: int) -> frozenset[str]:
        """Patrols already asked for this case, or busy with another (any hub's)."""
        return frozenset(
            scalars(
                conn,
                "SELECT patrol_id FROM dispatches WHERE case_id = %s OR state = ANY(%s)",
                (case_id, LIVE),
            )
        )

    def _insert(self, conn: Conn, case: CaseRow, patrol_id: str, now: datetime) -> int | None:
        """Insert a pending dispatch; None if a racing hub just took this patrol."""
        attempt = int(
            scalar(
                conn,
                "SELECT coalesce(max(attempt), 0) + 1 FROM dispatches WHERE case_id = %s",
                (case.id,),
            )
        )
        deadline = now + self._timeout
        try:
            with conn.transaction():  # a savepoint: a lost race does not abort the caller
                dispatch_id = int(
                    scalar(
                        conn,
                        """INSERT INTO dispatches (case_id, patrol_id, attempt, state, payload,
                               created_at, deadline)
                           VALUES (%s, %s, %s, 'pending', '{}', %s, %s) RETURNING id""",
                        (case.id, patrol_id, attempt, now, deadline),
                    )
                )
        except psycopg.errors.UniqueViolation:
            return None
        payload = dispatch_payload(case, dispatch_id, patrol_id, attempt, deadline)
        conn.execute(
            "UPDATE dispatches SET payload = %s WHERE id = %s",
            (json.dumps(payload, ensure_ascii=False), dispatch_id),
        )
        return dispatch_id
