"""Live configuration: change without a restart, audit before/after, TOML export and import."""

from __future__ import annotations

import sqlite3
import tomllib

from queue_server.base import audit


def _config(api):
    r = api.get("/api/v1/admin/config", headers=api.who("admin"))
    assert r.status_code == 200
    return r.json()


def _audit_rows(hall, action):
    return hall.db.rows("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))


def test_only_admin_may_read_or_change_config(api):
    assert api.get("/api/v1/admin/config").status_code == 401
    assert api.get("/api/v1/admin/config", headers=api.who("staff", 1)).status_code == 403
    assert api.get("/api/v1/admin/floor", headers=api.who("kiosk")).status_code == 403


def test_new_service_is_live_at_once_and_audited(api, hall):
    snap = _config(api)
    cfg = snap["config"]
    cfg["services"].append(
        {"code": "LNYL", "name": "老年优待证办理", "prefix": "M", "daily_quota": 50,
         "guide": "需携带身份证", "forms": ["老年优待证申请表"]}
    )  # fmt: skip
    cfg["windows"][0]["services"]["LNYL"] = 1.0
    preview = api.post(
        "/api/v1/admin/config/preview", json={"config": cfg}, headers=api.who("admin")
    ).json()["changes"]
    paths = {c["path"]: c for c in preview}
    assert paths["services[LNYL]"]["kind"] == "added"
    assert any(p.endswith(".services.LNYL") for p in paths)
    r = api.put(
        "/api/v1/admin/config",
        json={"config": cfg, "version": snap["version"]},
        headers=api.who("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == snap["version"] + 1
    # What the kiosk lists, without a restart.
    services = api.get("/api/v1/services", headers=api.who("kiosk")).json()
    gjj = next(s for s in services if s["code"] == "LNYL")
    assert gjj["name"] == "老年优待证办理" and gjj["prefix"] == "M"
    t = api.post("/api/v1/tickets", json={"service": "LNYL"}, headers=api.who("kiosk"))
    assert t.status_code == 201 and t.json()["number"].startswith("M")
    w = cfg["windows"][0]["no"]
    called = api.post(f"/api/v1/windows/{w}/call-next", headers=api.who("admin")).json()
    assert called["number"] == t.json()["number"]
    # Audited with before and after; the event reached the stream table.
    rec = _audit_rows(hall, "config.update")[-1]
    assert rec["actor"].startswith("admin:")
    assert '"services[LNYL]"' in rec["detail"] and '"before"' in rec["detail"]
    ev = hall.db.row("SELECT * FROM events WHERE type = 'config.changed' ORDER BY id DESC")
    assert ev is not None and "services" in ev["data"]
    ok, _broken, _n = audit.verify(hall.db.reader)
    assert ok


def test_stale_version_is_a_conflict_and_bad_config_422(api):
    snap = _config(api)
    cfg = snap["config"]
    cfg["hall"]["notices"] = ["今日系统维护"]
    h = api.who("admin")
    assert (
        api.put(
            "/api/v1/admin/config", json={"config": cfg, "version": snap["version"]}, headers=h
        ).status_code
        == 200
    )
    r = api.put("/api/v1/admin/config", json={"config": cfg, "version": snap["version"]}, headers=h)
    assert r.status_code == 409
    bad = dict(cfg, services=cfg["services"] + [dict(cfg["services"][0])])
    r = api.put("/api/v1/admin/config", json={"config": bad}, headers=h)
    assert r.status_code == 422 and "duplicate" in r.json()["error"]["message"]
    assert api.get("/api/v1/hall", headers=api.who("display")).json()["notices"] == ["今日系统维护"]


def test_new_window_gets_a_row_and_removed_window_goes(api, hall):
    snap = _config(api)
    cfg = snap["config"]
    code = cfg["services"][0]["code"]
    cfg["windows"].append({"no": 99, "name": "潮汐窗口", "kind": "tidal", "services": {code: 1}})
    h = api.who("admin")
    assert api.put("/api/v1/admin/config", json={"config": cfg}, headers=h).status_code == 200
    nos = [w["no"] for w in api.get("/api/v1/windows", headers=h).json()]
    assert 99 in nos
    r = api.post(
        "/api/v1/admin/accounts",
        json={"username": "tidal99", "password": "Pass12345", "name": "周敏", "window": 99},
        headers=h,
    )
    assert r.status_code == 201
    cfg["windows"] = [w for w in cfg["windows"] if w["no"] != 99]
    assert api.put("/api/v1/admin/config", json={"config": cfg}, headers=h).status_code == 200
    assert 99 not in [w["no"] for w in api.get("/api/v1/windows", headers=h).json()]
    # Staff of a removed window are unbound, so that they can still log in.
    login = api.post("/api/v1/login", json={"username": "tidal99", "password": "Pass12345"})
    assert login.status_code == 200 and login.json()["window"] is None


def test_removing_a_service_with_people_waiting_is_refused(api):
    cfg = _config(api)["config"]
    code = cfg["services"][0]["code"]
    assert (
        api.post(
            "/api/v1/tickets",
            json={"service": code, "id_card": {"id_number": "110105199003071239"}},
            headers=api.who("kiosk"),
        ).status_code
        == 201
    )
    cfg["services"] = cfg["services"][1:]
    for w in cfg["windows"]:
        w["services"].pop(code, None)
    cfg["windows"] = [w for w in cfg["windows"] if w["services"]]
    r = api.put("/api/v1/admin/config", json={"config": cfg}, headers=api.who("admin"))
    assert r.status_code == 409, r.text


def test_toml_export_round_trips_and_import_previews_then_applies(api, hall):
    h = api.who("admin")
    text = api.get("/api/v1/admin/config.toml", headers=h).text
    data = tomllib.loads(text)
    assert data["hall"]["name"] == hall.config.hall.name
    assert (
        api.post("/api/v1/admin/config/import", json={"toml": text}, headers=h).json()["changes"]
        == []
    )
    changed = text.replace(f'name = "{hall.config.hall.name}"', 'name = "测试大厅"', 1)
    changed += '\n[calendar]\nholidays = ["2026-10-01"]\n' if "[calendar]" not in changed else ""
    p = api.post("/api/v1/admin/config/import", json={"toml": changed}, headers=h).json()
    assert p["applied"] is False
    assert {
        "path": "hall.name",
        "kind": "changed",
        "before": hall.config.hall.name,
        "after": "测试大厅",
    } in p["changes"]
    assert hall.config.hall.name != "测试大厅"
    a = api.post(
        "/api/v1/admin/config/import", json={"toml": changed, "apply": True}, headers=h
    ).json()
    assert a["applied"] is True and hall.config.hall.name == "测试大厅"
    assert _audit_rows(hall, "config.import")
    bad = api.post("/api/v1/admin/config/import", json={"toml": "[hall\nname="}, headers=h)
    assert bad.status_code == 422
    unknown = api.post(
        "/api/v1/admin/config/import", json={"toml": text + "\n[bogus]\nx = 1\n"}, headers=h
    )
    assert unknown.status_code == 422 and "bogus" in unknown.json()["error"]["message"]


def test_config_survives_restart(tmp_path, clock):
    from queue_server.admin.hall_config import apply, validate
    from queue_server.runtime.hall import Hall

    h = Hall(tmp_path / "h.db", clock=clock)
    data = h.config.model_dump(mode="json")
    data["followup"]["deadline_working_days"] = 15
    new = validate(data)
    h.run_sync(lambda tx: apply(h.ctx, tx, new, "admin:test"))
    h.close()
    h2 = Hall(tmp_path / "h.db", clock=clock)
    try:
        assert h2.config.followup.deadline_working_days == 15
    finally:
        h2.close()
    conn = sqlite3.connect(tmp_path / "h.db")
    assert conn.execute("SELECT value FROM meta WHERE key = 'config_version'").fetchone()[0] == "2"


def test_cli_export_gives_a_file_the_server_starts_from(tmp_path, hall):
    import subprocess

    from queue_server.base.config import load_config
    from tests.admin.helpers import set_config
    from tests.support import ROOT, hall_cmd

    set_config(hall, followup={"deadline_working_days": 15})
    out = tmp_path / "hall.toml"
    db = hall.db.path
    r = subprocess.run(
        hall_cmd("config", "export", "--db", str(db), "--out", str(out)),
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert load_config(out) == hall.config
