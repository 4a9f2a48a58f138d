"""Case committed → dispatch message at the patrol's MQTT client, p50/p99, under ingest load.

    python -m bench.dispatch [--cases 200] [--load 5000]

A full hub (`open_hub`) runs on a fresh database and a private Mosquitto with
1,000 patrols; a load process publishes `--load` location fixes per second for
them the whole time. Each case is opened and accepted, then `dispatch()` picks
the nearest available patrol and commits the dispatch; the clock starts when
that commit returns and stops when a device client subscribed to every
patrol's dispatch topic receives the message.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import threading
import time
from datetime import UTC, datetime

from bench.common import fresh_database, percentile, private_broker, random_point, synthetic_city
from bench.ingest import PATROLS, publish
from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.hub import Hub, open_hub
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.services import Endpoints

SIDE = 20


class Devices:
    """One MQTT client standing in for every patrol's device: records arrival times."""

    def __init__(self, broker: str) -> None:
        self.arrived: dict[int, float] = {}
        self._event = threading.Condition()
        self.link = MqttLink(broker, "bench-devices")
        self.link.subscribe("gridhub/patrols/+/dispatch", self._on_message, qos=1)
        self.link.start()
        for n in range(PATROLS):
            self.link.publish(f"gridhub/patrols/P{n:05d}/status", b"on_duty", qos=1)

    def _on_message(self, message: ReceivedMessage) -> None:
        now = time.perf_counter()
        with self._event:
            self.arrived[json.loads(message.payload)["dispatch_id"]] = now
            self._event.notify_all()

    def wait_for(self, dispatch_id: int, timeout: float = 10) -> float | None:
        with self._event:
            self._event.wait_for(lambda: dispatch_id in self.arrived, timeout)
            return self.arrived.get(dispatch_id)


def one_case(hub: Hub, devices: Devices, rng: random.Random) -> tuple[float, float] | None:
    """Open, accept and dispatch one case; (dispatch() ms, commit→device ms)."""
    lat, lon = random_point(rng, SIDE)
    grid = hub.grids.locate(lat, lon)
    with hub.pool.connection() as conn, conn.transaction():
        case_id = open_case(conn, NewCase("bench", "bench case", 2, grid, lat, lon),
                            hub.clock.now(), "bench", 300)  # fmt: skip
        apply(conn, CaseAction(case_id, "accept", "bench", "operator"), hub.clock.now())
    t0 = time.perf_counter()
    outcome = hub.dispatcher.dispatch(case_id)
    t1 = time.perf_counter()
    if outcome.dispatch_id is None:
        return None
    arrived = devices.wait_for(outcome.dispatch_id)
    return (t1 - t0) * 1000, ((arrived or float("inf")) - t1) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--load", type=float, default=5000, help="fixes/s published meanwhile")
    args = parser.parse_args()
    rng = random.Random(7)
    with fresh_database() as db_url, private_broker() as broker:
        site = synthetic_city(SIDE, PATROLS)
        ready = multiprocessing.Event()
        load = multiprocessing.Process(
            target=publish,
            args=(broker, int(args.load * (args.cases * 0.1 + 30)), args.load, ready),
        )
        with open_hub(site, Endpoints(db_url, False, broker, False)) as hub:
            devices = Devices(broker)
            load.start()
            ready.set()
            time.sleep(3)  # every patrol has reported and is on duty
            results = [r for _ in range(args.cases) if (r := one_case(hub, devices, rng))]
            fixes_per_s = hub.metrics.registry.get_sample_value(
                "gridhub_patrol_fixes_total", {"source": "native", "outcome": "accepted"}
            )
            load.terminate()
    commit = [r[1] for r in results]
    create = [r[0] for r in results]
    print(
        f"dispatch latency under {args.load:,.0f} fixes/s of ingest load, {PATROLS} patrols, "
        f"{len(results)} cases, {datetime.now(UTC):%Y-%m-%d} ({fixes_per_s or 0:,.0f} fixes taken)"
    )
    print(
        f"  dispatch() (choose + commit): p50 {percentile(create, 50):6.1f} ms"
        f"   p99 {percentile(create, 99):6.1f} ms"
    )
    print(
        f"  commit → device receives:     p50 {percentile(commit, 50):6.1f} ms"
        f"   p99 {percentile(commit, 99):6.1f} ms   (target: p99 < 100 ms)"
    )


if __name__ == "__main__":
    main()
