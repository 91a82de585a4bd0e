"""Fuzz the whole HTTP API from its own OpenAPI schema (schemathesis, in-process over ASGI).

No 5xx, and every response matches what the schema declares (status, content type, body).
Examples are limited per operation so that the whole run stays well under a minute.
"""

from __future__ import annotations

import contextlib
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 10
CALLS: list[str] = []
SKIP = {"/api/v1/events"}  # an endless stream; covered by the live tests


def fuzz(op, token, mode=GenerationMode.POSITIVE, examples=EXAMPLES):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case):
        CALLS.append(op.path)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


@pytest.mark.timeout(300)  # ~20 s on an idle machine; generous for a busy CI box
def test_fuzz_every_operation(hall, make_token):
    from queue_server.accounts import create_account
    from queue_server.api import create_app

    app = create_app(hall)
    hall.run_sync(lambda tx: create_account(tx, "fuzz", "Secret123", "staff", "测试"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 25
    started = time.monotonic()
    failures: list[str] = []
    for op in operations:
        if op.path in SKIP:
            continue
        # a fresh token per operation: fuzzing /logout or /tokens/{id}/revoke revokes it
        role = "kiosk" if (op.method.upper(), op.path) == ("POST", "/api/v1/tickets") else "admin"
        try:
            fuzz(op, make_token(role, None, f"fuzz-{role}"))
            # invalid data too (wrong types, missing fields, bad paths): 4xx, never 5xx
            with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no inputs)
                fuzz(op, make_token(role, None, f"fuzz-{role}"), GenerationMode.NEGATIVE, 5)
        except (Exception, BaseExceptionGroup) as err:  # collect them all, then report
            failures.append(f"{op.method.upper()} {op.path}: {str(err)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert len(CALLS) > 150, "the fuzzer hardly ran"
    print(f"fuzzed {len(CALLS)} requests in {time.monotonic() - started:.0f} s")
