"""`gridhub demo` as a person runs it: embedded services, the demo site, clean exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import free_port, wait_until, write_site

pytestmark = pytest.mark.slow


def _wait_for_health(url: str, process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"demo exited with {process.returncode}: {output}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("demo did not become healthy in time")


def _patrols_on_duty(client: httpx.Client) -> int:
    return sum(1 for p in client.get("/api/patrols").json() if p["available"])


def test_demo_serves_the_site_on_embedded_services(
    tmp_path: Path, open_dir: Path, demo_raw: dict[str, Any]
) -> None:
    demo_raw["site"]["data_dir"] = str(open_dir / "data")
    demo_raw["mqtt"] = {"embedded_port": 0}
    port = free_port()
    config = write_site(tmp_path, demo_raw, "demo.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/api/health", process, timeout=60)
        assert health["database"]["status"] == "up"
        assert health["database"]["embedded"] is True
        assert health["broker"]["status"] == "up"
        assert health["broker"]["embedded"] is True
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        login = client.post("/api/login", json={"name": "operator", "password": "gridhub-demo"})
        assert login.status_code == 200, login.text
        assert len(client.get("/api/grids").json()["features"]) == 11
        wait_until(lambda: _patrols_on_duty(client) == 10, timeout=15)
        client.close()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "started embedded PostgreSQL" in output
    assert "started embedded MQTT broker on mqtt://127.0.0.1:" in output
    assert "stopped embedded PostgreSQL" in output
    assert "demo login: operator / gridhub-demo" in output
    assert not (open_dir / "data" / "postgres" / "postmaster.pid").exists()
