"""Property-based API testing with schemathesis: the OpenAPI schema is true.

`test_all_checks` runs the schemathesis command itself, `--checks all`, against a
real server, once per role: every operation and method, in its examples,
coverage, fuzzing and stateful phases; zero 5xx and zero contract mismatches
(status codes, content types, headers, bodies, 405 with `Allow`, negative data
refused, auth enforced). schemathesis.toml holds its one setting.
`test_no_server_errors` drives each operation in-process with the demo's real
camera ids too (random ids only ever reach the 404 path).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from hub.api.app import create_app
from hub.config import load_site
from hub.hub import Hub, open_hub
from hub.services import Endpoints
from tests.browser import serve_hub
from tests.conftest import DEMO_CONFIG, REPO, auth_headers
from tests.fuzz_strategies import HUB_THREADS_USE_RANDOM

pytestmark = [pytest.mark.slow, HUB_THREADS_USE_RANDOM]
# Examples per operation: the roles with the most rights reach the most code.
EXAMPLES = {"admin": 25, "operator": 10, "integrator": 10, "patrol": 15}


@pytest.fixture(scope="module")
def module_hub(module_db: str, mqtt_url: str) -> Iterator[Hub]:
    with open_hub(load_site(DEMO_CONFIG), Endpoints(module_db, False, mqtt_url, False)) as hub:
        yield hub


@pytest.fixture(scope="module")
def app(module_hub: Hub) -> FastAPI:
    return create_app(module_hub)


ROLES = ("admin", "operator", "integrator", "patrol")
# POST first: the cases it reports are there for GET to find; DELETE last.
METHODS = ("POST", "PATCH", "GET", "DELETE")


@pytest.fixture(scope="module")
def tokens(module_hub: Hub) -> dict[str, dict[str, str]]:
    """Each role's headers; the patrol acts for P01, which is dispatched in the demo."""
    return {
        role: auth_headers(module_hub, role, "P01" if role == "patrol" else None) for role in ROLES
    }


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations(api_schema: schemathesis.BaseSchema) -> list[Any]:
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"schemathesis cannot read an operation: {result.err()}"
        operations.append(result.ok())
    return operations


def test_every_method_in_the_schema_is_driven(api_schema: schemathesis.BaseSchema) -> None:
    assert {op.method.upper() for op in _operations(api_schema)} == set(METHODS)


SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CLI_EXAMPLES = "10"  # per operation and phase; about 10 s per role


@pytest.mark.parametrize("role", ROLES)
def test_all_checks(module_hub: Hub, tokens: dict[str, dict[str, str]], role: str) -> None:
    with serve_hub(module_hub) as base:
        run = subprocess.run(
            [str(SCHEMATHESIS), "run", f"{base}/openapi.json", "--checks", "all",
             "-H", f"Authorization: {tokens[role]['Authorization']}",
             "--max-examples", CLI_EXAMPLES, "--seed", "15", "--workers", "1",
             "--no-color"],
            cwd=REPO, capture_output=True, text=True, timeout=300,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )  # fmt: skip
    summary = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, summary
    assert re.search(r"Selected: (\d+)/\1\b", run.stdout), summary  # every operation
    assert re.search(r"Tested: [1-9]", run.stdout), summary


# Schemathesis' own pytest plugin does not run on pytest 9 yet, so each operation's
# Hypothesis strategy is driven here directly; the checks are the same. Every role's
# token is used: the patrol role takes its own paths (its cases only, its dispatches),
# the others differ in what they are refused.
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", METHODS)
def test_no_server_errors(
    module_hub: Hub,
    api_schema: schemathesis.BaseSchema, tokens: dict[str, dict[str, str]], method: str,
    role: str,
) -> None:  # fmt: skip
    checked = [op for op in _operations(api_schema) if op.method.upper() == method]
    cameras = [camera.id for camera in module_hub.site.cameras]
    calls: list[int] = []
    assert checked, "no operations found in the schema"
    for operation in checked:

        @given(case=operation.as_strategy(), real_camera=st.sampled_from(cameras) | st.none())
        @settings(
            max_examples=EXAMPLES[role],
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def no_5xx(case: schemathesis.Case, real_camera: str | None) -> None:  # type: ignore[type-arg]
            if real_camera and "camera_id" in (case.path_parameters or {}):
                case.path_parameters["camera_id"] = real_camera  # random ids are all 404
            if case.path.endswith("/stream.mjpg"):  # a live camera's preview may be endless
                query = dict(case.query or {})
                if query.get("frames") not in (1, 2, 3):
                    query["frames"] = 2
                case.query = query
            response = case.call(headers=tokens[role])
            calls.append(response.status_code)
            # A camera without a picture is 409 with the reason: no 5xx at all.
            assert response.status_code < 500, (
                role, case.method, case.formatted_path, response.status_code, response.text[:500],
            )  # fmt: skip

        no_5xx()
    assert len(calls) >= 5 * len(checked)  # the examples really reached the API
