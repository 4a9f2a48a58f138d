"""Photos of a case over HTTP: upright, stored as evidence; bad uploads refused, nothing stored."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hub.api.app import create_app
from hub.hub import Hub
from tests.conftest import HubFactory, auth_headers
from tests.test_alerts import _alert

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]
LIMIT = 200_000


@pytest.fixture
def hub(hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path) -> Hub:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["api"]["max_photo_bytes"] = LIMIT
    return hub_factory(raw=demo_raw)


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def phone_jpeg(width: int = 64, height: int = 32, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: pixels landscape, EXIF saying "rotate 90° to view"."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _case(hub: Hub) -> int:
    case_id = hub.cases.record(_alert(hub)).case_id
    assert case_id is not None
    return case_id


def _stored(hub: Hub) -> tuple[int, int]:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM case_photos").fetchone()
    files = list((hub.site.site.data_dir / "evidence").rglob("*.jpg"))
    return (int(row[0]) if row else 0), len(files)


def test_a_photo_is_stored_upright_and_listed(hub: Hub, client: TestClient) -> None:
    case_id = _case(hub)
    operator = auth_headers(hub, "operator")
    files = [("photo", ("scene.jpg", phone_jpeg(), "image/jpeg")),
             ("photo", ("more.png", _png(), "image/png"))]  # fmt: skip
    done = client.post(f"/api/cases/{case_id}/photos", headers=operator, files=files,
                       data={"note": "已清理"})  # fmt: skip
    assert done.status_code == 201, done.text
    first, second = done.json()
    assert (first["width"], first["height"]) == (32, 64)  # EXIF orientation 6 applied
    assert (second["width"], second["height"]) == (10, 10)
    served = client.get(first["url"], headers=operator)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    upright = Image.open(io.BytesIO(served.content))
    assert upright.size == (32, 64) and not upright.getexif().get(0x0112)
    top = upright.getpixel((16, 4))
    assert isinstance(top, tuple) and top[2] > 150  # the blue half is on top after rotating
    listed = client.get(f"/api/cases/{case_id}/photos", headers=operator).json()
    assert [p["id"] for p in listed] == [first["id"], second["id"]]
    events = client.get(f"/api/cases/{case_id}", headers=operator).json()["events"]
    assert events[-1]["action"] == "comment" and "照片 ×2: 已清理" in events[-1]["note"]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("content, status, message", [
    (b"", 422, "empty"),
    (b"%PDF-1.4 not a picture at all", 422, "not a picture"),
    (b"\xff\xd8\xff\xe0 a JPEG that breaks off", 422, "not a picture"),
    (b"GIF89a\x01\x00\x01\x00", 422, "not a picture"),
    (b"\xff\xd8\xff" + b"\0" * LIMIT, 413, "max_photo_bytes"),
])  # fmt: skip
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    hub: Hub, client: TestClient, content: bytes, status: int, message: str
) -> None:
    import ultralytics.utils.patches  # noqa: F401  (wraps Image.open, as in a hub with YOLO)

    case_id = _case(hub)
    files = [("photo", ("good.jpg", phone_jpeg(), "image/jpeg")),
             ("photo", ("bad.jpg", content, "image/jpeg"))]  # fmt: skip
    answer = client.post(f"/api/cases/{case_id}/photos", headers=auth_headers(hub, "operator"),
                         files=files)  # fmt: skip
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]  # 422: FastAPI's list, at the refused part
    reason = detail[0]["msg"] if status == 422 else detail
    assert message in reason and "bad.jpg" in reason
    if status == 422:
        assert detail[0]["loc"] == ["body", "photo", 1]
    assert _stored(hub) == (0, 0)


def test_a_patrol_adds_photos_only_to_its_own_cases(hub: Hub, client: TestClient) -> None:
    case_id = _case(hub)
    patrol = auth_headers(hub, "patrol", "P01")
    files = [("photo", ("scene.jpg", phone_jpeg(), "image/jpeg"))]
    assert client.post(f"/api/cases/{case_id}/photos", headers=patrol, files=files
                       ).status_code == 404  # fmt: skip
    assert client.post(f"/api/cases/{case_id}/photos", files=files).status_code == 401
    assert _stored(hub) == (0, 0)


def test_navigation_links_use_each_apps_datum(hub: Hub, client: TestClient) -> None:
    case_id = _case(hub)
    nav = client.get(f"/api/cases/{case_id}/navigation", headers=auth_headers(hub, "operator"))
    assert nav.status_code == 200
    body = nav.json()
    gcj, bd = body["gcj02"], body["bd09"]
    assert f"position={gcj['lon']:.6f}%2C{gcj['lat']:.6f}" in body["amap_url"]
    assert body["amap_url"].startswith("https://uri.amap.com/marker?")
    assert f"location={bd['lat']:.6f}%2C{bd['lon']:.6f}" in body["baidu_url"]
    assert "coord_type=bd09ll" in body["baidu_url"]
    assert body["geo_uri"].startswith(f"geo:{body['wgs84']['lat']:.6f},")
    assert body["distance_m"] is None  # an operator has no position


def test_without_pillow_opencv_also_turns_the_photo_upright() -> None:
    from hub.cases.photos import _with_opencv

    photo = _with_opencv(phone_jpeg())
    assert (photo.width, photo.height) == (32, 64)
    assert Image.open(io.BytesIO(photo.jpeg)).size == (32, 64)


def test_an_upload_past_the_transport_limit_or_not_multipart_is_a_4xx(
    hub: Hub, client: TestClient
) -> None:
    case_id = _case(hub)
    operator = auth_headers(hub, "operator")
    huge = b"x" * (LIMIT * 10 + 70_000)  # past every photo's limit together
    form = {**operator, "Content-Type": "multipart/form-data; boundary=x"}
    declared = client.post(f"/api/cases/{case_id}/photos", content=huge, headers=form)
    assert declared.status_code == 413
    as_json = {**operator, "Content-Type": "application/json"}
    for body, headers in ((b'{"photo": 1}', as_json), (b"--x\r\nnonsense", form)):
        answer = client.post(f"/api/cases/{case_id}/photos", content=body, headers=headers)
        assert 400 <= answer.status_code < 500, answer.text
    assert _stored(hub) == (0, 0)
