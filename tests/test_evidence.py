"""Evidence files of a case, served behind the case's access rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.hub import Hub
from hub.model import Alert, EvidenceRef
from tests.conftest import HubFactory, auth_headers


@pytest.fixture
def hub(hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path) -> Hub:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    return hub_factory(raw=demo_raw)


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _case_with_evidence(hub: Hub, *refs: EvidenceRef) -> int:
    now = datetime.now(UTC)
    alert = Alert(kind="fire_lane", started_at=now, confirmed_at=now, confidence=0.8,
                  camera_id="CAM-QH-L01", region="lane", evidence=refs)  # fmt: skip
    case_id = hub.cases.record(alert).case_id
    assert case_id is not None
    return case_id


def test_evidence_is_listed_and_served(hub: Hub, client: TestClient) -> None:
    snapshot = hub.site.site.data_dir / "evidence" / "CAM-QH-L01" / "a.jpg"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"\xff\xd8jpeg\xff\xd9")
    case_id = _case_with_evidence(
        hub,
        EvidenceRef("snapshot", "evidence/CAM-QH-L01/a.jpg", "image/jpeg"),
        EvidenceRef("clip", "evidence/CAM-QH-L01/gone.mp4", "video/mp4"),
        EvidenceRef("snapshot", "../../../etc/passwd", "text/plain"),
    )
    operator = auth_headers(hub, "operator")
    items = client.get(f"/api/cases/{case_id}/evidence", headers=operator).json()
    assert [(i["kind"], i["available"]) for i in items] == [
        ("snapshot", True), ("clip", False), ("snapshot", False)]  # fmt: skip
    served = client.get(items[0]["url"], headers=operator)
    assert served.status_code == 200 and served.content == b"\xff\xd8jpeg\xff\xd9"
    assert served.headers["content-type"] == "image/jpeg"
    missing = client.get(items[1]["url"], headers=operator)
    assert missing.status_code == 404 and missing.json()["detail"]["missing"] is True
    assert client.get(items[2]["url"], headers=operator).status_code == 404  # outside evidence/
    assert client.get(f"/api/cases/{case_id}/evidence/9", headers=operator).status_code == 404


def test_evidence_follows_the_case_rules(hub: Hub, client: TestClient) -> None:
    case_id = _case_with_evidence(hub)
    assert client.get(f"/api/cases/{case_id}/evidence").status_code == 401
    patrol = auth_headers(hub, "patrol", "P01")  # not dispatched to this case
    assert client.get(f"/api/cases/{case_id}/evidence", headers=patrol).status_code == 404
    integrator = auth_headers(hub, "integrator")
    assert client.get(f"/api/cases/{case_id}/evidence", headers=integrator).status_code == 403


def test_a_clip_is_served_as_seekable_mp4(hub: Hub, client: TestClient) -> None:
    """The browser's <video> asks for byte ranges: 206 with the range, video/mp4, and the
    MP4 index (moov) ahead of the media (mdat), so playback and seeking start at once."""
    from tests.room_support import case_with_evidence

    case_id = case_with_evidence(hub)
    operator = auth_headers(hub, "operator")
    items = client.get(f"/api/cases/{case_id}/evidence", headers=operator).json()
    clip = next(i for i in items if i["kind"] == "clip")
    whole = client.get(clip["url"], headers=operator)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert 0 < whole.content.find(b"moov") < whole.content.find(b"mdat")
    part = client.get(clip["url"], headers={**operator, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.headers["content-type"] == "video/mp4"
