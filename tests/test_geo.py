"""Point-in-grid lookups and GeoJSON validation (pure geometry, no services)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import load_site
from hub.geo import GridIndex, GridShape, geometry_problem
from tests.conftest import DEMO_CONFIG


@pytest.fixture(scope="module")
def demo_index() -> GridIndex:
    site = load_site(DEMO_CONFIG)
    return GridIndex(GridShape(g.id, g.level, g.geometry.model_dump()) for g in site.grids)


@pytest.mark.parametrize(
    ("lat", "lon", "grid"),
    [
        (30.2725, 120.1425, "WT-QH-01-A"),  # micro-grid beats grid, community, street
        (30.2725, 120.1475, "WT-QH-01-B"),
        (30.2775, 120.1450, "WT-QH-02"),  # a grid with no micro-grids
        (30.2830, 120.1550, "WT-LS-03"),
        (30.2700, 120.1400, "WT-QH-01-A"),  # the street's corner is on the boundary: included
        (30.2800, 120.1700, None),  # east of the street
        (0.0, 0.0, None),
    ],
)
def test_locate_finds_the_finest_grid(
    demo_index: GridIndex, lat: float, lon: float, grid: str | None
) -> None:
    assert demo_index.locate(lat, lon) == grid


def _square(x0: float, y0: float, size: float) -> dict[str, Any]:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(
    ("geojson", "problem"),
    [
        (_square(120.0, 30.0, 0.01), None),
        ({"type": "MultiPolygon", "coordinates": [_square(1, 1, 1)["coordinates"]]}, None),
        ({"type": "Polygon", "coordinates": []}, "the polygon is empty"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "not a valid GeoJSON Polygon"),
        (_square(179.5, 10, 1), "coordinates must be [longitude, latitude]"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},
            "the polygon is not valid: Self-intersection",
        ),
    ],
)
def test_geometry_problem(geojson: dict[str, Any], problem: str | None) -> None:
    found = geometry_problem(geojson)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
