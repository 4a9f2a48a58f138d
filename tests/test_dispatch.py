"""Dispatch through the outbox, against the real Mosquitto and PostgreSQL."""

from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime

import psycopg
import pytest

from hub.cases.store import NewCase, get_case, open_case
from hub.cases.workflow import CaseAction, apply
from hub.clock import FakeClock
from hub.dispatch.assign import DispatchOutcome
from hub.dispatch.dispatcher import Dispatcher
from hub.dispatch.replies import PatrolReply
from hub.hub import Hub
from hub.patrols.payloads import Reply
from tests.conftest import PATROL_POSITIONS, Device, HubFactory, metric, wait_until

CASE_AT = (30.2725, 120.1425)  # 清河一网格 (WT-QH-01-A)
POSITIONS = PATROL_POSITIONS


def _report_for_duty(hub: Hub, tx: Device, patrols: dict[str, tuple[float, float]]) -> None:
    now = hub.clock.now()
    for pid, (lat, lon) in patrols.items():
        tx.publish(f"gridhub/patrols/{pid}/status", "on_duty")
        tx.publish(f"gridhub/patrols/{pid}/location",
                   json.dumps({"lat": lat, "lon": lon, "ts": now.timestamp()}))  # fmt: skip
    wait_until(lambda: all(hub.patrols.available(pid) for pid in patrols))


def _accepted_case(hub: Hub) -> int:
    """A reported case in 清河一网格 that the operator has accepted."""
    with hub.pool.connection() as conn, conn.transaction():
        case_id = open_case(
            conn, NewCase("thrown_object", "3 幢高空抛物", 3, "WT-QH-01-A", *CASE_AT),
            hub.clock.now(), "detector", 300,
        )  # fmt: skip
        apply(conn, CaseAction(case_id, "accept", "operator-1", "operator"), hub.clock.now())
    return case_id


def _reply(tx: Device, pid: str, dispatch_id: int, action: str, note: str | None = None) -> None:
    body = {"dispatch_id": dispatch_id, "action": action, "note": note}
    tx.publish(f"gridhub/patrols/{pid}/reply", json.dumps(body))


def _case_state(hub: Hub, case_id: int) -> str:
    with hub.pool.connection() as conn:
        return get_case(conn, case_id).state


def _events(hub: Hub, case_id: int) -> list[tuple[str, str]]:
    with hub.pool.connection() as conn:
        rows = conn.execute(
            "SELECT action, to_state FROM case_events WHERE case_id = %s ORDER BY id", (case_id,)
        ).fetchall()
    return [(str(a), str(s)) for a, s in rows]


def test_dispatch_accept_arrive_resolve(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    hub = hub_factory()
    _report_for_duty(hub, devices["tx"], POSITIONS)
    case_id = _accepted_case(hub)
    outcome = hub.dispatcher.dispatch(case_id, "operator-1", "operator")
    assert outcome.patrol_id == "P01" and outcome.dispatch_id is not None
    message = devices["P01"].next_json()
    assert message["case_id"] == case_id and message["dispatch_id"] == outcome.dispatch_id
    assert message["grid_id"] == "WT-QH-01-A" and message["kind"] == "thrown_object"
    assert message["reply_topic"] == "gridhub/patrols/P01/reply"
    assert not hub.patrols.available("P01")

    _reply(devices["tx"], "P01", outcome.dispatch_id, "accept")
    wait_until(lambda: hub.dispatcher.dispatches_for(case_id)[0].state == "accepted")
    _reply(devices["tx"], "P01", outcome.dispatch_id, "arrive")
    wait_until(lambda: _case_state(hub, case_id) == "arrived")
    _reply(devices["tx"], "P01", outcome.dispatch_id, "resolve", "物品已清理，已提醒住户")
    wait_until(lambda: _case_state(hub, case_id) == "resolved")
    assert hub.patrols.available("P01")
    dispatch = hub.dispatcher.dispatches_for(case_id)[0]
    assert (dispatch.state, dispatch.note) == ("resolved", "物品已清理，已提醒住户")
    assert _events(hub, case_id) == [
        ("report", "reported"), ("accept", "accepted"), ("dispatch", "dispatched"),
        ("patrol_accept", "dispatched"), ("arrive", "arrived"), ("resolve", "resolved"),
    ]  # fmt: skip


def test_timeout_reassigns_to_the_next_patrol(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    _report_for_duty(hub, devices["tx"], POSITIONS)
    case_id = _accepted_case(hub)
    first = hub.dispatcher.dispatch(case_id)
    assert first.patrol_id == "P01"
    devices["P01"].next_json()
    clock.advance(30)  # not yet: the timeout is 60 s
    with pytest.raises(queue.Empty):
        devices["P07"].received.get(timeout=1.5)
    clock.advance(31)  # the relay thread notices within its poll interval
    second = devices["P07"].next_json()  # P07's home grid is WT-QH-01 too
    assert second["case_id"] == case_id and second["attempt"] == 2
    wait_until(  # the relay marks it sent when its transaction commits, after the PUBACK
        lambda: (
            [(d.patrol_id, d.state) for d in hub.dispatcher.dispatches_for(case_id)]
            == [("P01", "expired"), ("P07", "sent")]
        )
    )
    assert hub.patrols.available("P01")  # free again, but not asked twice for this case


def test_decline_then_no_one_left_escalates(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    hub = hub_factory()
    _report_for_duty(hub, devices["tx"], {"P01": POSITIONS["P01"]})
    case_id = _accepted_case(hub)
    outcome = hub.dispatcher.dispatch(case_id)
    assert outcome.dispatch_id is not None
    devices["P01"].next_json()
    _reply(devices["tx"], "P01", outcome.dispatch_id, "decline", "正在处理另一起事件")
    wait_until(lambda: _case_state(hub, case_id) == "escalated")
    assert [d.state for d in hub.dispatcher.dispatches_for(case_id)] == ["declined"]
    assert _events(hub, case_id)[-1] == ("escalate", "escalated")


def test_replies_that_do_not_fit_are_rejected(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    hub = hub_factory()
    _report_for_duty(hub, devices["tx"], POSITIONS)
    case_id = _accepted_case(hub)
    outcome = hub.dispatcher.dispatch(case_id)
    assert outcome.dispatch_id is not None
    devices["P01"].next_json()
    _reply(devices["tx"], "P02", outcome.dispatch_id, "accept")  # not P02's dispatch
    _reply(devices["tx"], "P01", outcome.dispatch_id, "resolve")  # resolve before accept
    _reply(devices["tx"], "P01", outcome.dispatch_id, "accept")
    _reply(devices["tx"], "P01", outcome.dispatch_id, "accept")  # a repeat: ignored
    wait_until(lambda: hub.dispatcher.dispatches_for(case_id)[0].state == "accepted")
    rejected = "gridhub_mqtt_rejected_total"
    wait_until(lambda: metric(hub, rejected, channel="reply", reason="bad_state") == 1)
    assert metric(hub, rejected, channel="reply", reason="unknown_dispatch") == 1


def test_crash_between_commit_and_publish_is_resent_on_restart(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    first = hub_factory()
    _report_for_duty(first, devices["tx"], POSITIONS)
    case_id = _accepted_case(first)
    first.dispatcher.stop()  # the relay is gone: the hub "dies" right after the commit
    outcome = first.dispatcher.dispatch(case_id)
    assert outcome.dispatch_id is not None
    with pytest.raises(queue.Empty):
        devices["P01"].received.get(timeout=1.5)
    assert [d.state for d in first.dispatcher.dispatches_for(case_id)] == ["pending"]

    second = hub_factory()  # the restarted hub, on the same database
    message = devices["P01"].next_json()
    assert message["dispatch_id"] == outcome.dispatch_id
    _reply(devices["tx"], "P01", outcome.dispatch_id, "accept")
    _reply(devices["tx"], "P01", outcome.dispatch_id, "accept")
    wait_until(lambda: second.dispatcher.dispatches_for(case_id)[0].state == "accepted")
    with psycopg.connect(second.endpoints.database_url) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM dispatches WHERE case_id = %s GROUP BY state", (case_id,)
        ).fetchall()
    assert rows == [("accepted", 1)]


def test_two_hubs_racing_dispatch_once(hub_factory: HubFactory, devices: dict[str, Device]) -> None:
    hubs = [hub_factory(), hub_factory()]
    for hub in hubs:
        _report_for_duty(hub, devices["tx"], POSITIONS)
    case_ids = [_accepted_case(hubs[0]) for _ in range(5)]
    outcomes: list[DispatchOutcome] = []
    barrier = threading.Barrier(2)

    def race(hub: Hub) -> None:
        barrier.wait()
        for case_id in case_ids:
            outcomes.append(hub.dispatcher.dispatch(case_id))

    threads = [threading.Thread(target=race, args=(h,)) for h in hubs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(hubs[0].endpoints.database_url) as conn:
        per_case = conn.execute(
            "SELECT case_id, count(*) FROM dispatches GROUP BY case_id"
        ).fetchall()
        per_patrol = conn.execute(
            "SELECT patrol_id, count(*) FROM dispatches GROUP BY patrol_id"
        ).fetchall()
    # Three patrols for five cases: three dispatched once each, two escalated, none twice.
    assert sorted(n for _, n in per_case) == [1, 1, 1]
    assert all(n == 1 for _, n in per_patrol)
    escalated = {o.case_id for o in outcomes if o.escalated}
    assert len(escalated) == 2


def test_a_held_reply_is_judged_before_its_dispatch_expires(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    """An accept sent in time but held in the reply queue (the database was down) must not
    lose to the expiry job when the database answers again."""
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    _report_for_duty(hub, devices["tx"], POSITIONS)
    first = hub.dispatcher.dispatch(_accepted_case(hub))
    assert first.dispatch_id is not None and first.patrol_id is not None
    hub.dispatcher.stop()  # this test drives a dispatcher of its own, step by step
    relay = Dispatcher(hub.pool, hub.patrols, hub.mqtt, hub.metrics, clock, hub.site)
    accept = Reply(first.dispatch_id, "accept", None)
    relay._replies.submit(PatrolReply(first.patrol_id, accept))  # noqa: SLF001 (held)
    clock.advance(61)  # past the 60 s to accept
    assert relay.expire_once() == 0
    relay._replies.start()  # noqa: SLF001 (the database answers again)
    try:
        wait_until(lambda: relay._replies.pending == 0)  # noqa: SLF001
    finally:
        relay._replies.stop()  # noqa: SLF001
    assert [d.state for d in relay.dispatches_for(first.case_id)] == ["accepted"]
    assert relay.expire_once() == 0
