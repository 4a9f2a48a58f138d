"""Kill loop: SIGKILL the hub at random moments under steady load; nothing lost, nothing twice.

    python -m bench.kill_loop [--kills 10] [--rate 20] [--seconds 60] [--seed 1]
                              [--db-outage 30] [--clean-session] [--no-broker-restart]

A private Mosquitto with persistence, a fresh PostgreSQL database, and the hub as
a separate process (`gridhub run`, a named instance: a persistent MQTT session).
Three publishers send numbered patrol fixes, sensor alarms and patrol replies at
steady rates (QoS 1; bench/kill_site.py says how each is numbered and found
again). Meanwhile the hub is SIGKILLed `kills` times at random moments and
started again, and halfway the broker is restarted (SIGTERM: it saves its
sessions). At the end every number the broker acknowledged to a publisher must
be in the database exactly once: the counts printed are sent, stored,
duplicates, lost. With `--db-outage S` the database is a PostgreSQL server of the
loop's own (embedded), stopped for S seconds after the middle kill; halfway
through the outage the hub, holding what it could not write, is killed too, and
started again once the database is back. tests/test_kill_loop.py runs a short
loop in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from bench import kill_site
from bench.common import fresh_database
from bench.kill_site import Tally
from bench.processes import HubProcess, Mosquitto, free_port, poll
from hub.infra.embedded import EmbeddedPostgres
from hub.infra.mqtt import BrokerAddress
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy

Payload = Callable[[int], tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class LoopPlan:
    """How hard to shake the hub."""

    kills: int = 10
    seconds: float = 60.0  # how long the publishers send
    rate: float = 20.0  # fixes per second; sensor alarms and replies at half of it
    broker_restart: bool = True
    seed: int = 1
    persistent_session: bool = True  # False: the hub as it was (clean session, random id)
    db_outage_s: float = 0.0  # > 0: stop the loop's own PostgreSQL this long, once


@dataclass
class LoopResult:
    """What happened and what the database holds."""

    tallies: dict[str, Tally]
    kills: int = 0
    broker_restarts: int = 0
    db_outages: int = 0
    restart_s: list[float] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # hub log lines saying so

    @property
    def ok(self) -> bool:
        return all(t.lost == 0 and t.duplicates == 0 for t in self.tallies.values())


class Publisher(threading.Thread):
    """Sends `count` numbered messages at `rate`/s with QoS 1; `sent()` is what the broker
    acknowledged (paho sends again after a reconnect what was not). PUBACKs are matched
    by packet id, which paho does not reuse within 65,535 messages: enough for a loop."""

    def __init__(self, url: str, count: int, rate: float, payload: Payload) -> None:
        super().__init__(name="kill-loop-publisher", daemon=True)
        self.count, self.rate, self.payload = count, rate, payload
        address = BrokerAddress.parse(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"kill-loop-{uuid.uuid4().hex[:8]}",
                                  clean_session=False)  # fmt: skip
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(1000)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect(address.host, address.port)
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.add(mid)
        self.acked: set[int] = set()
        self.client.loop_start()
        self.infos: list[tuple[int, mqtt.MQTTMessageInfo]] = []

    def run(self) -> None:
        start = time.monotonic()
        for n in range(self.count):
            delay = start + n / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            topic, body = self.payload(n)
            self.infos.append((n, self.client.publish(topic, body, qos=1)))

    def sent(self, wait_s: float) -> set[int]:
        """The numbers the broker acknowledged, after waiting up to `wait_s` for the rest."""
        self.join()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and len(self.acked) < len(self.infos):
            time.sleep(0.2)
        self.client.loop_stop()
        self.client.disconnect()
        return {n for n, info in self.infos if info.mid in self.acked}


def _streams(plan: LoopPlan, t0: float, dispatch_ids: list[int]) -> dict[str, Payload]:
    def fix(n: int) -> tuple[str, bytes]:
        body = {"lat": 30.2726, "lon": 120.1427, "ts": t0 + n * kill_site.FIX_STEP_S}
        return f"gridhub/patrols/{kill_site.FIX_PATROL}/location", json.dumps(body).encode()

    def alarm(n: int) -> tuple[str, bytes]:
        body = {"type": "door", "value": 1, "ts": time.time()}
        return f"gridhub/sensors/{kill_site.sensor_id(n)}/event", json.dumps(body).encode()

    def reply(n: int) -> tuple[str, bytes]:
        body = {"dispatch_id": dispatch_ids[n], "action": "accept"}
        return f"gridhub/patrols/{kill_site.reply_patrol(n)}/reply", json.dumps(body).encode()

    return {"fixes": fix, "sensor_events": alarm, "replies": reply}


def _counts(plan: LoopPlan) -> dict[str, tuple[int, float]]:
    """Messages and rate per stream."""
    half = plan.rate / 2
    return {"fixes": (int(plan.seconds * plan.rate), plan.rate),
            "sensor_events": (int(plan.seconds * half), half),
            "replies": (int(plan.seconds * half), half)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Services:
    """What the loop shakes: the hub, the broker and (with `db_outage_s`) the database."""

    hub: HubProcess
    broker: Mosquitto
    database: EmbeddedPostgres | None


def _shake(plan: LoopPlan, services: Services, result: LoopResult) -> None:
    """Kill and restart the hub at random moments; restart the broker once, halfway;
    stop the database once, after the middle kill."""
    rng = random.Random(plan.seed)
    moments = sorted(rng.uniform(0.5, plan.seconds - 1) for _ in range(plan.kills))
    start = time.monotonic()
    for k, moment in enumerate(moments):
        time.sleep(max(0.0, start + moment - time.monotonic()))
        services.hub.kill()
        result.kills += 1
        time.sleep(rng.uniform(0, 1.0))
        if plan.broker_restart and k == len(moments) // 2:
            services.broker.stop()  # with the hub down too: its session must survive
            time.sleep(1.0)
            services.broker.start()
            result.broker_restarts += 1
        result.restart_s.append(services.hub.start())
        if services.database is not None and k == len(moments) // 2:
            _outage(plan.db_outage_s, services, result)


def _outage(seconds: float, services: Services, result: LoopResult) -> None:
    """The database stops; halfway the hub, holding what it could not write, is killed;
    the database comes back, then the hub."""
    assert services.database is not None
    services.database.stop()
    time.sleep(seconds / 2)
    services.hub.kill()
    result.kills += 1
    time.sleep(seconds / 2)
    services.database.start()
    result.db_outages += 1
    result.restart_s.append(services.hub.start())


def _settle(database_url: str, t0: float, sent: dict[str, set[int]], timeout_s: float) -> None:
    """Wait until every sent number is stored, or nothing changed for a while."""

    def done() -> bool:
        with psycopg.connect(database_url) as conn:
            found = _stored(conn, t0)
        return all(sent[name] <= found[name].keys() for name in sent)

    with contextlib.suppress(TimeoutError):  # the tallies say what is missing
        poll(done, timeout_s, "every message stored", step=0.5)


def _stored(conn: psycopg.Connection[tuple[object, ...]], t0: float) -> dict[str, dict[int, int]]:
    return {"fixes": kill_site.stored_fixes(conn, t0),
            "sensor_events": kill_site.stored_sensor_alerts(conn),
            "replies": kill_site.stored_replies(conn)}  # fmt: skip


def run_loop(
    plan: LoopPlan, database_url: str, workdir: Path, database: EmbeddedPostgres | None = None
) -> LoopResult:
    """One kill loop on a migrated, empty database (served by `database` when the plan
    stops it); the hub's log is in `workdir`."""
    counts = _counts(plan)
    broker = Mosquitto(workdir, persistent=True)
    broker.start()
    endpoints = kill_site.Endpoints(database_url, broker.url, free_port(), workdir / "data")
    raw = kill_site.site(endpoints, counts["sensor_events"][0], counts["replies"][0])
    raw["mqtt"]["persistent_session"] = plan.persistent_session
    config = workdir / "site.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    hub = HubProcess(config, endpoints.api_port, workdir / "hub.log")
    try:
        hub.start()  # syncs the site: the reply patrols exist before their dispatches
        dispatch_ids = kill_site.seed_dispatches(database_url, counts["replies"][0])
        t0 = time.time() - 3600
        streams = _streams(plan, t0, dispatch_ids)
        publishers = {name: Publisher(broker.url, n, rate, streams[name])
                      for name, (n, rate) in counts.items()}  # fmt: skip
        for publisher in publishers.values():
            publisher.start()
        result = LoopResult({})
        _shake(plan, Services(hub, broker, database), result)
        sent = {name: p.sent(wait_s=30) for name, p in publishers.items()}
        _settle(database_url, t0, sent, timeout_s=60)
        with psycopg.connect(database_url) as conn:
            found = _stored(conn, t0)
        result.tallies = {name: kill_site.tally(sent[name], found[name]) for name in sent}
        result.recovered = [line for line in hub.log.read_text().splitlines()
                            if "redelivering" in line or "session" in line]  # fmt: skip
        return result
    finally:
        hub.stop()
        broker.stop()


def report(plan: LoopPlan, result: LoopResult) -> str:
    session = "" if plan.persistent_session else " (clean MQTT session)"
    outage = f" (one during {plan.db_outage_s:g} s without PostgreSQL)" if result.db_outages else ""
    lines = [
        f"kill loop{session}: {result.kills} SIGKILLs of the hub{outage}, "
        f"{result.broker_restarts} broker restart(s), {plan.seconds:.0f} s of load "
        f"(fixes {plan.rate:g}/s, sensor alarms and replies {plan.rate / 2:g}/s each)"
    ]
    for name, t in result.tallies.items():
        lines.append(f"  {name:14s} sent {t.sent:6d}  stored {t.stored:6d}  duplicates "
                     f"{t.duplicates:3d}  lost {t.lost:3d}  extra {t.extra:3d}")  # fmt: skip
    if result.restart_s:
        mean = sum(result.restart_s) / len(result.restart_s)
        lines.append(
            f"  hub restart to healthy: mean {mean:.1f} s, max {max(result.restart_s):.1f} s"
        )
    lines.append(f"  verdict: {'OK, nothing lost, nothing twice' if result.ok else 'FAILED'}")
    return "\n".join(lines)


def _with_own_database(plan: LoopPlan, workdir: Path) -> LoopResult:
    """The loop on a PostgreSQL server of its own, which it may stop."""
    server = EmbeddedPostgres(workdir / "pg")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        return run_loop(plan, url, workdir, server)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-broker-restart", action="store_true")
    parser.add_argument(
        "--db-outage", type=float, default=0.0,
        help="stop PostgreSQL this many seconds once (a server of the loop's own)",
    )  # fmt: skip
    parser.add_argument(
        "--clean-session", action="store_true",
        help="the hub without a persistent MQTT session: shows what it loses",
    )  # fmt: skip
    args = parser.parse_args()
    plan = LoopPlan(args.kills, args.seconds, args.rate, not args.no_broker_restart, args.seed,
                    not args.clean_session, args.db_outage)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        if plan.db_outage_s:
            result = _with_own_database(plan, Path(tmp))
        else:
            with fresh_database() as database_url:
                result = run_loop(plan, database_url, Path(tmp))
    print(report(plan, result))  # noqa: T201
    raise SystemExit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
