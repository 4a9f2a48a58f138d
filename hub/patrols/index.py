"""The live patrol index: the latest fix of every patrol, and nearest-available queries.

Available means enabled, on duty, not working on a dispatch, with a fix younger
than `max_fix_age_s`, within `radius_m`. Candidates are ranked by tier first —
own grid (小事不出格), then neighbouring grids, then the same community, then
anyone in range — and by cost within a tier. Cost is straight-line metres by
default; a routing engine's travel time can be plugged in as `cost`.

Tiers 0–2 look only at the (small) rosters of the relevant grids; tier 3 uses a
spatial hash of ~1 km cells, so a query touches a few dozen patrols, not all.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from hub.clock import Clock
from hub.geo import GridTopology
from hub.model import Candidate, PatrolFix, PatrolInfo, PatrolState

EARTH_RADIUS_M = 6_371_008.8
CELL_DEG = 0.01
Cost = Callable[[float, float, float, float], float]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class AvailabilityRules:
    """Who counts as available for a dispatch."""

    max_fix_age_s: float = 120.0
    radius_m: float = 3000.0


@dataclass(slots=True)
class _Entry:
    grid_id: str
    cell: str | None
    community: str | None
    enabled: bool
    duty_status: str = "off_duty"
    fix: PatrolFix | None = None
    bucket: tuple[int, int] | None = None
    dispatch_id: int | None = None


def _bucket(lat: float, lon: float) -> tuple[int, int]:
    return int(math.floor(lat / CELL_DEG)), int(math.floor(lon / CELL_DEG))


class PatrolIndex:
    """Latest state of every registered patrol; safe to use from several threads."""

    def __init__(
        self,
        topology: GridTopology,
        clock: Clock,
        rules: AvailabilityRules | None = None,
        cost: Cost = haversine_m,
    ) -> None:
        self._topology = topology
        self._clock = clock
        self.rules = rules or AvailabilityRules()
        self._cost = cost
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._by_cell: defaultdict[str | None, set[str]] = defaultdict(set)
        self._by_community: defaultdict[str | None, set[str]] = defaultdict(set)
        self._buckets: defaultdict[tuple[int, int], set[str]] = defaultdict(set)

    def register(self, patrols: Iterable[PatrolInfo]) -> None:
        """Add or update the roster (grid, enabled, duty); positions are kept."""
        with self._lock:
            for p in patrols:
                entry = self._entries.get(p.id)
                if entry is not None:
                    self._by_cell[entry.cell].discard(p.id)
                    self._by_community[entry.community].discard(p.id)
                cell, community = (
                    self._topology.cell(p.grid_id),
                    self._topology.community(p.grid_id),
                )
                if entry is None:
                    entry = self._entries[p.id] = _Entry(p.grid_id, cell, community, p.enabled)
                entry.grid_id, entry.cell, entry.community = p.grid_id, cell, community
                entry.enabled, entry.duty_status = p.enabled, p.duty_status
                self._by_cell[cell].add(p.id)
                self._by_community[community].add(p.id)

    def __contains__(self, patrol_id: object) -> bool:
        return patrol_id in self._entries

    def update_fix(self, fix: PatrolFix) -> bool:
        """Record a fix; False (and no change) if it is older than the one held."""
        with self._lock:
            entry = self._entries.get(fix.patrol_id)
            if entry is None or (entry.fix is not None and fix.ts <= entry.fix.ts):
                return False
            bucket = _bucket(fix.lat, fix.lon)
            if entry.bucket != bucket:
                if entry.bucket is not None:
                    self._buckets[entry.bucket].discard(fix.patrol_id)
                self._buckets[bucket].add(fix.patrol_id)
                entry.bucket = bucket
            entry.fix = fix
            return True

    def set_duty(self, patrol_id: str, duty_status: str) -> None:
        with self._lock:
            if patrol_id in self._entries:
                self._entries[patrol_id].duty_status = duty_status

    def set_dispatch(self, patrol_id: str, dispatch_id: int | None) -> None:
        """Mark a patrol as working on a dispatch (None: free again)."""
        with self._lock:
            if patrol_id in self._entries:
                self._entries[patrol_id].dispatch_id = dispatch_id

    def get(self, patrol_id: str) -> PatrolState | None:
        with self._lock:
            entry = self._entries.get(patrol_id)
            return None if entry is None else self._state(patrol_id, entry)

    def states(self) -> list[PatrolState]:
        with self._lock:
            return [self._state(pid, e) for pid, e in sorted(self._entries.items())]

    def available(self, patrol_id: str) -> bool:
        """Whether the patrol would be considered for a dispatch now (radius aside)."""
        with self._lock:
            entry = self._entries.get(patrol_id)
            return entry is not None and self._available(entry, self._clock.now())

    def _available(self, entry: _Entry, now: datetime) -> bool:
        fix = entry.fix
        return (
            fix is not None
            and entry.enabled
            and entry.duty_status == "on_duty"
            and entry.dispatch_id is None
            and (now - fix.ts).total_seconds() <= self.rules.max_fix_age_s
        )

    @staticmethod
    def _state(patrol_id: str, e: _Entry) -> PatrolState:
        return PatrolState(patrol_id, e.grid_id, e.enabled, e.duty_status, e.fix, e.dispatch_id)

    def nearest(
        self, lat: float, lon: float, grid_id: str | None, k: int = 1,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Candidate]:  # fmt: skip
        """Up to `k` available patrols for a case at (lat, lon) in `grid_id`, best first."""
        found: dict[str, Candidate] = {}
        with self._lock:
            for tier, ids in self._tiers(grid_id):
                self._collect(found, ids, tier, lat, lon, exclude)
                if len(found) >= k:
                    break
            else:
                self._collect(found, self._within_radius(lat, lon), 3, lat, lon, exclude)
        return sorted(found.values(), key=lambda c: (c.tier, c.cost, c.patrol_id))[:k]

    def _tiers(self, grid_id: str | None) -> Iterator[tuple[int, Iterable[str]]]:
        cell = self._topology.cell(grid_id)
        if cell is not None:
            yield 0, self._by_cell.get(cell, ())
            for neighbour in self._topology.neighbours(cell):
                yield 1, self._by_cell.get(neighbour, ())
        community = self._topology.community(grid_id)
        if community is not None:
            yield 2, self._by_community.get(community, ())

    def _collect(
        self, found: dict[str, Candidate], ids: Iterable[str], tier: int,
        lat: float, lon: float, exclude: frozenset[str],
    ) -> None:  # fmt: skip
        now = self._clock.now()
        for pid in ids:
            if pid in found or pid in exclude:
                continue
            entry = self._entries[pid]
            fix = entry.fix
            if fix is None or not self._available(entry, now):
                continue
            distance = haversine_m(lat, lon, fix.lat, fix.lon)
            if distance > self.rules.radius_m:
                continue
            cost = distance if self._cost is haversine_m else self._cost(lat, lon, fix.lat, fix.lon)
            found[pid] = Candidate(pid, tier, cost, distance)

    def _within_radius(self, lat: float, lon: float) -> Iterator[str]:
        """Patrols in the hash cells that cover the radius around (lat, lon)."""
        dlat = self.rules.radius_m / 111_000
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        lat0, lon0 = _bucket(lat - dlat, lon - dlon)
        lat1, lon1 = _bucket(lat + dlat, lon + dlon)
        for i in range(lat0, lat1 + 1):
            for j in range(lon0, lon1 + 1):
                yield from self._buckets.get((i, j), ())
