"""The cases API with roles, against the real PostgreSQL and Mosquitto."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.hub import Hub
from tests.conftest import PATROL_POSITIONS, Device, HubFactory, auth_headers
from tests.test_alerts import _alert
from tests.test_dispatch import _report_for_duty


@pytest.fixture
def hub(hub_factory: HubFactory) -> Hub:
    return hub_factory()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


REPORT = {"title": "楼道堆放杂物", "lat": 30.2775, "lon": 120.1450, "description": "3 单元"}
# (role, method, path, expected status) — {case} is a case nobody was dispatched to.
ROLE_TABLE = [
    ("admin", "GET", "/api/cases", 200), ("operator", "GET", "/api/cases", 200),
    ("patrol", "GET", "/api/cases", 200), ("integrator", "GET", "/api/cases", 403),
    ("operator", "GET", "/api/cases/{case}", 200), ("patrol", "GET", "/api/cases/{case}", 404),
    ("integrator", "GET", "/api/cases/{case}", 403),
    ("operator", "POST", "/api/cases", 201), ("patrol", "POST", "/api/cases", 201),
    ("integrator", "POST", "/api/cases", 403),
    ("patrol", "POST", "/api/cases/{case}/transitions", 403),
    ("operator", "GET", "/api/cases/export.csv", 200),
    ("patrol", "GET", "/api/cases/export.csv", 403),
    ("operator", "GET", "/api/stats/cases", 200), ("integrator", "GET", "/api/stats/cases", 403),
    ("operator", "GET", "/api/patrols", 200), ("patrol", "GET", "/api/patrols", 403),
    ("patrol", "GET", "/api/patrols/P01", 200), ("patrol", "GET", "/api/patrols/P02", 403),
    ("integrator", "GET", "/api/cameras", 200), ("patrol", "GET", "/api/cameras", 403),
    ("patrol", "GET", "/api/grids", 200), ("integrator", "GET", "/metrics", 200),
    ("patrol", "GET", "/metrics", 403),
    ("operator", "GET", "/metrics", 200),
]  # fmt: skip


def test_roles_against_endpoint_families(hub: Hub, client: TestClient) -> None:
    case_id = hub.cases.record(_alert(hub)).case_id
    headers = {role: auth_headers(hub, role, "P01" if role == "patrol" else None)
               for role in ("admin", "operator", "patrol", "integrator")}  # fmt: skip
    for role, method, path, status in ROLE_TABLE:
        url = path.format(case=case_id)
        body = {"action": "accept"} if url.endswith("transitions") else REPORT
        response = client.request(method, url, headers=headers[role],
                                  json=body if method == "POST" else None)  # fmt: skip
        assert response.status_code == status, (role, method, url, response.text)


def test_workflow_through_the_api(hub: Hub, client: TestClient, mqtt_url: str) -> None:
    operator = auth_headers(hub, "operator")
    tx = Device(mqtt_url, "test-api-tx")
    device = Device(mqtt_url, "test-api-p01", "gridhub/patrols/P01/dispatch")
    try:
        _report_for_duty(hub, tx, {"P01": PATROL_POSITIONS["P01"]})
        created = client.post("/api/cases", headers=operator, json={**REPORT, "lat": 30.2725,
                                                                     "lon": 120.1425})  # fmt: skip
        assert created.status_code == 201, created.text
        case = created.json()
        assert (case["state"], case["grid_id"], case["kind"]) == (
            "reported",
            "WT-QH-01-A",
            "manual",
        )
        url = f"/api/cases/{case['id']}/transitions"
        refused = client.post(url, headers=operator, json={"action": "close"})
        assert refused.status_code == 409
        assert refused.json()["detail"]["allowed"] == ["accept", "comment", "escalate", "handoff",
                                                       "reject"]  # fmt: skip
        assert client.post(url, headers=operator, json={"action": "accept"}).status_code == 200
        detail = client.post(url, headers=operator, json={"action": "dispatch"}).json()
        assert detail["state"] == "dispatched" and detail["dispatches"][0]["patrol_id"] == "P01"
        dispatch_id = device.next_json()["dispatch_id"]

        patrol = auth_headers(hub, "patrol", "P01")
        assert client.get(f"/api/cases/{case['id']}", headers=patrol).status_code == 200
        for action in ("accept", "arrive", "resolve"):
            reply = client.post(f"/api/dispatches/{dispatch_id}/reply", headers=patrol,
                                json={"action": action, "note": "已处理"})  # fmt: skip
            assert reply.status_code == 200, reply.text
        other = auth_headers(hub, "patrol", "P02")
        assert client.get(f"/api/cases/{case['id']}", headers=other).status_code == 404
        stolen = client.post(f"/api/dispatches/{dispatch_id}/reply", headers=other,
                             json={"action": "accept"})  # fmt: skip
        assert stolen.status_code == 404
        assert client.post(url, headers=operator, json={"action": "close"}).status_code == 200
        no_score = client.post(url, headers=operator, json={"action": "evaluate"})
        assert no_score.status_code == 422
        final = client.post(url, headers=operator, json={"action": "evaluate", "score": 5}).json()
        assert final["state"] == "evaluated" and final["details"]["score"] == 5
        assert [e["action"] for e in final["events"]] == [
            "report", "accept", "dispatch", "patrol_accept", "arrive", "resolve", "close",
            "evaluate"]  # fmt: skip
    finally:
        tx.close()
        device.close()


def test_list_filters_pagination_export_and_stats(hub: Hub, client: TestClient) -> None:
    operator = auth_headers(hub, "operator")
    ids = [hub.cases.record(_alert(hub, region=f"lane-{i}")).case_id for i in range(5)]
    page = client.get("/api/cases", headers=operator, params={"limit": 2}).json()
    assert [c["id"] for c in page["items"]] == ids[::-1][:2]
    rest = client.get("/api/cases", headers=operator,
                      params={"limit": 10, "cursor": page["next_cursor"]}).json()  # fmt: skip
    assert [c["id"] for c in rest["items"]] == ids[::-1][2:] and rest["next_cursor"] is None
    assert client.get("/api/cases", headers=operator, params={"grid": "WT-LS-01"}).json()[
        "items"] == []  # fmt: skip
    both = {"state": ["reported", "accepted"]}
    assert len(client.get("/api/cases", headers=operator, params=both).json()["items"]) == 5
    bad = client.get("/api/cases", headers=operator, params={"since": "2026-01-01T00:00:00"})
    assert bad.status_code == 422
    assert client.get("/api/cases", headers=operator, params={"limit": 0}).status_code == 422
    export = client.get("/api/cases/export.csv", headers=operator)
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "kind", "state"] and len(rows) == 6
    stats = client.get("/api/stats/cases", headers=operator, params={"group": "grid"}).json()
    assert stats == [{**stats[0], "key": "WT-QH-02", "cases": 5, "false_alarms": 0}]


def test_live_feed_resumes_after_a_disconnect(hub: Hub, client: TestClient) -> None:
    token = auth_headers(hub, "operator")["Authorization"].removeprefix("Bearer ")
    first = hub.cases.record(_alert(hub)).case_id
    with client.websocket_connect(f"/api/live?token={token}&after=0") as ws:
        seen = ws.receive_json()
        assert (seen["type"], seen["case_id"], seen["action"]) == ("case_event", first, "report")
        last = seen["token"]
    missed = [hub.cases.record(_alert(hub, region=f"z{i}")).case_id for i in range(3)]
    with client.websocket_connect(f"/api/live?token={token}&after={last}") as ws:
        got = [ws.receive_json() for _ in range(3)]
        assert [g["case_id"] for g in got] == missed
        live = hub.cases.record(_alert(hub, region="later")).case_id
        assert ws.receive_json()["case_id"] == live


def test_live_feed_needs_staff(hub: Hub, client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    patrol = auth_headers(hub, "patrol", "P01")["Authorization"].removeprefix("Bearer ")
    for query in ("", f"?token={patrol}"):
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect(f"/api/live{query}") as ws,
        ):
            ws.receive_json()


def test_login_sets_a_session_and_is_rate_limited(hub: Hub, client: TestClient) -> None:
    from hub.auth import add_user

    with hub.pool.connection() as conn:
        add_user(conn, "duty-officer", "operator", password="correct horse")
    for _ in range(5):
        assert client.post("/api/login", json={"name": "duty-officer",
                                               "password": "wrong"}).status_code == 401  # fmt: skip
    limited = client.post("/api/login", json={"name": "duty-officer", "password": "correct horse"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    client.app.state.login_limiter = type(client.app.state.login_limiter)()  # type: ignore[attr-defined]
    ok = client.post("/api/login", json={"name": "duty-officer", "password": "correct horse"})
    assert ok.status_code == 200 and ok.json()["role"] == "operator"
    assert client.get("/api/me").json()["name"] == "duty-officer"  # the cookie
    assert client.post("/api/logout").status_code == 204
    assert client.get("/api/me").status_code == 401
    assert json.loads(client.post("/api/login", json={}).text)["detail"][0]["type"] == "missing"


def test_a_clearing_reads_as_kind_cleared_in_the_detail_and_audit(
    hub: Hub, client: TestClient
) -> None:
    """A cleared alert keeps its kind and a flag; people still see `fire_lane_cleared`."""
    case_id = hub.cases.record(_alert(hub)).case_id
    hub.cases.record(_alert(hub, cleared=True, summary=""))
    detail = client.get(f"/api/cases/{case_id}", headers=auth_headers(hub, "operator")).json()
    assert [a["kind"] for a in detail["alerts"]] == ["fire_lane", "fire_lane_cleared"]
    assert "cleared" not in detail["alerts"][1]  # the API fields are as they were
    last = detail["events"][-1]
    assert (last["actor"], last["action"], last["note"]) == ("fire_lane_cleared", "alert",
                                                              "fire_lane_cleared")  # fmt: skip
    with hub.pool.connection() as conn:
        stored = conn.execute("SELECT kind, cleared FROM alerts ORDER BY id").fetchall()
    assert stored == [("fire_lane", False), ("fire_lane", True)]
    sample = hub.metrics.registry.get_sample_value(
        "gridhub_alerts_total", {"kind": "fire_lane_cleared", "outcome": "cleared"}
    )
    assert sample == 1
