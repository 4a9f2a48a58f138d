"""`gridhub demo` as a person runs it: embedded services, the demo site, the rendered
scenes, simulated patrols and operator, cases through their whole life, clean exit."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from demo.operator import ACTOR
from tests.conftest import free_port, wait_until, write_site

pytestmark = pytest.mark.slow
LOGIN = {"name": "operator", "password": "gridhub-demo"}
LANE_CAMERAS = {"CAM-QH-L01", "CAM-LS-L01"}


class Demo:
    """A `gridhub demo` process on a fresh data directory, its output read as it comes."""

    def __init__(self, tmp_path: Path, open_dir: Path, raw: dict[str, Any]) -> None:
        raw["site"]["data_dir"] = str(open_dir / "data")
        raw["mqtt"] = {"embedded_port": 0}
        self.port = free_port()
        config = write_site(tmp_path, raw, "demo.yaml")
        command = [sys.executable, "-m", "hub.cli", "demo", "--config", str(config),
                   "--port", str(self.port)]  # fmt: skip
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_health(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"demo exited with {self.process.returncode}: {self.output}")
            try:
                response = httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError("demo did not become healthy in time")

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        login = client.post("/api/login", json=LOGIN)
        assert login.status_code == 200, login.text
        return client

    def renderers(self) -> list[int]:
        """Pids of the clip makers the demo runs now (from /proc: Linux)."""
        return [pid for pid, parent, command in _processes()
                if parent == self.process.pid and "make-clips" in command]  # fmt: skip

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def _processes() -> list[tuple[int, int, list[str]]]:
    """(pid, parent pid, command line) of every live process."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            command = (folder / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state, parent = (folder / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # ended meanwhile
        if state != "Z":
            found.append((int(folder.name), int(parent), command))
    return found


def _patrols(client: httpx.Client) -> list[dict[str, Any]]:
    patrols: list[dict[str, Any]] = client.get("/api/patrols").json()
    return patrols


def _cases(client: httpx.Client) -> list[dict[str, Any]]:
    page = client.get("/api/cases", params={"limit": 200}).json()
    items: list[dict[str, Any]] = page["items"]
    return items


def test_demo_serves_the_site_on_embedded_services(
    tmp_path: Path, open_dir: Path, demo_raw: dict[str, Any]
) -> None:
    demo = Demo(tmp_path, open_dir, demo_raw)
    try:
        demo.wait_for_health(timeout=60)
        rendering = demo.renderers()  # the scenes render in the background meanwhile
        assert rendering, "no scene renderer running right after start"
        client = demo.client()
        health = client.get("/api/health").json()  # its details need a role (#15)
        assert health["database"]["status"] == "up"
        assert health["database"]["embedded"] is True
        assert health["broker"]["status"] == "up"
        assert health["broker"]["embedded"] is True
        assert len(client.get("/api/grids").json()["features"]) == 11
        wait_until(lambda: sum(p["available"] for p in _patrols(client)) == 10, timeout=15)
        client.close()
    finally:
        code = demo.stop()
    assert code == 0, demo.output
    output = demo.output
    assert "started embedded PostgreSQL" in output
    assert "started embedded MQTT broker on mqtt://127.0.0.1:" in output
    assert "stopped embedded PostgreSQL" in output
    assert "demo login: operator / gridhub-demo" in output
    assert not (open_dir / "data" / "postgres" / "postmaster.pid").exists()
    alive = {pid for pid, _, _ in _processes()}
    assert not alive & set(rendering), "a clip maker outlived the demo"


def _events(client: httpx.Client, case_id: int) -> list[tuple[str, str]]:
    detail = client.get(f"/api/cases/{case_id}").json()
    return [(e["actor"], e["action"]) for e in detail["events"]]


def _moved(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> int:
    where = {p["id"]: (p["last_fix"]["lat"], p["last_fix"]["lon"]) for p in before}
    return sum(1 for p in after if (p["last_fix"]["lat"], p["last_fix"]["lon"]) != where[p["id"]])


@pytest.mark.timeout(300)  # renders its scenes (20-60 s) and follows a case to its end (~2 min)
def test_demo_shows_both_scenes_cases_through_their_whole_life(
    tmp_path: Path, open_dir: Path, demo_raw: dict[str, Any]
) -> None:
    demo = Demo(tmp_path, open_dir, demo_raw)
    try:
        demo.wait_for_health(timeout=60)
        assert f"serving http://127.0.0.1:{demo.port}/" in demo.output
        assert "demo login: operator / gridhub-demo" in demo.output
        client = demo.client()
        assert client.get("/").status_code == 200  # the monitoring room
        wait_until(lambda: all(p["last_fix"] for p in _patrols(client)), timeout=15)
        before = _patrols(client)

        def scenes_seen() -> bool:
            cases = _cases(client)
            throws = [c for c in cases if c["kind"] == "thrown_object"]
            lanes = [c for c in cases if c["kind"] == "fire_lane"]
            return bool(throws) and bool(lanes)

        wait_until(scenes_seen, timeout=90, step=1)
        first_cases_s = time.monotonic() - demo.started
        cases = _cases(client)
        assert {c["camera_id"] for c in cases if c["kind"] == "thrown_object"} == {"CAM-QH-F01"}
        assert {c["camera_id"] for c in cases if c["kind"] == "fire_lane"} <= LANE_CAMERAS
        assert _moved(before, _patrols(client)) >= 8  # they walk (some may stand at a case)

        def evaluated() -> list[dict[str, Any]]:
            return [c for c in _cases(client) if c["state"] == "evaluated"]

        wait_until(evaluated, timeout=180, step=2)
        case = evaluated()[0]
        events = _events(client, case["id"])
        patrols = {actor for actor, action in events if action in ("arrive", "resolve")}
        assert len(patrols) == 1 and re.fullmatch(r"P\d\d", patrols.pop())
        steps = [action for _, action in events if action != "alert"]
        assert steps[-5:] == ["patrol_accept", "arrive", "resolve", "close", "evaluate"]
        operator = [action for actor, action in events if actor == ACTOR]
        assert operator[-2:] == ["close", "evaluate"]
        assert client.get(f"/api/cases/{case['id']}").json()["details"]["score"] == 5
        client.close()
    finally:
        code = demo.stop()
    assert code == 0, demo.output
    print(f"cases from both scenes {first_cases_s:.0f} s after the command")  # noqa: T201
