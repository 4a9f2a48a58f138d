"""Alerts into cases: de-duplication, grids, clearing, auto-dispatch (real services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.cases.store import get_case
from hub.clock import FakeClock
from hub.hub import Hub
from hub.model import Alert, EvidenceRef
from tests.conftest import Device, HubFactory
from tests.test_dispatch import POSITIONS, _report_for_duty


def _alert(hub: Hub, kind: str = "fire_lane", camera: str = "CAM-QH-L01", **kw: Any) -> Alert:
    now = hub.clock.now()
    fields: dict[str, Any] = {"kind": kind, "started_at": now - timedelta(seconds=200),
                              "confirmed_at": now, "confidence": 0.8, "camera_id": camera,
                              "region": "lane", "summary": "北门消防通道被占用"}  # fmt: skip
    return Alert(**{**fields, **kw})


def _count(hub: Hub, sql: str) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def test_repeated_alerts_join_one_case(hub_factory: HubFactory) -> None:
    hub = hub_factory(clock=FakeClock(current=datetime.now(UTC)))
    first = hub.cases.record(
        _alert(hub, evidence=(EvidenceRef("snapshot", "ev/1.jpg", "image/jpeg"),))
    )
    second = hub.cases.record(_alert(hub))
    other_zone = hub.cases.record(_alert(hub, region="lane-2"))
    assert (first.outcome, second.outcome, other_zone.outcome) == ("opened", "joined", "opened")
    assert first.case_id == second.case_id != other_zone.case_id
    assert first.case_id is not None
    with hub.pool.connection() as conn:
        case = get_case(conn, first.case_id)
    assert case.grid_id == "WT-QH-02"  # from the camera's location
    assert (case.kind, case.severity, case.state) == ("fire_lane", 2, "reported")
    assert case.details["alert_count"] == 2
    assert _count(hub, "SELECT count(*) FROM alerts") == 3
    assert _count(hub, f"SELECT count(*) FROM alerts WHERE case_id = {first.case_id}") == 2


def test_dedupe_window_after_closing(hub_factory: HubFactory, demo_raw: dict[str, Any]) -> None:
    clock = FakeClock(current=datetime.now(UTC))
    # The default window; the demo site runs with none, so its looping scenes open new cases.
    demo_raw["scenarios"]["fire_lane"]["dedupe_window_s"] = 600
    hub = hub_factory(clock=clock, raw=demo_raw)
    opened = hub.cases.record(_alert(hub))
    with hub.pool.connection() as conn:
        conn.execute("UPDATE cases SET state = 'closed', updated_at = %s", (clock.now(),))
    clock.advance(300)  # within the 600 s window: the tail of the same event
    assert hub.cases.record(_alert(hub)).case_id == opened.case_id
    clock.advance(601)
    again = hub.cases.record(_alert(hub))
    assert again.outcome == "opened" and again.case_id != opened.case_id


def test_cleared_alert_notes_the_open_case_and_never_opens_one(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    assert hub.cases.record(_alert(hub, cleared=True)).outcome == "orphan"
    opened = hub.cases.record(_alert(hub))
    cleared = hub.cases.record(_alert(hub, cleared=True, summary="通道已畅通"))
    assert (cleared.outcome, cleared.case_id) == ("cleared", opened.case_id)
    with hub.pool.connection() as conn:
        note = conn.execute(
            "SELECT note FROM case_events WHERE case_id = %s ORDER BY id DESC LIMIT 1",
            (opened.case_id,),
        ).fetchone()
    assert note == ("通道已畅通",)


def test_alert_from_unknown_camera_is_kept_without_a_case(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    outcome = hub.cases.record(_alert(hub, camera="CAM-GONE"))
    assert (outcome.outcome, outcome.case_id) == ("orphan", None)
    assert _count(hub, "SELECT count(*) FROM alerts WHERE camera_id = 'CAM-GONE'") == 1


def test_confident_thrown_object_is_dispatched_at_once(
    hub_factory: HubFactory, devices: dict[str, Device]
) -> None:
    hub = hub_factory()
    _report_for_duty(hub, devices["tx"], POSITIONS)
    outcome = hub.cases.record(_alert(hub, kind="thrown_object", camera="CAM-QH-F01",
                                      region="facade", confidence=0.95))  # fmt: skip
    assert outcome.case_id is not None
    message = devices["P01"].next_json()  # P01 patrols 清河一网格, next to the facade
    assert message["case_id"] == outcome.case_id
    with hub.pool.connection() as conn:
        case = get_case(conn, outcome.case_id)
    assert (case.state, case.severity, case.title) == ("dispatched", 3, "北门消防通道被占用")
    low = hub.cases.record(_alert(hub, kind="thrown_object", camera="CAM-QH-F02",
                                  region="facade", confidence=0.5))  # fmt: skip
    assert low.case_id is not None
    with hub.pool.connection() as conn:
        assert get_case(conn, low.case_id).state == "reported"  # below 0.9: the operator decides
