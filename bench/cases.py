"""Alerts the sink turns into cases (with de-duplication), and GET /api/cases at 100k cases.

    python -m bench.cases [--alerts 5000] [--cases 100000] [--requests 200]

A full hub (`open_hub`, demo site) on a fresh database and a private Mosquitto.
Phase 1 feeds alerts from the demo cameras over 60 keys (6 cameras, 2 kinds,
5 zones: most join an open case, some open a new one) through `CaseSink.record`,
which returns after the commit: that time is the alert → case-committed latency.
Phase 2 stores 100,000 cases with their first audit event, then times
`GET /api/cases` with a typical monitoring-room filter (open states of one
grid, newest 50) through the ASGI app.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from bench.common import fresh_database, percentile, private_broker
from hub.api.app import create_app
from hub.auth import add_user, issue_token
from hub.cli import DEMO_CONFIG
from hub.config import load_site
from hub.hub import Hub, open_hub
from hub.model import Alert
from hub.services import Endpoints

CAMERAS = ["CAM-QH-F01", "CAM-QH-F02", "CAM-QH-L01", "CAM-LS-L01", "CAM-LS-G01", "CAM-LS-F01"]


def feed_alerts(hub: Hub, count: int) -> tuple[list[float], dict[str, int], float]:
    rng = random.Random(3)
    latencies, outcomes = [], {"opened": 0, "joined": 0}
    start = time.perf_counter()
    for _ in range(count):
        now = datetime.now(UTC)
        kind, camera, region = (
            rng.choice(["fire_lane", "intrusion"]),
            rng.choice(CAMERAS),
            rng.randrange(5),
        )
        alert = Alert(kind=kind, started_at=now, confirmed_at=now, confidence=0.7,
                      camera_id=camera, region=f"z{region}")  # fmt: skip
        t0 = time.perf_counter()
        outcome = hub.cases.record(alert)
        latencies.append((time.perf_counter() - t0) * 1000)
        outcomes[outcome.outcome] = outcomes.get(outcome.outcome, 0) + 1
    return latencies, outcomes, count / (time.perf_counter() - start)


def store_cases(hub: Hub, count: int) -> None:
    """`count` cases spread over the demo grids and the last 90 days, in one statement each."""
    with hub.pool.connection() as conn:
        conn.execute(
            """INSERT INTO cases (kind, state, severity, grid_id, lat, lon, title, opened_at,
                   updated_at)
               SELECT (ARRAY['fire_lane','thrown_object','manual','smoke'])[1 + i %% 4],
                      (ARRAY['reported','accepted','dispatched','resolved','closed','evaluated',
                             'evaluated','evaluated','rejected','closed'])[1 + i %% 10],
                      1 + i %% 4,
                      (ARRAY['WT-QH-01','WT-QH-02','WT-QH-03','WT-LS-01','WT-LS-02','WT-LS-03'])
                          [1 + i %% 6],
                      30.27, 120.15, 'bench case ' || i,
                      now() - make_interval(secs => (%s - i) * 77.0),
                      now() - make_interval(secs => (%s - i) * 77.0)
               FROM generate_series(1, %s) AS i""",
            (count, count, count),
        )
        conn.execute(
            """INSERT INTO case_events (case_id, at, actor, action, to_state)
               SELECT id, opened_at, 'bench', 'report', 'reported' FROM cases"""
        )
        conn.execute("ANALYZE")


def time_listing(hub: Hub, requests: int) -> list[float]:
    with hub.pool.connection() as conn:
        token = issue_token(conn, add_user(conn, "bench-operator", "operator"))
    client = TestClient(create_app(hub), headers={"Authorization": f"Bearer {token}"})
    states = ["reported", "accepted", "dispatched"]
    params: dict[str, str | int | list[str]] = {"state": states, "grid": "WT-QH-02", "limit": 50}
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get("/api/cases", params=params)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and len(response.json()["items"]) == 50
    client.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    site = load_site(DEMO_CONFIG)
    with (
        fresh_database() as db_url,
        private_broker() as broker,
        open_hub(site, Endpoints(db_url, False, broker, False)) as hub,
    ):
        latencies, outcomes, rate = feed_alerts(hub, args.alerts)
        store_cases(hub, args.cases)
        listing = time_listing(hub, args.requests)
    print(f"cases benchmark, {datetime.now(UTC):%Y-%m-%d}")
    print(
        f"  alert → case committed: {rate:,.0f} alerts/s (one thread), "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
        f"({outcomes.get('opened', 0)} opened, {outcomes.get('joined', 0)} joined)"
    )
    print(
        f"  GET /api/cases (open states, one grid, 50 newest) at {args.cases:,} cases: "
        f"p50 {percentile(listing, 50):.1f} ms, p99 {percentile(listing, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
