"""Shared set-up for benchmarks: a fresh database and a synthetic city of grids and patrols."""

from __future__ import annotations

import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from hub.config import SiteConfig
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy

DATABASE_URL = os.environ.get(
    "GRIDHUB_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent
ORIGIN = (30.20, 120.10)  # south-west corner of the synthetic city
CELL_DEG = 0.01  # ~1 km grids


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new migrated database, dropped afterwards."""
    name = f"gridhub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(DATABASE_URL, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        yield url
    finally:
        with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _square(lat: float, lon: float, size: float) -> dict[str, object]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def synthetic_city(side: int, patrols: int, seed: int = 0) -> SiteConfig:
    """A street of side×side ~1 km grids in four communities, with `patrols` patrols."""
    rng = random.Random(seed)
    lat0, lon0 = ORIGIN
    half = side // 2
    grids: list[dict[str, object]] = [
        {
            "id": "S",
            "name": "street",
            "level": "street",
            "geometry": _square(lat0, lon0, side * CELL_DEG),
        }
    ]
    for ci in range(2):
        for cj in range(2):
            grids.append(
                {
                    "id": f"C{ci}{cj}",
                    "name": f"community {ci}{cj}",
                    "level": "community",
                    "parent": "S",
                    "geometry": _square(
                        lat0 + ci * half * CELL_DEG, lon0 + cj * half * CELL_DEG, half * CELL_DEG
                    ),
                }
            )
    for i in range(side):
        for j in range(side):
            grids.append(
                {
                    "id": f"G{i:02d}{j:02d}",
                    "name": f"grid {i},{j}",
                    "level": "grid",
                    "parent": f"C{i // half}{j // half}",
                    "geometry": _square(lat0 + i * CELL_DEG, lon0 + j * CELL_DEG, CELL_DEG),
                }
            )
    roster = [
        {
            "id": f"P{n:05d}",
            "name": f"patrol {n}",
            "grid": f"G{rng.randrange(side):02d}{rng.randrange(side):02d}",
        }
        for n in range(patrols)
    ]
    return SiteConfig.model_validate(
        {"site": {"name": "bench city"}, "grids": grids, "patrols": roster}
    )


def random_point(rng: random.Random, side: int) -> tuple[float, float]:
    lat0, lon0 = ORIGIN
    return lat0 + rng.random() * side * CELL_DEG, lon0 + rng.random() * side * CELL_DEG


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


@contextmanager
def private_broker() -> Iterator[str]:
    """A Mosquitto of our own with the production queue limits (deploy/mosquitto), no auth.

    The machine's default Mosquitto drops a subscriber's messages past 1,000 queued
    (max_queued_messages), which a burst benchmark would measure instead of the hub.
    """
    if shutil.which("mosquitto") is None:
        raise SystemExit("mosquitto is not installed (apt-get install mosquitto)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deployed = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    keep = [line for line in deployed if line.startswith(("max_queued", "max_inflight"))]
    config = [f"listener {port} 127.0.0.1", "allow_anonymous true", *keep]
    if os.geteuid() == 0:
        config.append("user root")
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("\n".join(config) + "\n")
    broker = subprocess.Popen(["mosquitto", "-c", f.name], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        os.unlink(f.name)
