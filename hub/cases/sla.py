"""Five-minute rules (五分钟响应): missed deadlines climb the escalation ladder.

Deadlines live in the database (`cases.accept_deadline` for a reported case,
`dispatch_deadline` for an accepted one, `arrive_deadline` for a dispatched one),
so a restarted hub resumes them. The dispatch deadline is set by each pass
(`sla.dispatch_s` after the case was accepted) and cleared when it moves on. Each
pass takes the overdue cases with ``FOR UPDATE SKIP LOCKED`` (several hubs share
the work), raises `escalation_level` one rung — grid member → grid leader →
community → street by default — records an `sla_escalate` event naming who is
now responsible, and sets the next deadline for the rung above; the top rung has
none. Notifiers and the live feed pick the event up from the audit log.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hub.cases.store import Overdue, overdue_case, set_escalation, track_dispatch_deadlines
from hub.cases.workflow import CaseAction, apply
from hub.clock import Clock
from hub.config import SiteConfig
from hub.infra.metrics import HubMetrics
from hub.infra.ticker import Ticker

log = logging.getLogger(__name__)

# deadline column -> (state it applies to, the SLA it measures)
DEADLINES = {
    "accept_deadline": ("reported", "accept"),
    "dispatch_deadline": ("accepted", "dispatch"),
    "arrive_deadline": ("dispatched", "arrive"),
}


class SlaMonitor:
    """Escalates cases whose deadlines have passed; `check_once()` is one pass."""

    def __init__(
        self, pool: ConnectionPool, site: SiteConfig, metrics: HubMetrics, clock: Clock
    ) -> None:
        self._pool = pool
        self._site = site
        self._ladder = site.sla.escalation
        self._metrics = metrics
        self._clock = clock
        self._ticker = Ticker("sla-monitor", self.check_once, interval_s=1.0)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def check_once(self) -> int:
        """Escalate every overdue case once; return how many were escalated."""
        escalated = 0
        with self._pool.connection() as conn, conn.transaction():
            track_dispatch_deadlines(conn, self._site.sla.dispatch_s)
        for column, (state, sla) in DEADLINES.items():
            while self._escalate_one(column, state, sla):
                escalated += 1
        return escalated

    def _escalate_one(self, column: str, state: str, sla: str) -> bool:
        now = self._clock.now()
        with self._pool.connection() as conn, conn.transaction():
            case = overdue_case(conn, column, state, now)
            if case is None:
                return False
            self._escalate(conn, case, column, sla)
        self._metrics.sla_escalations.labels(sla).inc()
        return True

    def _escalate(
        self, conn: psycopg.Connection[Any], case: Overdue, column: str, sla: str
    ) -> None:
        case_id, level = case.id, case.escalation_level + 1
        rung = min(level, len(self._ladder) - 1)
        now = self._clock.now()
        accept_s, arrive_s = self._site.deadlines(case.kind, case.grid_id)
        period = {"accept": accept_s, "arrive": arrive_s}.get(sla, self._site.sla.dispatch_s)
        next_deadline = now + timedelta(seconds=period) if rung < len(self._ladder) - 1 else None
        note = f"{sla} deadline missed: escalated to {self._ladder[rung]}"
        apply(conn, CaseAction(case_id, "sla_escalate", "sla", "system", note), now)
        set_escalation(conn, case_id, level, column, next_deadline)
        log.warning("case %d: %s", case_id, note)
