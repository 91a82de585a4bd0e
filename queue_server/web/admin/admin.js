// 管理后台: plain JavaScript, no build step. Talks only to /api/v1 (see docs/ADMIN.md).
"use strict";

const API = "/api/v1";
const S = { token: sessionStorage.getItem("admin_token") || "", cfg: null, version: 0, tab: "", es: null };
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const main = () => $("#main");

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function fmt(v, digits = 1) {
  if (v === null || v === undefined || v === "") return "—";
  return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : esc(v);
}
function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
function today() {
  const d = new Date(Date.now() + 8 * 3600e3); // the hall's day (Asia/Shanghai) until /hall says otherwise
  return S.businessDay || d.toISOString().slice(0, 10);
}

function toast(msg, err = false) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "toast" + (err ? " err" : "");
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, err ? 6000 : 3500);
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + S.token } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(API + path, opts);
  if (r.status === 401) { logout(); throw new Error("登录已失效，请重新登录"); }
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error((data && data.error && data.error.message) || "请求失败 " + r.status);
  return data;
}
async function guarded(fn) {
  try { return await fn(); } catch (e) { toast(e.message, true); return undefined; }
}

// -- login --------------------------------------------------------------------------------
function showLogin() { $("#app").hidden = true; $("#login").hidden = false; }
function logout() {
  if (S.token) fetch(API + "/logout", { method: "POST", headers: { Authorization: "Bearer " + S.token } }).catch(() => {});
  S.token = ""; sessionStorage.removeItem("admin_token");
  if (S.es) { S.es.close(); S.es = null; }
  showLogin();
}
$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $("#login-error").textContent = "";
  const r = await fetch(API + "/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: f.get("username"), password: f.get("password") }),
  });
  const data = await r.json();
  if (!r.ok) { $("#login-error").textContent = data.error ? data.error.message : "登录失败"; return; }
  if (data.role !== "admin") { $("#login-error").textContent = "需要管理员账号才能进入管理后台"; return; }
  S.token = data.token; sessionStorage.setItem("admin_token", data.token);
  sessionStorage.setItem("admin_name", data.name);
  start();
});
$("#logout").addEventListener("click", logout);

async function start() {
  const me = await fetch(API + "/me", { headers: { Authorization: "Bearer " + S.token } });
  if (!me.ok) { showLogin(); return; }
  const who = await me.json();
  if (who.role !== "admin") { showLogin(); return; }
  $("#login").hidden = true; $("#app").hidden = false;
  $("#who").textContent = who.name;
  await loadConfig();
  const hall = await api("GET", "/hall");
  S.businessDay = hall.business_day;
  $("#hall-name").textContent = hall.name + " · 管理后台";
  $("#hall-day").textContent = "营业日 " + hall.business_day;
  document.title = "管理后台 · " + hall.name;
  connectEvents();
  route();
}

// -- live events: refresh what is on screen -------------------------------------------------
function connectEvents() {
  if (S.es) S.es.close();
  S.es = new EventSource(API + "/events?access_token=" + encodeURIComponent(S.token));
  S.es.onopen = () => $("#live-dot").classList.add("on");
  S.es.onerror = () => $("#live-dot").classList.remove("on");
  const refresh = () => {
    clearTimeout(connectEvents.timer);
    connectEvents.timer = setTimeout(() => { if (S.tab === "floor") renderFloor(); }, 400);
  };
  ["ticket.issued", "ticket.called", "ticket.finished", "ticket.skipped", "ticket.transferred",
    "window.paused", "window.resumed", "window.opened", "window.closed"].forEach((t) => S.es.addEventListener(t, refresh));
  S.es.addEventListener("config.changed", async (ev) => {
    const d = JSON.parse(ev.data);
    if (d.version !== S.version && !S.saving) { await loadConfig(); toast("配置已更新（版本 " + d.version + "，" + d.by + "）"); }
  });
  S.es.addEventListener("followup.opened", () => { if (S.tab === "ratings") renderRatings(); });
}
setInterval(() => { if (S.tab === "floor" && !document.hidden && S.token) renderFloor(); }, 15000);

async function loadConfig() {
  const snap = await api("GET", "/admin/config");
  S.cfg = snap.config; S.version = snap.version;
}

// Change the live configuration: mutate a copy, PUT it with the version it was based on.
async function saveConfig(mutate, what) {
  const cfg = structuredClone(S.cfg);
  mutate(cfg);
  S.saving = true;
  const res = await guarded(() => api("PUT", "/admin/config", { config: cfg, version: S.version }));
  if (res) await loadConfig();
  S.saving = false;
  if (!res) return false;
  toast(res.changes.length ? `${what}已生效（${res.changes.length} 项变更，配置版本 ${res.version}）` : "没有变更");
  return true;
}

// -- routing between tabs -------------------------------------------------------------------
const TABS = {};
function route() {
  const tab = (location.hash || "#floor").slice(1);
  S.tab = TABS[tab] ? tab : "floor";
  $$("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === S.tab));
  closeModal();
  $("#toast").hidden = true;
  guarded(() => TABS[S.tab]());
}
window.addEventListener("hashchange", route);

function openModal(html) { $("#modal-body").innerHTML = html; $("#modal").hidden = false; }
function closeModal() { $("#modal").hidden = true; $("#modal-body").innerHTML = ""; }
$("#modal").addEventListener("click", (ev) => { if (ev.target.id === "modal") closeModal(); });
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeModal(); });

// -- charts: small inline SVG, drawn here ---------------------------------------------------
const COLORS = ["#1d5fbf", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];
function barChart(labels, series, opts = {}) {
  const W = opts.width || 620, H = opts.height || 220, L = 44, B = 42, T = 14, R = 10;
  const max = Math.max(1, opts.max || 0, ...series.flatMap((s) => s.values.map((v) => v || 0)), opts.line || 0);
  const nice = niceMax(max);
  const iw = W - L - R, ih = H - T - B;
  const gw = iw / Math.max(1, labels.length), bw = Math.max(3, Math.min(28, (gw * 0.75) / series.length));
  let g = "";
  for (let i = 0; i <= 4; i++) {
    const y = T + ih - (ih * i) / 4, v = (nice * i) / 4;
    g += `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`;
    g += `<text x="${L - 6}" y="${y + 4}" text-anchor="end">${opts.percent ? Math.round(v * 100) + "%" : +v.toFixed(2)}</text>`;
  }
  labels.forEach((lab, i) => {
    const x0 = L + gw * i + (gw - bw * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const h = (ih * v) / nice, x = x0 + j * bw, y = T + ih - h;
      g += `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color || COLORS[j]}" rx="2"><title>${esc(lab)} ${esc(s.name)}：${opts.percent ? pct(v) : fmt(v)}</title></rect>`;
      if (labels.length <= 12 && series.length <= 2) {
        g += `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle">${opts.percent ? Math.round(v * 100) + "%" : fmt(v)}</text>`;
      }
    });
    const lx = L + gw * i + gw / 2;
    g += `<text x="${lx.toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${esc(String(lab).slice(0, 8))}</text>`;
  });
  if (opts.line) {
    const y = T + ih - (ih * opts.line) / nice;
    g += `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#c62828" stroke-dasharray="5 4"/><text x="${W - R}" y="${y - 4}" text-anchor="end" fill="#c62828">${esc(opts.lineLabel || "")}</text>`;
  }
  g += `<line x1="${L}" x2="${W - R}" y1="${T + ih}" y2="${T + ih}" stroke="#9ca3af"/>`;
  const legend = series.map((s, j) => `<span><i style="background:${s.color || COLORS[j]}"></i>${esc(s.name)}</span>`).join("");
  return `<div class="legend">${legend}</div><svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title || "图表")}">${g}</svg>`;
}
function niceMax(v) {
  // Four grid steps of a round size (1, 2, 2.5 or 5 × 10^k) that cover v.
  const raw = v / 4, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return 4 * m * p;
  return 40 * p;
}

// -- 实时监控 ------------------------------------------------------------------------------
TABS.floor = renderFloor;
async function renderFloor() {
  const f = await api("GET", "/admin/floor");
  if (S.tab !== "floor") return;
  const waiting = f.services.reduce((a, s) => a + s.waiting, 0);
  const open = f.windows.filter((w) => w.status === "open" && w.staffed !== false).length;
  const busy = f.windows.filter((w) => w.serving).length;
  const longest = Math.max(0, ...f.services.map((s) => s.longest_wait_min || 0));
  const served = f.windows.reduce((a, w) => a + w.served_today, 0);
  const alerts = f.alerts.length
    ? f.alerts.map((a) => `<div class="alert"><strong>预警</strong> ${esc(a.text)}
        ${a.suggest_windows.filter((w) => w.serves && !w.unstaffed).map((w) => `<button class="small" data-open="${w.no}">开启 ${w.no} 号窗口</button>`).join(" ")}</div>`).join("")
    : `<div class="alert calm">各事项排队正常（阈值：每个开放窗口 ${f.thresholds.per_window} 人，预计等候 ${f.thresholds.wait_min} 分钟）</div>`;
  const tiles = f.windows.map((w) => {
    const cls = w.status !== "open" ? w.status : w.serving ? "busy" : "open";
    const state = w.status === "closed" ? '<span class="tag off">已关闭</span>'
      : w.status === "paused" ? '<span class="tag warn">暂停</span>'
        : w.serving ? '<span class="tag info">办理中</span>'
          : w.staffed === false ? '<span class="tag off">无人在岗</span>' : '<span class="tag ok">空闲</span>';
    const line = w.serving ? `办理 <b>${esc(w.serving.number)}</b> · ${fmt(w.serving.minutes)} 分`
      : w.status === "open" ? `空闲 ${fmt(w.idle_min)} 分钟` : `自 ${esc((w.status_since || "").slice(11, 16))}`;
    return `<div class="tile ${cls}" data-window="${w.no}"><div class="row"><span class="no">${w.no} 号</span>${state}</div>
      <div class="line muted">${esc(w.name || w.kind_label)}${w.staff ? " · " + esc(w.staff) : ""}</div>
      <div class="line">${line}</div><div class="line muted">今日办结 ${w.served_today}</div></div>`;
  }).join("");
  const rows = f.services.map((s) => `<tr><td>${esc(s.name)} <span class="muted">${esc(s.code)}</span></td>
      <td class="num">${s.waiting}</td><td class="num">${fmt(s.longest_wait_min)}</td>
      <td class="num">${s.open_windows.length}</td><td class="num">${fmt(s.per_window)}</td>
      <td class="num">${s.waiting ? s.wait_estimate.low_min + "–" + s.wait_estimate.high_min : "—"}</td></tr>`).join("");
  main().innerHTML = `<h2>实时监控 <span class="muted" style="font-size:13px;font-weight:normal">${esc(f.now.slice(11, 19))} 更新</span></h2>
    <div class="kpis">
      <div class="kpi"><div class="v">${waiting}</div><div class="l">等候人数</div></div>
      <div class="kpi"><div class="v">${open}/${f.windows.length}</div><div class="l">开放窗口</div></div>
      <div class="kpi"><div class="v">${busy}</div><div class="l">正在办理</div></div>
      <div class="kpi"><div class="v">${fmt(longest)}</div><div class="l">最长等候（分钟）</div></div>
      <div class="kpi"><div class="v">${served}</div><div class="l">今日办结</div></div>
      <div class="kpi"><div class="v">${f.alerts.length}</div><div class="l">预警</div></div>
    </div>
    ${alerts}<div id="floor-devices"></div>
    <div class="cols floor">
      <div class="card"><h3 style="margin-top:0">各事项排队</h3>
        ${barChart(f.services.map((s) => s.name.replace(/业务$/, "")), [{ name: "等候人数", values: f.services.map((s) => s.waiting) }], { height: 180, title: "各事项等候人数" })}
        <table><thead><tr><th>事项</th><th class="num">等候</th><th class="num">最长等候(分)</th><th class="num">开放窗口</th><th class="num">每窗口人数</th><th class="num">预计等候(分)</th></tr></thead><tbody>${rows}</tbody></table>
      </div>
      <div class="card"><h3 style="margin-top:0">窗口状态</h3><div class="tiles">${tiles}</div></div>
    </div>`;
  floorDevices().catch(() => {});
  $$("[data-open]").forEach((b) => b.addEventListener("click", () => guarded(async () => {
    await api("POST", `/windows/${b.dataset.open}/open`);
    toast(`${b.dataset.open} 号窗口已开启`);
    renderFloor();
  })));
}

// Devices needing attention (a display whose sound the browser blocks, a kiosk out of paper):
// one line each on the floor, from the same list as 设备管理.
async function floorDevices() {
  const list = await api("GET", "/admin/devices");
  const box = $("#floor-devices");
  if (!box || S.tab !== "floor") return;
  box.innerHTML = list.filter((d) => d.level === "warn" || d.level === "error")
    .map((d) => `<div class="alert" data-device="${esc(d.name)}"><strong>设备</strong> ${esc(d.summary)}</div>`).join("");
}

// -- 统计报表 ------------------------------------------------------------------------------
const DIMS = { hour: "按时段", day: "按日期", service: "按事项", window: "按窗口", staff: "按人员" };
TABS.reports = async function renderReports() {
  const q = S.reportQuery || { day_from: today(), day_to: today(), by: "hour" };
  S.reportQuery = q;
  main().innerHTML = `<h2>统计报表 <span class="muted" style="font-size:13px;font-weight:normal">由事件记录计算，可审计、可重算</span></h2>
    <div class="card row" id="report-form">
      <label>开始 <input type="date" name="day_from" value="${esc(q.day_from)}"></label>
      <label>结束 <input type="date" name="day_to" value="${esc(q.day_to)}"></label>
      <label>分组 <select name="by">${Object.entries(DIMS).map(([k, v]) => `<option value="${k}" ${k === q.by ? "selected" : ""}>${v}</option>`).join("")}</select></label>
      <button class="primary" id="report-go">查询</button>
      <button id="report-csv">导出 CSV</button>
    </div>
    <div id="report-body"></div>`;
  const read = () => Object.fromEntries($$("#report-form [name]").map((i) => [i.name, i.value]));
  $("#report-go").addEventListener("click", () => { S.reportQuery = read(); drawReport(); });
  $("#report-csv").addEventListener("click", () => guarded(async () => {
    const p = new URLSearchParams(read());
    const r = await fetch(`${API}/admin/reports.csv?${p}`, { headers: { Authorization: "Bearer " + S.token } });
    if (!r.ok) throw new Error("导出失败");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `效能报表-${p.get("by")}-${p.get("day_from")}.csv`;
    a.click();
  }));
  await drawReport();
};
async function drawReport() {
  const q = S.reportQuery;
  const data = await api("GET", "/admin/reports?" + new URLSearchParams(q));
  const rows = data.rows.filter((r) => r.key !== "合计");
  const total = data.rows[data.rows.length - 1];
  const labels = rows.map((r) => r.label);
  const table = data.rows.map((r) => `<tr${r.key === "合计" ? ' style="font-weight:600"' : ""}><td>${esc(r.label)}</td>
    <td class="num">${r.tickets}</td><td class="num">${r.done}</td><td class="num">${fmt(r.wait_mean)}</td><td class="num">${fmt(r.wait_median)}</td><td class="num">${fmt(r.wait_p90)}</td>
    <td class="num">${fmt(r.service_mean)}</td><td class="num">${fmt(r.service_median)}</td><td class="num">${fmt(r.service_p90)}</td>
    <td class="num">${pct(r.no_show_rate)}</td><td class="num">${r.transfers}</td><td class="num">${r.ratings}</td><td class="num">${pct(r.satisfaction)}</td></tr>`).join("");
  $("#report-body").innerHTML = `
    <div class="kpis">
      <div class="kpi"><div class="v">${total.tickets}</div><div class="l">取号</div></div>
      <div class="kpi"><div class="v">${total.done}</div><div class="l">办结</div></div>
      <div class="kpi"><div class="v">${fmt(total.wait_median)}</div><div class="l">等候中位数（分）</div></div>
      <div class="kpi"><div class="v">${fmt(total.wait_p90)}</div><div class="l">等候 90 分位（分）</div></div>
      <div class="kpi"><div class="v">${pct(total.no_show_rate)}</div><div class="l">过号率</div></div>
      <div class="kpi"><div class="v">${pct(total.satisfaction)}</div><div class="l">好评率（${total.ratings} 条评价）</div></div>
    </div>
    ${rows.length ? `<div class="cols">
      <div class="card"><h3 style="margin-top:0">取号与办结</h3>${barChart(labels, [{ name: "取号", values: rows.map((r) => r.tickets) }, { name: "办结", values: rows.map((r) => r.done), color: "#10b981" }], { title: "取号与办结" })}</div>
      <div class="card"><h3 style="margin-top:0">等候时间（分钟）</h3>${barChart(labels, [{ name: "中位数", values: rows.map((r) => r.wait_median) }, { name: "90 分位", values: rows.map((r) => r.wait_p90) }], { title: "等候时间", line: S.cfg.oversight.wait_alert_min, lineLabel: "预警线" })}</div>
      <div class="card"><h3 style="margin-top:0">办理时长（分钟）</h3>${barChart(labels, [{ name: "平均", values: rows.map((r) => r.service_mean), color: "#8b5cf6" }, { name: "90 分位", values: rows.map((r) => r.service_p90), color: "#f59e0b" }], { title: "办理时长" })}</div>
      <div class="card"><h3 style="margin-top:0">好评率</h3>${barChart(labels, [{ name: "好评率", values: rows.map((r) => r.satisfaction), color: "#10b981" }], { title: "好评率", percent: true, max: 1 })}</div>
    </div>` : '<div class="card muted">所选日期没有记录</div>'}
    <div class="card"><div class="scroll"><table><thead><tr><th>${DIMS[q.by].slice(1)}</th><th class="num">取号</th><th class="num">办结</th>
      <th class="num">平均等候</th><th class="num">等候中位数</th><th class="num">等候90分位</th><th class="num">平均办理</th><th class="num">办理中位数</th><th class="num">办理90分位</th>
      <th class="num">过号率</th><th class="num">转移</th><th class="num">评价数</th><th class="num">好评率</th></tr></thead><tbody>${table}</tbody></table></div>
      <p class="muted">时间单位：分钟。等候 = 首次叫号 − 取号；办理 = 办结 − 最后一次叫号；90 分位按相邻秩线性插值；好评率 = 基本满意及以上 / 全部评价。共回放 ${data.events} 条事件。</p></div>`;
}

// -- 好差评: ratings and follow-up cases ----------------------------------------------------
const LEVELS = { 5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意" };
const CHANNELS = { window: "窗口评价器", kiosk: "自助终端", qr: "扫码评价" };
const RESULTS = { satisfied: "满意", unsatisfied: "不满意", unreachable: "未联系上" };
TABS.ratings = renderRatings;
async function renderRatings() {
  const q = S.ratingQuery || { day_from: today(), day_to: today(), service: "", window: "", staff: "", level: "", channel: "" };
  S.ratingQuery = q;
  const cases = await api("GET", "/admin/cases");
  const active = cases.filter((c) => c.status !== "closed");
  const overdue = active.filter((c) => c.overdue).length;
  const opt = (list, cur) => list.map(([v, l]) => `<option value="${esc(v)}" ${String(v) === String(cur) ? "selected" : ""}>${esc(l)}</option>`).join("");
  main().innerHTML = `<h2>评价与差评工单</h2>
    <div class="card"><h3 style="margin-top:0">差评工单 <span class="tag ${overdue ? "bad" : "ok"}">${overdue} 件超期</span>
      <span class="tag info">${active.length} 件未办结</span></h3>
      <div class="row" style="margin-bottom:8px"><label><input type="checkbox" id="show-closed"> 显示已办结</label>
      <span class="muted">差评（不满意、非常不满意）自动生成工单；期限 ${S.cfg.followup.deadline_working_days} 个工作日；未回访不能办结。</span></div>
      <div class="scroll" style="max-height:260px"><table id="cases"><thead><tr><th>工单</th><th>号票</th><th>事项</th><th>窗口</th><th>人员</th><th>评价</th><th>原因</th><th>状态</th><th>回访人</th><th>期限</th></tr></thead><tbody></tbody></table></div></div>
    <div class="card"><h3 style="margin-top:0">评价记录</h3>
      <div class="row" id="rating-form">
        <label>开始 <input type="date" name="day_from" value="${esc(q.day_from)}"></label>
        <label>结束 <input type="date" name="day_to" value="${esc(q.day_to)}"></label>
        <label>事项 <select name="service"><option value="">全部</option>${opt(S.cfg.services.map((s) => [s.code, s.name]), q.service)}</select></label>
        <label>窗口 <select name="window"><option value="">全部</option>${opt(S.cfg.windows.map((w) => [w.no, w.no + " 号"]), q.window)}</select></label>
        <label>人员 <input name="staff" size="6" value="${esc(q.staff)}"></label>
        <label>等级 <select name="level"><option value="">全部</option>${opt(Object.entries(LEVELS).reverse(), q.level)}</select></label>
        <label>渠道 <select name="channel"><option value="">全部</option>${opt(Object.entries(CHANNELS), q.channel)}</select></label>
        <button class="primary" id="rating-go">筛选</button>
      </div>
      <div class="scroll" style="margin-top:8px;max-height:300px"><table id="ratings"><thead><tr><th>时间</th><th>号票</th><th>事项</th><th>窗口</th><th>人员</th><th>渠道</th><th>评价</th><th>原因与留言</th><th>工单</th></tr></thead><tbody></tbody></table></div></div>`;
  const drawCases = () => {
    const list = $("#show-closed").checked ? cases : active;
    $("#cases tbody").innerHTML = list.length ? list.map((c) => `<tr class="clickable ${c.overdue && c.status !== "closed" ? "overdue" : ""}" data-case="${c.id}">
      <td>#${c.id}</td><td>${esc(c.ticket_number)}</td><td>${esc(c.service_name)}</td><td>${fmt(c.window)}</td><td>${esc(c.staff || "—")}</td>
      <td><span class="tag bad">${esc(LEVELS[c.level])}</span></td><td>${esc(c.reasons.join("、"))}</td>
      <td><span class="tag ${c.status === "closed" ? "ok" : "warn"}">${esc(c.status_label)}</span>${c.overdue && c.status !== "closed" ? ' <span class="tag bad">超期</span>' : ""}</td>
      <td>${esc(c.assignee || "—")}</td><td>${esc(c.due_day)}</td></tr>`).join("") : '<tr><td colspan="10" class="muted">没有待处理的差评工单</td></tr>';
    $$("#cases [data-case]").forEach((tr) => tr.addEventListener("click", () => guarded(() => openCase(+tr.dataset.case))));
  };
  $("#show-closed").addEventListener("change", drawCases);
  drawCases();
  const drawRatings = async () => {
    const p = new URLSearchParams(Object.entries(S.ratingQuery).filter(([, v]) => v !== ""));
    const list = await api("GET", "/admin/evaluations?" + p);
    $("#ratings tbody").innerHTML = list.length ? list.map((e) => `<tr><td>${esc(e.created_at.slice(5, 16).replace("T", " "))}</td><td>${esc(e.ticket_number)}</td>
      <td>${esc((S.cfg.services.find((s) => s.code === e.service) || {}).name || e.service)}</td><td>${fmt(e.window)}</td><td>${esc(e.staff || "—")}</td><td>${esc(CHANNELS[e.channel] || e.channel)}</td>
      <td><span class="tag ${e.level <= 2 ? "bad" : e.level === 3 ? "warn" : "ok"}">${esc(e.level_label)}</span></td>
      <td>${esc(e.reasons.join("、"))}${e.comment ? ' <span class="muted">“' + esc(e.comment) + '”</span>' : ""}</td>
      <td>${e.case_id ? `<a href="#ratings" data-case="${e.case_id}">#${e.case_id}</a>` : ""}</td></tr>`).join("") : '<tr><td colspan="9" class="muted">没有符合条件的评价</td></tr>';
    $$("#ratings [data-case]").forEach((a) => a.addEventListener("click", (ev) => { ev.preventDefault(); guarded(() => openCase(+a.dataset.case)); }));
  };
  $("#rating-go").addEventListener("click", () => {
    S.ratingQuery = Object.fromEntries($$("#rating-form [name]").map((i) => [i.name, i.value]));
    guarded(drawRatings);
  });
  await drawRatings();
}

async function openCase(id) {
  const c = await api("GET", "/admin/cases/" + id);
  const closed = c.status === "closed";
  const staffNames = (S.accounts || []).map((a) => a.name);
  openModal(`<div class="row"><h2 style="margin:0">差评工单 #${c.id}</h2><span class="tag ${closed ? "ok" : "warn"}">${esc(c.status_label)}</span>
      ${c.overdue ? '<span class="tag bad">超期</span>' : ""}<span class="grow"></span><button class="small" id="case-x">关闭</button></div>
    <table style="margin:10px 0"><tbody>
      <tr><th>号票</th><td>${esc(c.ticket_number)}（${esc(c.business_day)}）</td><th>事项</th><td>${esc(c.service_name)}</td></tr>
      <tr><th>窗口 / 人员</th><td>${fmt(c.window)} 号 / ${esc(c.staff || "—")}</td><th>渠道</th><td>${esc(CHANNELS[c.channel] || c.channel)}</td></tr>
      <tr><th>评价</th><td><span class="tag bad">${esc(LEVELS[c.level])}</span></td><th>评价时间</th><td>${esc(c.evaluated_at.replace("T", " ").slice(0, 16))}</td></tr>
      <tr><th>原因</th><td colspan="3">${esc(c.reasons.join("、"))}${c.comment ? "；留言：" + esc(c.comment) : ""}</td></tr>
      <tr><th>办事人</th><td>${esc(c.citizen || "未实名")}</td><th>整改期限</th><td>${esc(c.due_day)}（${S.cfg.followup.deadline_working_days} 个工作日）</td></tr>
    </tbody></table>
    <h3>1. 分派回访</h3>
    <div class="row"><input id="case-assignee" list="staff-names" placeholder="回访人姓名" value="${esc(c.assignee)}" ${closed ? "disabled" : ""}>
      <datalist id="staff-names">${staffNames.map((n) => `<option value="${esc(n)}">`).join("")}</datalist>
      <button id="case-assign" ${closed ? "disabled" : ""}>分派</button>${c.assigned_at ? `<span class="muted">已于 ${esc(c.assigned_at.slice(0, 16).replace("T", " "))} 分派</span>` : ""}</div>
    <h3>2. 回访记录</h3>
    ${c.followup_at ? `<p>${esc(c.followup_at.slice(0, 16).replace("T", " "))} ${esc(c.followup_by)}：<b>${esc(RESULTS[c.followup_result] || c.followup_result)}</b> — ${esc(c.followup_note)}</p>` : '<p class="muted">尚未回访</p>'}
    ${closed ? "" : `<div class="row"><select id="case-result">${Object.entries(RESULTS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select>
      <input id="case-note" placeholder="回访情况，如：已电话回访，群众表示理解" style="flex:1"><button id="case-followup">记录回访</button></div>`}
    <h3>3. 整改</h3>
    ${c.rectified_at ? `<p>${esc(c.rectified_at.slice(0, 16).replace("T", " "))}：${esc(c.rectification)}</p>` : '<p class="muted">尚未记录整改</p>'}
    ${closed ? "" : `<div class="row"><input id="case-measures" placeholder="整改措施" style="flex:1"><button id="case-rectify">记录整改</button></div>`}
    <h3>4. 办结</h3>
    ${closed ? `<p>${esc(c.closed_at.slice(0, 16).replace("T", " "))} ${esc(c.closed_by)}：${esc(c.conclusion)}</p>` : `<div class="row"><input id="case-conclusion" placeholder="办结说明" style="flex:1">
      <button class="primary" id="case-close" ${c.followup_at ? "" : "disabled title='须先记录回访'"}>办结工单</button></div>
      ${c.followup_at ? "" : '<p class="muted">须先记录回访才能办结。</p>'}`}`);
  $("#case-x").addEventListener("click", closeModal);
  const act = (btn, path, body, msg) => { const b = $(btn); if (b) b.addEventListener("click", () => guarded(async () => {
    await api("POST", `/admin/cases/${id}/${path}`, body());
    toast(msg);
    if (S.tab === "ratings") await renderRatings();
    await openCase(id);
  })); };
  act("#case-assign", "assign", () => ({ assignee: $("#case-assignee").value }), "已分派回访");
  act("#case-followup", "followup", () => ({ result: $("#case-result").value, note: $("#case-note").value }), "已记录回访");
  act("#case-rectify", "rectify", () => ({ measures: $("#case-measures").value }), "已记录整改");
  act("#case-close", "close", () => ({ conclusion: $("#case-conclusion").value }), "工单已办结");
}
// -- 省平台上报 -----------------------------------------------------------------------------
TABS.uploads = async function renderUploads() {
  const q = await api("GET", "/admin/uploads");
  const rows = q.records.map((r) => `<tr><td>${esc(r.record_id)}</td><td>${esc(r.record.ticket_number)}</td><td>${esc(r.record.service_code)}</td>
    <td>${esc(LEVELS[r.record.level])}</td><td>${r.status === "sent" ? '<span class="tag ok">已上报</span>' : r.attempts ? '<span class="tag warn">重试中</span>' : '<span class="tag info">待上报</span>'}</td>
    <td class="num">${r.attempts}</td><td>${r.status === "pending" && r.attempts ? esc(new Date(r.next_attempt_ts * 1000).toLocaleTimeString("zh-CN")) : ""}</td>
    <td>${esc(r.last_error)}</td><td>${esc((r.sent_at || "").slice(5, 16).replace("T", " "))}</td></tr>`).join("");
  main().innerHTML = `<h2>省平台上报</h2>
    <div class="kpis"><div class="kpi"><div class="v">${q.summary.pending}</div><div class="l">待上报</div></div>
      <div class="kpi"><div class="v">${q.summary.retrying}</div><div class="l">失败重试中</div></div>
      <div class="kpi"><div class="v">${q.summary.sent}</div><div class="l">已上报</div></div></div>
    <div class="card row"><span>上报地址：${q.endpoint ? "<code>" + esc(q.endpoint) + "</code>" : '<span class="tag warn">未配置（记录保存在本地队列，配置后自动补报）</span>'}</span>
      <span class="grow"></span><a href="#hall">修改上报设置</a><button class="primary" id="retry">立即重试</button></div>
    <div class="card"><div class="scroll"><table><thead><tr><th>记录编号</th><th>号票</th><th>事项</th><th>评价</th><th>状态</th><th class="num">尝试</th><th>下次重试</th><th>最近错误</th><th>上报时间</th></tr></thead>
      <tbody>${rows || '<tr><td colspan="9" class="muted">队列为空</td></tr>'}</tbody></table></div>
      <p class="muted">每条评价在保存时即写入本地队列（与评价同一事务），失败后按指数退避重试，重启不丢失；记录编号固定，省平台据此去重。</p></div>`;
  $("#retry").addEventListener("click", () => guarded(async () => {
    const r = await api("POST", "/admin/uploads/retry");
    toast(`已重试：成功 ${r.sent} 条，失败 ${r.failed} 条`);
    TABS.uploads();
  }));
};

// -- generic form helper -------------------------------------------------------------------
// fields: [key, label, type, extra]; type: text | number | checkbox | textarea | select | lines
function formHtml(id, fields, values) {
  return `<div class="form" id="${id}">` + fields.map(([key, label, type, extra = {}]) => {
    const v = values[key];
    let input;
    if (type === "checkbox") input = `<input type="checkbox" name="${key}" ${v ? "checked" : ""}>`;
    else if (type === "textarea" || type === "lines") input = `<textarea name="${key}" rows="${extra.rows || 3}">${esc(type === "lines" ? (v || []).join("\n") : v)}</textarea>`;
    else if (type === "select") input = `<select name="${key}">${extra.options.map(([o, l]) => `<option value="${esc(o)}" ${String(o) === String(v) ? "selected" : ""}>${esc(l)}</option>`).join("")}</select>`;
    else input = `<input name="${key}" type="${type === "number" ? "number" : "text"}" ${type === "number" ? 'step="any"' : ""} value="${esc(v ?? "")}" ${extra.readonly ? "readonly" : ""} placeholder="${esc(extra.placeholder || "")}">`;
    return `<label for="">${esc(label)}</label>${input}${extra.help ? `<div class="help">${esc(extra.help)}</div>` : ""}`;
  }).join("") + "</div>";
}
function formRead(id, fields) {
  const out = {};
  for (const [key, , type] of fields) {
    const el = $(`#${id} [name="${key}"]`);
    if (!el) continue;
    if (type === "checkbox") out[key] = el.checked;
    else if (type === "number") out[key] = el.value === "" ? null : Number(el.value);
    else if (type === "lines") out[key] = el.value.split("\n").map((s) => s.trim()).filter(Boolean);
    else out[key] = el.value.trim();
  }
  return out;
}

// -- 事项管理 ------------------------------------------------------------------------------
const SERVICE_FIELDS = [
  ["code", "事项编码", "text", { help: "大写字母开头，如 HJ；创建后不建议修改", placeholder: "如 LNYL" }],
  ["name", "事项名称", "text", { placeholder: "如 老年优待证办理" }],
  ["name_en", "英文名称", "text"],
  ["prefix", "号票字母", "text", { help: "一到两个大写字母，各事项不能重复", placeholder: "如 M" }],
  ["first", "起始号", "number"], ["last", "结束号", "number", { help: "号码位数按结束号补零，如 999 → M001" }],
  ["daily_quota", "每日限额", "number", { help: "0 表示不限（以号段为准）" }],
  ["hours", "取号时间", "lines", { rows: 2, help: "每行一个时段，HH:MM-HH:MM" }],
  ["real_name", "实名取号", "checkbox"],
  ["avg_service_min", "平均办理时长(分)", "number", { help: "历史数据不足时用于预计等候" }],
  ["guide", "办事指南", "textarea", { rows: 3 }],
  ["forms", "示例表单", "lines", { rows: 2, help: "每行一个表单名称或链接" }],
];
TABS.services = function renderServices() {
  const rows = S.cfg.services.map((s, i) => {
    const wins = S.cfg.windows.filter((w) => s.code in w.services).map((w) => w.no);
    return `<tr><td>${esc(s.code)}</td><td>${esc(s.name)}</td><td>${esc(s.prefix)}</td><td>${s.number_range[0]}–${s.number_range[1]}</td>
      <td class="num">${s.daily_quota || "不限"}</td><td>${esc(s.hours.join("，"))}</td><td>${s.real_name ? "是" : "否"}</td>
      <td>${wins.length ? esc(wins.join("、")) : '<span class="tag warn">无窗口</span>'}</td>
      <td style="white-space:nowrap"><button class="small" data-edit="${i}">编辑</button> <button class="small danger" data-del="${i}">删除</button></td></tr>`;
  }).join("");
  main().innerHTML = `<h2>事项管理</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">修改后立即生效，无需重启；并通过事件流（config.changed）通知取号机和显示屏。</span><span class="grow"></span><button class="primary" id="svc-new">新增事项</button></div>
    <table><thead><tr><th>编码</th><th>名称</th><th>字母</th><th>号段</th><th class="num">每日限额</th><th>取号时间</th><th>实名</th><th>受理窗口</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
  $("#svc-new").addEventListener("click", () => editService(-1));
  $$("[data-edit]").forEach((b) => b.addEventListener("click", () => editService(+b.dataset.edit)));
  $$("[data-del]").forEach((b) => b.addEventListener("click", () => {
    const s = S.cfg.services[+b.dataset.del];
    if (!confirm(`删除事项“${s.name}”？受理该事项的窗口将不再受理它。`)) return;
    saveConfig((cfg) => {
      cfg.services = cfg.services.filter((x) => x.code !== s.code);
      cfg.windows.forEach((w) => delete w.services[s.code]);
    }, "删除事项").then((ok) => ok && TABS.services());
  }));
};
function editService(i) {
  const s = i >= 0 ? S.cfg.services[i] : { code: "", name: "", name_en: "", prefix: "", number_range: [1, 999], daily_quota: 0, hours: ["08:30-12:00", "13:30-17:30"], real_name: false, avg_service_min: 8, guide: "", forms: [] };
  const values = { ...s, first: s.number_range[0], last: s.number_range[1] };
  const winChecks = S.cfg.windows.map((w) => `<label><input type="checkbox" name="win" value="${w.no}" ${s.code && s.code in w.services ? "checked" : ""}> ${w.no}</label>`).join(" ");
  openModal(`<h2>${i >= 0 ? "编辑事项：" + esc(s.name) : "新增事项"}</h2>${formHtml("svc-form", SERVICE_FIELDS, values)}
    <h3>受理窗口</h3><div class="row" id="svc-wins" style="gap:8px 14px">${winChecks}</div>
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="svc-cancel">取消</button><button class="primary" id="svc-save">保存并生效</button></div>`);
  $("#svc-cancel").addEventListener("click", closeModal);
  $("#svc-save").addEventListener("click", async () => {
    const v = formRead("svc-form", SERVICE_FIELDS);
    const svc = { code: v.code.toUpperCase(), name: v.name, name_en: v.name_en, prefix: v.prefix.toUpperCase(), number_range: [v.first ?? 1, v.last ?? 999],
      daily_quota: v.daily_quota || 0, hours: v.hours, real_name: v.real_name, avg_service_min: v.avg_service_min || 8, guide: v.guide, forms: v.forms };
    const wins = $$("#svc-wins [name=win]").filter((c) => c.checked).map((c) => +c.value);
    const ok = await saveConfig((cfg) => {
      if (i >= 0) {
        const old = cfg.services[i].code;
        cfg.services[i] = svc;
        cfg.windows.forEach((w) => { if (old !== svc.code && old in w.services) { w.services[svc.code] = w.services[old]; delete w.services[old]; } });
      } else cfg.services.push(svc);
      cfg.windows.forEach((w) => {
        if (wins.includes(w.no)) { if (!(svc.code in w.services)) w.services[svc.code] = 1; } else delete w.services[svc.code];
      });
    }, i >= 0 ? "事项修改" : "新增事项");
    if (ok) { closeModal(); TABS.services(); }
  });
}

// -- 窗口管理 ------------------------------------------------------------------------------
const KINDS = { comprehensive: "综合窗口", dedicated: "专窗", tidal: "潮汐窗口" };
TABS.windows = async function renderWindows() {
  S.accounts = await api("GET", "/admin/accounts");
  const live = await api("GET", "/windows");
  const status = Object.fromEntries(live.map((w) => [w.no, w.status]));
  const names = Object.fromEntries(S.cfg.services.map((s) => [s.code, s.name]));
  const rows = S.cfg.windows.map((w, i) => {
    const staff = S.accounts.filter((a) => a.window === w.no && !a.disabled).map((a) => a.name);
    const st = status[w.no];
    return `<tr><td><b>${w.no}</b></td><td style="white-space:nowrap">${esc(w.name)}</td><td style="white-space:nowrap">${esc(KINDS[w.kind])}</td>
      <td>${Object.entries(w.services).map(([c, wt]) => `${esc(names[c] || c)}<span class="muted">×${wt}</span>`).join("，")}</td>
      <td>${staff.length ? esc(staff.join("、")) : '<span class="muted">—</span>'}</td>
      <td>${st === "open" ? '<span class="tag ok">开放</span>' : st === "paused" ? '<span class="tag warn">暂停</span>' : '<span class="tag off">关闭</span>'}</td>
      <td style="white-space:nowrap"><button class="small" data-edit="${i}">编辑</button> ${st === "closed" ? `<button class="small" data-open="${w.no}">开启</button>` : `<button class="small" data-close="${w.no}">关闭</button>`}
        <button class="small danger" data-del="${i}">删除</button></td></tr>`;
  }).join("");
  main().innerHTML = `<h2>窗口管理</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">权重越高越优先叫该事项；潮汐窗口在排队过长时开启。</span><span class="grow"></span><button class="primary" id="win-new">新增窗口</button></div>
    <div class="scroll" style="max-height:560px"><table><thead><tr><th>窗口号</th><th>名称</th><th>类型</th><th>受理事项（权重）</th><th>工作人员</th><th>当前状态</th><th></th></tr></thead><tbody>${rows}</tbody></table></div></div>`;
  $("#win-new").addEventListener("click", () => editWindow(-1));
  $$("[data-edit]").forEach((b) => b.addEventListener("click", () => editWindow(+b.dataset.edit)));
  $$("[data-open],[data-close]").forEach((b) => b.addEventListener("click", () => guarded(async () => {
    const no = b.dataset.open || b.dataset.close;
    await api("POST", `/windows/${no}/${b.dataset.open ? "open" : "close"}`);
    toast(`${no} 号窗口已${b.dataset.open ? "开启" : "关闭"}`); TABS.windows();
  })));
  $$("[data-del]").forEach((b) => b.addEventListener("click", () => {
    const w = S.cfg.windows[+b.dataset.del];
    if (!confirm(`删除 ${w.no} 号窗口？`)) return;
    saveConfig((cfg) => { cfg.windows = cfg.windows.filter((x) => x.no !== w.no); }, "删除窗口").then((ok) => ok && TABS.windows());
  }));
};
function editWindow(i) {
  const w = i >= 0 ? S.cfg.windows[i] : { no: Math.max(0, ...S.cfg.windows.map((x) => x.no)) + 1, name: "", kind: "comprehensive", services: {}, status: "open" };
  const fields = [
    ["no", "窗口号", "number", { readonly: i >= 0 }], ["name", "窗口名称", "text", { placeholder: "如 综合窗口" }],
    ["kind", "类型", "select", { options: Object.entries(KINDS) }],
    ["status", "启动时状态", "select", { options: [["open", "开放"], ["paused", "暂停"], ["closed", "关闭"]] }],
  ];
  const svcRows = S.cfg.services.map((s) => `<tr><td><label><input type="checkbox" name="svc" value="${esc(s.code)}" ${s.code in w.services ? "checked" : ""}> ${esc(s.name)}</label></td>
    <td><input type="number" name="wt-${esc(s.code)}" value="${w.services[s.code] || 1}" min="0.1" max="100" step="0.5" style="width:80px"></td></tr>`).join("");
  const staffOpts = (S.accounts || []).filter((a) => a.role === "staff" && !a.disabled);
  const staffRows = staffOpts.map((a) => `<label><input type="checkbox" name="staff" value="${a.id}" ${a.window === w.no ? "checked" : ""}> ${esc(a.name)}<span class="muted">${a.window && a.window !== w.no ? "（现 " + a.window + " 号）" : ""}</span></label>`).join(" ");
  openModal(`<h2>${i >= 0 ? w.no + " 号窗口" : "新增窗口"}</h2>${formHtml("win-form", fields, w)}
    <h3>受理事项与权重</h3><div class="scroll" style="max-height:230px"><table id="win-svcs"><tbody>${svcRows}</tbody></table></div>
    <h3>工作人员（登录时默认绑定此窗口）</h3><div class="row" id="win-staff" style="gap:8px 14px">${staffRows || '<span class="muted">没有工作人员账号</span>'}</div>
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="win-cancel">取消</button><button class="primary" id="win-save">保存并生效</button></div>`);
  $("#win-cancel").addEventListener("click", closeModal);
  $("#win-save").addEventListener("click", () => guarded(async () => {
    const v = formRead("win-form", fields);
    const services = {};
    $$("#win-svcs [name=svc]").filter((c) => c.checked).forEach((c) => { services[c.value] = Number($(`#win-svcs [name="wt-${c.value}"]`).value) || 1; });
    if (!Object.keys(services).length) throw new Error("请至少选择一个受理事项");
    const win = { no: v.no, name: v.name, kind: v.kind, services, status: v.status };
    const ok = await saveConfig((cfg) => { if (i >= 0) cfg.windows[i] = win; else cfg.windows.push(win); }, i >= 0 ? "窗口修改" : "新增窗口");
    if (!ok) return;
    for (const c of $$("#win-staff [name=staff]")) {
      const a = S.accounts.find((x) => x.id === +c.value);
      if (c.checked && a.window !== win.no) await api("PATCH", `/admin/accounts/${a.id}`, { window: win.no });
      if (!c.checked && a.window === win.no) await api("PATCH", `/admin/accounts/${a.id}`, { window: 0 });
    }
    closeModal(); TABS.windows();
  }));
}

// -- 人员账号 ------------------------------------------------------------------------------
TABS.accounts = async function renderAccounts() {
  S.accounts = await api("GET", "/admin/accounts");
  const rows = S.accounts.map((a) => `<tr><td>${esc(a.username)}</td><td>${esc(a.name)}</td><td>${a.role === "admin" ? "管理员" : "窗口人员"}</td>
    <td>${a.window ? a.window + " 号" : "—"}</td><td>${esc(a.staff_no)}</td>
    <td>${a.disabled ? '<span class="tag off">已停用</span>' : a.locked ? '<span class="tag bad">已锁定</span>' : '<span class="tag ok">正常</span>'}</td>
    <td><button class="small" data-edit="${a.id}">编辑</button></td></tr>`).join("");
  main().innerHTML = `<h2>人员账号</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">密码至少 8 位且含字母和数字；停用、改角色或重置密码会让该账号的登录立即失效。</span><span class="grow"></span><button class="primary" id="acc-new">新增账号</button></div>
    <table><thead><tr><th>账号</th><th>姓名</th><th>角色</th><th>窗口</th><th>工号</th><th>状态</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
  $("#acc-new").addEventListener("click", () => editAccount(null));
  $$("[data-edit]").forEach((b) => b.addEventListener("click", () => editAccount(S.accounts.find((a) => a.id === +b.dataset.edit))));
};
function editAccount(a) {
  const winOpts = [["0", "不绑定"], ...S.cfg.windows.map((w) => [String(w.no), w.no + " 号窗口"])];
  const fields = [
    ["username", "账号", "text", { readonly: !!a }], ["name", "姓名", "text"],
    ["role", "角色", "select", { options: [["staff", "窗口人员"], ["admin", "管理员"]] }],
    ["window", "默认窗口", "select", { options: winOpts }], ["staff_no", "工号", "text"],
    ["password", a ? "重置密码" : "初始密码", "text", { help: a ? "留空则不修改" : "至少 8 位，含字母和数字" }],
  ];
  if (a) fields.push(["disabled", "停用账号", "checkbox"]);
  openModal(`<h2>${a ? "编辑账号：" + esc(a.username) : "新增账号"}</h2>${formHtml("acc-form", fields, a ? { ...a, window: String(a.window || 0), password: "" } : { role: "staff", window: "0" })}
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="acc-cancel">取消</button><button class="primary" id="acc-save">保存</button></div>`);
  $("#acc-cancel").addEventListener("click", closeModal);
  $("#acc-save").addEventListener("click", () => guarded(async () => {
    const v = formRead("acc-form", fields);
    const window = Number(v.window) || 0;
    if (a) {
      const body = { name: v.name, role: v.role, window, staff_no: v.staff_no, disabled: v.disabled };
      if (body.role === a.role) delete body.role;
      if (v.password) body.password = v.password;
      await api("PATCH", `/admin/accounts/${a.id}`, body);
    } else {
      await api("POST", "/admin/accounts", { username: v.username, name: v.name, role: v.role, window: window || null, staff_no: v.staff_no, password: v.password });
    }
    toast("账号已保存"); closeModal(); TABS.accounts();
  }));
}

// -- 设备管理 ------------------------------------------------------------------------------
const ROLE_LABELS = { kiosk: "自助取号机", display: "大厅显示屏", evaluator: "评价器" };
TABS.devices = async function renderDevices() {
  const list = await api("GET", "/admin/devices");
  const rows = list.map((d) => `<tr><td>${esc(d.name)}</td><td>${esc(d.role_label)}</td><td>${d.window ? d.window + " 号" : "—"}</td>
    <td>${d.level === "ok" ? '<span class="tag ok">正常</span>' : d.level === "warn" ? '<span class="tag warn">注意</span>' : d.level === "unknown" ? '<span class="tag off">未上报</span>' : d.level === "offline" ? '<span class="tag bad">离线</span>' : '<span class="tag bad">故障</span>'}</td>
    <td>${esc(d.summary)}</td><td>${esc((d.last_seen || "").slice(5, 19).replace("T", " "))}</td>
    <td>${d.token_id ? `<button class="small danger" data-revoke="${d.token_id}">注销</button>` : ""}</td></tr>`).join("");
  main().innerHTML = `<h2>设备管理</h2>
    <div class="card"><h3 style="margin-top:0">登记新设备</h3>
      <div class="row"><label>类型 <select id="pair-role">${Object.entries(ROLE_LABELS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("")}</select></label>
      <label>名称 <input id="pair-name" placeholder="如 kiosk-2" size="12"></label>
      <label>窗口 <select id="pair-window"><option value="">不绑定</option>${S.cfg.windows.map((w) => `<option value="${w.no}">${w.no} 号</option>`).join("")}</select></label>
      <button class="primary" id="pair-go">生成配对码</button></div>
      <div id="pair-out"></div>
      <p class="muted">在设备上输入配对码（10 分钟内有效，仅能使用一次），设备即获得自己的访问令牌，无需手工复制令牌。评价器须绑定窗口。</p></div>
    <div class="card"><h3 style="margin-top:0">已登记设备</h3><table><thead><tr><th>名称</th><th>类型</th><th>窗口</th><th>状态</th><th>健康情况</th><th>最后心跳</th><th></th></tr></thead>
      <tbody>${rows || '<tr><td colspan="7" class="muted">没有设备</td></tr>'}</tbody></table></div>`;
  $("#pair-go").addEventListener("click", () => guarded(async () => {
    const w = $("#pair-window").value;
    const r = await api("POST", "/admin/devices/pairing-codes", { role: $("#pair-role").value, name: $("#pair-name").value, window: w ? Number(w) : null });
    $("#pair-out").innerHTML = `<div class="alert calm" style="margin-top:10px">${esc(ROLE_LABELS[r.role])} ${esc(r.name)} 的配对码：<b style="font-size:24px;letter-spacing:2px">${esc(r.code)}</b>（10 分钟内有效）<br>
      <span class="muted">设备端：POST /api/v1/devices/pair {"code": "${esc(r.code)}"}</span></div>`;
  }));
  $$("[data-revoke]").forEach((b) => b.addEventListener("click", () => guarded(async () => {
    if (!confirm("注销该设备？其令牌将立即失效。")) return;
    await api("DELETE", `/admin/devices/${b.dataset.revoke}`); toast("设备已注销"); TABS.devices();
  })));
};

// -- 优先类别与叫号 -------------------------------------------------------------------------
TABS.routing = function renderRouting() {
  const r = S.cfg.routing;
  const fields = [
    ["policy", "叫号规则", "select", { options: [["accumulating", "累积优先（推荐：优先者先叫，普通号不会被饿死）"], ["interleave", "N 个优先 : 1 个普通 交替"], ["strict", "严格优先（仅供对比，可能饿死普通号）"]] }],
    ["interleave_n", "交替比例 N", "number", { help: "交替规则下，每叫 N 个优先号叫 1 个普通号" }],
    ["elderly_age", "老年人年龄", "number", { help: "按身份证出生日期自动识别" }],
    ["noshow_reactivate_minutes", "过号可恢复(分)", "number"],
  ];
  const classRows = Object.entries(r.classes).map(([code, c]) => `<tr data-code="${esc(code)}"><td><input name="code" value="${esc(code)}" ${code === "ordinary" ? "readonly" : ""} size="12"></td>
    <td><input name="label" value="${esc(c.label)}" size="10"></td><td><input name="offset" type="number" step="any" value="${c.offset}" style="width:90px"></td>
    <td><input name="rate" type="number" step="any" value="${c.rate}" style="width:90px"></td><td>${code === "ordinary" ? "" : '<button class="small danger" data-rm>删除</button>'}</td></tr>`).join("");
  main().innerHTML = `<h2>优先类别与叫号</h2>
    <div class="card">${formHtml("routing-form", fields, r)}</div>
    <div class="card"><h3 style="margin-top:0">优先类别（绿色通道）</h3>
      <p class="muted">得分 = 窗口权重 × (起始分 + 增长速度 × 已等分钟)。起始分让优先者提前，普通号的得分仍随时间增长，不会被饿死。</p>
      <table id="classes"><thead><tr><th>代码</th><th>名称</th><th>起始分（分钟当量）</th><th>增长速度</th><th></th></tr></thead><tbody>${classRows}</tbody></table>
      <button class="small" id="class-add" style="margin-top:8px">新增类别</button></div>
    <div class="row"><span class="grow"></span><button class="primary" id="routing-save">保存并生效</button></div>`;
  const bindRm = () => $$("#classes [data-rm]").forEach((b) => { b.onclick = () => b.closest("tr").remove(); });
  bindRm();
  $("#class-add").addEventListener("click", () => {
    $("#classes tbody").insertAdjacentHTML("beforeend", `<tr><td><input name="code" size="12" placeholder="如 veteran"></td><td><input name="label" size="10"></td>
      <td><input name="offset" type="number" step="any" value="10" style="width:90px"></td><td><input name="rate" type="number" step="any" value="1" style="width:90px"></td><td><button class="small danger" data-rm>删除</button></td></tr>`);
    bindRm();
  });
  $("#routing-save").addEventListener("click", async () => {
    const v = formRead("routing-form", fields);
    const classes = {};
    $$("#classes tbody tr").forEach((tr) => {
      const g = (n) => $(`[name=${n}]`, tr).value.trim();
      if (g("code")) classes[g("code")] = { label: g("label") || g("code"), offset: Number(g("offset")) || 0, rate: Number(g("rate")) || 1 };
    });
    if (await saveConfig((cfg) => { Object.assign(cfg.routing, v, { classes }); }, "叫号规则")) TABS.routing();
  });
};

// -- 公告与营业日 ---------------------------------------------------------------------------
TABS.hall = function renderHall() {
  const c = S.cfg;
  const hallFields = [
    ["name", "大厅名称", "text"], ["notices", "公告（信息发布）", "lines", { rows: 4, help: "每行一条，在显示屏和取号机滚动" }],
    ["timezone", "时区", "text", { help: "营业日在当地零点切换" }], ["enforce_hours", "按取号时间限制取号", "checkbox"],
  ];
  const calFields = [
    ["holidays", "节假日（不上班）", "lines", { rows: 3, help: "每行一个日期 YYYY-MM-DD" }],
    ["workdays", "调休上班日", "lines", { rows: 2, help: "周末需上班的日期" }],
    ["deadline_working_days", "差评整改期限(工作日)", "number"],
  ];
  const ovFields = [
    ["per_window_alert", "每窗口等候人数预警", "number", { help: "超过即提示开启潮汐窗口" }],
    ["wait_alert_min", "预计等候预警(分钟)", "number"],
  ];
  const upFields = [
    ["endpoint", "省平台上报地址", "text", { placeholder: "https://…", help: "留空则只在本地排队，配置后自动补报" }],
    ["field_map", "字段映射", "textarea", { rows: 4, help: '每行 平台字段=本地字段，如 bjbh=ticket_number；本地字段：record_id, ticket_number, service_code, window, staff, channel, level, reasons, comment, evaluated_at' }],
    ["timeout_s", "超时(秒)", "number"], ["backoff_base_s", "首次重试间隔(秒)", "number"], ["backoff_max_s", "最长重试间隔(秒)", "number"],
  ];
  const up = { ...c.upload, field_map: Object.entries(c.upload.field_map).map(([k, v]) => `${k}=${v}`).join("\n") };
  main().innerHTML = `<h2>公告与营业日</h2>
    <div class="cols"><div class="card"><h3 style="margin-top:0">大厅与公告</h3>${formHtml("hall-form", hallFields, c.hall)}</div>
      <div class="card"><h3 style="margin-top:0">工作日历与差评期限</h3>${formHtml("cal-form", calFields, { ...c.calendar, ...c.followup })}
        <h3>效能监察预警</h3>${formHtml("ov-form", ovFields, c.oversight)}</div></div>
    <div class="card"><h3 style="margin-top:0">好差评省平台上报</h3>${formHtml("up-form", upFields, up)}</div>
    <div class="row"><span class="grow"></span><button class="primary" id="hall-save">保存并生效</button></div>`;
  $("#hall-save").addEventListener("click", async () => {
    const h = formRead("hall-form", hallFields), cal = formRead("cal-form", calFields), ov = formRead("ov-form", ovFields), u = formRead("up-form", upFields);
    const map = {};
    String(u.field_map).split("\n").map((l) => l.trim()).filter(Boolean).forEach((l) => { const [k, v] = l.split("="); map[k.trim()] = (v || "").trim(); });
    const ok = await saveConfig((cfg) => {
      Object.assign(cfg.hall, h);
      cfg.calendar = { holidays: cal.holidays, workdays: cal.workdays };
      cfg.followup = { deadline_working_days: cal.deadline_working_days };
      Object.assign(cfg.oversight, ov);
      Object.assign(cfg.upload, u, { field_map: map });
    }, "大厅设置");
    if (ok) TABS.hall();
  });
};

// -- 配置文件导入导出 ------------------------------------------------------------------------
TABS.toml = function renderToml() {
  main().innerHTML = `<h2>配置文件导入导出</h2>
    <div class="card row"><span>大厅 TOML 配置文件与在线配置是同一份：导出即当前生效的配置（版本 ${S.version}）。</span><span class="grow"></span><button class="primary" id="toml-export">导出 hall.toml</button></div>
    <div class="card"><h3 style="margin-top:0">导入</h3><div class="row"><input type="file" id="toml-file" accept=".toml,text/plain"><span class="muted">或直接粘贴：</span></div>
      <textarea id="toml-text" rows="10" style="margin-top:8px;font-family:monospace" placeholder="[hall]&#10;name = &quot;…&quot;"></textarea>
      <div class="row" style="margin-top:8px"><span class="grow"></span><button id="toml-preview">预览变更</button></div>
      <div id="toml-diff"></div></div>`;
  $("#toml-export").addEventListener("click", () => guarded(async () => {
    const text = await api("GET", "/admin/config.toml");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/toml" }));
    a.download = "hall.toml"; a.click();
  }));
  $("#toml-file").addEventListener("change", async (ev) => { const f = ev.target.files[0]; if (f) $("#toml-text").value = await f.text(); });
  $("#toml-preview").addEventListener("click", () => guarded(async () => {
    const r = await api("POST", "/admin/config/import", { toml: $("#toml-text").value, apply: false });
    $("#toml-diff").innerHTML = diffTable(r.changes) + (r.changes.length ? '<div class="row" style="margin-top:8px"><span class="grow"></span><button class="primary" id="toml-apply">确认导入并生效</button></div>' : "");
    const b = $("#toml-apply");
    if (b) b.addEventListener("click", () => guarded(async () => {
      S.saving = true;
      try {
        var res = await api("POST", "/admin/config/import", { toml: $("#toml-text").value, apply: true, version: S.version });
        await loadConfig();
      } finally { S.saving = false; }
      toast(`已导入：${res.changes.length} 项变更，配置版本 ${res.version}`);
      $("#toml-diff").innerHTML = "";
    }));
  }));
};
function diffTable(changes) {
  if (!changes.length) return '<div class="alert calm" style="margin-top:8px">与当前配置相同，没有变更</div>';
  const show = (v) => v === null || v === undefined ? "" : esc(typeof v === "object" ? JSON.stringify(v) : String(v));
  const kind = { added: "新增", removed: "删除", changed: "修改" };
  return `<h3>将发生 ${changes.length} 项变更</h3><div class="scroll"><table class="diff"><thead><tr><th>配置项</th><th>变更</th><th>原值</th><th>新值</th></tr></thead><tbody>${changes.map((c) =>
    `<tr><td>${esc(c.path)}</td><td class="${c.kind}">${kind[c.kind]}</td><td>${show(c.before)}</td><td>${show(c.after)}</td></tr>`).join("")}</tbody></table></div>`;
}

// -- 审计日志 ------------------------------------------------------------------------------
TABS.audit = async function renderAudit() {
  const q = S.auditAction || "";
  const rows = await api("GET", "/admin/audit?limit=300" + (q ? "&action=" + encodeURIComponent(q) : ""));
  main().innerHTML = `<h2>审计日志</h2><div class="card row"><label>操作类型 <select id="audit-action">
      ${[["", "全部"], ["config", "配置变更"], ["account", "账号"], ["device", "设备"], ["followup", "差评工单"], ["login", "登录"], ["window", "窗口"], ["upload", "上报"]].map(([v, l]) => `<option value="${v}" ${v === q ? "selected" : ""}>${l}</option>`).join("")}</select></label>
      <span class="muted">审计记录只增不改，哈希链可用 <code>./hall audit verify</code> 校验。</span></div>
    <div class="card"><div class="scroll" style="max-height:600px"><table><thead><tr><th>时间</th><th>操作人</th><th>操作</th><th>对象</th><th>结果</th><th>详情</th></tr></thead><tbody>
    ${rows.map((r) => `<tr><td style="white-space:nowrap">${esc(r.ts.slice(0, 19).replace("T", " "))}</td><td style="white-space:nowrap">${esc(r.actor)}</td><td>${esc(r.action)}</td><td>${esc(r.target)}</td>
      <td>${r.result === "ok" ? '<span class="tag ok">成功</span>' : `<span class="tag bad">${esc(r.result)}</span>`}</td><td>${auditDetail(r.detail)}</td></tr>`).join("")}</tbody></table></div></div>`;
  $("#audit-action").addEventListener("change", (ev) => { S.auditAction = ev.target.value; TABS.audit(); });
};
function auditDetail(d) {
  if (d && Array.isArray(d.changes)) {
    const items = d.changes.slice(0, 6).map((c) => `${esc(c.path)}：${esc(JSON.stringify(c.before))} → ${esc(JSON.stringify(c.after))}`);
    return `<details><summary>${d.changes.length} 项变更</summary><div style="font-size:12px">${items.join("<br>")}${d.changes.length > 6 ? "<br>…" : ""}</div></details>`;
  }
  if (d && d.before && d.after && typeof d.before === "object") {
    const keys = Object.keys(d.after);
    const extra = Object.entries(d).filter(([k]) => k !== "before" && k !== "after" && d[k]).map(([k, v]) => `${esc(k)}: ${esc(JSON.stringify(v))}`);
    return `<span style="font-size:12px">${keys.map((k) => `${esc(k)}：${esc(JSON.stringify(d.before[k]))} → ${esc(JSON.stringify(d.after[k]))}`).concat(extra).join("<br>") || "无字段变化"}</span>`;
  }
  const text = JSON.stringify(d);
  return text === "{}" ? "" : `<span style="font-size:12px">${esc(text.length > 160 ? text.slice(0, 160) + "…" : text)}</span>`;
}

// -- boot -----------------------------------------------------------------------------------
if (S.token) start(); else showLogin();
