"""Cameras: list, add, edit and remove them while the hub runs; health and live pictures.

Writes go to the `cameras` table and the camera manager reconciles at once, so
a camera added here is being read before the response returns. Source URLs are
write-only: no response, log line or error message repeats them (only a
redacted form, in health). Reading needs the admin, operator or integrator role;
changing cameras (and their zones) the admin or integrator role.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from hub.api.contract import ERROR
from hub.api.deps import HubDep, Integrator, Viewer
from hub.cameras.health import CameraHealth
from hub.cameras.worker import CameraWorker
from hub.config import Camera, DetectorSpec, Location, Zone, field_path
from hub.hub import Hub
from hub.model import CameraInfo
from hub.seams import Capture
from hub.storage import camera_repo
from hub.storage.site_repo import grid_exists, list_cameras

router = APIRouter(tags=["cameras"])
BOUNDARY = "gridhub-frame"
RECENT_ALERT_S = 10.0  # alerts younger than this are drawn on previews
PREVIEW_STALL_S = 10.0  # a preview stream with no new picture for this long ends
NO_PICTURE = {**ERROR, "description": "The camera is disabled, stopped, failing, elsewhere, "
              "or has no picture yet; the reason is given"}  # fmt: skip


class CameraPatch(BaseModel):
    """Fields to change on a camera; absent fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, description="Display name.")
    url: SecretStr | None = Field(
        default=None,
        description="New stream URL (write-only).",
        json_schema_extra={"pattern": "://"},
    )
    source: str | None = Field(default=None, description="Frame-source plugin.")
    location: Location | None = Field(default=None, description="Where the camera stands.")
    grid: str | None = Field(default=None, description="Grid id.")
    enabled: bool | None = Field(default=None, description="Read the camera or not.")
    analysis_fps: float | None = Field(default=None, description="Frames per second analysed.")
    zones: list[Zone] | None = Field(default=None, description="Regions drawn on the image.")
    detectors: list[DetectorSpec] | None = Field(default=None, description="Detectors.")


@router.get("/api/cameras", summary="Cameras (source URLs are never returned)")
def cameras(hub: HubDep, _user: Viewer) -> list[CameraInfo]:
    with hub.pool.connection() as conn:
        return list_cameras(conn)


@router.get("/api/cameras/{camera_id}", summary="One camera (without its source URL)")
def camera(camera_id: str, hub: HubDep, _user: Viewer) -> CameraInfo:
    return _info(hub, camera_id)


@router.post(
    "/api/cameras",
    status_code=status.HTTP_201_CREATED,
    summary="Add a camera",
    responses={409: {**ERROR, "description": "A camera with this id exists"}},
)
def add_camera(body: Camera, hub: HubDep, _user: Integrator) -> CameraInfo:
    grid_id = _check(hub, body)
    with hub.pool.connection() as conn:
        if not camera_repo.insert_camera(conn, body, grid_id):
            raise HTTPException(status.HTTP_409_CONFLICT, f"camera '{body.id}' already exists")
    hub.cameras.reconcile()
    return _info(hub, body.id)


@router.patch("/api/cameras/{camera_id}", summary="Change a camera; its worker restarts")
def edit_camera(camera_id: str, body: CameraPatch, hub: HubDep, _user: Integrator) -> CameraInfo:
    with hub.pool.connection() as conn:
        current = camera_repo.get_camera(conn, camera_id)
    if current is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera '{camera_id}'")
    changes = body.model_dump(exclude_unset=True)
    # null keeps a value, except where null means something (no grid: locate; no source: scheme)
    changes = {k: v for k, v in changes.items() if v is not None or k in ("grid", "source")}
    merged: dict[str, Any] = {**dict(current), **changes}
    if body.url is not None and body.source is None:
        merged["source"] = None  # a new URL brings its own scheme
    try:
        camera = Camera.model_validate(merged)
    except ValidationError as exc:
        raise HTTPException(422, _problems(exc)) from None
    grid_id = _check(hub, camera)
    with hub.pool.connection() as conn:
        camera_repo.update_camera(conn, camera, grid_id)
    hub.cameras.reconcile()
    return _info(hub, camera_id)


@router.delete(
    "/api/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a camera"
)
def remove_camera(camera_id: str, hub: HubDep, _user: Integrator) -> Response:
    with hub.pool.connection() as conn:
        if not camera_repo.delete_camera(conn, camera_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera '{camera_id}'")
    hub.cameras.reconcile()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/api/cameras/{camera_id}/health",
    summary="Online state, rates, drops, outages",
    responses={409: NO_PICTURE},
)
def camera_health(camera_id: str, hub: HubDep, _user: Viewer) -> CameraHealth:
    health = hub.cameras.health(camera_id)
    if health is None:
        _info(hub, camera_id)  # 404 when there is no such camera at all
        raise HTTPException(status.HTTP_409_CONFLICT, "camera not started yet")
    return health


@router.get(
    "/api/cameras/{camera_id}/snapshot.jpg",
    summary="The latest picture, with recent detections drawn",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 409: NO_PICTURE},
)
def snapshot(
    camera_id: str,
    hub: HubDep,
    _user: Viewer,
    width: Annotated[int | None, Query(ge=64, le=3840)] = None,
) -> Response:
    jpeg = _preview(hub, camera_id, width)
    if jpeg is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no picture from this camera yet")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/api/cameras/{camera_id}/stream.mjpg",
    summary="Live MJPEG preview with detections drawn",
    response_class=StreamingResponse,
    responses={
        200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}},
        409: NO_PICTURE,
    },
)
def stream(
    camera_id: str,
    hub: HubDep,
    _user: Viewer,
    fps: Annotated[float, Query(ge=0.2, le=25)] = 5.0,
    width: Annotated[int | None, Query(ge=64, le=3840)] = 640,
    frames: Annotated[int, Query(ge=0, description="Stop after this many; 0 = endless")] = 0,
) -> StreamingResponse:
    if hub.cameras.worker(camera_id) is None:
        _not_here(hub, camera_id)
    return StreamingResponse(
        _mjpeg(hub, camera_id, fps, width, frames),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store"},
    )


def _mjpeg(hub: Hub, camera_id: str, fps: float, width: int | None, frames: int) -> Iterator[bytes]:
    """Parts of the MJPEG stream, one per new picture; it ends after `frames`, when the
    camera is removed, or when no new picture came for `PREVIEW_STALL_S` — a camera gone
    dark would otherwise hold the thread forever, sending nothing or its last picture
    again and again (a client that left is noticed only on a send)."""
    sent, shown = 0, None
    last_new = time.monotonic()
    while frames == 0 or sent < frames:
        worker = hub.cameras.worker(camera_id)
        if worker is None:
            return
        capture = worker.latest()
        if capture is not None and capture.mono != shown:
            jpeg = _render(worker, capture, width)
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            )
            yield head.encode() + jpeg + b"\r\n"
            sent, shown, last_new = sent + 1, capture.mono, time.monotonic()
        elif time.monotonic() - last_new > PREVIEW_STALL_S:
            return
        time.sleep(1.0 / fps)


def _preview(hub: Hub, camera_id: str, width: int | None) -> bytes | None:
    worker = hub.cameras.worker(camera_id)
    if worker is None:
        _not_here(hub, camera_id)
    capture = worker.latest()
    return None if capture is None else _render(worker, capture, width)


def _render(worker: CameraWorker, capture: Capture, width: int | None) -> bytes:
    """The picture as JPEG, with the detections of recent alerts drawn on it."""
    from hub.cameras import media

    image = capture.to_bgr(width)
    for alert in worker.recent_alerts():
        if (capture.wall - alert.confirmed_at).total_seconds() <= RECENT_ALERT_S:
            image = media.draw_overlay(image, alert.overlay, alert.label)
    return media.encode_jpeg(image, 80)


def _not_here(hub: Hub, camera_id: str) -> NoReturn:
    """404 for no such camera; 409 saying why this hub has no picture of it (disabled,
    stopped, failing, or run by another hub instance): the camera's state, not a fault."""
    _info(hub, camera_id)
    health = hub.cameras.health(camera_id)
    why = "camera not running"
    if health is not None and health.state == "remote":
        why = f"camera runs on hub instance {health.instance}: its pictures are served there"
    elif health is not None and health.last_error:
        why = f"camera not running: {health.last_error}"
    raise HTTPException(status.HTTP_409_CONFLICT, why)


def _info(hub: Hub, camera_id: str) -> CameraInfo:
    with hub.pool.connection() as conn:
        found = [c for c in list_cameras(conn) if c.id == camera_id]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera '{camera_id}'")
    return found[0]


def _check(hub: Hub, camera: Camera) -> str | None:
    """The camera's grid; 422 for an unknown grid, source kind or detector kind."""
    registry = hub.cameras.parts.registry
    problems = []
    if camera.source_kind not in registry.names("gridhub.sources"):
        known = ", ".join(registry.names("gridhub.sources"))
        problems.append(f"source: no frame source '{camera.source_kind}' (installed: {known})")
    for i, spec in enumerate(camera.detectors):
        if spec.kind not in registry.names("gridhub.detectors"):
            problems.append(f"detectors[{i}].kind: no detector plugin '{spec.kind}'")
    zone_ids = {z.id for z in camera.zones}
    for i, spec in enumerate(camera.detectors):
        problems += [
            f"detectors[{i}].zones: unknown zone '{z}'" for z in spec.zones if z not in zone_ids
        ]
    grid_id = camera.grid or hub.grids.locate(camera.location.lat, camera.location.lon)
    if camera.grid is not None:
        with hub.pool.connection() as conn:
            if not grid_exists(conn, camera.grid):
                problems.append(f"grid: unknown grid '{camera.grid}'")
    if problems:
        raise HTTPException(422, problems)
    return grid_id


def _problems(exc: ValidationError) -> list[str]:
    return [f"{field_path(e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)]
