"""智能引导: a window's floor and zone from the hall file reach the services list (where a
service is handled), the window list and every called ticket ("1楼B区11号窗口")."""

from __future__ import annotations

V1 = "/api/v1"


def test_services_windows_and_called_tickets_say_where_to_go(api):
    services = {s["code"]: s for s in api.get(f"{V1}/services", headers=api.who("kiosk")).json()}
    # the demo's 税务专窗 and the tidal windows upstairs that also serve it
    assert services["SW"]["location"] == "1楼B区、3楼A区"  # several places: short, no numbers
    assert services["SW"]["location_en"] == "Floor 1, Zone B; Floor 3, Zone A"
    windows = {w["no"]: w for w in api.get(f"{V1}/windows", headers=api.who("display")).json()}
    assert (windows[11]["floor"], windows[11]["zone"], windows[11]["guide"]) == (
        "1",
        "B",
        "1楼B区11号窗口",
    )
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    assert t["window_guide"] is None
    called = api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11)).json()
    assert called["id"] == t["id"] and called["window_guide"] == "1楼B区11号窗口"


def test_without_a_location_the_guide_is_the_window_number_alone(tmp_path, clock):
    from queue_server.base.config import parse_config

    cfg = parse_config(
        {
            "services": [{"code": "SW", "name": "税务", "prefix": "A"}],
            "windows": [{"no": 1, "services": {"SW": 1}}, {"no": 2, "services": {"SW": 1}}],
        }
    )
    assert cfg.service_location("SW") == ""
    assert cfg.window(2) is not None and cfg.window(2).guide == "2号窗口"


def test_one_place_names_its_windows_several_places_only_the_places():
    from halldomain.places import service_location

    one = [(11, "1", "B"), (12, "1", "B"), (13, "1", "B"), (15, "1", "B")]
    assert service_location(one) == "1楼B区11–13、15号窗口"
    assert service_location(one, "en") == "windows 11–13, 15 (Floor 1, Zone B)"
    assert service_location([(1, "负一楼", "东区"), (7, "2", "")]) == "负一楼东区、2楼"
    assert service_location([(1, "", ""), (2, "", "")]) == ""
