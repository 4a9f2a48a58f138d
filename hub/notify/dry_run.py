"""`gridhub notify dry-run --case N`: what a case's events would send, to whom, sending nothing.

For each event in the case's audit trail it lists every notifier of the site
file: a chat robot either shows the message it would send (routing rules
applied, in its language) or says the event is not routed to it; a webhook or
MQTT notifier gets every event. For each `sla_escalate` event it also names the
rung the case climbed to and the contacts that rung's message would @mention.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import class_row

from hub.cases.feed import CaseEvent
from hub.config import SiteConfig, load_site
from hub.errors import CaseError
from hub.infra.mqtt import MqttLink
from hub.notify.escalation import rung_contacts, rung_of
from hub.notify.routing import Routing
from hub.notify.runner import build_notifier
from hub.notify.templates import compose
from hub.plugins import load_registry
from hub.seams import MessageNotifier, Notifier, NotifierContext
from hub.services import service_endpoints
from hub.storage.db import connect

Planned = tuple[str, Notifier, Routing | None]


def add_notify_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    notify = commands.add_parser("notify", help="notifiers: what would be sent")
    sub = notify.add_subparsers(title="notify commands", metavar="COMMAND", required=True)
    dry = sub.add_parser("dry-run", help="show what a case's events would send to whom")
    dry.add_argument("--config", type=Path, required=True, help="site YAML file")
    dry.add_argument("--case", type=int, required=True, help="case number")
    dry.add_argument("--url", help="postgresql:// URL (overrides the config)")
    dry.set_defaults(command=cmd_notify_dry_run)


def cmd_notify_dry_run(args: argparse.Namespace) -> int:
    site = load_site(args.config)
    with service_endpoints(site) as endpoints:
        link = MqttLink(endpoints.broker_url, f"gridhub-dry-run-{uuid.uuid4().hex[:8]}")
        registry = load_registry(["gridhub.notifiers"])
        context = NotifierContext(site, link)
        planned = [(spec.name or spec.kind, *build_notifier(i, spec, registry, context))
                   for i, spec in enumerate(site.notifiers)]  # fmt: skip
        with connect(args.url or endpoints.database_url) as conn:
            for line in plan(conn, site, planned, args.case):
                print(line)  # noqa: T201
    return 0


def plan(
    conn: psycopg.Connection[Any], site: SiteConfig, notifiers: list[Planned], case_id: int
) -> list[str]:
    """The dry run's report, one line per event, notifier and message line."""
    events = case_events(conn, case_id)
    if not events:
        raise CaseError(f"no case {case_id}")
    out: list[str] = []
    for event in events:
        out.append(f"#{event.id} {event.at:%Y-%m-%d %H:%M:%S} {event.action} → {event.to_state}")
        for name, notifier, routing in notifiers:
            out += [f"  {line}" for line in _one(site, event, name, notifier, routing)]
        if event.action == "sla_escalate":
            out += _escalation(conn, site, event, notifiers)
    return out


def _one(
    site: SiteConfig, event: CaseEvent, name: str, notifier: Notifier, routing: Routing | None
) -> list[str]:
    if routing is None or not isinstance(notifier, MessageNotifier):
        return [f"{name}: the event as it is (not a chat robot)"]
    message = compose(event, site, notifier.language)
    if message is None or not routing.wants(event):
        return [f"{name}: not routed"]
    return [f"{name}: {message.title}", *(f"    {line}" for line in message.lines)]


def _escalation(
    conn: psycopg.Connection[Any], site: SiteConfig, event: CaseEvent, notifiers: list[Planned]
) -> list[str]:
    rung = rung_of(conn, site, event)
    contacts = rung_contacts(site, event.grid_id, rung)
    if not contacts:
        return [f"  escalation to {rung}: no contacts for this grid"]
    return [f"  escalation to {rung}: {c.name} ({c.role}) via {c.notifier}"
            + (f" @{c.target}" if c.target else "") for c in contacts]  # fmt: skip


def case_events(conn: psycopg.Connection[Any], case_id: int) -> list[CaseEvent]:
    with conn.cursor(row_factory=class_row(CaseEvent)) as cur:
        return cur.execute(
            """SELECT e.id, e.case_id, e.at, e.actor, e.action, e.from_state, e.to_state, e.note,
                      c.kind, c.title, c.severity, c.grid_id, c.camera_id, c.sensor_id
               FROM case_events e JOIN cases c ON c.id = e.case_id
               WHERE e.case_id = %s ORDER BY e.id""",
            (case_id,),
        ).fetchall()
