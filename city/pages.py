"""The public pages, rendered on the server: plain HTML, one small inline stylesheet, a few
lines of script, no framework to download. Chinese first (`?lang=en` for English); large text
(适老化) with `?big=1` or the button, remembered by the browser."""

from __future__ import annotations

import html
from typing import Any

import orjson

from city.state import HallState

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "政务服务地图",
        "subtitle": "附近大厅 · 等候人数 · 办理进度",
        "near": "按距离",
        "wait": "按等候",
        "locate": "使用我的位置",
        "district": "选择区域",
        "all": "全部区域",
        "big": "大字",
        "small": "标准字",
        "lang": "English",
        "open": "办理中",
        "closed": "已停止取号",
        "offline": "暂时离线",
        "last_seen": "最后在线",
        "waiting": "等候",
        "people": "人",
        "minutes": "分钟",
        "no_wait": "无需等候",
        "windows": "个窗口",
        "no_window": "暂无窗口",
        "km": "公里",
        "hours": "办理时间",
        "none": "暂无大厅信息",
        "back": "返回大厅列表",
        "ticket": "我的号票",
        "ahead": "前面还有",
        "est": "预计等候",
        "status_waiting": "等候中",
        "status_called": "请到窗口办理",
        "status_no_show": "已过号",
        "status_done": "已办结",
        "status_cancelled": "已取消",
        "status_expired": "已失效",
        "window": "号窗口",
        "notify": "开启到号提醒",
        "notify_on": "已开启到号提醒",
        "near_title": "即将到号",
        "near_body": "前面还有 {n} 人，请回到大厅等候叫号",
        "rate": "请您评价本次服务",
        "levels": "非常不满意,不满意,基本满意,满意,非常满意",
        "reasons": "不满意的原因（请至少选一项）",
        "comment": "留言（选填）",
        "send": "提交评价",
        "sending": "正在提交……",
        "queued": "大厅暂时离线，评价已排队，恢复连接后送达（10 分钟内有效）",
        "thanks": "评价已提交，谢谢！",
        "rated": "本次服务已评价",
        "live": "实时更新",
        "lost": "连接中断，正在重连……",
        "not_found": "没有找到这张号票",
        "not_found_hint": "请核对二维码；号票只在取号当天可查。",
        "hall_missing": "没有这个大厅",
    },
    "en": {
        "title": "Service hall map",
        "subtitle": "Nearby halls · queues · your ticket",
        "near": "Nearest",
        "wait": "Shortest wait",
        "locate": "Use my location",
        "district": "District",
        "all": "All districts",
        "big": "Large text",
        "small": "Normal text",
        "lang": "中文",
        "open": "Open",
        "closed": "Closed",
        "offline": "Offline",
        "last_seen": "Last seen",
        "waiting": "Waiting",
        "people": "",
        "minutes": "min",
        "no_wait": "No wait",
        "windows": "windows",
        "no_window": "No window staffed",
        "km": "km",
        "hours": "Hours",
        "none": "No halls yet",
        "back": "All halls",
        "ticket": "My ticket",
        "ahead": "Ahead of you",
        "est": "Estimated wait",
        "status_waiting": "Waiting",
        "status_called": "Please go to the window",
        "status_no_show": "Missed",
        "status_done": "Done",
        "status_cancelled": "Cancelled",
        "status_expired": "Expired",
        "window": "Window ",
        "notify": "Alert me when my turn is near",
        "notify_on": "Alert on",
        "near_title": "Your turn is near",
        "near_body": "{n} ahead of you: please come back to the hall",
        "rate": "Please rate this service",
        "levels": "Very poor,Poor,Fair,Good,Very good",
        "reasons": "What went wrong (choose at least one)",
        "comment": "Comment (optional)",
        "send": "Send",
        "sending": "Sending…",
        "queued": "The hall is offline; your rating is queued (valid 10 minutes)",
        "thanks": "Thank you, your rating was sent.",
        "rated": "Already rated",
        "live": "Live",
        "lost": "Reconnecting…",
        "not_found": "Ticket not found",
        "not_found_hint": "Check the QR code; a ticket can be looked up on its day only.",
        "hall_missing": "No such hall",
    },
}

CSS = """
:root{--fg:#1a1a1a;--mut:#555;--bg:#f4f6f8;--card:#fff;--ok:#0a7d32;--bad:#b3261e;--acc:#0b57d0}
*{box-sizing:border-box}[hidden]{display:none!important}html{font-size:17px}html.big{font-size:23px}
body{margin:0;font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
color:var(--fg);background:var(--bg);line-height:1.45}
header{background:var(--acc);color:#fff;padding:.7rem .9rem}
header h1{font-size:1.3rem;margin:0}header p{margin:.1rem 0 0;font-size:.85rem;opacity:.9}
nav{display:flex;flex-wrap:wrap;gap:.4rem;padding:.6rem .9rem}
nav a,nav button,nav select{font:inherit;font-size:.9rem;padding:.45rem .7rem;border-radius:.5rem;
border:1px solid #c5ccd6;background:#fff;color:var(--fg);text-decoration:none;min-height:2.4rem}
nav a.on{background:var(--acc);color:#fff;border-color:var(--acc)}
main{padding:0 .9rem 2rem}
.card{background:var(--card);border-radius:.7rem;padding:.8rem;margin:.6rem 0;
box-shadow:0 1px 2px #0002}
.card h2{font-size:1.1rem;margin:0 0 .2rem}.card h2 a{color:var(--fg);text-decoration:none}
.meta{color:var(--mut);font-size:.85rem}.tag{display:inline-block;font-size:.8rem;
padding:0 .4rem;border-radius:.3rem;margin-right:.3rem}
.tag.ok{background:#dff3e4;color:var(--ok)}.tag.no{background:#eee;color:var(--mut)}
.tag.off{background:#fde7e6;color:var(--bad)}
table{width:100%;border-collapse:collapse;margin-top:.4rem;font-size:.9rem}
td{padding:.25rem .2rem .25rem 0;border-top:1px solid #eee;vertical-align:top;overflow-wrap:anywhere}
td.n{text-align:right}td.w{white-space:nowrap}
.big-no{font-size:3rem;font-weight:700;text-align:center;margin:.2rem 0;letter-spacing:.05em}
.state{text-align:center;font-size:1.3rem;font-weight:600}.state.called{color:var(--ok)}
.kv{display:flex;justify-content:space-between;padding:.35rem 0;border-top:1px solid #eee}
.kv b{font-size:1.2rem}button.main{width:100%;font:inherit;font-size:1.05rem;padding:.7rem;
border:0;border-radius:.6rem;background:var(--acc);color:#fff;margin-top:.6rem;min-height:3rem}
.levels{display:flex;flex-direction:column;gap:.4rem}
.levels label{border:1px solid #c5ccd6;border-radius:.5rem;text-align:center;padding:.7rem .5rem;
font-size:1.05rem}.levels input{display:none}.levels input:checked+span{font-weight:700;color:var(--acc)}
.levels label:has(input:checked){border-color:var(--acc);background:#e8f0fe}
textarea{width:100%;font:inherit;min-height:4rem}.msg{margin-top:.5rem;font-weight:600}
.msg.bad{color:var(--bad)}.msg.good{color:var(--ok)}.live{font-size:.8rem;color:var(--mut);text-align:center}
"""

BIG_SCRIPT = """<script>
(function(){var d=document.documentElement,q=new URLSearchParams(location.search);
if(q.get('big')==='1')localStorage.setItem('big','1');if(q.get('big')==='0')localStorage.removeItem('big');
if(localStorage.getItem('big')==='1')d.classList.add('big');})();
function toggleBig(){var d=document.documentElement;d.classList.toggle('big');
if(d.classList.contains('big'))localStorage.setItem('big','1');else localStorage.removeItem('big');}
</script>"""


def esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def page(lang: str, title: str, body: str, *, script: str = "") -> str:
    t = TEXT[lang]
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · {esc(t['title'])}</title><style>{CSS}</style>{BIG_SCRIPT}"
        f"</head><body>{body}{script}</body></html>"
    )


def wait_text(t: dict[str, str], waiting: int, low: float, high: float) -> str:
    if waiting == 0 and high <= 0:
        return t["no_wait"]
    return f"{int(low)}–{int(high)} {t['minutes']}"


# The services table of a hall's card, by (status object, language): rendered once per status
# message, not once per phone (weak: it goes with the status it was made from).
_ROWS: dict[tuple[int, str], tuple[Any, str]] = {}


def _service_rows(h: HallState, t: dict[str, str], lang: str) -> str:
    s = h.status or {}
    key = (id(s), lang)
    hit = _ROWS.get(key)
    if hit is not None and hit[0] is s:
        return hit[1]
    rows = []
    for svc in s.get("services", []):
        name = svc.get("name_en") if lang == "en" and svc.get("name_en") else svc["name"]
        if not svc["open"]:
            right = t["closed"]
        elif not svc["staffed_windows"]:
            right = t["no_window"]
        else:
            right = wait_text(t, svc["waiting"], svc["wait_low_min"], svc["wait_high_min"])
        rows.append(
            f"<tr><td>{esc(name)}</td><td class='n w'>{t['waiting']} {int(svc['waiting'])}"
            f"{t['people']}</td><td class=n>{esc(right)}</td></tr>"
        )
    html = "".join(rows)
    if len(_ROWS) > 20000:
        _ROWS.clear()
    _ROWS[key] = (s, html)
    return html


def _hall_card(h: HallState, t: dict[str, str], lang: str, dist: float | None, q: str) -> str:
    s = h.status or {}
    tags = []
    if not h.online:
        seen = (h.last_seen or "")[:16].replace("T", " ")
        tags.append(f'<span class="tag off">{t["offline"]}</span>')
        tags.append(f'<span class="meta">{t["last_seen"]} {esc(seen)}</span>')
    tags.append(
        f'<span class="tag ok">{t["open"]}</span>'
        if s.get("open_now")
        else f'<span class="tag no">{t["closed"]}</span>'
    )
    where = " · ".join(
        esc(x)
        for x in (
            s.get("district"),
            s.get("address"),
            f"{dist:.1f} {t['km']}" if dist is not None else "",
        )
        if x
    )
    table = _service_rows(h, t, lang)
    return (
        f'<section class="card" data-hall="{esc(h.hall_id)}"><h2><a href="/h/{esc(h.hall_id)}{q}">'
        f"{esc(s.get('name', h.hall_id))}</a></h2><div class=meta>{where}</div>"
        f"<div>{''.join(tags)}</div><table>{table}</table></section>"
    )


def hall_list(
    lang: str,
    halls: list[tuple[HallState, float | None]],
    districts: list[str],
    sort: str,
    district: str,
    big: bool,
) -> str:
    t = TEXT[lang]
    q = "?lang=en" if lang == "en" else ""
    other = "zh" if lang == "en" else "en"
    opts = "".join(
        f'<option value="{esc(d)}"{" selected" if d == district else ""}>{esc(d)}</option>'
        for d in districts
    )
    nav = (
        f'<nav><a class="{"on" if sort == "distance" else ""}" href="#" id="near">{t["near"]}</a>'
        f'<a class="{"on" if sort == "wait" else ""}" href="?sort=wait&lang={lang}">{t["wait"]}</a>'
        f'<select id="district" aria-label="{t["district"]}"><option value="">{t["all"]}</option>'
        f"{opts}</select>"
        f'<button type="button" onclick="toggleBig()">{t["big"]}</button>'
        f'<a href="?lang={other}">{t["lang"]}</a></nav>'
    )
    cards = "".join(_hall_card(h, t, lang, d, q) for h, d in halls) or f"<p>{t['none']}</p>"
    script = (
        "<script>var L='" + lang + "';"
        "document.getElementById('near').onclick=function(e){e.preventDefault();"
        "if(!navigator.geolocation){location.search='?sort=distance&lang='+L;return;}"
        "navigator.geolocation.getCurrentPosition(function(p){location.search='?sort=distance&lat='"
        "+p.coords.latitude.toFixed(4)+'&lon='+p.coords.longitude.toFixed(4)+'&lang='+L;},"
        "function(){document.getElementById('district').focus();},{timeout:8000});};"
        "document.getElementById('district').onchange=function(){location.search="
        "'?sort=distance&district='+encodeURIComponent(this.value)+'&lang='+L;};</script>"
    )
    body = f"<header><h1>{t['title']}</h1><p>{t['subtitle']}</p></header>{nav}<main>{cards}</main>"
    return page(lang, t["title"], body, script=script)


def hall_page(lang: str, h: HallState) -> str:
    t = TEXT[lang]
    s = h.status or {}
    q = "?lang=en" if lang == "en" else ""
    card = _hall_card(h, t, lang, None, q)
    hours = "、".join(esc(x) for x in s.get("hours", []))
    body = (
        f"<header><h1>{esc(s.get('name', h.hall_id))}</h1><p>{t['hours']} {hours}</p></header>"
        f'<nav><a href="/{q}">{t["back"]}</a><button type="button" onclick="toggleBig()">'
        f"{t['big']}</button></nav><main>{card}</main>"
    )
    return page(lang, str(s.get("name", h.hall_id)), body)


def not_found(lang: str, title_key: str = "not_found") -> str:
    t = TEXT[lang]
    body = (
        f"<header><h1>{t[title_key]}</h1></header><main><section class=card>"
        f'<p>{t["not_found_hint"]}</p><p><a href="/">{t["back"]}</a></p></section></main>'
    )
    return page(lang, t[title_key], body)


def ticket_page(
    lang: str, hall_id: str, code: str, ticket: dict[str, Any], hall: HallState | None, near: int
) -> str:
    t = TEXT[lang]
    s = (hall.status if hall else None) or {}
    reasons = s.get("rating_reasons") or []
    reason_boxes = "".join(
        f'<label><input type="checkbox" name="reason" value="{esc(r["code"])}"> {esc(r["label"])}'
        "</label><br>"
        for r in reasons
        if isinstance(r, dict) and "code" in r and "label" in r
    )
    levels = "".join(
        f'<label><input type="radio" name="level" value="{i + 1}"><span>{esc(name)}</span></label>'
        for i, name in enumerate(t["levels"].split(","))
    )
    boot = (
        orjson.dumps(
            {"t": ticket, "hall": hall_id, "code": code, "lang": lang, "near": near, "text": t}
        )
        .decode()
        .replace("</", "<\\/")
    )
    body = f"""<header><h1>{esc(s.get("name", t["ticket"]))}</h1><p>{t["ticket"]}</p></header>
<nav><a href="/h/{esc(hall_id)}{"?lang=en" if lang == "en" else ""}">{t["back"]}</a>
<button type="button" onclick="toggleBig()">{t["big"]}</button>
<a href="?lang={"zh" if lang == "en" else "en"}">{t["lang"]}</a></nav>
<main><section class=card><div class=meta id=svc></div><div class=big-no id=no></div>
<div class=state id=st></div>
<div class=kv id=row-ahead><span>{t["ahead"]}</span><b id=ahead></b></div>
<div class=kv id=row-est><span>{t["est"]}</span><b id=est></b></div>
<button class=main id=notify type=button>{t["notify"]}</button>
<p class=live id=live>{t["live"]}</p></section>
<section class=card id=rate hidden><h2>{t["rate"]}</h2><form id=rf>
<div class=levels>{levels}</div><div id=why hidden><p>{t["reasons"]}</p>{reason_boxes}</div>
<p>{t["comment"]}</p><textarea name=comment maxlength=500></textarea>
<button class=main type=submit>{t["send"]}</button><div class=msg id=rmsg></div></form></section>
<section class=card id=rated hidden><p class="msg good" id=ratedmsg>{t["rated"]}</p></section>
</main>"""
    script = "<script>var B=" + boot + ";</script><script>" + TICKET_JS + "</script>"
    return page(lang, ticket.get("number", t["ticket"]), body, script=script)


TICKET_JS = r"""
(function(){
var T=B.text,t=B.t,alerted=false,thanked=false,$=function(i){return document.getElementById(i)};
var base='/h/'+B.hall+'/t/'+B.code;
function show(x){t=x;$('svc').textContent=x.service_name||x.service;$('no').textContent=x.number;
var st=T['status_'+x.status]||x.status;if(x.status==='called'&&x.window!=null)
st=T.status_called+' · '+(B.lang==='en'?T.window+x.window:x.window+T.window);
$('st').textContent=st;$('st').className='state '+x.status;var w=x.status==='waiting';
$('row-ahead').hidden=!w;$('row-est').hidden=!w;$('notify').hidden=!w;
$('ahead').textContent=x.ahead+(B.lang==='en'?'':' 人');
$('est').textContent=(x.ahead===0&&x.wait_high_min<=0)?T.no_wait:
 Math.floor(x.wait_low_min)+'–'+Math.floor(x.wait_high_min)+' '+T.minutes;
$('rate').hidden=!x.rateable;$('rated').hidden=!x.rated_level||!!x.rateable;
if(x.rated_level&&!thanked)$('ratedmsg').textContent=T.rated+'：'+T.levels.split(',')[x.rated_level-1];
if(w&&x.ahead<=B.near&&!alerted){alerted=true;near(x);}}
function near(x){if(!('Notification' in window)||Notification.permission!=='granted')return;
try{new Notification(T.near_title,{body:T.near_body.replace('{n}',x.ahead),tag:B.code});}catch(e){}}
$('notify').onclick=function(){if(!('Notification' in window))return;
Notification.requestPermission().then(function(p){if(p==='granted'){$('notify').textContent=T.notify_on;
if(t.status==='waiting'&&t.ahead<=B.near)near(t);}});};
if('Notification' in window&&Notification.permission==='granted')$('notify').textContent=T.notify_on;
show(t);
if(window.EventSource){var es=new EventSource(base+'/events');
es.onmessage=function(e){$('live').textContent=T.live;show(JSON.parse(e.data));};
es.onerror=function(){$('live').textContent=T.lost;};}
var form=$('rf');form.onchange=function(){var l=form.querySelector('input[name=level]:checked');
$('why').hidden=!(l&&+l.value<=2);};
function rid(){var k='rid-'+B.code,v=localStorage.getItem(k);if(!v){var a=new Uint8Array(12);
crypto.getRandomValues(a);v=Array.from(a,function(b){return('0'+b.toString(16)).slice(-2)}).join('');
localStorage.setItem(k,v);}return v;}
function answer(a){var m=$('rmsg');if(a.ok){m.className='msg good';m.textContent=T.thanks;
thanked=true;$('ratedmsg').textContent=T.thanks+'（'+a.level_label+'）';
form.querySelector('button').disabled=true;}else if(a.pending){m.className='msg';m.textContent=T.queued;
setTimeout(poll,3000);}else{m.className='msg bad';m.textContent=a.message||a.code;
localStorage.removeItem('rid-'+B.code);}}
function poll(){fetch('/api/v1/requests/'+rid()).then(function(r){return r.json()}).then(answer);}
form.onsubmit=function(e){e.preventDefault();var l=form.querySelector('input[name=level]:checked');
if(!l)return;var rs=Array.from(form.querySelectorAll('input[name=reason]:checked'),function(x){return x.value});
$('rmsg').className='msg';$('rmsg').textContent=T.sending;
fetch(base+'/rate',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(
{request_id:rid(),level:+l.value,reasons:rs,comment:form.comment.value})}).then(function(r){
return r.json()}).then(answer).catch(function(){$('rmsg').textContent=T.lost;});};
})();
"""
