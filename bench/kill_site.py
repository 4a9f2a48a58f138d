"""The kill loop's site, its numbered messages, and what the database holds of them.

Three streams of numbered messages, each identifiable once stored:
- fixes: patrol P01's native location with `ts = T0 + n / 100` (row n of the history);
- sensor events: one door alarm per sensor `KL-S{n}` (one alert each);
- replies: patrol `KL-P{n}` accepts its own dispatch (seeded before the hub starts),
  one `patrol_accept` event on its case.
The site is the demo's without cameras or notifiers (fast restarts), with those
sensors and patrols added and a named instance (a persistent MQTT session).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml

from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.config import SiteConfig

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "demo.yaml"
FIX_PATROL = "P01"
FIX_STEP_S = 0.01
WHERE = {"lat": 30.2726, "lon": 120.1424}  # inside 清河一网格
INSTANCE = "killloop"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the hub under test finds its services and serves its API."""

    database_url: str
    broker_url: str
    api_port: int
    data_dir: Path


def site(endpoints: Endpoints, sensors: int, reply_patrols: int) -> dict[str, Any]:
    """The site file as data: the demo's grids and patrols, the loop's sensors and patrols."""
    raw: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["site"]["data_dir"] = str(endpoints.data_dir)
    raw["database"] = {"url": endpoints.database_url}
    raw["mqtt"] = {"url": endpoints.broker_url}
    raw["api"] = {"host": "127.0.0.1", "port": endpoints.api_port}
    raw["cluster"] = {"instance": INSTANCE}
    raw["sla"] = {"accept_s": 3600, "arrive_s": 3600, "dispatch_timeout_s": 36000}
    raw["cameras"] = []
    raw.pop("notifiers", None)
    raw["sensors"] = [
        {"id": sensor_id(n), "name": f"门磁 {n}", "type": "door", "location": WHERE}
        for n in range(sensors)
    ]
    grid = raw["patrols"][0]["grid"]
    raw["patrols"] += [{"id": reply_patrol(n), "name": f"回复组 {n}", "grid": grid}
                       for n in range(reply_patrols)]  # fmt: skip
    SiteConfig.model_validate(raw)  # fail here, not in the hub
    return raw


def sensor_id(n: int) -> str:
    return f"KL-S{n:05d}"


def reply_patrol(n: int) -> str:
    return f"KL-P{n:05d}"


def seed_dispatches(database_url: str, count: int) -> list[int]:
    """A dispatched case and its `sent` dispatch for each reply patrol; the dispatch ids."""
    now = datetime.now(UTC)
    ids = []
    with psycopg.connect(database_url) as conn:
        for n in range(count):
            new = NewCase("manual", f"回复 {n}", 2, None, WHERE["lat"], WHERE["lon"])
            case_id = open_case(conn, new, now, "kill-loop", 3600)
            apply(conn, CaseAction(case_id, "accept", "op", "operator"), now)
            apply(conn, CaseAction(case_id, "dispatch", "op", "operator"), now)
            row = conn.execute(
                """INSERT INTO dispatches (case_id, patrol_id, attempt, state, payload,
                                           created_at, published_at, deadline)
                   VALUES (%s, %s, 1, 'sent', %s, %s, %s, %s) RETURNING id""",
                (case_id, reply_patrol(n), json.dumps({"case_id": case_id}), now, now,
                 now + timedelta(days=1)),
            ).fetchone()  # fmt: skip
            assert row is not None
            ids.append(int(row[0]))
        conn.commit()
    return ids


@dataclass(frozen=True, slots=True)
class Tally:
    """One stream at the end: numbers sent (acknowledged by the broker) and stored."""

    sent: int
    stored: int  # distinct numbers in the database that were sent
    duplicates: int  # rows beyond one per number
    lost: int  # sent, not stored
    extra: int  # stored, never acknowledged to the publisher (the broker died after storing)


def tally(sent: set[int], stored: dict[int, int]) -> Tally:
    """`stored` maps a number to its rows in the database."""
    return Tally(
        sent=len(sent), stored=len(sent & stored.keys()),
        duplicates=sum(rows - 1 for rows in stored.values()),
        lost=len(sent - stored.keys()), extra=len(stored.keys() - sent),
    )  # fmt: skip


def stored_fixes(conn: psycopg.Connection[Any], t0: float) -> dict[int, int]:
    rows = conn.execute(
        "SELECT ts FROM patrol_positions WHERE patrol_id = %s", (FIX_PATROL,)
    ).fetchall()
    found: dict[int, int] = {}
    for (ts,) in rows:
        n = round((ts.timestamp() - t0) / FIX_STEP_S)
        found[n] = found.get(n, 0) + 1
    return found


def stored_sensor_alerts(conn: psycopg.Connection[Any]) -> dict[int, int]:
    rows = conn.execute(
        "SELECT sensor_id, count(*) FROM alerts WHERE sensor_id LIKE 'KL-S%' GROUP BY sensor_id"
    ).fetchall()
    return {int(str(sensor)[4:]): int(count) for sensor, count in rows}


def stored_replies(conn: psycopg.Connection[Any]) -> dict[int, int]:
    rows = conn.execute(
        """SELECT d.patrol_id, count(*) FROM dispatches d
           JOIN case_events e ON e.case_id = d.case_id AND e.action = 'patrol_accept'
           WHERE d.patrol_id LIKE 'KL-P%' AND d.state = 'accepted' GROUP BY d.patrol_id"""
    ).fetchall()
    return {int(str(patrol)[4:]): int(count) for patrol, count in rows}
