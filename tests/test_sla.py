"""Five-minute rules: missed deadlines escalate, also after a restart (fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.cases.store import NewCase, get_case, open_case
from hub.cases.workflow import CaseAction, apply
from hub.clock import FakeClock
from hub.hub import Hub
from tests.conftest import HubFactory, metric


def _report(hub: Hub) -> int:
    with hub.pool.connection() as conn:
        return open_case(conn, NewCase("manual", "占道经营", 2, "WT-QH-02", 30.277, 120.145),
                         hub.clock.now(), "resident", 300)  # fmt: skip


def _level_and_notes(hub: Hub, case_id: int) -> tuple[int, list[str]]:
    with hub.pool.connection() as conn:
        level = get_case(conn, case_id).escalation_level
        notes = conn.execute(
            """SELECT note FROM case_events WHERE case_id = %s AND action = 'sla_escalate'
               ORDER BY id""",
            (case_id,),
        ).fetchall()
    return level, [str(n[0]) for n in notes]


def test_missed_accept_deadline_climbs_the_ladder_across_a_restart(
    hub_factory: HubFactory,
) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    hub.sla.stop()  # drive the checks by hand
    case_id = _report(hub)
    clock.advance(299)
    assert hub.sla.check_once() == 0
    clock.advance(2)
    assert hub.sla.check_once() == 1
    assert _level_and_notes(hub, case_id) == (
        1, ["accept deadline missed: escalated to grid_leader"])  # fmt: skip
    assert hub.sla.check_once() == 0  # the next rung has its own deadline
    assert metric(hub, "gridhub_sla_escalations_total", deadline="accept") == 1

    restarted = hub_factory(clock=clock)  # deadlines are in the database
    restarted.sla.stop()
    clock.advance(301)
    assert restarted.sla.check_once() == 1
    clock.advance(301)
    assert restarted.sla.check_once() == 1
    clock.advance(10_000)
    assert restarted.sla.check_once() == 0  # the street is the top rung: no more deadlines
    level, notes = _level_and_notes(restarted, case_id)
    assert level == 3
    assert notes[-1] == "accept deadline missed: escalated to street"
    with restarted.pool.connection() as conn:
        assert get_case(conn, case_id).state == "reported"  # escalation is not a state change


def test_accepted_case_has_no_accept_deadline_to_miss(hub_factory: HubFactory) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    hub.sla.stop()
    case_id = _report(hub)
    with hub.pool.connection() as conn:
        conn.execute("UPDATE cases SET state = 'accepted' WHERE id = %s", (case_id,))
    clock.advance(1000)
    assert hub.sla.check_once() == 0


def test_a_case_accepted_but_never_dispatched_is_escalated(hub_factory: HubFactory) -> None:
    """受理 → 派遣 has its own deadline (sla.dispatch_s, 5 min by default), counted from
    the acceptance in the audit log; a dispatched case no longer has it."""
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    hub.sla.stop()
    waiting, dispatched = _report(hub), _report(hub)
    clock.advance(60)
    with hub.pool.connection() as conn:
        for case_id in (waiting, dispatched):
            apply(conn, CaseAction(case_id, "accept", "op", "operator"), clock.now())
    assert hub.sla.check_once() == 0
    with hub.pool.connection() as conn:
        apply(conn, CaseAction(dispatched, "dispatch", "op", "operator"), clock.now())
        conn.execute("UPDATE cases SET arrive_deadline = NULL WHERE id = %s", (dispatched,))
    clock.advance(299)
    assert hub.sla.check_once() == 0
    clock.advance(2)
    assert hub.sla.check_once() == 1
    assert _level_and_notes(hub, waiting) == (
        1, ["dispatch deadline missed: escalated to grid_leader"])  # fmt: skip
    assert _level_and_notes(hub, dispatched) == (0, [])
    assert metric(hub, "gridhub_sla_escalations_total", deadline="dispatch") == 1
