"""HTTP-level protections, in-process: body limit, headers, CORS, OpenAPI errors, bad numbers."""

from __future__ import annotations

from fastapi.testclient import TestClient

V1 = "/api/v1"


def test_oversized_body_is_413_with_the_json_error(api):
    big = {"service": "SW", "idempotency_key": "x" * 70_000}
    r = api.post(f"{V1}/tickets", json=big, headers=api.who("kiosk"))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert "64 KiB" in r.json()["error"]["message"]


def test_oversized_chunked_body_is_413_too(api):
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    headers = {**api.who("kiosk"), "Content-Type": "application/json"}
    r = api.post(f"{V1}/tickets", content=chunks(), headers=headers)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_a_normal_body_still_reaches_the_route(api):
    r = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk"))
    assert r.status_code == 201


def test_security_headers_on_pages_and_api(api):
    page = api.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["referrer-policy"] == "no-referrer"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "script-src 'self'" in csp
    health = api.get(f"{V1}/health")
    assert health.headers["cache-control"] == "no-store"
    assert health.headers["x-content-type-options"] == "nosniff"
    # Swagger UI loads its scripts from a CDN: no CSP there, the other headers stay
    docs = api.get("/docs")
    assert "content-security-policy" not in docs.headers
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_cors_is_closed_by_default(api):
    origin = {"Origin": "https://evil.example"}
    r = api.get(f"{V1}/health", headers=origin)
    assert "access-control-allow-origin" not in r.headers
    pre = api.options(
        f"{V1}/tickets",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers
    # no CORS middleware answers the preflight: the route has no OPTIONS method
    assert pre.status_code == 405, pre.text
    assert pre.json()["error"]["code"] == "method_not_allowed"


def test_cors_opens_only_for_configured_origins(tmp_path, clock):
    from queue_server.api import create_app
    from queue_server.base.config import load_config
    from queue_server.runtime.hall import Hall

    cfg = load_config()
    cfg = cfg.model_copy(
        update={
            "security": cfg.security.model_copy(
                update={"cors_origins": ["https://hall.example.gov.cn"]}
            )
        }
    )
    hall = Hall(tmp_path / "cors.db", clock=clock, config=cfg)
    try:
        with TestClient(create_app(hall)) as c:
            ok = c.get(f"{V1}/health", headers={"Origin": "https://hall.example.gov.cn"})
            assert ok.headers["access-control-allow-origin"] == "https://hall.example.gov.cn"
            other = c.get(f"{V1}/health", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers
    finally:
        hall.close()


def test_numbers_beyond_64_bits_are_422_not_500(api):
    h = api.who("admin")
    r = api.get(f"{V1}/tickets/{2**70}", headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = api.get(f"{V1}/tickets?window={2**70}", headers=h)
    assert r.status_code == 422


def test_openapi_declares_the_json_errors_and_bearer_auth(api):
    spec = api.get("/openapi.json").json()
    assert "Error" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    op = spec["paths"][f"{V1}/tickets"]["post"]
    for status in ("401", "403", "409", "413", "422", "429"):
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/Error")
    assert op["security"] == [{"bearer": []}]
    assert spec["paths"][f"{V1}/health"]["get"]["security"] == []
    assert "503" in spec["paths"][f"{V1}/events"]["get"]["responses"]
