"""The admin page's files: ES modules served from /web/admin/, templates that escape by
construction (no innerHTML built from data), the configuration schema its forms come from."""

from __future__ import annotations

import re
from pathlib import Path

from queue_server.base.config import HallConfig

ADMIN = Path(__file__).resolve().parents[2] / "queue_server" / "web" / "admin"
OWN = sorted(p for p in ADMIN.glob("*.js"))  # the page's own modules (not vendor/)

# Markup built from strings: an innerHTML / outerHTML / insertAdjacentHTML whose value is a
# template literal with ${…} or a string concatenation. lit-html templates (html`…`) escape
# what they interpolate; these would not.
RAW_HTML = re.compile(
    r"(?:\.innerHTML|\.outerHTML)\s*[+]?=\s*[^;]*(?:`[^`]*\$\{|\+)"
    r"|insertAdjacentHTML\s*\([^)]*(?:`[^`]*\$\{|\+)",
    re.S,
)


def raw_html_sites(text: str) -> list[str]:
    return [m.group(0)[:80] for m in RAW_HTML.finditer(text)]


def test_the_pattern_catches_hand_built_markup():
    # The page before it moved to lit-html; the check must find what it had.
    old = 'main().innerHTML = `<h2>${esc(s.name)}</h2>`;\nbox.innerHTML = "<b>" + name + "</b>";\n'
    old += 'tb.insertAdjacentHTML("beforeend", `<tr><td>${x}</td></tr>`);'
    assert len(raw_html_sites(old)) == 3
    assert raw_html_sites("render(html`<h2>${s.name}</h2>`, main());") == []


def test_no_admin_module_builds_markup_from_data():
    assert [p.name for p in OWN] and "main.js" in [p.name for p in OWN]
    found = {p.name: raw_html_sites(p.read_text(encoding="utf-8")) for p in OWN}
    assert {k: v for k, v in found.items() if v} == {}
    # And no innerHTML at all: the DOM is built by lit-html or el().
    assert [p.name for p in OWN if "innerHTML" in p.read_text(encoding="utf-8")] == []


def test_every_import_resolves_to_a_file():
    for p in OWN:
        for spec in re.findall(r'^import[^"]*"([^"]+)";', p.read_text(encoding="utf-8"), re.M):
            assert spec.startswith("."), f"{p.name}: bare import {spec}"
            assert (p.parent / spec).resolve().is_file(), f"{p.name}: {spec} missing"


def test_the_vendored_lit_html_keeps_its_licence():
    text = (ADMIN / "vendor" / "lit-html.js").read_text(encoding="utf-8")
    assert "BSD 3-Clause License" in text[:2000] and "Copyright (c) 2017 Google LLC" in text[:2000]
    assert "export{" in text and "import " not in text  # one self-contained module


def test_the_page_loads_main_as_a_module(api):
    page = api.get("/admin")
    assert page.status_code == 200
    assert '<script type="module" src="/web/admin/main.js"></script>' in page.text
    for name in [p.name for p in OWN] + ["vendor/lit-html.js"]:
        r = api.get(f"/web/admin/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == "text/javascript", name
    assert api.get("/web/common.js").status_code == 200
    css = api.get("/admin/static/admin.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert api.get("/admin/static/admin.js").status_code == 404


def test_config_schema_is_the_models_schema_and_admin_only(api):
    assert api.get("/api/v1/admin/config/schema").status_code == 401
    staff = api.get("/api/v1/admin/config/schema", headers=api.who("staff", 1))
    assert staff.status_code == 403
    r = api.get("/api/v1/admin/config/schema", headers=api.who("admin"))
    assert r.status_code == 200
    schema = r.json()
    assert schema == HallConfig.model_json_schema()
    service = schema["$defs"]["Service"]["properties"]
    assert service["daily_quota"]["type"] == "integer"
    assert service["daily_quota"]["description"].startswith("Tickets per business day")
    assert schema["$defs"]["RoutingSection"]["properties"]["policy"]["enum"] == [
        "accumulating", "interleave", "strict",
    ]  # fmt: skip
