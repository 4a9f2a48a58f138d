"""Patrol fixes per second from MQTT to rows in PostgreSQL, zero loss, and p99 lag.

    python -m bench.ingest [--fixes 200000] [--baseline-fixes 20000] [--rate 0]

A separate publisher process sends native location fixes (QoS 1) for 1,000
patrols through a private Mosquitto (with deploy/mosquitto's queue limits) on
this host to the hub's real ingest path: MqttLink (MQTT 5, as the hub connects to
a configured broker) → PatrolIngest → PatrolIndex and the batched PositionWriter
(COPY). Rows are counted afterwards: every fix must be stored. Lag is publish
time (the fix's `ts`) to the commit of its batch. Side by side in one run: the
hub as it is, acknowledging each message after the commit of its batch, and the
same ingest acknowledging on receipt (what it did before issue #14); the
baseline is the same ingest with one INSERT per message; the ceiling is a paho
subscriber that does nothing with the messages.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg_pool import ConnectionPool

from bench.common import fresh_database, percentile, private_broker, synthetic_city
from hub.clock import SystemClock
from hub.hub import topology_of
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import BrokerAddress, MqttLink
from hub.model import PatrolFix
from hub.patrols.index import PatrolIndex
from hub.patrols.ingest import LOCATION_TOPIC, PatrolIngest
from hub.patrols.writer import HeldFix, PositionWriter
from hub.storage import rows
from hub.storage.site_repo import list_grids, list_patrols, sync_site

PATROLS = 1000


def _no_ack() -> None:
    return None


def publish(url: str, count: int, rate: float, ready: Any) -> None:
    """Publisher process: `count` fixes round-robin over the patrols, at `rate`/s (0: max)."""
    address = BrokerAddress.parse(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(0)  # no limit: the publisher must not be the bottleneck
    client.connect(address.host, address.port)
    client.loop_start()
    ready.wait()
    start = time.time()
    for n in range(count):
        if rate:
            delay = start + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        pid = f"P{n % PATROLS:05d}"
        # Spread over the synthetic 20 x 20 km city (bench.common.synthetic_city).
        body = {"lat": 30.2 + (n * 7919 % 2000) / 1e4, "lon": 120.1 + (n * 104729 % 2000) / 1e4,
                "ts": time.time()}  # fmt: skip
        client.publish(f"gridhub/patrols/{pid}/location", json.dumps(body).encode(), qos=1)
    time.sleep(1)
    client.loop_stop()
    client.disconnect()


class TimedWriter(PositionWriter):
    """The real batched writer, recording when each fix's batch was committed."""

    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__(pool)
        self.lags: list[float] = []
        self.last_commit = 0.0

    def _applied(self, batch: list[HeldFix], overflow: int) -> None:
        super()._applied(batch, overflow)
        now = time.time()
        self.last_commit = now
        self.lags.extend(now - item.fix.ts.timestamp() for item in batch)


class InsertEachWriter(TimedWriter):
    """Baseline: one INSERT (one round trip, one commit) per fix, in the MQTT thread."""

    def __init__(self, pool: ConnectionPool, url: str) -> None:
        super().__init__(pool)
        self._conn = psycopg.connect(url, autocommit=True)

    def start(self) -> None:
        pass

    def stop(self, timeout_s: float = 10.0) -> None:
        self._conn.close()

    def put(self, fix: PatrolFix, ack: Callable[[], None] = _no_ack) -> None:
        self._conn.execute(
            """INSERT INTO patrol_positions (patrol_id, ts, lat, lon, source)
               VALUES (%s, %s, %s, %s, %s)""",
            (fix.patrol_id, fix.ts, fix.lat, fix.lon, fix.source),
        )
        now = time.time()
        self.last_commit = now
        self.lags.append(now - fix.ts.timestamp())
        ack()


def ceiling(broker: str, fixes: int, rate: float) -> float:
    """Messages/s a do-nothing paho subscriber receives from the same publisher."""
    received = [0, 0.0]

    def count(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        received[0] += 1
        received[1] = time.time()

    address = BrokerAddress.parse(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-ceiling")
    client.on_message = count
    client.connect(address.host, address.port)
    client.subscribe("gridhub/patrols/+/location", qos=1)
    client.loop_start()
    ready = multiprocessing.Event()
    publisher = multiprocessing.Process(target=publish, args=(broker, fixes, rate, ready))
    publisher.start()
    time.sleep(0.5)
    start = time.time()
    ready.set()
    publisher.join()
    client.loop_stop()
    return received[0] / (received[1] - start)


MODES = ("ack after commit", "ack on receipt", "INSERT per fix")


def run(broker: str, db_url: str, fixes: int, rate: float, mode: str) -> dict[str, float]:
    """One measured ingest of `fixes` fixes; returns rate, loss and lag figures."""
    with psycopg.connect(db_url) as conn:
        conn.execute("TRUNCATE patrol_positions")
        conn.commit()
        grids, patrols = list_grids(conn), list_patrols(conn)
    with ConnectionPool(db_url, min_size=2, max_size=4) as pool:
        index = PatrolIndex(topology_of(grids), SystemClock())
        baseline = mode == "INSERT per fix"
        writer: TimedWriter = InsertEachWriter(pool, db_url) if baseline else TimedWriter(pool)
        writer.start()
        ingest = PatrolIngest(index, writer, pool, HubMetrics(), SystemClock())
        ingest.set_roster(patrols)
        link = MqttLink(broker, "bench-hub", mqtt5=True)
        # The ingest acks after commit; `acks=False` makes the link ack on receipt instead
        # (the ingest's own late ack is then a no-op).
        link.subscribe(LOCATION_TOPIC, ingest.on_location, qos=1, acks=mode != "ack on receipt")
        link.start()
        ready = multiprocessing.Event()
        publisher = multiprocessing.Process(target=publish, args=(broker, fixes, rate, ready))
        publisher.start()
        time.sleep(0.5)
        start = time.time()
        ready.set()
        stored = _wait_for_rows(db_url, fixes, writer)
        elapsed = writer.last_commit - start
        publisher.join()
        link.stop()
        writer.stop()
    return {
        "fixes": fixes, "stored": stored, "per_s": fixes / elapsed,
        "lag_p50_ms": percentile(writer.lags, 50) * 1000,
        "lag_p99_ms": percentile(writer.lags, 99) * 1000,
    }  # fmt: skip


def _wait_for_rows(db_url: str, expected: int, writer: TimedWriter) -> int:
    """Wait until all rows are in (or nothing moves for 10 s); return the row count."""
    last_change, last_count = time.time(), -1
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            time.sleep(0.5)
            count = int(rows.scalar(conn, "SELECT count(*) FROM patrol_positions"))
            if count >= expected:
                return count
            if count != last_count:
                last_change, last_count = time.time(), count
            elif time.time() - last_change > 10:
                return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=200_000)
    parser.add_argument("--baseline-fixes", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=0, help="fixes/s to offer (0: max)")
    args = parser.parse_args()
    with fresh_database() as db_url, private_broker() as broker:
        with psycopg.connect(db_url) as conn:
            sync_site(conn, synthetic_city(20, PATROLS))
        results = {
            mode: run(broker, db_url, args.baseline_fixes if mode == MODES[2] else args.fixes,
                      args.rate, mode)
            for mode in MODES
        }  # fmt: skip
        paho = ceiling(broker, args.fixes, args.rate)
    offered = "max" if not args.rate else f"{args.rate:,.0f}"
    print(
        f"patrol fix ingest, {PATROLS} patrols, private Mosquitto on this host, "
        f"offered rate {offered}/s, {datetime.now(UTC):%Y-%m-%d}"
    )
    for name, r in results.items():
        print(
            f"  {name:17s} {r['per_s']:9,.0f} fixes/s   stored {r['stored']}/{r['fixes']}"
            f"   lag p50 {r['lag_p50_ms']:8.1f} ms  p99 {r['lag_p99_ms']:8.1f} ms"
        )
    print(f"  ceiling: a do-nothing paho subscriber receives {paho:,.0f} messages/s")
    after, receipt, single = (results[mode]["per_s"] for mode in MODES)
    print(
        f"  ack after commit: {after / receipt:.2f}x ack on receipt, {after / single:.1f}x the "
        "INSERT-per-fix baseline (target: >= 20,000 fixes/s, zero loss)"
    )


if __name__ == "__main__":
    main()
