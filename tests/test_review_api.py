"""Alert review over HTTP: the queue, reject with a reason, accept-and-dispatch, statistics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.hub import Hub
from tests.conftest import PATROL_POSITIONS, Device, HubFactory, auth_headers
from tests.room_support import case_with_evidence
from tests.test_alerts import _alert
from tests.test_dispatch import _report_for_duty

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


@pytest.fixture
def hub(hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path) -> Hub:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    return hub_factory(raw=demo_raw)


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def test_queue_newest_first_with_snapshot_and_suggested_patrol(
    hub: Hub, client: TestClient, mqtt_url: str
) -> None:
    tx = Device(mqtt_url, f"review-tx-{uuid.uuid4().hex[:8]}")
    try:
        _report_for_duty(hub, tx, {"P01": PATROL_POSITIONS["P01"]})
    finally:
        tx.close()
    older = case_with_evidence(hub)
    newer = hub.cases.record(_alert(hub, kind="intrusion", region="gate")).case_id
    items = client.get("/api/review/queue", headers=auth_headers(hub, "operator")).json()
    assert [i["id"] for i in items] == [newer, older]
    assert items[1]["snapshot_url"] == f"/api/cases/{older}/evidence/0"
    assert items[0]["snapshot_url"] is None
    assert items[1]["suggestion"]["patrol_id"] == "P01"
    assert items[1]["suggestion"]["distance_m"] >= 0


def test_reject_with_a_reason_is_stored_and_counted(hub: Hub, client: TestClient) -> None:
    operator = auth_headers(hub, "operator")
    noisy = [hub.cases.record(_alert(hub, region=f"lane-{i}")).case_id for i in range(3)]
    for case_id, reason in zip(noisy[:2], ("animal", "light"), strict=True):
        done = client.post(f"/api/review/{case_id}/reject", headers=operator,
                           json={"reason": reason, "note": "鸽子"})  # fmt: skip
        assert done.status_code == 200 and done.json()["state"] == "rejected"
        assert done.json()["details"]["reject_reason"] == reason
        assert "鸽子" in done.json()["events"][-1]["note"]
    again = client.post(
        f"/api/review/{noisy[0]}/reject", headers=operator, json={"reason": "light"}
    )
    assert again.status_code == 409
    bad = client.post(f"/api/review/{noisy[2]}/reject", headers=operator, json={"reason": "bored"})
    assert bad.status_code == 422
    assert client.post("/api/review/999999/reject", headers=operator,
                       json={"reason": "light"}).status_code == 404  # fmt: skip
    stats = client.get("/api/stats/false-alarms", headers=operator).json()
    row = next(r for r in stats if r["source"] == "CAM-QH-L01" and r["kind"] == "fire_lane")
    assert (row["cases"], row["false_alarms"]) == (3, 2)
    assert row["reasons"] == {"animal": 1, "light": 1}
    assert row["false_alarm_rate"] == pytest.approx(2 / 3)
    backwards = {"since": "2030-01-01T00:00:00Z", "until": "2029-01-01T00:00:00Z"}
    wrong = client.get("/api/stats/false-alarms", params=backwards, headers=operator)
    assert wrong.status_code == 422
    patrol = auth_headers(hub, "patrol", "P01")
    assert client.get("/api/review/queue", headers=patrol).status_code == 403


def test_dispatch_accepts_and_sends_to_the_nearest_patrol(
    hub: Hub, client: TestClient, mqtt_url: str
) -> None:
    tx = Device(mqtt_url, f"review-tx-{uuid.uuid4().hex[:8]}")
    try:
        _report_for_duty(hub, tx, {"P01": PATROL_POSITIONS["P01"]})
    finally:
        tx.close()
    case_id = hub.cases.record(_alert(hub)).case_id
    done = client.post(f"/api/review/{case_id}/dispatch", headers=auth_headers(hub, "operator"))
    assert done.status_code == 200
    body = done.json()
    assert body["state"] == "dispatched"
    assert [e["action"] for e in body["events"]][-2:] == ["accept", "dispatch"]
    assert body["dispatches"][0]["patrol_id"] == "P01"
    again = client.post(f"/api/review/{case_id}/dispatch", headers=auth_headers(hub, "operator"))
    assert again.status_code == 409
