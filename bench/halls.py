"""Hall configurations for the benchmarks: the demo hall, a load-test variant, a city hall.

The city hall is generated (300 windows, 30 services) rather than stored, so its shape is
documented here in one place and the TOML the server reads is written to a temp file.
"""

from __future__ import annotations

import json
import random
import tomllib
from pathlib import Path
from typing import Any

from queue_server.base.config import DEMO_CONFIG, parse_config

# Services of a large city hall (市民之家): code, name, avg_service_min, share of demand.
# Shares follow what city halls publish: social security, medical insurance, household
# registration and provident fund dominate; construction and policy cases are few but long.
CITY_SERVICES: list[tuple[str, str, float, float]] = [
    ("SB", "社保业务", 5, 10),
    ("YB", "医保业务", 4, 9),
    ("HJ", "户籍业务", 6, 8),
    ("GJJ", "公积金业务", 5, 8),
    ("CRJ", "出入境业务", 6, 6),
    ("SW", "税务业务", 7, 6),
    ("BDC", "不动产登记", 10, 6),
    ("JDC", "机动车业务", 5, 5),
    ("JSZ", "驾驶证业务", 4, 5),
    ("QYKB", "企业开办", 12, 4),
    ("SCJG", "市场监管", 8, 3),
    ("MZ", "民政业务", 6, 3),
    ("CJR", "残疾人服务", 6, 2),
    ("WJ", "卫生健康", 5, 2),
    ("JY", "教育服务", 6, 2),
    ("RC", "人才服务", 7, 2),
    ("LDJY", "劳动就业", 5, 2),
    ("ZJ", "住房保障", 8, 2),
    ("SD", "水电气业务", 4, 2),
    ("GS", "公证服务", 10, 1.5),
    ("FLYZ", "法律援助", 10, 1),
    ("TYJR", "退役军人服务", 6, 1),
    ("GCJS", "工程建设项目", 15, 1.5),
    ("ZCDX", "政策兑现", 10, 1.5),
    ("JT", "交通运输", 7, 1.5),
    ("NY", "农业农村", 8, 1),
    ("HB", "生态环境", 10, 1),
    ("WH", "文化旅游", 6, 1),
    ("QWTB", "全市通办", 6, 2),
    ("ZX", "综合咨询", 3, 5),
]

# Comprehensive windows (一窗受理) serve a group of related services; the rest are 专窗.
CITY_GROUPS: list[tuple[str, ...]] = [
    ("SB", "YB", "LDJY", "RC", "GJJ"),
    ("HJ", "CRJ", "MZ", "CJR", "TYJR"),
    ("JDC", "JSZ", "JT"),
    ("SW", "QYKB", "SCJG", "ZCDX"),
    ("BDC", "ZJ", "GS", "FLYZ"),
    ("WJ", "JY", "SD", "NY", "HB", "WH", "QWTB", "ZX"),
]


def _prefix(i: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I/O: they read as 1/0 on a ticket
    return letters[i] if i < len(letters) else letters[i // len(letters) - 1] + letters[i % 24]


def load_demo() -> dict[str, Any]:
    return tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))


def load_test_hall() -> dict[str, Any]:
    """The demo hall without quotas, ID cards, hours or the per-device issuing limit: every
    issue request is a ticket (16 load clients share one kiosk credential, which a real hall's
    anti-scalping limit would rightly stop)."""
    data = load_demo()
    data["hall"]["enforce_hours"] = False
    data.setdefault("security", {})["issue_per_device_per_minute"] = 0
    for svc in data["services"]:
        svc["daily_quota"] = 0
        svc["real_name"] = False
        svc["number_range"] = [1, 99999]
    return data


def city_hall(windows: int = 300, seed: int = 8) -> dict[str, Any]:
    """A 市民之家-sized hall: 30 services, `windows` windows (two thirds comprehensive)."""
    rng = random.Random(seed)
    data = load_demo()
    data["hall"]["name"] = "市民之家政务服务中心（模拟）"
    data["hall"]["enforce_hours"] = False
    data["services"] = [
        {
            "code": code,
            "name": name,
            "prefix": _prefix(i),
            "number_range": [1, 9999],
            "avg_service_min": minutes,
            "real_name": code in ("HJ", "CRJ", "SB", "GJJ", "BDC"),
        }
        for i, (code, name, minutes, _share) in enumerate(CITY_SERVICES)
    ]
    # Windows in proportion to the work each service brings (share × minutes).
    work = {code: share * minutes for code, _n, minutes, share in CITY_SERVICES}
    total = sum(work.values())
    out: list[dict[str, Any]] = []
    n_comprehensive = windows * 2 // 3
    group_work = [sum(work[c] for c in g) for g in CITY_GROUPS]
    gw_total = sum(group_work)
    for gi, group in enumerate(CITY_GROUPS):
        count = max(1, round(n_comprehensive * group_work[gi] / gw_total))
        for _ in range(count):
            favourite = rng.choice(group)
            out.append(
                {
                    "name": "综合窗口",
                    "services": {c: (2 if c == favourite else 1) for c in group},
                }
            )
    remaining = windows - len(out)
    # Dedicated windows in proportion to each service's work (largest remainder).
    quotas = {c: remaining * w / total for c, w in work.items()}
    counts = {c: int(q) for c, q in quotas.items()}
    for c in sorted(quotas, key=lambda c: quotas[c] - counts[c], reverse=True):
        if sum(counts.values()) >= remaining:
            break
        counts[c] += 1
    for code, name, *_ in CITY_SERVICES:
        out += [{"name": f"{name}专窗", "kind": "dedicated", "services": {code: 1}}] * counts[code]
    out = out[:windows]
    data["windows"] = [dict(w, no=i + 1) for i, w in enumerate(out)]
    parse_config(data, "generated city hall")  # fail here, not in the server, if it is wrong
    return data


def demand_shares(data: dict[str, Any]) -> dict[str, float]:
    """How arrivals split over services: the city's shares, else the daily quotas (demo)."""
    city = {code: share for code, _n, _m, share in CITY_SERVICES}
    codes = [s["code"] for s in data["services"]]
    if all(c in city for c in codes):
        return {c: city[c] for c in codes}
    return {s["code"]: float(s.get("daily_quota") or 100) for s in data["services"]}


# -- TOML output (the subset hall configs use) ------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dump_toml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for key, val in data.items():
        if isinstance(val, dict):
            scalars = {k: v for k, v in val.items() if not isinstance(v, dict)}
            lines.append(f"[{key}]")
            lines += [f"{k} = {_value(v)}" for k, v in scalars.items()]
            lines.append("")
            for sub, table in val.items():
                if isinstance(table, dict):
                    for name, inner in table.items():
                        lines.append(f"[{key}.{sub}.{name}]")
                        lines += [f"{k} = {_value(v)}" for k, v in inner.items()]
                        lines.append("")
        elif isinstance(val, list) and val and isinstance(val[0], dict):
            for item in val:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_value(v)}" for k, v in item.items()]
                lines.append("")
        else:
            lines.insert(0, f"{key} = {_value(val)}")
    return "\n".join(lines)


def write_toml(data: dict[str, Any], path: Path) -> Path:
    path.write_text(dump_toml(data), encoding="utf-8")
    return path
