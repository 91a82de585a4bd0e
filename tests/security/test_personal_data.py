"""Live: a scripted day with real-name tickets, then search everything the server wrote for
the full ID numbers and names (UTF-8, UTF-16 and GB18030): none may be found."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests.support import ROOT, LiveServer, make_token

pytestmark = pytest.mark.e2e
BUSY = str(ROOT / "tests" / "data" / "busy.toml")
NAMES = ["欧阳娜娜", "司马长风", "诸葛青云", "上官婉儿", "慕容复兴", "张三丰"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(region: str, birth: str, seq: int) -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


PEOPLE = [
    (id_number(r, b, s), n)
    for (r, b, s), n in zip(
        [("440106", "19581224", 317), ("320503", "19790608", 452), ("510107", "19930115", 128),
         ("330106", "19450321", 906), ("110108", "20010930", 771), ("420111", "19860202", 55)],
        NAMES,
        strict=True,
    )
]  # fmt: skip


def encodings(text: str) -> list[bytes]:
    return [text.encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be", "gb18030")]


def test_a_full_day_leaves_no_full_id_number_or_name_anywhere(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "hall.db"
    server = LiveServer(db, "--config", BUSY, "--log-level", "debug")
    kiosk, display = make_token(db, "kiosk"), make_token(db, "display")
    staff = make_token(db, "staff", 12)
    evaluator = make_token(db, "evaluator", 12)
    events: list[str] = []
    try:
        k = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=10
        )
        s = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {staff}"}, timeout=10
        )
        e = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {evaluator}"}, timeout=10
        )
        with k, s, e:
            tickets = []
            for i, (idn, name) in enumerate(PEOPLE):
                svc = "SW" if i % 2 else "QYKB"
                r = k.post(
                    "/api/v1/tickets",
                    json={"service": svc, "id_card": {"id_number": idn, "name": name}},
                )
                assert r.status_code == 201, r.text
                t = r.json()
                assert idn not in r.text and name not in r.text
                assert t["id_masked"] == idn[:4] + "*" * 10 + idn[-4:]
                tickets.append(t)
                # a second one for the same service: refused, without echoing the number
                dup = k.post(
                    "/api/v1/tickets",
                    json={"service": svc, "id_card": {"id_number": idn, "name": name}},
                )
                assert dup.status_code == 409 and idn not in dup.text and name not in dup.text
                found = k.post("/api/v1/tickets/lookup", json={"id_number": idn})
                assert found.status_code == 200 and found.json() and idn not in found.text
                # a mistyped number: refused with a reason, not echoed
                typo = idn[:17] + ("0" if idn[17] != "0" else "1")
                bad = k.post(
                    "/api/v1/tickets",
                    json={"service": svc, "id_card": {"id_number": typo, "name": name}},
                )
                assert bad.status_code == 422 and typo not in bad.text
            # call, serve, transfer, skip and rate through the day
            for n in range(len(tickets)):
                r = s.post("/api/v1/windows/12/call-next")
                assert r.status_code == 200, r.text
                t = r.json()
                if n == 1:
                    assert s.post(f"/api/v1/tickets/{t['id']}/skip").status_code == 200
                    continue
                if n == 2:
                    assert (
                        s.post(
                            f"/api/v1/tickets/{t['id']}/transfer", json={"service": "SW"}
                        ).status_code
                        == 200
                    )
                    continue
                assert s.post(f"/api/v1/tickets/{t['id']}/finish").status_code == 200
                rating = {"ticket_id": t["id"], "level": 2 if n == 3 else 5, "reasons": ["long_wait"] if n == 3 else [],
                          "comment": "窗口人员很耐心", "channel": "window"}  # fmt: skip
                assert e.post("/api/v1/evaluations", json=rating).status_code == 201
            with httpx.stream(
                "GET", f"{server.url}/api/v1/events", headers={"Authorization": f"Bearer {display}", "Last-Event-ID": "0"},
                timeout=10,
            ) as r:  # fmt: skip
                for line in r.iter_lines():
                    events.append(line)
                    if len(events) > 60:
                        break
        time.sleep(0.3)
        # the files as they are while the server runs, WAL included
        snapshot = tmp_path / "snapshot"
        snapshot.mkdir()
        for p in data.iterdir():
            shutil.copyfile(p, snapshot / p.name)
    finally:
        assert server.stop() == 0
    output = server.output()
    assert any(p.name.endswith("-wal") for p in snapshot.iterdir())
    places: dict[str, bytes] = {"server stdout+stderr": output.encode()}
    places["event stream"] = "\n".join(events).encode()
    for folder in (data, snapshot):
        for p in folder.rglob("*"):
            if p.is_file():
                places[str(p.relative_to(tmp_path))] = p.read_bytes()
    assert "data/hall.db" in places and len(places) >= 5
    for idn, name in PEOPLE:
        for needle in (*encodings(idn), *encodings(name), *encodings(idn[6:14] + idn[14:])):
            for where, blob in places.items():
                assert needle not in blob, f"{needle!r} found in {where}"
    # what is there: the masked forms
    stored = places["data/hall.db"] + places.get("snapshot/hall.db-wal", b"")
    assert "欧阳**".encode() in stored and b"4401**********" in stored
