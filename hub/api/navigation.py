"""Where a case is, for the patrol on its way: the place in each map datum, app links, distance.

`GET /api/cases/{id}/navigation` gives the case's position in WGS-84 (stored), GCJ-02
(Amap, Tencent) and BD-09 (Baidu), the "导航" links for the phone's map apps (an Amap
marker URI, a Baidu marker URI, and the plain `geo:` URI), the distance from the
calling patrol's last fix, and the case's first snapshot. Chinese phones' browsers
often ignore `geo:`; the Amap and Baidu web URIs open the app when it is installed
and a web map when it is not.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from hub.api.cases import visible_case
from hub.api.deps import HubDep, Reporter
from hub.auth import Principal
from hub.cases.review import first_snapshots
from hub.geo import LatLon, wgs84_to_bd09, wgs84_to_gcj02
from hub.hub import Hub
from hub.patrols.index import haversine_m

router = APIRouter(tags=["cases"])


class Point(BaseModel):
    lat: float
    lon: float


class Navigation(BaseModel):
    """The place of a case for a patrol's phone."""

    wgs84: Point
    gcj02: Point = Field(description="For Amap / Tencent maps and Chinese tiles.")
    bd09: Point = Field(description="For Baidu maps.")
    amap_url: str
    baidu_url: str
    geo_uri: str
    distance_m: float | None = Field(description="From the caller's last fix (patrols only).")
    snapshot_url: str | None


def map_links(place: LatLon, name: str) -> tuple[str, str, str]:
    """The Amap, Baidu and geo: links to `place` (WGS-84), each in the datum it expects."""
    gcj = wgs84_to_gcj02(place)
    bd = wgs84_to_bd09(place)
    amap = "https://uri.amap.com/marker?" + urlencode({
        "position": f"{gcj.lon:.6f},{gcj.lat:.6f}", "name": name, "coordinate": "gaode",
        "callnative": "1", "src": "gridhub"})  # fmt: skip
    baidu = "https://api.map.baidu.com/marker?" + urlencode({
        "location": f"{bd.lat:.6f},{bd.lon:.6f}", "title": name, "content": name,
        "coord_type": "bd09ll", "output": "html", "src": "gridhub"})  # fmt: skip
    geo = f"geo:{place.lat:.6f},{place.lon:.6f}?q={place.lat:.6f},{place.lon:.6f}"
    return amap, baidu, geo


def _distance(hub: Hub, user: Principal, place: LatLon) -> float | None:
    state = hub.patrols.get(user.patrol_id) if user.patrol_id else None
    if state is None or state.fix is None:
        return None
    return round(haversine_m(place.lat, place.lon, state.fix.lat, state.fix.lon))


@router.get("/api/cases/{case_id}/navigation", summary="The case's place for a map app")
def navigation(hub: HubDep, user: Reporter, case_id: int) -> Navigation:
    with hub.pool.connection() as conn:
        case = visible_case(conn, user, case_id)
        snaps = first_snapshots(conn, [case_id])
    if case.lat is None or case.lon is None:
        raise HTTPException(404, f"case {case_id} has no position")
    place = LatLon(case.lat, case.lon)
    amap, baidu, geo = map_links(place, f"#{case_id} {case.title}")
    gcj, bd = wgs84_to_gcj02(place), wgs84_to_bd09(place)
    return Navigation(
        wgs84=Point(lat=place.lat, lon=place.lon), gcj02=Point(lat=gcj.lat, lon=gcj.lon),
        bd09=Point(lat=bd.lat, lon=bd.lon), amap_url=amap, baidu_url=baidu, geo_uri=geo,
        distance_m=_distance(hub, user, place),
        snapshot_url=f"/api/cases/{case_id}/evidence/{snaps[case_id]}" if snaps else None,
    )  # fmt: skip
