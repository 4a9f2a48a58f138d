"""Point-in-grid lookups and GeoJSON validation (pure geometry, no services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.config import load_site
from hub.geo import (
    GridIndex,
    GridShape,
    LatLon,
    gcj02_to_bd09,
    geometry_problem,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
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


# Reference values: the published outputs of wandergis/coordtransform (the algorithm's
# widely used implementation) for Tiananmen, 116.404 E 39.915 N.
@pytest.mark.parametrize("convert, expected", [
    (wgs84_to_gcj02, LatLon(39.91640428150164, 116.41024449916938)),
    (gcj02_to_bd09, LatLon(39.92133699351021, 116.41036949371029)),
    (wgs84_to_bd09, LatLon(39.922699552216216, 116.41662724378733)),
])  # fmt: skip
def test_chinese_datums_match_the_reference(
    convert: Callable[[LatLon], LatLon], expected: LatLon
) -> None:
    got = convert(LatLon(39.915, 116.404))
    assert got.lat == pytest.approx(expected.lat, abs=1e-9)
    assert got.lon == pytest.approx(expected.lon, abs=1e-9)


@pytest.mark.parametrize("place", [LatLon(51.5007, -0.1246), LatLon(35.6586, 139.7454)])
def test_outside_china_no_shift(place: LatLon) -> None:
    assert out_of_china(place)
    assert wgs84_to_gcj02(place) == place == wgs84_to_bd09(place)


def test_the_shift_in_china_is_a_few_hundred_metres() -> None:
    from hub.patrols.index import haversine_m

    p = LatLon(40.05, 116.33)  # the demo site
    gcj = wgs84_to_gcj02(p)
    assert 100 < haversine_m(p.lat, p.lon, gcj.lat, gcj.lon) < 1000
