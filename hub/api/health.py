"""Liveness of the hub and its dependencies, and the Prometheus scrape endpoint."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Response
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field

from hub import __version__
from hub.api.contract import ERROR
from hub.api.deps import HubDep, MaybeUser, Viewer
from hub.hub import Hub
from hub.storage.db import server_info

router = APIRouter(tags=["health"])


class DependencyHealth(BaseModel):
    """One dependency's state."""

    status: str = Field(description="up or down")
    embedded: bool = Field(description="True when the hub started this server itself.")
    address: str = Field(description="Where it is (no credentials).")
    version: str | None = Field(default=None, description="Server version, when known.")
    timescaledb: str | None = Field(default=None, description="TimescaleDB version, if any.")


class Health(BaseModel):
    """The hub's health: 200 when everything is up, 503 otherwise. Without a token only
    `status`; the details (versions, addresses) need the admin, operator or integrator
    role: they tell an attacker what runs where."""

    status: str = Field(description="ok or degraded")
    version: str | None = Field(default=None, description="gridhub version (with a role)")
    database: DependencyHealth | None = Field(default=None, description="(with a role)")
    broker: DependencyHealth | None = Field(default=None, description="(with a role)")


DETAIL_ROLES = ("admin", "operator", "integrator")


@router.get(
    "/api/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={401: ERROR, 503: {"model": Health, "description": "A dependency is down"}},
)
def health(hub: HubDep, response: Response, user: MaybeUser) -> Health:
    full = _health(hub)
    response.status_code = 200 if full.status == "ok" else 503
    if user is None or user.role not in DETAIL_ROLES:
        return Health(status=full.status)
    return full


def _health(hub: Hub) -> Health:
    where = hub.endpoints.describe()
    database = DependencyHealth(
        status="down", embedded=hub.endpoints.database_embedded, address=where["database"]
    )
    try:
        with hub.pool.connection(timeout=2) as conn:
            info = server_info(conn)
        database = database.model_copy(
            update={"status": "up", "version": info.version, "timescaledb": info.timescaledb}
        )
    except (psycopg.Error, PoolTimeout):
        pass
    broker = DependencyHealth(
        status="up" if hub.mqtt.connected else "down",
        embedded=hub.endpoints.broker_embedded,
        address=where["broker"],
    )
    hub.metrics.database_up.set(database.status == "up")
    hub.metrics.broker_up.set(broker.status == "up")
    ok = database.status == "up" and broker.status == "up"
    return Health(
        status="ok" if ok else "degraded", version=__version__, database=database, broker=broker
    )


@router.get("/metrics", include_in_schema=False)
def metrics(hub: HubDep, _user: Viewer) -> Response:
    hub.metrics.broker_up.set(hub.mqtt.connected)
    return Response(hub.metrics.render(), media_type="text/plain; version=0.0.4")
