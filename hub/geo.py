"""Grid geometry: validating GeoJSON boundaries and finding the grid that holds a point.

Polygons are WGS-84 GeoJSON (longitude first). Point-in-polygon is shapely's,
behind an STRtree so a lookup costs a few bounding-box tests, not a scan.
When several levels hold a point, the finest one wins (micro-grid before grid
before community before street).
"""

from __future__ import annotations

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
