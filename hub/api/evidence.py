"""Evidence of a case (snapshots and clips of its alerts), behind the case's access rules.

`GET /api/cases/{id}/evidence` lists what the case's alerts recorded;
`GET /api/cases/{id}/evidence/{n}` serves file n. Only files under the data
directory's `evidence/` are served, whatever an alert says; a file that the
retention limit removed, or that was never written (a full disk), answers 404
with `missing`, and the listing gives the reason when one was recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from hub.api.cases import visible_case
from hub.api.deps import HubDep, Reporter
from hub.hub import Hub
from hub.storage.alert_repo import AlertEvidence, case_evidence

router = APIRouter(tags=["cases"])


class EvidenceItem(BaseModel):
    """One evidence file of a case."""

    n: int
    kind: str
    media_type: str
    alert_id: int
    url: str
    available: bool
    missing: str | None = Field(
        default=None, description="Why the file was never written (e.g. a full disk), if known."
    )


def _refs(hub: Hub, case_id: int) -> list[AlertEvidence]:
    with hub.pool.connection() as conn:
        return case_evidence(conn, case_id)


def _file(hub: Hub, ref: dict[str, Any]) -> Path | None:
    """The file a reference names, if it lies under data_dir/evidence and exists."""
    root = (hub.site.site.data_dir / "evidence").resolve()
    path = (hub.site.site.data_dir / str(ref.get("path", ""))).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@router.get("/api/cases/{case_id}/evidence", summary="A case's snapshots and clips")
def evidence(hub: HubDep, user: Reporter, case_id: int) -> list[EvidenceItem]:
    with hub.pool.connection() as conn:
        visible_case(conn, user, case_id)
    return [_item(hub, case_id, n, found) for n, found in enumerate(_refs(hub, case_id))]


def _item(hub: Hub, case_id: int, n: int, found: AlertEvidence) -> EvidenceItem:
    ref = found.ref
    return EvidenceItem(
        n=n, kind=str(ref.get("kind", "")), media_type=str(ref.get("media_type", "")),
        alert_id=found.alert_id, url=f"/api/cases/{case_id}/evidence/{n}",
        available=_file(hub, ref) is not None,
        missing=str(ref["missing"]) if ref.get("missing") is not None else None,
    )  # fmt: skip


@router.get("/api/cases/{case_id}/evidence/{n}", summary="One evidence file")
def evidence_file(hub: HubDep, user: Reporter, case_id: int, n: int) -> FileResponse:
    with hub.pool.connection() as conn:
        visible_case(conn, user, case_id)
    refs = _refs(hub, case_id)
    if not 0 <= n < len(refs):
        raise HTTPException(404, f"case {case_id} has no evidence {n}")
    ref = refs[n].ref
    path = _file(hub, ref)
    if path is None:
        raise HTTPException(404, {"detail": "evidence missing (deleted or never written)",
                                  "missing": True})  # fmt: skip
    return FileResponse(path, media_type=str(ref.get("media_type") or None))
