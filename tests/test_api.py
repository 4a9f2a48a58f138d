"""The API skeleton against the real PostgreSQL and Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.config import load_site
from hub.hub import open_hub
from hub.services import Endpoints
from tests.conftest import DEMO_CONFIG, auth_headers


@pytest.fixture
def client(migrated_db: str, mqtt_url: str) -> Iterator[TestClient]:
    endpoints = Endpoints(migrated_db, False, mqtt_url, False)
    with open_hub(load_site(DEMO_CONFIG), endpoints) as hub, TestClient(create_app(hub)) as test:
        test.headers.update(auth_headers(hub, "admin"))
        yield test


def test_health_reports_database_and_broker(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "up"
    assert body["database"]["embedded"] is False
    assert body["database"]["version"]
    assert body["broker"]["status"] == "up"
    assert body["broker"]["address"].startswith("mqtt://127.0.0.1")


def test_health_is_503_when_the_broker_is_gone(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    hub.mqtt.stop()
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["broker"]["status"] == "down"


def test_grids_are_a_geojson_feature_collection(client: TestClient) -> None:
    body = client.get("/api/grids").json()
    assert body["type"] == "FeatureCollection"
    features = {f["id"]: f for f in body["features"]}
    assert len(features) == 11
    grid = features["WT-QH-02"]
    assert grid["geometry"]["type"] == "Polygon"
    assert grid["properties"] == {
        "id": "WT-QH-02",
        "name": "清河二网格",
        "level": "grid",
        "parent_id": "WT-QH",
        "leader": "网格长 李秀英",
    }


def test_patrols_and_sensors_are_listed(client: TestClient) -> None:
    patrols = client.get("/api/patrols").json()
    assert len(patrols) == 10
    assert patrols[0]["id"] == "P01"
    assert patrols[0]["duty_status"] == "off_duty"
    sensors = client.get("/api/sensors").json()
    assert {s["type"] for s in sensors} == {"smoke", "water_level", "manhole_cover"}


def test_cameras_never_return_credentials(client: TestClient) -> None:
    response = client.get("/api/cameras")
    assert response.status_code == 200
    assert "change-me" not in response.text
    assert "rtsp://" not in response.text
    gate = next(c for c in response.json() if c["id"] == "CAM-LS-G01")
    assert gate["source_kind"] == "rtsp"
    assert gate["grid_id"] == "WT-LS-01"


def test_metrics_and_docs(client: TestClient) -> None:
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'gridhub_info{version="0.1.0"} 1.0' in metrics.text
    assert "gridhub_broker_up 1.0" in metrics.text
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/health", "/api/grids", "/api/patrols", "/api/cameras"} <= set(paths)


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/api/nothing-here").status_code == 404


def test_everything_but_health_and_login_needs_a_token(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    for path in ("/api/grids", "/api/patrols", "/api/cameras", "/api/sensors", "/metrics",
                 "/api/cases", "/api/me", "/api/stats/cases"):  # fmt: skip
        client.headers.pop("Authorization", None)
        response = client.get(path, headers=anonymous)
        assert response.status_code == 401, path
    assert client.get("/api/health").status_code == 200
    bad = client.get("/api/grids", headers={"Authorization": "Bearer gh_not-a-token"})
    assert bad.status_code == 401
