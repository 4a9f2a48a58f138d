"""The hub killed with SIGKILL mid-dispatch and started again: the real `gridhub run`.

The hub runs as a subprocess on a migrated database of the test's own and a
private Mosquitto. A smoke alarm opens a case that is accepted and dispatched at
once; the dispatch is published, but no patrol device is listening, so nobody
acknowledges it — the hub is killed at exactly that point (the dispatch row says
`sent`), which is deterministic without any timing guesswork. While it is down
the case's arrive deadline passes. After the restart the case must be there with
its one dispatch, the patrol's device must get that same dispatch (same id; no
second dispatch to another patrol), and the missed deadline must be escalated.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.processes import HubProcess
from tests.conftest import PATROL_POSITIONS, Device, free_port, wait_until, write_site
from tests.fault_support import Broker, broker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ARRIVE_S = 6.0
SMOKE_SENSOR = "SMK-QH-3-12"


@pytest.fixture
def hub_site(
    tmp_path: Path,
    migrated_db: str,
    broker: Broker,  # noqa: F811
    demo_raw: dict[str, Any],
) -> Iterator[HubProcess]:
    """A site file on the test's database and broker, with short arrive deadlines and
    dispatches that never time out (so a re-sent dispatch cannot be a reassignment)."""
    port = free_port()
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["database"] = {"url": migrated_db}
    demo_raw["mqtt"] = {"url": broker.url}
    demo_raw["api"] = {"host": "127.0.0.1", "port": port}
    demo_raw["sla"] = {"accept_s": 300, "arrive_s": ARRIVE_S, "dispatch_timeout_s": 3600}
    hub = HubProcess(write_site(tmp_path, demo_raw), port, tmp_path / "hub.log")
    yield hub
    hub.stop()


def _on_duty(url: str, patrol_ids: list[str]) -> None:
    tx = Device(url, "kill-tx")
    for patrol_id in patrol_ids:
        lat, lon = PATROL_POSITIONS[patrol_id]
        tx.publish(f"gridhub/patrols/{patrol_id}/status", "on_duty")
        fix = {"lat": lat, "lon": lon, "ts": datetime.now(UTC).timestamp()}
        tx.publish(f"gridhub/patrols/{patrol_id}/location", json.dumps(fix))
    tx.close()


def _one(db: str, query: str, *args: object) -> Any:
    with psycopg.connect(db) as conn:
        row = conn.execute(query, args).fetchone()
    return row[0] if row and len(row) == 1 else row


def _messages(device: Device, within_s: float) -> list[dict[str, Any]]:
    """Every JSON message the device gets within `within_s` seconds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(device.next_json(timeout=left))
        except queue.Empty:
            break
    return got


def test_sigkill_mid_dispatch_loses_no_case_dispatches_once_and_resumes_sla(
    hub_site: HubProcess,
    broker: Broker,  # noqa: F811
    migrated_db: str,
) -> None:
    hub_site.start()
    _on_duty(broker.url, ["P01", "P07"])  # both patrol 清河一网格: either could take the case
    wait_until(lambda: _one(migrated_db, "SELECT count(*) FROM patrol_positions") == 2)
    alarm = Device(broker.url, "kill-smoke")
    reading = {"type": "smoke", "value": 1, "ts": time.time()}
    alarm.publish(f"gridhub/sensors/{SMOKE_SENSOR}/event", json.dumps(reading))
    alarm.close()
    sent = "SELECT id, case_id, patrol_id, created_at FROM dispatches WHERE state = 'sent'"
    wait_until(lambda: _one(migrated_db, sent) is not None)
    hub_site.kill()  # published, never acknowledged by a device
    dispatch_id, case_id, patrol_id, created_at = _one(migrated_db, sent)
    killed_at = datetime.now(UTC)
    assert (killed_at - created_at).total_seconds() < ARRIVE_S  # the deadline is still ahead

    devices = {p: Device(broker.url, f"kill-dev-{p}", f"gridhub/patrols/{p}/dispatch")
               for p in ("P01", "P07")}  # fmt: skip
    try:
        time.sleep(ARRIVE_S)  # the arrive deadline passes while the hub is down
        assert _one(migrated_db, "SELECT escalation_level FROM cases WHERE id = %s", case_id) == 0
        hub_site.start()
        first = devices[patrol_id].next_json(timeout=15)
        again = _messages(devices[patrol_id], 2.0)
        other = next(p for p in devices if p != patrol_id)
        to_other = _messages(devices[other], 0.5)
        wait_until(lambda: _escalations(migrated_db, case_id), timeout=10)
        accept = {"dispatch_id": dispatch_id, "action": "accept"}
        devices[patrol_id].publish(f"gridhub/patrols/{patrol_id}/reply", json.dumps(accept))
        wait_until(lambda: _one(migrated_db, "SELECT state FROM dispatches WHERE id = %s",
                                dispatch_id) == "accepted")  # fmt: skip
    finally:
        for device in devices.values():
            device.close()

    assert (first["dispatch_id"], first["case_id"]) == (dispatch_id, case_id)
    assert all(m["dispatch_id"] == dispatch_id for m in again)  # a repeat only with the same id
    assert to_other == []
    counts = _one(migrated_db, "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM alerts),"
                               " (SELECT count(*) FROM dispatches)")  # fmt: skip
    assert counts == (1, 1, 1)  # one alarm in: one alert, one case, one dispatch out
    escalated_at, note = _escalations(migrated_db, case_id)[0]
    assert escalated_at > killed_at and note.startswith("arrive deadline missed")


def _escalations(db: str, case_id: int) -> list[tuple[datetime, str]]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT at, note FROM case_events WHERE case_id = %s AND action = 'sla_escalate'"
            " ORDER BY id", (case_id,),
        ).fetchall()  # fmt: skip
    return [(row[0], str(row[1])) for row in rows]


def test_sigkill_between_the_case_and_its_dispatch_still_dispatches_after_restart(
    hub_site: HubProcess,
    broker: Broker,  # noqa: F811
    migrated_db: str,
) -> None:
    """The other moment a kill can hit: the auto-accepted case is committed, its
    dispatch is not. The test holds a lock on `dispatches`, so the hub stops exactly
    there (deterministic), and kills it. After the restart the case is dispatched to
    the patrol that was available before the crash, once."""
    hub_site.start()
    _on_duty(broker.url, ["P01"])
    wait_until(lambda: _one(migrated_db, "SELECT count(*) FROM patrol_positions") == 1)
    with psycopg.connect(migrated_db) as blocker:
        blocker.execute("LOCK TABLE dispatches IN ACCESS EXCLUSIVE MODE")
        alarm = Device(broker.url, "kill-smoke")
        reading = {"type": "smoke", "value": 1, "ts": time.time()}
        alarm.publish(f"gridhub/sensors/{SMOKE_SENSOR}/event", json.dumps(reading))
        alarm.close()
        accepted = "SELECT id FROM cases WHERE state = 'accepted'"
        wait_until(lambda: _one(migrated_db, accepted) is not None)
        hub_site.kill()
        blocker.rollback()
    case_id = _one(migrated_db, accepted)
    device = Device(broker.url, "kill-dev-P01", "gridhub/patrols/P01/dispatch")
    try:
        hub_site.start()
        message = device.next_json(timeout=15)
        again = _messages(device, 2.0)
    finally:
        device.close()
    assert message["case_id"] == case_id and all(m["case_id"] == case_id for m in again)
    counts = _one(migrated_db, "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM alerts),"
                               " (SELECT count(*) FROM dispatches)")  # fmt: skip
    assert counts == (1, 1, 1)
    assert _one(migrated_db, "SELECT state FROM cases WHERE id = %s", case_id) == "dispatched"
