// 实时监控: queues per service, window tiles, alerts with a one-click 开启 for idle windows,
// 差评 cases past their deadlines, and the devices that need attention.

import { S, TABS, api, html, nothing, render, main, toast, guarded, fmt, $ } from "./ui.js";
import { barChart } from "./chart.js";

function windowState(w) {
  if (w.status === "closed") return html`<span class="tag off">已关闭</span>`;
  if (w.status === "paused") return html`<span class="tag warn">暂停</span>`;
  if (w.serving) return html`<span class="tag info">办理中</span>`;
  if (w.staffed === false) return html`<span class="tag off">无人在岗</span>`;
  return html`<span class="tag ok">空闲</span>`;
}

function tile(w) {
  const cls = w.status !== "open" ? w.status : w.serving ? "busy" : "open";
  const line = w.serving
    ? html`办理 <b>${w.serving.number}</b> · ${fmt(w.serving.minutes)} 分`
    : w.status === "open"
      ? `空闲 ${fmt(w.idle_min)} 分钟`
      : `自 ${(w.status_since || "").slice(11, 16)}`;
  return html`<div class="tile ${cls}" data-window=${w.no}><div class="row"><span class="no">${w.no} 号</span>${windowState(w)}</div>
    <div class="line muted">${w.name || w.kind_label}${w.staff ? " · " + w.staff : ""}</div>
    <div class="line">${line}</div><div class="line muted">今日办结 ${w.served_today}</div></div>`;
}

async function openWindow(no) {
  await guarded(async () => {
    await api.post(`/windows/${no}/open`);
    toast(`${no} 号窗口已开启`);
    await renderFloor();
  });
}

export async function renderFloor() {
  const [f, devices] = await Promise.all([api.get("/admin/floor"), api.get("/admin/devices").catch(() => [])]);
  if (S.tab !== "floor") return;
  const waiting = f.services.reduce((a, s) => a + s.waiting, 0);
  const open = f.windows.filter((w) => w.status === "open" && w.staffed !== false).length;
  const busy = f.windows.filter((w) => w.serving).length;
  const longest = Math.max(0, ...f.services.map((s) => s.longest_wait_min || 0));
  const served = f.windows.reduce((a, w) => a + w.served_today, 0);
  const alerts = f.alerts.length
    ? f.alerts.map(
        (a) => html`<div class="alert"><strong>预警</strong> ${a.text}
        ${a.suggest_windows.filter((w) => w.serves && !w.unstaffed).map((w) => html`<button class="small" data-open=${w.no} @click=${() => openWindow(w.no)}>开启 ${w.no} 号窗口</button> `)}</div>`,
      )
    : html`<div class="alert calm">各事项排队正常（阈值：每个开放窗口 ${f.thresholds.per_window} 人，预计等候 ${f.thresholds.wait_min} 分钟）</div>`;
  // 差评 cases past their 回访 or 整改 deadline (the list is in the 评价 tab).
  const cases = (f.case_alerts || []).map(
    (a) => html`<div class="alert" data-case-alert=${a.case_id}><strong>差评超期</strong> ${a.text} <a href="#ratings">去处理</a></div>`,
  );
  // Devices needing attention (a display whose sound the browser blocks, a kiosk out of paper).
  const attention = devices.filter((d) => d.level === "warn" || d.level === "error");
  const kpi = (v, l) => html`<div class="kpi"><div class="v">${v}</div><div class="l">${l}</div></div>`;
  render(
    html`<h2>实时监控 <span class="muted" style="font-size:13px;font-weight:normal">${f.now.slice(11, 19)} 更新</span></h2>
    <div class="kpis">${kpi(waiting, "等候人数")}${kpi(`${open}/${f.windows.length}`, "开放窗口")}${kpi(busy, "正在办理")}
      ${kpi(fmt(longest), "最长等候（分钟）")}${kpi(served, "今日办结")}${kpi(f.alerts.length + (f.case_alerts || []).length, "预警")}</div>
    ${alerts}<div id="floor-cases">${cases}</div><div id="floor-devices">${attention.map((d) => html`<div class="alert" data-device=${d.name}><strong>设备</strong> ${d.summary}</div>`)}</div>
    <div class="cols floor">
      <div class="card"><h3 style="margin-top:0">各事项排队</h3>
        ${barChart(
          f.services.map((s) => s.name.replace(/业务$/, "")),
          [{ name: "等候人数", values: f.services.map((s) => s.waiting) }],
          { height: 180, title: "各事项等候人数" },
        )}
        <table><thead><tr><th>事项</th><th class="num">等候</th><th class="num">最长等候(分)</th><th class="num">开放窗口</th><th class="num">每窗口人数</th><th class="num">预计等候(分)</th></tr></thead>
        <tbody>${f.services.map(
          (s) => html`<tr><td>${s.name} <span class="muted">${s.code}</span></td>
          <td class="num">${s.waiting}</td><td class="num">${fmt(s.longest_wait_min)}</td>
          <td class="num">${s.open_windows.length}</td><td class="num">${fmt(s.per_window)}</td>
          <td class="num">${s.waiting ? s.wait_estimate.low_min + "–" + s.wait_estimate.high_min : "—"}</td></tr>`,
        )}</tbody></table>
      </div>
      <div class="card"><h3 style="margin-top:0">窗口状态</h3><div class="tiles">${f.windows.map(tile)}</div></div>
    </div>`,
    main(),
  );
}
TABS.floor = renderFloor;
