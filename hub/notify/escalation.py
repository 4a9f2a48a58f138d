"""Escalation that messages someone: a case climbing a rung tells that rung's people.

The SLA monitor (hub/cases/sla.py) records an `sla_escalate` event each time a
case misses a deadline; the n-th such event of a case puts it on rung n of
`sla.escalation` (grid member → grid leader → community → street by default).
`EscalationMessenger` follows the audit log with its own cursor (named
``escalation``, in `notifier_cursors`), finds the contacts of that rung for the
case's grid or any grid above it (`notify.contacts`), and sends each robot one
message that @mentions its people. The message and the delivery result are
written to the case's audit trail as a `notify` event, in the transaction that
moves the cursor: a restart neither loses nor repeats a rung's message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hub.cases.feed import CaseEvent, events_after, last_event_id
from hub.cases.workflow import CaseAction, apply
from hub.clock import Clock
from hub.config import Contact, SiteConfig
from hub.errors import ConfigError, NotifyError
from hub.infra.metrics import HubMetrics
from hub.infra.ticker import Ticker
from hub.notify.runner import NotifierRunner
from hub.notify.templates import compose
from hub.seams import Message, MessageNotifier
from hub.storage import rows

log = logging.getLogger(__name__)
CURSOR = "escalation"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One robot's message to a rung's people, and how it went."""

    notifier: str
    contacts: tuple[Contact, ...]
    message: Message
    outcome: str  # delivered, or the reason of the last failed try

    def audit_note(self) -> str:
        people = ", ".join(f"{c.name} ({c.role})" for c in self.contacts)
        return f"{self.message.title} → {people} via {self.notifier}: {self.outcome}"


def rung_contacts(site: SiteConfig, grid_id: str | None, rung: str) -> list[Contact]:
    """The contacts on `rung` for a case in `grid_id` (its grid or any grid above it)."""
    parents = {g.id: g.parent for g in site.grids}
    chain: list[str] = []
    while grid_id is not None and grid_id not in chain:
        chain.append(grid_id)
        grid_id = parents.get(grid_id)
    return [c for c in site.notify.contacts if c.rung == rung and c.grid in chain]


def rung_of(conn: psycopg.Connection[Any], site: SiteConfig, event: CaseEvent) -> str:
    """The rung an `sla_escalate` event put its case on: its count of such events so far."""
    level = int(rows.scalar(
        conn, "SELECT count(*) FROM case_events WHERE case_id = %s AND action = 'sla_escalate'"
        " AND id <= %s", (event.case_id, event.id),
    ))  # fmt: skip
    ladder = site.sla.escalation
    return ladder[min(level, len(ladder) - 1)]


def messengers_of(site: SiteConfig, notifiers: dict[str, object]) -> dict[str, MessageNotifier]:
    """The robots contacts name; a contact naming a notifier that cannot message is an error."""
    robots: dict[str, MessageNotifier] = {}
    for i, contact in enumerate(site.notify.contacts):
        notifier = notifiers.get(contact.notifier)
        if not isinstance(notifier, MessageNotifier):
            raise ConfigError(f"notify.contacts[{i}].notifier: '{contact.notifier}' is not a "
                              "chat robot (wecom, dingtalk, feishu)")  # fmt: skip
        robots[contact.notifier] = notifier
    return robots


def escalation_parts(
    site: SiteConfig, runners: list[NotifierRunner], pool: ConnectionPool, metrics: HubMetrics,
    clock: Clock,
) -> list[EscalationMessenger]:  # fmt: skip
    """The messenger, when the site names contacts (none otherwise)."""
    robots = messengers_of(site, {r.name: r.notifier for r in runners})
    return [EscalationMessenger(pool, site, robots, metrics, clock)] if robots else []


class EscalationMessenger:
    """Messages each rung's people as cases climb; `deliver_pending()` is one pass."""

    def __init__(
        self, pool: ConnectionPool, site: SiteConfig, robots: dict[str, MessageNotifier],
        metrics: HubMetrics, clock: Clock,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._site = site
        self._robots = robots
        self._metrics = metrics
        self._clock = clock
        self._ticker = Ticker("notify-escalation", self.deliver_pending, interval_s=0.5)
        self._stop = self._ticker.stopped
        self.retries = 4
        self.backoff_s = 1.0
        self.pause: Callable[[float], bool] = self._stop.wait

    def start(self) -> None:
        self.claim_cursor()
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def claim_cursor(self) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                """INSERT INTO notifier_cursors (name, last_event_id) VALUES (%s, %s)
                   ON CONFLICT (name) DO NOTHING""",
                (CURSOR, last_event_id(conn)),
            )

    def deliver_pending(self) -> int:
        """Handle every event after the cursor; return how many messages went out."""
        sent = 0
        while not self._stop.is_set():
            outcome = self._next()
            if outcome is None:
                break
            sent += outcome
        return sent

    def _next(self) -> int | None:
        with self._pool.connection() as conn, conn.transaction():
            cursor = rows.scalar(conn, "SELECT last_event_id FROM notifier_cursors"
                                 " WHERE name = %s FOR UPDATE SKIP LOCKED", (CURSOR,))  # fmt: skip
            events = [] if cursor is None else events_after(conn, int(cursor), limit=1)
            if not events:
                return None
            deliveries = (
                self._deliveries(conn, events[0]) if events[0].action == "sla_escalate" else []
            )
            if any(d.outcome == "stopped" for d in deliveries):
                return None  # stopped mid-retry: this event again on the next start
            for d in deliveries:
                note = d.audit_note()
                log.info("case %d: %s", events[0].case_id, note)
                apply(conn, CaseAction(events[0].case_id, "notify", f"notifier:{d.notifier}",
                                       "system", note), self._clock.now())  # fmt: skip
            conn.execute("UPDATE notifier_cursors SET last_event_id = %s, updated_at = now()"
                         " WHERE name = %s", (events[0].id, CURSOR))  # fmt: skip
            return sum(d.outcome == "delivered" for d in deliveries)

    def _deliveries(self, conn: psycopg.Connection[Any], event: CaseEvent) -> list[Delivery]:
        contacts = rung_contacts(self._site, event.grid_id, rung_of(conn, self._site, event))
        deliveries = []
        for name in dict.fromkeys(c.notifier for c in contacts):
            mine = tuple(c for c in contacts if c.notifier == name)
            robot = self._robots[name]
            people = tuple(f"{c.name} ({c.role})" for c in mine)
            message = compose(event, self._site, robot.language, people)
            if message is None:
                continue
            targets = tuple(c.target for c in mine if c.target)
            message = Message(message.title, message.lines, message.link, message.image_url,
                              targets)  # fmt: skip
            deliveries.append(Delivery(name, mine, message, self._send(name, robot, message)))
            if deliveries[-1].outcome == "stopped":
                break
        return deliveries

    def _send(self, name: str, robot: MessageNotifier, message: Message) -> str:
        """Send with retries (a rate limit is a wait, not a try); the outcome to record."""
        attempt, outcome = 0, "failed"
        while True:
            try:
                robot.send(message)
                outcome = "delivered"
                break
            except NotifyError as exc:
                outcome = exc.outcome
                self._metrics.escalation_messages.labels(name, outcome).inc()
                log.warning("escalation via %s, try %d: %s", name, attempt + 1, exc)
                wait = exc.retry_after_s
                if wait is None and (exc.permanent or attempt >= self.retries):
                    break
                if self.pause(wait if wait is not None else self.backoff_s * 2**attempt):
                    return "stopped"
                attempt += 0 if wait is not None else 1
        self._metrics.escalation_messages.labels(name, outcome if outcome == "delivered"
                                                 else "failed").inc()  # fmt: skip
        return outcome if outcome == "delivered" else f"failed ({outcome})"
