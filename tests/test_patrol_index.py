"""Nearest-available selection on the demo site's grids, with a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.clock import FakeClock
from hub.config import load_site
from hub.geo import GridNode, GridTopology
from hub.model import PatrolFix, PatrolInfo
from hub.patrols.index import AvailabilityRules, PatrolIndex, haversine_m
from tests.conftest import DEMO_CONFIG

# Patrol homes: two in WT-QH-01 (one via a micro-grid), one each in its neighbour
# WT-QH-02, in the same community's WT-QH-03, and in the other community's WT-LS-01.
HOMES = {"A": "WT-QH-01", "B": "WT-QH-01-B", "N": "WT-QH-02", "C": "WT-QH-03", "X": "WT-LS-01"}
CASE = (30.2725, 120.1425, "WT-QH-01-A")  # lat, lon, grid of a case in 清河一网格


@pytest.fixture(scope="module")
def topology() -> GridTopology:
    site = load_site(DEMO_CONFIG)
    return GridTopology(
        GridNode(g.id, g.level, g.parent, g.geometry.model_dump()) for g in site.grids
    )


def _index(topology: GridTopology, clock: FakeClock, radius_m: float = 3000) -> PatrolIndex:
    index = PatrolIndex(topology, clock, AvailabilityRules(max_fix_age_s=120, radius_m=radius_m))
    index.register(
        PatrolInfo(pid, pid, grid, True, "on_duty", None, None) for pid, grid in HOMES.items()
    )
    return index


def _fix(clock: FakeClock, pid: str, lat: float, lon: float, age_s: float = 5) -> PatrolFix:
    return PatrolFix(pid, lat, lon, clock.now() - timedelta(seconds=age_s))


def test_topology(topology: GridTopology) -> None:
    assert topology.cell("WT-QH-01-A") == "WT-QH-01"
    assert topology.community("WT-QH-01-A") == "WT-QH"
    assert topology.neighbours("WT-QH-01") == {"WT-QH-02", "WT-LS-01", "WT-LS-02"}
    assert topology.cell("WT") is None


NEAR = (30.2726, 120.1426)  # ~15 m from the case
MID = (30.2745, 120.1445)  # ~280 m
FAR = (30.2790, 120.1490)  # ~930 m
AWAY = (30.3100, 120.1425)  # ~4.2 km north: outside the 3 km radius

# (patrol, position, fix age s, duty status, working on a dispatch)
Setup = tuple[str, tuple[float, float], float, str, bool]
SCENARIOS: list[tuple[str, list[Setup], int, list[tuple[str, int]]]] = [
    ("own grid beats a closer patrol of another community",
     [("A", FAR, 5, "on_duty", False), ("X", NEAR, 5, "on_duty", False)], 1, [("A", 0)]),
    ("micro-grid patrols count as own grid; nearest first",
     [("A", FAR, 5, "on_duty", False), ("B", MID, 5, "on_duty", False)], 2,
     [("B", 0), ("A", 0)]),
    ("neighbours after own grid, then community, when k asks for more",
     [("A", FAR, 5, "on_duty", False), ("N", MID, 5, "on_duty", False),
      ("C", NEAR, 5, "on_duty", False)], 3, [("A", 0), ("N", 1), ("C", 2)]),
    ("a stale fix is ignored",
     [("A", NEAR, 121, "on_duty", False), ("N", FAR, 119, "on_duty", False)], 1, [("N", 1)]),
    ("busy and off-duty patrols are ignored",
     [("A", NEAR, 5, "busy", False), ("B", NEAR, 5, "off_duty", False),
      ("N", FAR, 5, "on_duty", False)], 1, [("N", 1)]),
    ("a patrol working on a dispatch is ignored",
     [("A", NEAR, 5, "on_duty", True), ("C", FAR, 5, "on_duty", False)], 1, [("C", 2)]),
    ("the radius holds even in the own grid",
     [("A", AWAY, 5, "on_duty", False)], 1, []),
    ("an off-duty patrol of another community in range is not used",
     [("A", AWAY, 5, "on_duty", False), ("X", FAR, 5, "off_duty", False)], 1, []),
    ("nobody at all", [], 1, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "setups", "k", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_nearest_available(
    topology: GridTopology, name: str, setups: list[Setup], k: int,
    expected: list[tuple[str, int]],
) -> None:  # fmt: skip
    clock = FakeClock()
    index = _index(topology, clock)
    for pid, (lat, lon), age, duty, busy in setups:
        assert index.update_fix(_fix(clock, pid, lat, lon, age))
        index.set_duty(pid, duty)
        if busy:
            index.set_dispatch(pid, 99)
    found = index.nearest(*CASE, k=k)
    assert [(c.patrol_id, c.tier) for c in found] == expected


def test_tier_three_finds_patrols_of_other_grids_in_range(topology: GridTopology) -> None:
    clock = FakeClock()
    index = _index(topology, clock)
    # A case in the street but in no grid-level cell: only the spatial search applies.
    index.update_fix(_fix(clock, "X", *NEAR))
    found = index.nearest(30.2724, 120.1424, None, k=1)
    assert [(c.patrol_id, c.tier) for c in found] == [("X", 3)]
    assert found[0].distance_m == pytest.approx(haversine_m(30.2724, 120.1424, *NEAR))


def test_exclude_skips_patrols_already_asked(topology: GridTopology) -> None:
    clock = FakeClock()
    index = _index(topology, clock)
    index.update_fix(_fix(clock, "A", *NEAR))
    index.update_fix(_fix(clock, "B", *FAR))
    assert [c.patrol_id for c in index.nearest(*CASE, exclude=frozenset({"A"}))] == ["B"]


def test_an_older_fix_does_not_move_the_patrol_back(topology: GridTopology) -> None:
    clock = FakeClock()
    index = _index(topology, clock)
    assert index.update_fix(_fix(clock, "A", *NEAR, age_s=5))
    assert not index.update_fix(_fix(clock, "A", *FAR, age_s=30))
    state = index.get("A")
    assert state is not None and state.fix is not None
    assert (state.fix.lat, state.fix.lon) == NEAR


def test_unknown_patrol_fix_is_not_indexed(topology: GridTopology) -> None:
    clock = FakeClock()
    index = _index(topology, clock)
    assert not index.update_fix(_fix(clock, "ZZ", *NEAR))
    assert index.get("ZZ") is None


def test_moving_across_hash_cells(topology: GridTopology) -> None:
    clock = FakeClock()
    index = _index(topology, clock, radius_m=500)
    index.update_fix(_fix(clock, "X", *AWAY, age_s=10))
    assert index.nearest(30.2724, 120.1424, None) == []
    index.update_fix(_fix(clock, "X", *NEAR, age_s=1))
    assert [c.patrol_id for c in index.nearest(30.2724, 120.1424, None)] == ["X"]
