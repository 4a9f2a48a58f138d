"""Camera alerts spooled to disk before the detector is told: replayed once after a crash."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.alerts.spool import AlertSpool, spool_path
from hub.config import load_site
from hub.hub import Hub
from hub.model import Alert, EvidenceRef
from tests.conftest import DEMO_CONFIG, HubFactory, metric, wait_until

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def _alert(n: int) -> Alert:
    return Alert(
        kind="fire_lane", started_at=NOW, confirmed_at=NOW + timedelta(seconds=n),
        confidence=0.8, camera_id="CAM-QH-01", region="lane", summary=f"占用 {n}",
        overlay=(((0.1, 0.2), (0.3, 0.4)),), details={"dwell_s": 30 + n},
        evidence=(EvidenceRef("snapshot", f"e/{n}.jpg", "image/jpeg"),),
    )  # fmt: skip


def test_what_was_not_marked_done_is_replayed_with_its_spool_id(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "alerts.jsonl"
    spool = AlertSpool(path)
    ids = [spool.append(_alert(n)) for n in range(3)]
    assert None not in ids and spool.pending == 3
    spool.done(str(ids[1]))
    with path.open("a") as out:
        out.write('{"id": "torn", "alert": {"ki')  # the hub died mid-write
    replayed = AlertSpool(path).replay()
    assert [a.summary for a in replayed] == ["占用 0", "占用 2"]
    assert [a.ref for a in replayed] == [f"spool:{ids[0]}", f"spool:{ids[2]}"]
    assert replayed[0] == replace(_alert(0), ref=f"spool:{ids[0]}")  # every field back
    again = AlertSpool(path)
    assert len(again.replay()) == 2  # the file now holds just the two, until marked done
    for alert in replayed:
        again.done(str(alert.ref).removeprefix("spool:"))
    assert AlertSpool(path).replay() == []


def test_a_full_spool_refuses_and_counts(tmp_path: Path) -> None:
    spool = AlertSpool(tmp_path / "alerts.jsonl", limit=2)
    assert spool.append(_alert(0)) and spool.append(_alert(1))
    assert spool.append(_alert(2)) is None
    assert spool.refused == 1


def test_the_hub_records_a_spooled_alert_once_after_a_crash(
    hub_factory: HubFactory, migrated_db: str
) -> None:
    """An alert spooled by a hub that died before recording it (written here by hand, as
    the dead hub left it) becomes one stored alert; a second start replays nothing."""
    site = load_site(DEMO_CONFIG)
    path = spool_path(site.site.data_dir, migrated_db, site.cluster.instance)
    alert = Alert(kind="fire_lane", started_at=datetime.now(UTC), confirmed_at=datetime.now(UTC),
                  confidence=0.8, camera_id="CAM-QH-01", region="lane")  # fmt: skip
    assert AlertSpool(path).append(alert) is not None
    hub = hub_factory()
    assert metric(hub, "gridhub_recovered_total", what="spooled_alerts") == 1
    wait_until(lambda: hub.alerts.pending == 0 and _count(hub, "alerts") == 1)
    second = hub_factory()
    assert metric(second, "gridhub_recovered_total", what="spooled_alerts") == 0
    hub.alerts.submit(alert)  # a live camera alert: spooled, recorded, marked done
    wait_until(lambda: hub.alerts.pending == 0 and _count(hub, "alerts") == 2)
    assert AlertSpool(path).replay() == []


def _count(hub: Hub, table: str) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
