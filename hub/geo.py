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
