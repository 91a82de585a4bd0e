// 统计报表: KPIs, charts and a table per hour / day / service / window / staff / department,
// with the offline indicators (整体满意度, 服务效率, 服务水平, 服务态度), CSV export. Rates are
// shown as the server formats them (`<rate>_pct`), the same text the CSV carries.

import { S, TABS, api, html, render, main, guarded, fmt, today, download, saveFile, $$, $ } from "./ui.js";
import { barChart } from "./chart.js";

const DIMS = { hour: "按时段", day: "按日期", department: "按部门", service: "按事项", window: "按窗口", staff: "按人员" };

const read = () => Object.fromEntries($$("#report-form [name]").map((i) => [i.name, i.value]));

async function renderReports() {
  const q = S.reportQuery || { day_from: today(), day_to: today(), by: "hour" };
  S.reportQuery = q;
  render(
    html`<h2>统计报表 <span class="muted" style="font-size:13px;font-weight:normal">由事件记录计算，可审计、可重算</span></h2>
    <div class="card row" id="report-form">
      <label>开始 <input type="date" name="day_from" .value=${q.day_from}></label>
      <label>结束 <input type="date" name="day_to" .value=${q.day_to}></label>
      <label>分组 <select name="by">${Object.entries(DIMS).map(([k, v]) => html`<option value=${k} ?selected=${k === q.by}>${v}</option>`)}</select></label>
      <button class="primary" id="report-go" @click=${() => {
        S.reportQuery = read();
        guarded(drawReport);
      }}>查询</button>
      <button id="report-csv" @click=${() => guarded(exportCsv)}>导出 CSV</button>
    </div>
    <div id="report-body"></div>`,
    main(),
  );
  await drawReport();
}
TABS.reports = renderReports;

async function exportCsv() {
  const p = new URLSearchParams(read());
  const r = await download(`/admin/reports.csv?${p}`);
  saveFile(await r.blob(), `效能报表-${p.get("by")}-${p.get("day_from")}.csv`);
}

async function drawReport() {
  const q = S.reportQuery;
  const data = await api.get("/admin/reports?" + new URLSearchParams(q));
  const box = $("#report-body");
  if (!box) return;
  const rows = data.rows.filter((r) => r.key !== "合计");
  const total = data.rows[data.rows.length - 1];
  const labels = rows.map((r) => r.label);
  const kpi = (v, l) => html`<div class="kpi"><div class="v">${v}</div><div class="l">${l}</div></div>`;
  const num = (v) => html`<td class="num">${v}</td>`;
  const chartCard = (title, series, opts = {}) =>
    html`<div class="card"><h3 style="margin-top:0">${title}</h3>${barChart(labels, series, { title, ...opts })}</div>`;
  render(
    html`
    <div class="kpis">${kpi(total.tickets, "取号")}${kpi(total.done, "办结")}${kpi(fmt(total.wait_median), "等候中位数（分）")}
      ${kpi(fmt(total.wait_p90), "等候 90 分位（分）")}${kpi(total.no_show_rate_pct, "过号率")}${kpi(total.satisfaction_pct, `好评率（${total.ratings} 条评价）`)}</div>
    <div class="kpis" id="offline-indicators">${kpi(total.overall_pct, "整体满意度")}${kpi(total.efficiency_pct, "服务效率")}${kpi(total.competence_pct, "服务水平")}${kpi(total.attitude_pct, "服务态度")}</div>
    ${
      rows.length
        ? html`<div class="cols">
      ${chartCard("取号与办结", [
        { name: "取号", values: rows.map((r) => r.tickets) },
        { name: "办结", values: rows.map((r) => r.done), color: "#10b981" },
      ])}
      ${chartCard(
        "等候时间（分钟）",
        [
          { name: "中位数", values: rows.map((r) => r.wait_median) },
          { name: "90 分位", values: rows.map((r) => r.wait_p90) },
        ],
        { line: S.cfg.oversight.wait_alert_min, lineLabel: "预警线" },
      )}
      ${chartCard("办理时长（分钟）", [
        { name: "平均", values: rows.map((r) => r.service_mean), color: "#8b5cf6" },
        { name: "90 分位", values: rows.map((r) => r.service_p90), color: "#f59e0b" },
      ])}
      ${chartCard("好评率", [{ name: "好评率", values: rows.map((r) => r.satisfaction), color: "#10b981" }], { percent: true, max: 1 })}
    </div>`
        : html`<div class="card muted">所选日期没有记录</div>`
    }
    <div class="card"><div class="scroll"><table><thead><tr><th>${DIMS[q.by].slice(1)}</th><th class="num">取号</th><th class="num">办结</th>
      <th class="num">平均等候</th><th class="num">等候中位数</th><th class="num">等候90分位</th><th class="num">平均办理</th><th class="num">办理中位数</th><th class="num">办理90分位</th>
      <th class="num">过号率</th><th class="num">转移</th><th class="num">评价数</th><th class="num">好评率</th>
      <th class="num">整体满意度</th><th class="num">服务效率</th><th class="num">服务水平</th><th class="num">服务态度</th></tr></thead>
      <tbody>${data.rows.map(
        (r) => html`<tr style=${r.key === "合计" ? "font-weight:600" : ""}><td style="white-space:nowrap">${r.label}</td>
        ${num(r.tickets)}${num(r.done)}${num(fmt(r.wait_mean))}${num(fmt(r.wait_median))}${num(fmt(r.wait_p90))}
        ${num(fmt(r.service_mean))}${num(fmt(r.service_median))}${num(fmt(r.service_p90))}
        ${num(r.no_show_rate_pct)}${num(r.transfers)}${num(r.ratings)}${num(r.satisfaction_pct)}
        ${num(r.overall_pct)}${num(r.efficiency_pct)}${num(r.competence_pct)}${num(r.attitude_pct)}</tr>`,
      )}</tbody></table></div>
      <p class="muted">时间单位：分钟。等候 = 首次叫号 − 取号；办理 = 办结 − 最后一次叫号；90 分位按相邻秩线性插值；好评率 = 基本满意及以上 / 全部评价（窗口与扫码评价；自助终端的评价只评终端）。
      整体满意度 = 各评价等级 × 20% 的平均（非常满意 100%，非常不满意 20%）；服务效率、服务水平、服务态度 = 未选该项差评原因的评价所占比例。共回放 ${data.events} 条事件。</p></div>`,
    box,
  );
}
