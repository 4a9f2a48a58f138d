"""Grid geometry (GeoJSON boundaries, the grid holding a point) and Chinese map datums.

Polygons are WGS-84 GeoJSON (longitude first). Point-in-polygon is shapely's,
behind an STRtree so a lookup costs a few bounding-box tests, not a scan.
When several levels hold a point, the finest one wins (micro-grid before grid
before community before street). `wgs84_to_gcj02` and `wgs84_to_bd09` give the
coordinates Chinese map apps expect (the hub stores WGS-84).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

LEVEL_DEPTH = {"street": 0, "community": 1, "grid": 2, "micro_grid": 3}


def geometry_problem(geojson: Mapping[str, Any]) -> str | None:
    """Say what is wrong with a GeoJSON polygon, or None if it is usable."""
    try:
        geom = shape(geojson)
    except (GEOSException, ValueError, TypeError, IndexError, AttributeError) as exc:
        return f"not a valid GeoJSON {geojson.get('type', 'geometry')}: {exc}"
    if geom.is_empty:
        return "the polygon is empty"
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return "coordinates must be [longitude, latitude] in WGS-84 degrees"
    if not geom.is_valid:
        return f"the polygon is not valid: {shapely.is_valid_reason(geom)}"
    return None


@dataclass(frozen=True, slots=True)
class GridShape:
    """A grid's id, level and boundary, as the index needs them."""

    grid_id: str
    level: str
    geojson: Mapping[str, Any]


class GridIndex:
    """Answers "which grid holds this lat/lon?" for a set of grid boundaries."""

    def __init__(self, grids: Iterable[GridShape]) -> None:
        self._grids = list(grids)
        self._tree = STRtree([shape(g.geojson) for g in self._grids])

    def locate(self, lat: float, lon: float) -> str | None:
        """Id of the finest grid containing the point (boundary included), or None."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        best = max(hits, key=lambda i: (LEVEL_DEPTH[self._grids[i].level], -i))
        return self._grids[int(best)].grid_id

    def __len__(self) -> int:
        return len(self._grids)


@dataclass(frozen=True, slots=True)
class GridNode:
    """A grid's place in the hierarchy, as the topology needs it."""

    grid_id: str
    level: str
    parent_id: str | None
    geojson: Mapping[str, Any]


class GridTopology:
    """How grids relate: which grid-level cell and community a grid belongs to,
    and which grid-level cells border each other (小事不出格, then neighbours)."""

    def __init__(self, nodes: Iterable[GridNode]) -> None:
        self._nodes = {n.grid_id: n for n in nodes}
        self._cell = {gid: self._ancestor_at(gid, "grid") for gid in self._nodes}
        self._community = {gid: self._ancestor_at(gid, "community") for gid in self._nodes}
        self._neighbours = self._find_neighbours()

    def cell(self, grid_id: str | None) -> str | None:
        """The grid-level cell holding `grid_id` (itself for a grid, its parent for a
        micro-grid); None for streets, communities and unknown ids."""
        return self._cell.get(grid_id) if grid_id else None

    def community(self, grid_id: str | None) -> str | None:
        """The community holding `grid_id`, or None."""
        return self._community.get(grid_id) if grid_id else None

    def neighbours(self, cell_id: str) -> frozenset[str]:
        """Grid-level cells whose boundaries touch `cell_id`'s."""
        return self._neighbours.get(cell_id, frozenset())

    def _ancestor_at(self, grid_id: str, level: str) -> str | None:
        node: GridNode | None = self._nodes.get(grid_id)
        while node is not None:
            if node.level == level:
                return node.grid_id
            if LEVEL_DEPTH[node.level] < LEVEL_DEPTH[level]:
                return None
            node = self._nodes.get(node.parent_id) if node.parent_id else None
        return None

    def _find_neighbours(self) -> dict[str, frozenset[str]]:
        cells = [n for n in self._nodes.values() if n.level == "grid"]
        shapes = [shape(n.geojson) for n in cells]
        tree = STRtree(shapes)
        found: dict[str, frozenset[str]] = {}
        for i, node in enumerate(cells):
            hits = tree.query(shapes[i], predicate="intersects")
            found[node.grid_id] = frozenset(cells[int(j)].grid_id for j in hits if int(j) != i)
        return found


# Chinese map datums. Coordinates are stored WGS-84; Chinese map apps and tiles want GCJ-02
# (国测局, Amap/Tencent) or BD-09 (Baidu, GCJ-02 shifted once more). The formulas are the
# published approximation every Chinese map SDK uses; outside mainland China they are identity.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0


@dataclass(frozen=True, slots=True)
class LatLon:
    """A point in degrees (latitude, longitude) in one datum."""

    lat: float
    lon: float


def out_of_china(p: LatLon) -> bool:
    """Outside the rectangle where GCJ-02 applies (the shift is then not made)."""
    return not (72.004 <= p.lon <= 137.8347 and 0.8293 <= p.lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(p: LatLon) -> LatLon:
    """WGS-84 (GPS) to GCJ-02 (Amap, Tencent, Chinese tiles)."""
    if out_of_china(p):
        return p
    dlat = _shift_lat(p.lon - 105.0, p.lat - 35.0)
    dlon = _shift_lon(p.lon - 105.0, p.lat - 35.0)
    radlat = p.lat / 180.0 * math.pi
    magic = 1 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * math.cos(radlat) * math.pi)
    return LatLon(p.lat + dlat, p.lon + dlon)


def gcj02_to_bd09(p: LatLon) -> LatLon:
    """GCJ-02 to BD-09 (Baidu)."""
    z = math.sqrt(p.lon * p.lon + p.lat * p.lat) + 0.00002 * math.sin(p.lat * _BD_X_PI)
    theta = math.atan2(p.lat, p.lon) + 0.000003 * math.cos(p.lon * _BD_X_PI)
    return LatLon(z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065)


def wgs84_to_bd09(p: LatLon) -> LatLon:
    """WGS-84 to BD-09 (through GCJ-02; outside China it stays WGS-84, as Baidu's own SDK)."""
    return p if out_of_china(p) else gcj02_to_bd09(wgs84_to_gcj02(p))
