"""A simulated duty operator (模拟值班员) for the demo: the staff side of a case's life.

Detectors report cases and simulated patrols answer dispatches, but accepting,
dispatching, closing and evaluating are an operator's steps. In the demo this
operator takes them for cases raised by cameras and sensors, each `delay_s`
after the case entered its state, so the dashboard shows the whole lifecycle
(上报 → 受理 → 派遣 → 到场 → 处置 → 结案 → 评估) without anyone at the desk:

- reported: accept, then dispatch to the nearest available patrol;
- accepted (an auto-accepted case whose dispatch failed): dispatch;
- resolved: close;
- closed: evaluate with a score.

Every step is an ordinary workflow action as role ``operator`` by the user
`ACTOR`, with a note saying it was simulated, so the audit trail never passes it
off as a person's work. Cases reported by hand, and escalated ones, are left to
the people at the dashboard.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg

from hub.cases.store import case_kind, merge_details
from hub.cases.workflow import CaseAction, apply
from hub.errors import CaseError, TransitionError
from hub.hub import Hub
from hub.infra.ticker import Ticker
from hub.storage import rows

log = logging.getLogger(__name__)

ACTOR = "simulated-operator"
NOTE = "模拟值班员 (simulated duty operator, demo)"
SCORE = 5
Conn = psycopg.Connection[Any]

# Cases (from a camera or sensor) in `state` whose last move into it is older than the cutoff.
WAITING = """
SELECT c.id FROM cases c
 WHERE c.state = %(state)s
   AND (c.camera_id IS NOT NULL OR c.sensor_id IS NOT NULL)
   AND (SELECT max(e.at) FROM case_events e
         WHERE e.case_id = c.id AND e.to_state = c.state
           AND e.from_state IS DISTINCT FROM e.to_state) <= %(cutoff)s
 ORDER BY c.id
"""


class DutyOperator:
    """Moves camera and sensor cases on through the operator's steps, after a delay."""

    def __init__(self, hub: Hub, delay_s: float = 8.0, interval_s: float = 1.0) -> None:
        self._hub = hub
        self.delay = timedelta(seconds=delay_s)
        self._ticker = Ticker("demo-duty-operator", self.tick, interval_s)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def tick(self) -> int:
        """One pass over the waiting cases; return how many steps were taken."""
        steps = 0
        for case_id in self._waiting("reported"):
            if self._act(case_id, "accept"):
                steps += 1 + self._dispatch(case_id)
        for case_id in self._waiting("accepted"):
            steps += self._dispatch(case_id)
        for case_id in self._waiting("resolved"):
            if self._act(case_id, "close"):
                self._hub.dispatcher.cancel_live(case_id)
                steps += 1
        for case_id in self._waiting("closed"):
            steps += int(self._act(case_id, "evaluate", {"score": SCORE}))
        return steps

    def _waiting(self, state: str) -> list[int]:
        cutoff = self._hub.clock.now() - self.delay
        with self._hub.pool.connection() as conn:
            waiting: list[int] = rows.scalars(conn, WAITING, {"state": state, "cutoff": cutoff})
        kinds = self._dispatchable if state in ("reported", "accepted") else None
        return [case_id for case_id in waiting if kinds is None or kinds(case_id)]

    def _dispatchable(self, case_id: int) -> bool:
        """Only cases whose scenario sends a patrol (a camera_offline case is maintenance)."""
        with self._hub.pool.connection() as conn:
            kind = case_kind(conn, case_id)
        return kind is not None and self._hub.site.scenario(kind).dispatch

    def _act(self, case_id: int, action: str, details: dict[str, Any] | None = None) -> bool:
        """Take one workflow step; False when someone else moved the case first."""
        request = CaseAction(case_id, action, ACTOR, "operator", NOTE)
        try:
            with self._hub.pool.connection() as conn, conn.transaction():
                apply(conn, request, self._hub.clock.now())
                if details:
                    merge_details(conn, case_id, details)
        except (TransitionError, CaseError) as exc:  # a person at the dashboard was quicker
            log.info("simulated operator skipped case %d: %s", case_id, exc)
            return False
        log.info("simulated operator: %s case %d", action, case_id)
        return True

    def _dispatch(self, case_id: int) -> int:
        """Send the nearest available patrol (none: the dispatcher escalates the case)."""
        outcome = self._hub.dispatcher.dispatch(case_id, ACTOR, "operator")
        return 1 if outcome.patrol_id is not None else 0
