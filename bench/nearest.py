"""Nearest-available query over 10,000 patrols: p50/p99 latency, against a linear scan.

    python -m bench.nearest [--patrols 10000] [--queries 2000]

Both answer the same question (same tiers, filters and order); the run checks
that they agree on every query before it prints the figures.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from bench.common import CELL_DEG, ORIGIN, percentile, synthetic_city
from hub.clock import FakeClock
from hub.geo import GridNode, GridTopology
from hub.model import Candidate, PatrolFix, PatrolInfo
from hub.patrols.index import AvailabilityRules, PatrolIndex, haversine_m

SIDE = 20  # 20 x 20 km


def build(patrols: int, seed: int) -> tuple[PatrolIndex, GridTopology, FakeClock]:
    site = synthetic_city(SIDE, patrols, seed)
    topology = GridTopology(
        GridNode(g.id, g.level, g.parent, g.geometry.model_dump()) for g in site.grids
    )
    clock = FakeClock()
    index = PatrolIndex(topology, clock, AvailabilityRules(max_fix_age_s=120, radius_m=3000))
    index.register(
        PatrolInfo(p.id, p.name, p.grid, True, "on_duty", None, None) for p in site.patrols
    )
    rng = random.Random(seed)
    for p in site.patrols:
        i, j = int(p.grid[1:3]), int(p.grid[3:5])
        lat = ORIGIN[0] + (i + rng.random()) * CELL_DEG
        lon = ORIGIN[1] + (j + rng.random()) * CELL_DEG
        index.update_fix(
            PatrolFix(p.id, lat, lon, clock.now() - timedelta(seconds=rng.uniform(0, 200)))
        )
        if rng.random() < 0.2:
            index.set_duty(p.id, rng.choice(["busy", "off_duty"]))
    return index, topology, clock


Query = tuple[float, float, str]  # lat, lon, grid id


def linear_scan(
    index: PatrolIndex, topology: GridTopology, clock: FakeClock, query: Query, k: int
) -> list[Candidate]:
    """The baseline: look at every patrol, rank by (tier, distance)."""
    lat, lon, grid_id = query
    cell, community = topology.cell(grid_id), topology.community(grid_id)
    neighbours = topology.neighbours(cell) if cell else frozenset()
    now, rules = clock.now(), index.rules
    found = []
    for s in index.states():
        fix = s.fix
        if fix is None or not s.enabled or s.duty_status != "on_duty" or s.dispatch_id is not None:
            continue
        if (now - fix.ts).total_seconds() > rules.max_fix_age_s:
            continue
        d = haversine_m(lat, lon, fix.lat, fix.lon)
        if d > rules.radius_m:
            continue
        home = topology.cell(s.grid_id)
        tier = 0 if home == cell else 1 if home in neighbours else (
            2 if topology.community(s.grid_id) == community else 3)  # fmt: skip
        found.append(Candidate(s.patrol_id, tier, d, d))
    return sorted(found, key=lambda c: (c.tier, c.cost, c.patrol_id))[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patrols", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--k", type=int, default=1)
    args = parser.parse_args()
    index, topology, clock = build(args.patrols, seed=1)
    rng = random.Random(2)
    queries = []
    for _ in range(args.queries):
        i, j = rng.randrange(SIDE), rng.randrange(SIDE)
        lat, lon = (
            ORIGIN[0] + (i + rng.random()) * CELL_DEG,
            ORIGIN[1] + (j + rng.random()) * CELL_DEG,
        )
        queries.append((lat, lon, f"G{i:02d}{j:02d}"))
    indexed, scanned = [], []
    for lat, lon, grid in queries:
        t0 = time.perf_counter()
        a = index.nearest(lat, lon, grid, k=args.k)
        t1 = time.perf_counter()
        b = linear_scan(index, topology, clock, (lat, lon, grid), args.k)
        t2 = time.perf_counter()
        assert a == b, (lat, lon, grid, a, b)
        indexed.append((t1 - t0) * 1000)
        scanned.append((t2 - t1) * 1000)
    p50, p99 = percentile(indexed, 50), percentile(indexed, 99)
    s50, s99 = percentile(scanned, 50), percentile(scanned, 99)
    print(
        f"nearest-available over {args.patrols} patrols, k={args.k}, {args.queries} queries "
        "(answers identical to the linear scan)"
    )
    print(f"  index:       p50 {p50:.3f} ms   p99 {p99:.3f} ms")
    print(f"  linear scan: p50 {s50:.3f} ms   p99 {s99:.3f} ms")
    print(
        f"  speed-up:    p50 {s50 / p50:.0f}x   p99 {s99 / p99:.0f}x   (target: index p99 < 1 ms)"
    )


if __name__ == "__main__":
    main()
