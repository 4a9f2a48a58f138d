"""The site as the dashboard sees it: name and time zone, grids (GeoJSON), sensors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import AnyUser, HubDep, Viewer
from hub.model import SensorInfo
from hub.storage.site_repo import list_grids, list_sensors

router = APIRouter(tags=["site"])


@router.get("/api/site", summary="The site's name and display time zone (no login needed)")
def site(hub: HubDep) -> dict[str, str]:
    return {"name": hub.site.site.name, "timezone": hub.site.site.timezone}


@router.get("/api/grids", summary="The grid hierarchy as a GeoJSON FeatureCollection")
def grids(hub: HubDep, _user: AnyUser) -> dict[str, Any]:
    with hub.pool.connection() as conn:
        rows = list_grids(conn)
    features = [
        {
            "type": "Feature",
            "id": g.id,
            "geometry": g.geometry,
            "properties": {
                "id": g.id,
                "name": g.name,
                "level": g.level,
                "parent_id": g.parent_id,
                "leader": g.leader,
            },
        }
        for g in rows
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/api/sensors", summary="Registered sensors")
def sensors(hub: HubDep, _user: Viewer) -> list[SensorInfo]:
    with hub.pool.connection() as conn:
        return list_sensors(conn)
