"""Fuzz the administration endpoints from their OpenAPI schema: bad input never gives a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import openapi

from queue_server.admin.accounts import create_token
from queue_server.api import create_app
from queue_server.base.clock import FixedClock
from queue_server.runtime.hall import Hall
from tests.conftest import DAY_START

# schemathesis needs the schema when the module is collected, so the hall is built here.
_DIR = tempfile.TemporaryDirectory(prefix="hall-admin-fuzz-")
_HALL = Hall(Path(_DIR.name) / "hall.db", clock=FixedClock(DAY_START))
_TOKEN = _HALL.run_sync(lambda tx: create_token(tx, "admin", "fuzz"))
schema = openapi.from_asgi("/openapi.json", create_app(_HALL)).include(
    path_regex="/admin|/devices/pair"
)


@pytest.fixture(scope="module", autouse=True)
def _close_hall():
    yield
    _HALL.close()
    _DIR.cleanup()


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_admin_endpoints_never_fail_with_5xx(case):
    resp = case.call(headers={"Authorization": f"Bearer {_TOKEN}"})
    assert resp.status_code < 500, (case.method, case.path, resp.text[:300])
