"""The demo's simulated world, attached to a running hub: patrols, logins, scenes and an operator.

`attach_demo` is the `Attach` hook that `gridhub demo` hands to `hub.serve.serve`:
it starts simulated patrols on the hub's broker, makes the demo's logins, renders
and plays the camera scenes, starts a simulated duty operator, and reports a case
by hand that nobody accepts (its escalation messages the grid leader's robot:
demo/escalation.py). Each part is
stopped through the hub's `ExitStack`, before the hub itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from demo.escalation import UnacceptedCase
from demo.operator import DutyOperator
from demo.patrols import PatrolSimulator
from demo.scenes import DemoScenes
from hub.auth import add_user, user_exists
from hub.dispatch.rows import dispatches_in
from hub.hub import Hub
from hub.services import Endpoints

log = logging.getLogger("gridhub")

# Local demo accounts (the demo listens on loopback only): role -> (name, password).
DEMO_USERS = {"operator": ("operator", "gridhub-demo"), "admin": ("admin", "gridhub-demo")}


def attach_demo(hub: Hub, endpoints: Endpoints, extras: ExitStack) -> None:
    """The demo's simulated world: patrols, logins, camera scenes and a duty operator
    (stopped through `extras`, before the hub)."""
    extras.enter_context(simulated_patrols(hub, endpoints.broker_url))
    ensure_demo_users(hub)
    for part in (DemoScenes(hub), DutyOperator(hub), UnacceptedCase(hub)):
        part.start()
        extras.callback(part.stop)
    log.info("demo login: %s / %s (operator), %s / %s (admin)",
             *DEMO_USERS["operator"], *DEMO_USERS["admin"])  # fmt: skip


def ensure_demo_users(hub: Hub) -> None:
    """The demo's operator and admin logins, created once."""
    with hub.pool.connection() as conn:
        for role, (name, password) in DEMO_USERS.items():
            if not user_exists(conn, name):
                add_user(conn, name, role, password=password)


@contextmanager
def simulated_patrols(hub: Hub, broker_url: str) -> Iterator[PatrolSimulator]:
    """Run the site's patrols as simulated devices in a thread, for the demo; they take up
    the dispatches they had accepted when the demo last stopped."""
    simulator = PatrolSimulator(hub.site)
    with hub.pool.connection() as conn:
        held = dispatches_in(conn, ("accepted", "arrived"))
    for d in held:
        simulator.resume(d.patrol_id, dict(d.payload), d.state, time.monotonic())
    thread = threading.Thread(
        target=simulator.run, args=(broker_url,), name="patrol-simulator", daemon=True
    )
    thread.start()
    log.info("simulating %d patrols (%d resume a dispatch)", len(simulator.patrols), len(held))
    try:
        yield simulator
    finally:
        simulator.stop()
        thread.join(timeout=5)
