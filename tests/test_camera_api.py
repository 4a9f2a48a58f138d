"""Cameras through the API while the hub runs: real PostgreSQL, Mosquitto and RTSP server."""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from hub.api import cameras as cameras_api
from hub.api.app import create_app
from hub.cameras import media
from hub.config import Camera, load_site
from hub.hub import open_hub
from hub.infra.mqtt import BrokerAddress
from hub.model import Alert, EvidenceRef
from hub.services import Endpoints
from hub.storage import camera_repo
from tests.camera_support import (
    RTSP_PASSWORD,
    RtspServer,
    rtsp_server,  # noqa: F401  (fixture)
    wait_for,
)
from tests.conftest import HubFactory, auth_headers, write_site


@pytest.fixture
def client(
    tmp_path: Path, demo_raw: dict[str, Any], migrated_db: str, mqtt_url: str
) -> Iterator[TestClient]:
    demo_raw["cameras"] = []
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["video"] = {"read_timeout_s": 2.0, "reconnect_max_s": 0.5}
    site = load_site(write_site(tmp_path, demo_raw))
    endpoints = Endpoints(migrated_db, False, mqtt_url, False)
    with open_hub(site, endpoints) as hub, TestClient(create_app(hub)) as test:
        test.headers.update(auth_headers(hub, "integrator"))
        yield test


class StatusWatcher:
    """A separate MQTT client that records a camera's retained status messages."""

    def __init__(self, url: str, topic: str) -> None:
        address = BrokerAddress.parse(url)
        self.messages: queue.Queue[bytes] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex}")
        self.client.on_message = lambda _c, _u, msg: self.messages.put(bytes(msg.payload))
        self.client.connect(address.host, address.port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def wait_for(self, payload: bytes, timeout: float = 5.0) -> bool:
        try:
            while True:
                if self.messages.get(timeout=timeout) == payload:
                    return True
        except queue.Empty:
            return False

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def camera_body(camera_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": camera_id,
        "name": "清河 3 幢 东门",
        "url": url,
        "location": {"lat": 30.2725, "lon": 120.1425},
        "analysis_fps": 5,
        **extra,
    }


@pytest.mark.slow
def test_hot_add_preview_edit_and_remove(
    client: TestClient,
    rtsp_server: RtspServer,  # noqa: F811
    mqtt_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    camera_id = f"CAM-T-{uuid.uuid4().hex[:6]}"
    watcher = StatusWatcher(mqtt_url, f"gridhub/cameras/{camera_id}/status")
    responses = []
    try:
        added = client.post("/api/cameras", json=camera_body(camera_id, rtsp_server.url))
        responses.append(added)
        assert added.status_code == 201, added.text
        assert added.json()["source_kind"] == "rtsp"
        assert added.json()["grid_id"]  # located from the position

        assert wait_for(lambda: client.get(f"/api/cameras/{camera_id}/health").json()["online"], 10)
        health = client.get(f"/api/cameras/{camera_id}/health")
        responses.append(health)
        assert health.json()["source"].startswith("rtsp rtsp://***@127.0.0.1:")
        assert watcher.wait_for(b"online")

        snapshot = client.get(f"/api/cameras/{camera_id}/snapshot.jpg")
        assert snapshot.headers["content-type"] == "image/jpeg"
        picture = media.decode_jpeg(snapshot.content)
        assert picture is not None and picture.shape == (240, 320, 3)

        stream = client.get(f"/api/cameras/{camera_id}/stream.mjpg?frames=2&fps=10&width=160")
        assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
        assert stream.content.count(b"--gridhub-frame\r\n") == 2

        metrics = client.get("/metrics")
        responses.append(metrics)
        assert f'gridhub_camera_online{{camera="{camera_id}"}} 1.0' in metrics.text

        worker = client.app.state.hub.cameras.worker(camera_id)  # type: ignore[attr-defined]
        edited = client.patch(f"/api/cameras/{camera_id}", json={"analysis_fps": 2, "name": "东门"})
        responses.append(edited)
        assert edited.status_code == 200, edited.text
        assert edited.json()["analysis_fps"] == 2 and edited.json()["name"] == "东门"
        restarted = client.app.state.hub.cameras.worker(camera_id)  # type: ignore[attr-defined]
        assert restarted is not None and restarted is not worker

        listed = client.get("/api/cameras")
        responses.append(listed)
        assert [c["id"] for c in listed.json()] == [camera_id]

        removed = client.delete(f"/api/cameras/{camera_id}")
        assert removed.status_code == 204
        assert client.app.state.hub.cameras.worker(camera_id) is None  # type: ignore[attr-defined]
        assert client.get(f"/api/cameras/{camera_id}/health").status_code == 404
        assert client.delete(f"/api/cameras/{camera_id}").status_code == 404
        assert watcher.wait_for(b"")  # the retained status is cleared
    finally:
        watcher.close()
    for response in responses:
        assert RTSP_PASSWORD not in response.text
    assert RTSP_PASSWORD not in caplog.text


def test_bad_cameras_are_rejected_without_echoing_the_url(client: TestClient) -> None:
    secret_url = "rtsp://admin:Leak-Me-Not@10.1.2.3/stream"
    cases = [
        (camera_body("CAM-A", secret_url, grid="NO-SUCH-GRID"), "grid: unknown grid"),
        (camera_body("CAM-B", "gb28181://admin:Leak-Me-Not@x/1"), "no frame source 'gb28181'"),
        (camera_body("CAM-C", secret_url, detectors=[{"kind": "nope"}]), "no detector plugin"),
        ({**camera_body("CAM-D", secret_url), "location": {"lat": 99, "lon": 0}}, "less than"),
        (
            {k: v for k, v in camera_body("CAM-E", secret_url).items() if k != "name"},
            "Field required",
        ),
    ]
    for body, problem in cases:
        response = client.post("/api/cameras", json=body)
        assert response.status_code == 422, response.text
        assert problem in response.text
        assert "Leak-Me-Not" not in response.text
    assert client.get("/api/cameras").json() == []


def test_duplicate_and_unknown_cameras(client: TestClient) -> None:
    body = camera_body("CAM-DUP", "rtsp://127.0.0.1:1/none", enabled=False)
    assert client.post("/api/cameras", json=body).status_code == 201
    assert client.post("/api/cameras", json=body).status_code == 409
    assert client.get("/api/cameras/CAM-DUP/health").json()["state"] == "disabled"
    assert client.get("/api/cameras/NOPE").status_code == 404
    assert client.patch("/api/cameras/NOPE", json={"name": "x"}).status_code == 404
    assert client.get("/api/cameras/NOPE/snapshot.jpg").status_code == 404
    bad = client.patch("/api/cameras/CAM-DUP", json={"analysis_fps": 0})
    assert bad.status_code == 422 and "analysis_fps" in bad.text


def test_camera_alerts_are_stored_with_their_evidence(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    now = datetime.now(UTC)
    clip = EvidenceRef("clip", "e/x.mp4", "video/mp4")
    alert = Alert(
        kind="camera_offline", started_at=now, confirmed_at=now, confidence=1.0,
        camera_id="CAM-X", summary="dark", evidence=(clip,),
    )  # fmt: skip
    hub.cases.record(alert)  # an unknown camera: stored, no case
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT kind, camera_id, details FROM alerts").fetchone()
    assert row is not None
    assert row[0] == "camera_offline" and row[1] == "CAM-X"
    assert row[2]["summary"] == "dark" and row[2]["evidence"][0]["path"] == "e/x.mp4"


def test_a_stored_camera_that_cannot_start_reports_why_once(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    camera = Camera.model_validate(
        camera_body("CAM-BAD", "rtsp://127.0.0.1:1/x", detectors=[{"kind": "nope"}])
    )
    with hub.pool.connection() as conn:
        camera_repo.insert_camera(conn, camera, None)
    for _ in range(3):
        hub.cameras.reconcile()
    health = client.get("/api/cameras/CAM-BAD/health").json()
    assert health["state"] == "error" and not health["online"]
    assert "no gridhub.detectors plugin named 'nope'" in health["last_error"]
    assert caplog.text.count("camera CAM-BAD not started") == 1


def test_a_preview_of_a_camera_without_pictures_ends(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream that has nothing to send must not hold its thread forever."""
    monkeypatch.setattr(cameras_api, "PREVIEW_STALL_S", 1.0)
    hub = client.app.state.hub  # type: ignore[attr-defined]
    assert client.post("/api/cameras", json=camera_body("CAM-DARK", "rtsp://127.0.0.1:1/x"))\
        .status_code == 201  # fmt: skip
    assert hub.cameras.worker("CAM-DARK") is not None  # running, but never gets a picture
    started = time.monotonic()
    stream = client.get("/api/cameras/CAM-DARK/stream.mjpg?frames=1&fps=5")
    assert stream.status_code == 200 and stream.content == b""
    assert time.monotonic() - started < 5
    assert client.get("/api/cameras/CAM-DARK/stream.mjpg?fps=1e-300").status_code == 422


@pytest.mark.slow
def test_a_preview_of_a_camera_gone_dark_ends(
    client: TestClient,
    rtsp_server: RtspServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An endless preview of a camera whose stream stopped must not repeat its last
    picture forever."""
    monkeypatch.setattr(cameras_api, "PREVIEW_STALL_S", 1.0)
    assert client.post("/api/cameras", json=camera_body("CAM-GONE", rtsp_server.url))\
        .status_code == 201  # fmt: skip
    assert wait_for(lambda: client.get("/api/cameras/CAM-GONE/health").json()["online"], 10)
    rtsp_server.stop()
    started = time.monotonic()
    stream = client.get("/api/cameras/CAM-GONE/stream.mjpg?fps=10&width=160")  # frames=0
    assert stream.status_code == 200
    assert time.monotonic() - started < 8
    assert 1 <= stream.content.count(b"--gridhub-frame\r\n") < 30  # the last ones, once


def test_cameras_need_the_right_role(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    operator = auth_headers(hub, "operator")
    patrol = auth_headers(hub, "patrol", "P01")
    body = {"id": "CAM-R", "name": "r", "url": "rtsp://127.0.0.1:9/x",
            "location": {"lat": 30.27, "lon": 120.15}}  # fmt: skip
    assert client.get("/api/cameras", headers=operator).status_code == 200
    assert client.get("/api/cameras", headers=patrol).status_code == 403
    assert client.post("/api/cameras", json=body, headers=operator).status_code == 403
    assert client.get("/api/cameras", headers={"Authorization": ""}).status_code == 401
    assert client.post("/api/cameras", json=body).status_code == 201  # the integrator
