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
    from queue_server.admin.accounts import create_account
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


def _string_fields(schema: dict, spec: dict, depth: int = 0) -> dict:
    """A body with a lone surrogate in every string field of a request schema (one level of
    nested objects), other fields left out."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    body: dict = {}
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        types = {o.get("type") for o in options}
        if "string" in types:
            body[name] = "号\ud800"
        elif "array" in types:
            body[name] = ["\udc00原因"]
        elif depth == 0 and any("$ref" in o for o in options):
            ref = next(o for o in options if "$ref" in o)
            body[name] = _string_fields(ref, spec, depth + 1)
    return body


def test_lone_surrogates_in_any_json_field_are_refused_with_422(api, hall):
    """`"\\ud800"` is valid JSON but no UTF-8: it used to crash the JSON encoder (500)."""
    import json

    spec = api.get("/openapi.json").json()
    h = api.who("admin")
    tried = 0
    for path, item in spec["paths"].items():
        op = item.get("post")
        if not op or "requestBody" not in op:
            continue
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = _string_fields(schema, spec)
        if not body:
            continue
        url = path.replace("{", "").replace("}", "").replace("ticket_id", "1")
        url = url.replace("no", "1").replace("token_id", "1").replace("case_id", "1")
        raw = json.dumps(body, ensure_ascii=True).encode()
        assert b"\\ud800" in raw or b"\\udc00" in raw
        r = api.post(url, content=raw, headers=h | {"Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "invalid_text", path
        tried += 1
    assert tried >= 15


def test_surrogate_pairs_are_fine_and_a_ticket_with_an_emoji_comment_works(api, hall):
    from queue_server.core import tickets, windows

    t = hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, tickets.IssueRequest(service="SW")))[0]
    hall.run_sync(lambda tx: windows.call_ticket(hall.ctx, tx, 11, None, t["id"], "王芳"))
    hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, t["id"], None))
    raw = b'{"ticket_id": %d, "level": 5, "comment": "\\ud83d\\ude00 \\u5f88\\u597d"}' % t["id"]
    r = api.post("/api/v1/evaluations", content=raw, headers=api.who("evaluator", 11))
    assert r.status_code == 201, r.text
    assert r.json()["comment"].startswith("😀")


def test_rating_reasons_and_comments_are_bounded(api, hall):
    h = api.who("evaluator", 11)
    for body in (
        {"ticket_id": 1, "level": 1, "reasons": ["等" * 200]},
        {"ticket_id": 1, "level": 1, "reasons": ["态度不好"], "comment": "长" * 501},
        {"ticket_id": 1, "level": 1, "reasons": ["态度不好"] * 11},
    ):
        r = api.post("/api/v1/evaluations", json=body, headers=h)
        assert r.status_code == 422, r.text
