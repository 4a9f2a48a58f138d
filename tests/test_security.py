"""What docs/security.md promises, tested: lockouts, proxies, secrets, health, patrol reports,
token expiry and revocation, users before the first start, the camera contract."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.session import LoginCaps, LoginLimiter
from hub.auth import add_user, authenticate, issue_token
from hub.errors import AuthError
from hub.hub import Hub
from hub.redact import ScrubFilter, redact_url, scrub
from hub.serve import server_config
from hub.storage.db import connect
from tests.conftest import HubFactory, auth_headers, free_port, wait_until, write_site

SECRETS = ("S3cretA", "S3cretB", "S3cretC", "S3cretD")
# URL forms of cheap and not-so-cheap cameras, each hiding secrets somewhere.
CAMERA_URLS = [
    "rtsp://admin:S3cretA@127.0.0.1:9/Streaming/Channels/101",
    "rtsp://127.0.0.1:9/live?user=admin&pw=S3cretA&psw=S3cretB",
    "http://127.0.0.1:9/cgi-bin/snapshot.cgi?loginuse=admin&loginpas=S3cretA",
    "http://127.0.0.1:9/snap.jpg?u=admin&p=S3cretA#S3cretB",
    "https://127.0.0.1:9/api/snap?token=S3cretA&channel=1",
    "onvif://admin:S3cretA@127.0.0.1:9?profile=S3cretB",
    "rtsp://[::1]:9/user=admin_password=S3cretA_channel=1_stream=0.sdp",
    "http://u:S3cretC@127.0.0.1:9",
    "rtsp://127.0.0.1:9/h264?apikey=S3cretD&passwd=S3cretC",
]


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.parametrize("url", CAMERA_URLS)
def test_redact_url_keeps_only_scheme_host_port_and_path(url: str) -> None:
    shown = redact_url(url)
    assert _leaks(shown) == [] and "admin" not in shown.split("/", 3)[2]
    assert shown.split("://")[0] == url.split("://")[0]
    assert "127.0.0.1:9" in shown or "[::1]:9" in shown
    assert ("?" in url) == shown.endswith("?***")


def test_scrub_finds_urls_inside_text_and_logs() -> None:
    error = f"rtsp://127.0.0.1:9/live?pw=S3cretA: Connection refused (url='{CAMERA_URLS[0]}')"
    assert _leaks(scrub(error)) == [] and "Connection refused" in scrub(error)
    assert scrub("http http://u:S3cretA@h:9: refused") == "http http://***@h:9: refused"
    assert scrub(scrub(error)) == scrub(error)
    record = logging.LogRecord("gridhub", logging.INFO, __file__, 1, "PATCH %s %s", None, None)
    record.args = ("/api/cameras/X", '{"url":"rtsp://h/live?user=admin&pw=S3cretA"}')
    ScrubFilter().filter(record)
    assert _leaks(record.getMessage()) == [] and "rtsp://h/live?***" in record.getMessage()


@pytest.fixture
def hub(hub_factory: HubFactory) -> Hub:
    return hub_factory()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test:
        yield test


@pytest.mark.slow
def test_camera_urls_are_redacted_in_api_metrics_and_logs(
    hub: Hub, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = auth_headers(hub, "admin")
    ids = [f"CAM-S{i}-{uuid.uuid4().hex[:4]}" for i in range(len(CAMERA_URLS))]
    seen: list[str] = []
    for camera_id, url in zip(ids, CAMERA_URLS, strict=True):
        body = {"id": camera_id, "name": "t", "url": "rtsp://127.0.0.1:9/x",
                "location": {"lat": 30.2725, "lon": 120.1425}}  # fmt: skip
        seen.append(client.post("/api/cameras", json=body, headers=admin).text)
        seen.append(
            client.patch(f"/api/cameras/{camera_id}", json={"url": url}, headers=admin).text
        )

    def all_failed() -> bool:
        return all(client.get(f"/api/cameras/{c}/health", headers=admin).json().get("last_error")
                   for c in ids)  # fmt: skip

    wait_until(all_failed, timeout=30)
    for camera_id in ids:
        health = client.get(f"/api/cameras/{camera_id}/health", headers=admin).json()
        assert health["source"] and health["last_error"]
        assert "(redacted)" not in health["last_error"]  # the redacted form reads as one
        seen.append(str(health))
    seen += [client.get("/api/cameras", headers=admin).text,
             client.get("/metrics", headers=admin).text, caplog.text]  # fmt: skip
    assert _leaks("\n".join(seen)) == []
    assert "pw=" not in "\n".join(seen) and "loginpas" not in "\n".join(seen)


def _login(client: TestClient, name: str, password: str) -> int:
    return client.post("/api/login", json={"name": name, "password": password}).status_code


def test_hammering_one_account_does_not_lock_out_another_from_the_same_address(
    hub: Hub, client: TestClient
) -> None:
    with hub.pool.connection() as conn:
        add_user(conn, "sec-admin", "admin", None, "admin-pw")
        add_user(conn, "sec-operator", "operator", None, "operator-pw")
    statuses = [_login(client, "sec-operator", "guess") for _ in range(30)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert _login(client, "sec-operator", "operator-pw") == 429  # that account, from here
    assert _login(client, "sec-admin", "admin-pw") == 200  # its neighbour is not locked out
    assert _login(client, "sec-admin", "wrong") == 401


def test_login_caps_per_name_across_addresses_and_per_address_across_names() -> None:
    limiter = LoginLimiter(LoginCaps(per_name_and_address=5, per_name=8, per_address=12))
    for i in range(8):
        limiter.failed("admin", f"10.0.0.{i}")
    assert limiter.retry_after("admin", "10.9.9.9") > 0  # distributed guessing of one name
    assert limiter.retry_after("operator", "10.0.0.1") == 0
    for i in range(12):
        limiter.failed(f"user{i}", "10.1.1.1")
    assert limiter.retry_after("someone-else", "10.1.1.1") > 0  # a spray from one address
    assert limiter.retry_after("someone-else", "10.1.1.2") == 0


def _client_seen(hub: Hub, peer: str, headers: dict[str, str]) -> tuple[int, str]:
    """Login with a wrong password from `peer`: the status, and the address counted."""
    limiter: LoginLimiter
    with TestClient(create_app(hub), client=(peer, 5000)) as test:
        status = test.post("/api/login", json={"name": "nobody", "password": "x"},
                           headers=headers).status_code  # fmt: skip
        limiter = test.app.state.login_limiter  # type: ignore[attr-defined]
    keys = [k for k in limiter._failures if k.startswith("addr:")]
    return status, keys[0].removeprefix("addr:")


def test_forwarded_headers_only_from_a_trusted_proxy(
    hub_factory: HubFactory, demo_raw: Any
) -> None:
    demo_raw.setdefault("api", {})["trusted_proxies"] = ["10.8.0.0/24"]
    hub = hub_factory(raw=demo_raw)
    spoof = {"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}
    assert _client_seen(hub, "192.0.2.50", spoof) == (401, "192.0.2.50")  # ignored
    assert _client_seen(hub, "127.0.0.1", spoof) == (401, "127.0.0.1")  # loopback too
    assert _client_seen(hub, "10.8.0.2", spoof) == (401, "198.51.100.9")  # the proxy's view


def test_the_real_server_ignores_forwarded_for_from_loopback(hub: Hub) -> None:
    port = free_port()
    server = uvicorn.Server(server_config(create_app(hub), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    try:
        url = f"http://127.0.0.1:{port}/api/login"
        spoof = {"X-Forwarded-For": "203.0.113.7"}
        for i in range(6):  # each "from" another address, if the header were believed
            spoof["X-Forwarded-For"] = f"203.0.113.{i}"
            last = httpx.post(url, json={"name": "victim", "password": "x"}, headers=spoof)
        assert last.status_code == 429  # all six counted against 127.0.0.1
    finally:
        server.should_exit = True
        thread.join(10)


def test_anonymous_health_is_status_only(hub: Hub, client: TestClient) -> None:
    anonymous = client.get("/api/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    patrol = client.get("/api/health", headers=auth_headers(hub, "patrol", "P01"))
    assert patrol.json() == {"status": "ok"}
    full = client.get("/api/health", headers=auth_headers(hub, "operator")).json()
    assert full["database"]["version"] and full["broker"]["address"]
    assert client.get("/api/health", headers={"Authorization": "Bearer gh_nope"}).status_code == 401


def test_a_patrol_report_is_its_own_kind_in_its_own_grid_and_readable(
    hub: Hub, client: TestClient
) -> None:
    patrol = auth_headers(hub, "patrol", "P02")  # patrols WT-QH-02
    body = {"title": "楼道堆物", "kind": "smoke", "severity": 4, "grid_id": "WT-QH-01",
            "lat": 30.2725, "lon": 120.1425}  # fmt: skip
    made = client.post("/api/cases", json=body, headers=patrol)
    assert made.status_code == 201, made.text
    case = made.json()
    default = hub.site.scenario("patrol_report").severity
    assert (case["kind"], case["grid_id"], case["severity"]) == (
        "patrol_report",
        "WT-QH-02",
        default,
    )
    assert client.get(f"/api/cases/{case['id']}", headers=patrol).status_code == 200
    listed = client.get("/api/cases", headers=patrol).json()["items"]
    assert case["id"] in [c["id"] for c in listed]
    other = auth_headers(hub, "patrol", "P03")
    assert client.get(f"/api/cases/{case['id']}", headers=other).status_code == 404
    staff = client.post("/api/cases", json=body, headers=auth_headers(hub, "operator")).json()
    assert (staff["kind"], staff["grid_id"], staff["severity"]) == ("smoke", "WT-QH-01", 4)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{name: x", "application/json"), (b'{"name": "a", "password": "b"}', "text/plain"),
     (b"name=a&password=b", "application/x-www-form-urlencoded")],
)  # fmt: skip
def test_a_body_that_is_not_json_is_400(client: TestClient, body: bytes, content_type: str) -> None:
    answer = client.post("/api/login", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 400 and "cannot be parsed" in answer.json()["detail"]
    assert "400" in client.get("/openapi.json").json()["paths"]["/api/login"]["post"]["responses"]


def test_a_camera_without_a_picture_is_409_with_the_reason(hub: Hub, client: TestClient) -> None:
    viewer = auth_headers(hub, "integrator")
    for what in ("snapshot.jpg", "stream.mjpg?frames=1"):
        answer = client.get(f"/api/cameras/CAM-QH-F01/{what}", headers=viewer)  # disabled
        assert answer.status_code == 409 and "not running" in answer.json()["detail"]
    assert client.get("/api/cameras/NOPE/snapshot.jpg", headers=viewer).status_code == 404


def test_an_expired_token_is_401_saying_so(hub: Hub, client: TestClient) -> None:
    with hub.pool.connection() as conn:
        user_id = add_user(conn, f"exp-{uuid.uuid4().hex[:6]}", "operator")
        token = issue_token(conn, user_id, "api", hub.clock.now() - timedelta(seconds=1))
    answer = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def _gridhub(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def _token_of(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_user_commands_before_the_first_start(
    fresh_db: str, tmp_path: Path, demo_raw: dict[str, Any]
) -> None:
    """`user add --patrol` on a database the hub never ran on; `token` rotates, `revoke`
    ends everything, and `api.token_days` bounds a new token."""
    demo_raw["api"]["token_days"] = 30
    where = ["--config", str(write_site(tmp_path, demo_raw)), "--url", fresh_db]
    first = _token_of(_gridhub("user", "add", "p01-phone", "--role", "patrol", "--patrol", "P01",
                               *where))  # fmt: skip
    added = _gridhub("user", "add", "ghost", "--role", "patrol", "--patrol", "P99", *where)
    assert added.returncode == 2 and "P99" in added.stderr
    rotated = _gridhub("user", "token", "p01-phone", *where)
    second = _token_of(rotated)
    revoked = _gridhub("user", "revoke", "p01-phone", *where)
    assert revoked.returncode == 0 and "1 token" in revoked.stdout
    assert first != second and "valid until" in rotated.stdout
    with connect(fresh_db) as conn:
        for token in (first, second):
            with pytest.raises(AuthError, match="revoked"):
                authenticate(conn, token, datetime.now(UTC))
