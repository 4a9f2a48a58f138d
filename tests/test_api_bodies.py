"""Request bodies: over the size limit → 413 naming it; malformed → a 4xx saying why.

Every operation that takes a body is found in the OpenAPI schema (a new one is
covered, or this test says it is missing from the expected list) and is sent
oversized bodies — declared with Content-Length, and streamed without one — and
malformed ones: not UTF-8, not JSON, nested too deeply, an integer too long,
the wrong shape, the wrong content type, NaN, NUL characters. None may get a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.bodies import DEFAULT_MAX_BODY_BYTES
from hub.config import ApiSettings, SiteConfig
from hub.hub import Hub, open_hub
from hub.services import Endpoints
from tests.conftest import DEMO_CONFIG, auth_headers, metric

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]

LIMIT = 8192  # this module's hub: api.max_body_bytes
BODY_OPERATIONS = {
    ("POST", "/api/login"),
    ("POST", "/api/cases"),
    ("POST", "/api/cases/{case_id}/transitions"),
    ("POST", "/api/dispatches/{dispatch_id}/reply"),
    ("POST", "/api/cameras"),
    ("PATCH", "/api/cameras/{camera_id}"),
    ("POST", "/api/review/{case_id}/reject"),
}
# multipart/form-data uploads: their own size limit and checks (tests/test_photos_api.py)
UPLOAD_OPERATIONS = {("POST", "/api/cases/{case_id}/photos")}
PATH_VALUES = {"{case_id}": "1", "{dispatch_id}": "1", "{camera_id}": "CAM-QH-F01"}
JSON = "application/json"
MALFORMED: list[tuple[str, bytes, str, str]] = [
    # (name, body, content type, what the error must say)
    ("not UTF-8", b'{"title": "\xff\xfe"}', JSON, "not UTF-8"),
    ("not JSON", b"{title: x", JSON, "not valid JSON"),
    ("nested too deeply", b"[" * 1500 + b"]" * 1500, JSON, "nested too deeply"),
    ("integer too long", b'{"lat": 1' + b"0" * 4400 + b"}", JSON, "4300 digits"),
    ("a list", b"[1, 2]", JSON, "valid dictionary"),
    ("plain text", b"hello", "text/plain", "must be JSON"),
    ("a form", b"name=x&password=y", "application/x-www-form-urlencoded", "must be JSON"),
    ("empty", b"", JSON, "Field required"),
]


@pytest.fixture(scope="module")
def hub(module_db: str, mqtt_url: str) -> Iterator[Hub]:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["api"]["max_body_bytes"] = LIMIT
    site = SiteConfig.model_validate(raw)
    with open_hub(site, Endpoints(module_db, False, mqtt_url, False)) as running:
        yield running


@pytest.fixture(scope="module")
def app(hub: Hub) -> FastAPI:
    return create_app(hub)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def tokens(hub: Hub) -> dict[str, dict[str, str]]:
    return {"admin": auth_headers(hub, "admin"), "patrol": auth_headers(hub, "patrol", "P01")}


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    )


def _url(path: str) -> str:
    for template, value in PATH_VALUES.items():
        path = path.replace(template, value)
    return path


def _headers(tokens: dict[str, dict[str, str]], path: str, content_type: str) -> dict[str, str]:
    who = "patrol" if path.startswith("/api/dispatches") else "admin"
    return {**tokens[who], "Content-Type": content_type}


def test_every_body_operation_is_covered(app: FastAPI) -> None:
    assert set(_operations(app)) == BODY_OPERATIONS | UPLOAD_OPERATIONS, (
        "a new operation takes a body: add it"
    )


def test_the_default_limit_is_one_mib() -> None:
    assert ApiSettings().max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1_048_576


@pytest.mark.parametrize(("method", "path"), sorted(BODY_OPERATIONS))
def test_oversized_bodies_get_413_naming_the_limit(
    client: TestClient, tokens: dict[str, dict[str, str]], hub: Hub, method: str, path: str
) -> None:
    body = b'{"title": "' + b"x" * LIMIT + b'"}'
    headers = _headers(tokens, path, JSON)
    before = metric(hub, "gridhub_http_requests_total", route="(none)", status="4xx")
    declared = client.request(method, _url(path), content=body, headers=headers)
    streamed = client.request(method, _url(path), content=iter([body[:1000], body[1000:]]),
                              headers=headers)  # fmt: skip
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == (
            f"the request body is larger than the limit of {LIMIT} bytes (api.max_body_bytes)"
        )
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert metric(hub, "gridhub_http_requests_total", route="(none)", status="4xx") == before + 1


@pytest.mark.parametrize(("method", "path"), sorted(BODY_OPERATIONS))
@pytest.mark.parametrize("malformed", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bodies_get_a_4xx_saying_why(
    client: TestClient, tokens: dict[str, dict[str, str]], method: str, path: str,
    malformed: tuple[str, bytes, str, str],
) -> None:  # fmt: skip
    name, body, content_type, says = malformed
    response = client.request(method, _url(path), content=body,
                              headers=_headers(tokens, path, content_type))  # fmt: skip
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert says in response.text, (name, response.text)
    assert len(response.content) < 2000  # the error never echoes the body


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"title": "x", "lat": NaN, "lon": 120.14}', "less than or equal to 90"),
        (b'{"title": "x", "lat": 1e400, "lon": 120.14}', "less than or equal to 90"),
        (b'{"title": "a\\u0000b", "lat": 30.27, "lon": 120.14}', "NUL"),
        (b'{"title": "a\\ud800b", "lat": 30.27, "lon": 120.14}', "unicode"),
        (b'{"title": "' + b"x" * 300 + b'", "lat": 30.27, "lon": 120.14}', "at most 200"),
        (b'{"title": "x", "lat": 30.27, "lon": 120.14, "grid_id": "NOWHERE"}', "no grid"),
    ],
)
def test_values_a_case_cannot_hold_are_4xx(
    client: TestClient, tokens: dict[str, dict[str, str]], body: bytes, says: str
) -> None:
    response = client.post("/api/cases", content=body, headers=_headers(tokens, "/", JSON))
    assert response.status_code == 422, response.text
    assert says in response.text


def test_a_body_under_the_limit_is_read_as_usual(
    client: TestClient, tokens: dict[str, dict[str, str]], hub: Hub
) -> None:
    body: dict[str, Any] = {"title": "井盖缺失", "lat": 30.2725, "lon": 120.1425,
                            "description": "井" * 2500}  # 7,500 bytes of UTF-8 # fmt: skip
    counted = {"route": "/api/cases", "status": "2xx"}
    before = metric(hub, "gridhub_http_requests_total", **counted)
    response = client.post("/api/cases", json=body, headers=tokens["admin"])
    assert response.status_code == 201, response.text
    assert LIMIT - 1000 < len(response.request.content) < LIMIT
    assert metric(hub, "gridhub_http_requests_total", **counted) == before + 1


def test_the_limit_must_be_sensible() -> None:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["api"]["max_body_bytes"] = 10
    with pytest.raises(ValueError, match="max_body_bytes"):
        SiteConfig.model_validate(raw)
