"""The demo's simulated duty operator, on a real database and broker with a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from demo.operator import ACTOR, NOTE, SCORE, DutyOperator
from hub.cases.store import NewCase, get_case, open_case
from hub.clock import FakeClock
from hub.hub import Hub
from hub.model import Alert
from hub.patrols.payloads import Reply
from tests.conftest import PATROL_POSITIONS, Device, HubFactory, wait_until

DELAY_S = 8.0


def _report_for_duty(hub: Hub, tx: Device) -> None:
    for pid, (lat, lon) in PATROL_POSITIONS.items():
        tx.publish(f"gridhub/patrols/{pid}/status", "on_duty")
        fix = {"lat": lat, "lon": lon, "ts": hub.clock.now().timestamp()}
        tx.publish(f"gridhub/patrols/{pid}/location", json.dumps(fix))
    wait_until(lambda: all(hub.patrols.available(pid) for pid in PATROL_POSITIONS))


def _alert(hub: Hub, kind: str, camera_id: str, region: str) -> int:
    now = hub.clock.now()
    alert = Alert(kind, now, now, 1.0, camera_id=camera_id, region=region, summary=kind)
    outcome = hub.cases.record(alert)
    assert outcome.case_id is not None
    return outcome.case_id


def _manual_case(hub: Hub) -> int:
    with hub.pool.connection() as conn, conn.transaction():
        new = NewCase("manual", "居民来电: 楼道堆物", 2, "WT-QH-01", 30.2726, 120.1427)
        return open_case(conn, new, hub.clock.now(), "operator-1", 300)


def _state(hub: Hub, case_id: int) -> str:
    with hub.pool.connection() as conn:
        return get_case(conn, case_id).state


def _events(hub: Hub, case_id: int) -> list[tuple[str, str, str | None]]:
    with hub.pool.connection() as conn:
        rows = conn.execute(
            "SELECT actor, action, note FROM case_events WHERE case_id = %s ORDER BY id",
            (case_id,),
        ).fetchall()
    return [(str(a), str(b), c) for a, b, c in rows]


def _patrol_answers(hub: Hub, case_id: int) -> str:
    (dispatch,) = hub.dispatcher.dispatches_for(case_id)
    for action in ("accept", "arrive", "resolve"):
        hub.dispatcher.handle_reply(dispatch.patrol_id, Reply(dispatch.id, action, None))
    return dispatch.patrol_id


def test_operator_takes_a_camera_case_through_its_staff_steps(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)
    _report_for_duty(hub, devices["tx"])
    operator = DutyOperator(hub, delay_s=DELAY_S)
    lane = _alert(hub, "fire_lane", "CAM-QH-L01", "lane")
    manual = _manual_case(hub)
    offline = _alert(hub, "camera_offline", "CAM-QH-F02", "camera")  # maintenance, no patrol

    clock.advance(DELAY_S / 2)
    assert _alert(hub, "fire_lane", "CAM-QH-L01", "lane") == lane  # a repeat joins the case
    clock.advance(DELAY_S / 2 - 0.5)
    assert operator.tick() == 0  # the repeat does not restart the delay, but 8 s have not passed
    clock.advance(0.5)
    assert operator.tick() == 2  # accepted and dispatched
    assert _state(hub, lane) == "dispatched"
    assert (_state(hub, manual), _state(hub, offline)) == ("reported", "reported")

    patrol = _patrol_answers(hub, lane)
    assert _state(hub, lane) == "resolved"
    assert operator.tick() == 0
    clock.advance(DELAY_S)
    assert operator.tick() == 1 and _state(hub, lane) == "closed"
    clock.advance(DELAY_S)
    assert operator.tick() == 1 and _state(hub, lane) == "evaluated"
    clock.advance(DELAY_S)
    assert operator.tick() == 0

    steps = [(actor, action) for actor, action, _ in _events(hub, lane)]
    assert steps == [
        ("CAM-QH-L01", "report"), ("fire_lane", "alert"), (ACTOR, "accept"), (ACTOR, "dispatch"),
        (patrol, "patrol_accept"), (patrol, "arrive"), (patrol, "resolve"),
        (ACTOR, "close"), (ACTOR, "evaluate"),
    ]  # fmt: skip
    labelled = [note for actor, action, note in _events(hub, lane) if actor == ACTOR]
    assert labelled[0] == labelled[2] == labelled[3] == NOTE and "simulated" in NOTE
    with hub.pool.connection() as conn:
        details: dict[str, Any] = get_case(conn, lane).details
    assert details["score"] == SCORE
    assert (_state(hub, manual), _state(hub, offline)) == ("reported", "reported")


def test_operator_leaves_a_case_no_patrol_could_take_to_the_people_at_the_desk(
    hub_factory: HubFactory,
) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    hub = hub_factory(clock=clock)  # no patrol has reported for duty
    operator = DutyOperator(hub, delay_s=DELAY_S)
    case_id = _alert(hub, "fire_lane", "CAM-QH-L01", "lane")
    clock.advance(DELAY_S)
    assert operator.tick() == 1  # accepted; the dispatch found nobody
    assert _state(hub, case_id) == "escalated"
    for _ in range(3):
        clock.advance(DELAY_S)
        assert operator.tick() == 0
    steps = [(actor, action) for actor, action, _ in _events(hub, case_id)]
    assert steps == [("CAM-QH-L01", "report"), (ACTOR, "accept"), ("system", "escalate")]
