"""Photos of a case over HTTP: a patrol (or an operator) adds pictures of the scene.

`POST /api/cases/{id}/photos` takes one or more `photo` parts (multipart/form-data)
and an optional `note`. Every part is checked before anything is stored: an empty
file or one that is not a JPEG/PNG/WebP picture is 422 (FastAPI's list, at
`photo`), one over `api.max_photo_bytes` 413, each naming the file; then all are
stored (upright JPEGs, see `hub.cases.photos`) with one `comment` line in the audit
log. A patrol may add photos only to a case dispatched to it.
`GET /api/cases/{id}/photos` lists them and `GET /api/cases/{id}/photos/{photo_id}`
serves one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hub.api.cases import visible_case
from hub.api.contract import ERROR
from hub.api.deps import HubDep, Reporter
from hub.auth import Principal
from hub.cases.photos import (
    Photo,
    PhotoRejected,
    PhotoRow,
    PhotoUpload,
    case_photos,
    normalise_photo,
    store_photo,
)
from hub.cases.workflow import CaseAction, apply
from hub.errors import TransitionError
from hub.hub import Hub

router = APIRouter(tags=["cases"])
MAX_PHOTOS = 10


class PhotoView(BaseModel):
    """One photo of a case."""

    id: int
    url: str
    width: int
    height: int
    uploaded_by: str
    note: str | None
    at: datetime

    @classmethod
    def of(cls, row: PhotoRow) -> PhotoView:
        url = f"/api/cases/{row.case_id}/photos/{row.id}"
        return cls(id=row.id, url=url, width=row.width, height=row.height,
                   uploaded_by=row.uploaded_by, note=row.note, at=row.at)  # fmt: skip


async def _checked(hub: Hub, files: list[UploadFile]) -> list[Photo]:
    if not 1 <= len(files) <= MAX_PHOTOS:
        raise HTTPException(422, _bad_photo(None, f"send 1 to {MAX_PHOTOS} photos"))
    limit = hub.site.api.max_photo_bytes
    photos = []
    for n, upload in enumerate(files):
        data = await upload.read(limit + 1)
        try:
            photos.append(normalise_photo(data, limit))
        except PhotoRejected as exc:
            name = upload.filename or f"photo {n + 1}"
            reason = f"{name}: {exc.reason}; nothing was stored"
            detail = _bad_photo(n, reason) if exc.status == 422 else reason
            raise HTTPException(exc.status, detail) from None
    return photos


def _bad_photo(n: int | None, reason: str) -> dict[str, Any]:
    """A refused `photo` part in FastAPI's 422 shape, at its index when there is one."""
    loc: list[str | int] = ["body", "photo"] if n is None else ["body", "photo", n]
    return {"loc": loc, "msg": reason, "type": "value_error"}


@router.post(
    "/api/cases/{case_id}/photos",
    status_code=201,
    summary="Add photos to a case",
    responses={409: {**ERROR, "description": "No comment from this role in the case's state"}},
)
async def add_photos(
    hub: HubDep, user: Reporter, case_id: int,
    photo: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP; repeat the part.")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> list[PhotoView]:  # fmt: skip
    await run_in_threadpool(list_photos, hub, user, case_id)  # 404 before reading the files
    photos = await _checked(hub, photo)
    await run_in_threadpool(_store, hub, user, StoreRequest(case_id, photos, note))
    return (await run_in_threadpool(list_photos, hub, user, case_id))[-len(photos) :]


@dataclass(frozen=True, slots=True)
class StoreRequest:
    case_id: int
    photos: list[Photo]
    note: str | None


def _store(hub: Hub, user: Principal, req: StoreRequest) -> None:
    now = hub.clock.now()
    try:
        with hub.pool.connection() as conn, conn.transaction():
            for picture in req.photos:
                upload = PhotoUpload(req.case_id, picture, user.name, req.note, now)
                store_photo(conn, hub.site.site.data_dir, upload)
            text = f"照片 ×{len(req.photos)}" + (f": {req.note}" if req.note else "")
            apply(conn, CaseAction(req.case_id, "comment", user.name, user.role, text), now)
    except TransitionError as exc:
        raise HTTPException(409, {"detail": str(exc), "allowed": exc.allowed}) from None


@router.get("/api/cases/{case_id}/photos", summary="A case's photos")
def list_photos(hub: HubDep, user: Reporter, case_id: int) -> list[PhotoView]:
    with hub.pool.connection() as conn:
        visible_case(conn, user, case_id)
        return [PhotoView.of(r) for r in case_photos(conn, case_id)]


@router.get(
    "/api/cases/{case_id}/photos/{photo_id}",
    summary="One photo (JPEG)",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def photo_file(hub: HubDep, user: Reporter, case_id: int, photo_id: int) -> FileResponse:
    with hub.pool.connection() as conn:
        visible_case(conn, user, case_id)
        found = [r for r in case_photos(conn, case_id) if r.id == photo_id]
    root = (hub.site.site.data_dir / "evidence").resolve()
    path = (hub.site.site.data_dir / found[0].path).resolve() if found else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, f"case {case_id} has no photo {photo_id}")
    return FileResponse(path, media_type="image/jpeg")
