"""Several hub instances on one database: camera leases, takeover, notifiers sent once.

The lease tests drive `CameraLeases` of two instances against a real PostgreSQL;
the takeover test runs two real `gridhub run` processes on one database and
broker, kills one with SIGKILL, and watches the other take its cameras over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from hub.auth import add_user, issue_token
from hub.cameras.leases import CameraLeases, Instance, this_instance
from hub.config import load_site
from hub.hub import Hub
from hub.storage.db import open_pool
from hub.storage.site_repo import sync_site
from tests.camera_support import make_clip
from tests.conftest import DEMO_CONFIG, Device, HubFactory, free_port, wait_until, write_site
from tests.test_alerts import _alert
from tests.test_notify import Receiver

pytestmark = pytest.mark.postgres
DEMO_CAMERAS = sorted(c.id for c in load_site(DEMO_CONFIG).cameras)


@pytest.fixture
def pool(migrated_db: str) -> Iterator[ConnectionPool]:
    pool = open_pool(migrated_db, 4)
    with pool.connection() as conn:
        sync_site(conn, load_site(DEMO_CONFIG))  # the cameras the leases refer to
    yield pool
    pool.close()


def _instance(pool: ConnectionPool, ttl_s: float = 30.0) -> CameraLeases:
    leases = CameraLeases(pool, this_instance("test"), ttl_s)
    leases.join()
    return leases


def test_a_lone_instance_holds_every_enabled_camera(pool: ConnectionPool) -> None:
    one = _instance(pool)
    view = one.balance(DEMO_CAMERAS)
    assert view.held == set(DEMO_CAMERAS)
    assert view.holders == dict.fromkeys(DEMO_CAMERAS, one.instance.id)
    assert one.balance(DEMO_CAMERAS[:2]).held == set(DEMO_CAMERAS[:2])  # the rest disabled
    assert _lease_count(pool) == 2


def test_two_instances_split_the_cameras_and_one_leaving_hands_them_over(
    pool: ConnectionPool,
) -> None:
    a = _instance(pool)
    assert a.balance(DEMO_CAMERAS).held == set(DEMO_CAMERAS)
    b = _instance(pool)
    assert b.balance(DEMO_CAMERAS).held == set()  # all leased: b waits for a to give some
    held_a = a.balance(DEMO_CAMERAS).held
    held_b = b.balance(DEMO_CAMERAS).held
    assert len(held_a) == len(held_b) == len(DEMO_CAMERAS) // 2
    assert held_a | held_b == set(DEMO_CAMERAS)
    assert a.balance(DEMO_CAMERAS).held == held_a  # stable: no flapping
    a.leave()
    assert b.balance(DEMO_CAMERAS).held == set(DEMO_CAMERAS)


def test_leases_of_an_instance_that_stopped_renewing_are_taken_after_the_ttl(
    pool: ConnectionPool,
) -> None:
    dead = _instance(pool, ttl_s=1.0)
    assert dead.balance(DEMO_CAMERAS).held == set(DEMO_CAMERAS)
    alive = _instance(pool, ttl_s=1.0)
    assert alive.balance(DEMO_CAMERAS).held == set()
    time.sleep(1.3)  # `dead` never renews again
    view = alive.balance(DEMO_CAMERAS)
    assert view.held == set(DEMO_CAMERAS)
    assert dead.balance(DEMO_CAMERAS).held <= set(DEMO_CAMERAS)  # it comes back...
    assert not (dead.balance(DEMO_CAMERAS).held & alive.balance(DEMO_CAMERAS).held)  # ...shares


def test_a_restarted_instance_clears_its_dead_predecessor_on_this_host(
    pool: ConnectionPool,
) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    me = this_instance("test")
    predecessor = CameraLeases(pool, Instance("old:1:x", me.host_key, int(gone.stdout)), 600)
    predecessor.join()
    assert predecessor.balance(DEMO_CAMERAS).held == set(DEMO_CAMERAS)
    neighbour = CameraLeases(pool, Instance("live:1:y", me.host_key, os.getpid()), 600)
    neighbour.join()  # a live process on this host: never cleared
    restarted = _instance(pool, ttl_s=600)  # the 600 s leases would otherwise block it
    assert restarted.balance(DEMO_CAMERAS).held  # shares with the live neighbour
    with pool.connection() as conn:
        rows = conn.execute("SELECT instance_id FROM hub_instances ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == sorted(["live:1:y", restarted.instance.id])


def _lease_count(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM camera_leases").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.mqtt
def test_two_hubs_send_each_case_event_to_a_webhook_once(
    hub_factory: HubFactory, demo_raw: dict[str, Any]
) -> None:
    receiver = Receiver(fail_first=0)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/gridhub"
        demo_raw["notifiers"] = [{"kind": "webhook", "name": "city", "url": url,
                                  "secret": "k"}]  # fmt: skip
        first, second = hub_factory(raw=demo_raw), hub_factory(raw=demo_raw)
        for i in range(15):
            (first if i % 2 else second).cases.record(_alert(first, region=f"zone-{i}"))
        with first.pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM case_events").fetchone()
        expected = int(row[0]) if row else 0
        assert expected >= 15
        wait_until(lambda: len(receiver.requests) >= expected, timeout=20)
        time.sleep(1.5)  # two more rounds of both runners: nothing more may arrive
        ids = [h["X-Gridhub-Delivery"] for h, *_ in receiver.requests]
        assert len(ids) == len(set(ids)) == expected
    finally:
        receiver.shutdown()
        receiver.server_close()


# --- two real hub processes ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.mqtt
def test_a_killed_hubs_cameras_are_taken_over_by_the_other(
    tmp_path: Path, migrated_db: str, mqtt_url: str, demo_raw: dict[str, Any]
) -> None:
    clip = make_clip(tmp_path / "lane.mp4", seconds=4, fps=10)
    cameras = [c for c in demo_raw["cameras"] if c["id"] in DEMO_CAMERAS[:4]]
    for camera in cameras:
        camera.update(enabled=True, url=f"file://{clip}", analysis_fps=2, detectors=[])
    demo_raw.update(cameras=cameras, notifiers=[], sensors=[])
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["database"] = {"url": migrated_db}
    demo_raw["mqtt"] = {"url": mqtt_url}
    demo_raw["cluster"] = {"lease_ttl_s": 3}
    config = write_site(tmp_path, demo_raw)
    token = _token(migrated_db)
    a, b = _Hub(config, "hub-a", token), _Hub(config, "hub-b", token)
    try:
        a.start()
        wait_until(lambda: _holders(migrated_db).count("hub-a") == 4, timeout=30)
        b.start()
        wait_until(lambda: _holders(migrated_db).count("hub-b") == 2, timeout=30)
        assert sorted(_holders(migrated_db)) == ["hub-a", "hub-a", "hub-b", "hub-b"]
        wait_until(lambda: a.online() == 2 and b.online() == 2, timeout=20)

        a.kill()  # SIGKILL: no lease is given back, they have to expire
        killed_at = time.monotonic()
        wait_until(lambda: _holders(migrated_db) == ["hub-b"] * 4, timeout=30)
        taken_s = time.monotonic() - killed_at
        wait_until(lambda: b.online() == 4, timeout=20)
        assert taken_s < 3 + 1 + 4  # TTL + one renewal period (TTL/3) + slack
    except AssertionError as exc:
        said = f"--- hub-a ---\n{a.log.read_text()}\n--- hub-b ---\n{b.log.read_text()}"
        raise AssertionError(f"{exc}\n{said}") from exc
    finally:
        a.stop()
        b.stop()
    assert _holders(migrated_db) == []  # b stopped cleanly and gave its leases back


class _Hub:
    """`gridhub run` in a subprocess with its own instance name and port."""

    def __init__(self, config: Path, name: str, token: str) -> None:
        self.config, self.name, self.port = config, name, free_port()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {**os.environ, "GRIDHUB_INSTANCE": self.name}
        command = [sys.executable, "-m", "hub.cli", "run", "--config", str(self.config),
                   "--port", str(self.port)]  # fmt: skip
        self.log = self.config.with_name(f"{self.name}.log")
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def online(self) -> int:
        """How many cameras this hub runs and sees frames from."""
        try:
            cameras = httpx.get(f"http://127.0.0.1:{self.port}/api/cameras",
                                headers=self.headers, timeout=3).json()  # fmt: skip
            states = [self._health(c["id"]) for c in cameras]
        except httpx.TransportError:
            return 0
        return sum(1 for h in states if h.get("state") == "online")

    def _health(self, camera_id: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/api/cameras/{camera_id}/health"
        body: dict[str, Any] = httpx.get(url, headers=self.headers, timeout=3).json()
        if body.get("state") == "online":
            assert str(body["instance"]).startswith(f"{self.name}:")
        return body

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(30)


def _holders(url: str) -> list[str]:
    """The instance name of each live camera lease, sorted."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT holder FROM camera_leases WHERE expires_at >= now() ORDER BY holder"
        ).fetchall()
    return [str(r[0]).split(":")[0] for r in rows]


def _token(url: str) -> str:
    with psycopg.connect(url) as conn:
        return issue_token(conn, add_user(conn, "cluster-watch", "operator"))


@pytest.mark.mqtt
# Without shared history both hubs write each fix; `(patrol_id, ts)` is unique since
# migration 0012 (a redelivered fix is one row), so the second write is a no-op.
@pytest.mark.parametrize(("shared", "copies"), [(True, 1), (False, 1)])
def test_two_hubs_store_each_fix_once_with_shared_history(
    hub_factory: HubFactory, demo_raw: dict[str, Any], mqtt_url: str, shared: bool, copies: int
) -> None:
    demo_raw["cluster"] = {"shared_history": shared}
    first, second = hub_factory(raw=demo_raw), hub_factory(raw=demo_raw)
    device = Device(mqtt_url, "cluster-fixes")
    sent, now = 0, time.time()
    try:
        for patrol_id in ("P01", "P02", "P03"):
            for i in range(100):
                fix = {"lat": 30.27 + i * 1e-5, "lon": 120.14, "ts": now - 100 + i}
                device.publish(f"gridhub/patrols/{patrol_id}/location", json.dumps(fix))
                sent += 1
    finally:
        device.close()
    wait_until(lambda: _positions(first) >= sent * copies, timeout=20)
    time.sleep(0.5)  # a late duplicate would land by now
    assert _positions(first) == sent * copies
    for hub in (first, second):  # both live indexes hold every patrol's newest fix
        newest = [_newest(hub, p) for p in ("P01", "P02", "P03")]
        assert newest == pytest.approx([now - 1] * 3)


def _newest(hub: Hub, patrol_id: str) -> float | None:
    state = hub.patrols.get(patrol_id)
    return state.fix.ts.timestamp() if state and state.fix else None


def _positions(hub: Hub) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions").fetchone()
    return int(row[0]) if row else 0
