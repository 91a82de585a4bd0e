// The configuration tabs: 优先类别与叫号, 公告与营业日 (forms generated from the schema of each
// section), 配置文件导入导出 and 审计日志.

import {
  S,
  TABS,
  api,
  html,
  nothing,
  render,
  main,
  toast,
  guarded,
  saveConfig,
  loadConfig,
  loadSchema,
  download,
  saveFile,
  $,
  $$,
} from "./ui.js";
import { model, schemaForm, readForm } from "./forms.js";

const card = (title, body) => html`<div class="card"><h3 style="margin-top:0">${title}</h3>${body}</div>`;

// -- 优先类别与叫号 -------------------------------------------------------------------------
const ROUTING = ["policy", "interleave_n", "elderly_age", "noshow_reactivate_minutes"];

function classRow(code, c) {
  const fixed = code === "ordinary";
  return html`<tr><td><input name="code" .value=${code} ?readonly=${fixed} size="12" placeholder="如 veteran"></td>
    <td><input name="label" .value=${c.label} size="10"></td><td><input name="offset" type="number" step="any" .value=${String(c.offset)} style="width:90px"></td>
    <td><input name="rate" type="number" step="any" .value=${String(c.rate)} style="width:90px"></td>
    <td>${fixed ? nothing : html`<button class="small danger" data-rm @click=${(ev) => ev.target.closest("tr").remove()}>删除</button>`}</td></tr>`;
}

async function renderRouting() {
  const schema = await loadSchema();
  if (S.tab !== "routing") return;
  const def = model(schema, "RoutingSection");
  const r = S.cfg.routing;
  render(
    html`<h2>优先类别与叫号</h2>
    <div class="card">${schemaForm("routing-form", def, r, { only: ROUTING })}</div>
    <div class="card"><h3 style="margin-top:0">优先类别（绿色通道）</h3>
      <p class="muted">得分 = 窗口权重 × (起始分 + 增长速度 × 已等分钟)。起始分让优先者提前，普通号的得分仍随时间增长，不会被饿死。</p>
      <table id="classes"><thead><tr><th>代码</th><th>名称</th><th>起始分（分钟当量）</th><th>增长速度</th><th></th></tr></thead><tbody></tbody></table>
      <button class="small" id="class-add" @click=${() => {
        const tr = document.createElement("tbody");
        render(classRow("", { label: "", offset: 10, rate: 1 }), tr);
        $("#classes tbody").append(...tr.children);
      }} style="margin-top:8px">新增类别</button></div>
    <div class="row"><span class="grow"></span><button class="primary" id="routing-save" @click=${() => saveRouting(def)}>保存并生效</button></div>`,
    main(),
  );
  // The class rows are edited in place (added, removed), so they are drawn afresh each time.
  const body = $("#classes tbody");
  body.replaceChildren();
  const tmp = document.createElement("tbody");
  render(
    Object.entries(r.classes).map(([code, c]) => classRow(code, c)),
    tmp,
  );
  body.append(...tmp.children);
}
TABS.routing = renderRouting;

async function saveRouting(def) {
  const v = readForm("routing-form", def, ROUTING);
  const classes = {};
  $$("#classes tbody tr").forEach((tr) => {
    const g = (n) => $(`[name=${n}]`, tr).value.trim();
    if (g("code"))
      classes[g("code")] = {
        label: g("label") || g("code"),
        offset: Number(g("offset")) || 0,
        rate: Number(g("rate")) || 1,
      };
  });
  if (
    await saveConfig((cfg) => {
      Object.assign(cfg.routing, v, { classes });
    }, "叫号规则")
  )
    await renderRouting();
}

// -- 公告与营业日 ---------------------------------------------------------------------------
const HALL_HINTS = {
  notices: "每行一条，在显示屏和取号机滚动",
  timezone: "营业日在当地零点切换",
  holidays: "每行一个日期 YYYY-MM-DD",
  workdays: "周末需上班的日期",
  per_window_alert: "超过即提示开启潮汐窗口",
  endpoint: "留空则只在本地排队，配置后自动补报",
};

async function renderHall() {
  const schema = await loadSchema();
  if (S.tab !== "hall") return;
  const c = S.cfg;
  const form = (id, name, values) =>
    schemaForm(id, model(schema, name), values, {
      hints: HALL_HINTS,
      rows: { notices: 4 },
      placeholders: { endpoint: "https://…" },
    });
  const fieldMap = Object.entries(c.upload.field_map)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
  const mapHelp = schema.$defs.UploadSection.properties.field_map.description;
  render(
    html`<h2>公告与营业日</h2>
    <div class="cols">${card("大厅与公告", form("hall-form", "HallSection", c.hall))}
      <div class="card"><h3 style="margin-top:0">工作日历与差评期限</h3>${form("cal-form", "CalendarSection", c.calendar)}${form("fu-form", "FollowupSection", c.followup)}
        <h3>效能监察预警</h3>${form("ov-form", "OversightSection", c.oversight)}
        <h3>好差评公开（大厅显示屏）</h3>${form("pub-form", "PublicationSection", c.publication)}</div></div>
    ${card(
      "好差评省平台上报",
      html`${form("up-form", "UploadSection", c.upload)}
      <div class="form"><label>字段映射</label><textarea id="up-map" rows="4" .value=${fieldMap}></textarea>
        <div class="help">每行 平台字段=本地字段，如 bjbh=ticket_number · ${mapHelp}</div></div>
      <div class="help">取值映射（value_map）与固定字段（constants）请在配置文件中填写（配置文件导入导出）；密钥只写不读，显示为 ********，保留不改即沿用原密钥。</div>`,
    )}
    <div class="row"><span class="grow"></span><button class="primary" id="hall-save" @click=${() => saveHall(schema)}>保存并生效</button></div>`,
    main(),
  );
}
TABS.hall = renderHall;

async function saveHall(schema) {
  const read = (id, name) => readForm(id, model(schema, name));
  const h = read("hall-form", "HallSection"),
    cal = read("cal-form", "CalendarSection");
  const fu = read("fu-form", "FollowupSection"),
    ov = read("ov-form", "OversightSection"),
    pub = read("pub-form", "PublicationSection"),
    u = read("up-form", "UploadSection");
  const map = {};
  $("#up-map")
    .value.split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .forEach((l) => {
      const [k, v] = l.split("=");
      map[k.trim()] = (v || "").trim();
    });
  const ok = await saveConfig((cfg) => {
    Object.assign(cfg.hall, h);
    Object.assign(cfg.calendar, cal);
    Object.assign(cfg.followup, fu);
    Object.assign(cfg.oversight, ov);
    Object.assign(cfg.publication, pub);
    Object.assign(cfg.upload, u, { field_map: map });
  }, "大厅设置");
  if (ok) await renderHall();
}

// -- 配置文件导入导出 ------------------------------------------------------------------------
const KIND = { added: "新增", removed: "删除", changed: "修改" };
const show = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

function diffTable(changes) {
  if (!changes.length) return html`<div class="alert calm" style="margin-top:8px">与当前配置相同，没有变更</div>`;
  return html`<h3>将发生 ${changes.length} 项变更</h3><div class="scroll"><table class="diff"><thead><tr><th>配置项</th><th>变更</th><th>原值</th><th>新值</th></tr></thead>
    <tbody>${changes.map((c) => html`<tr><td>${c.path}</td><td class=${c.kind}>${KIND[c.kind]}</td><td>${show(c.before)}</td><td>${show(c.after)}</td></tr>`)}</tbody></table></div>
    <div class="row" style="margin-top:8px"><span class="grow"></span><button class="primary" id="toml-apply" @click=${() => guarded(applyToml)}>确认导入并生效</button></div>`;
}

async function applyToml() {
  S.saving = true;
  let res;
  try {
    res = await api.post("/admin/config/import", { toml: $("#toml-text").value, apply: true, version: S.version });
    await loadConfig();
  } finally {
    S.saving = false;
  }
  toast(`已导入：${res.changes.length} 项变更，配置版本 ${res.version}`);
  render(nothing, $("#toml-diff"));
}

function renderToml() {
  render(
    html`<h2>配置文件导入导出</h2>
    <div class="card row"><span>大厅 TOML 配置文件与在线配置是同一份：导出即当前生效的配置（版本 ${S.version}）。</span><span class="grow"></span>
      <button class="primary" id="toml-export" @click=${() => guarded(async () => saveFile(await (await download("/admin/config.toml")).blob(), "hall.toml"))}>导出 hall.toml</button></div>
    <div class="card"><h3 style="margin-top:0">导入</h3><div class="row"><input type="file" id="toml-file" accept=".toml,text/plain" @change=${async (
      ev,
    ) => {
      const f = ev.target.files[0];
      if (f) $("#toml-text").value = await f.text();
    }}><span class="muted">或直接粘贴：</span></div>
      <textarea id="toml-text" rows="10" style="margin-top:8px;font-family:monospace" placeholder=${'[hall]\nname = "…"'}></textarea>
      <div class="row" style="margin-top:8px"><span class="grow"></span><button id="toml-preview" @click=${() =>
        guarded(async () => {
          const r = await api.post("/admin/config/import", { toml: $("#toml-text").value, apply: false });
          render(diffTable(r.changes), $("#toml-diff"));
        })}>预览变更</button></div>
      <div id="toml-diff"></div></div>`,
    main(),
  );
}
TABS.toml = renderToml;

// -- 审计日志 ------------------------------------------------------------------------------
const ACTIONS = [
  ["", "全部"],
  ["config", "配置变更"],
  ["account", "账号"],
  ["device", "设备"],
  ["followup", "差评工单"],
  ["login", "登录"],
  ["window", "窗口"],
  ["upload", "上报"],
];
const J = (v) => JSON.stringify(v);

function auditDetail(d) {
  if (d && Array.isArray(d.changes)) {
    return html`<details><summary>${d.changes.length} 项变更</summary><div style="font-size:12px">${d.changes.slice(0, 6).map((c) => html`${c.path}：${J(c.before)} → ${J(c.after)}<br>`)}${d.changes.length > 6 ? "…" : ""}</div></details>`;
  }
  if (d && d.before && d.after && typeof d.before === "object") {
    const lines = Object.keys(d.after)
      .map((k) => `${k}：${J(d.before[k])} → ${J(d.after[k])}`)
      .concat(
        Object.entries(d)
          .filter(([k]) => k !== "before" && k !== "after" && d[k])
          .map(([k, v]) => `${k}: ${J(v)}`),
      );
    return html`<span style="font-size:12px">${lines.length ? lines.map((l, i) => html`${i ? html`<br>` : nothing}${l}`) : "无字段变化"}</span>`;
  }
  const text = J(d);
  return text === "{}"
    ? nothing
    : html`<span style="font-size:12px">${text.length > 160 ? text.slice(0, 160) + "…" : text}</span>`;
}

async function renderAudit() {
  const q = S.auditAction || "";
  const rows = await api.get("/admin/audit?limit=300" + (q ? "&action=" + encodeURIComponent(q) : ""));
  if (S.tab !== "audit") return;
  render(
    html`<h2>审计日志</h2><div class="card row"><label>操作类型 <select id="audit-action" @change=${(ev) => {
      S.auditAction = ev.target.value;
      guarded(renderAudit);
    }}>
      ${ACTIONS.map(([v, l]) => html`<option value=${v} ?selected=${v === q}>${l}</option>`)}</select></label>
      <span class="muted">审计记录只增不改，哈希链可用 <code>./hall audit verify</code> 校验。</span></div>
    <div class="card"><div class="scroll" style="max-height:600px"><table><thead><tr><th>时间</th><th>操作人</th><th>操作</th><th>对象</th><th>结果</th><th>详情</th></tr></thead><tbody>
    ${rows.map(
      (
        r,
      ) => html`<tr><td style="white-space:nowrap">${r.ts.slice(0, 19).replace("T", " ")}</td><td style="white-space:nowrap">${r.actor}</td><td>${r.action}</td><td>${r.target}</td>
      <td>${r.result === "ok" ? html`<span class="tag ok">成功</span>` : html`<span class="tag bad">${r.result}</span>`}</td><td>${auditDetail(r.detail)}</td></tr>`,
    )}</tbody></table></div></div>`,
    main(),
  );
}
TABS.audit = renderAudit;

// -- 更多设置: the remaining sections, each a form generated whole from its schema ----------
const MORE = ["security", "appointments", "notify", "window_screen", "led"];
const sectionModel = (schema, name) => model(schema, schema.properties[name].$ref.split("/").pop());

async function renderMore() {
  const schema = await loadSchema();
  if (S.tab !== "more") return;
  render(
    html`<h2>更多设置 <span class="muted" style="font-size:13px;font-weight:normal">与 docs/CONFIG.md 同源：每项的说明即配置文件中的说明</span></h2>
    ${MORE.map((name) =>
      card(
        html`${schema.properties[name].description} <code class="muted">[${name}]</code>`,
        schemaForm("sec-" + name, sectionModel(schema, name), S.cfg[name], { keys: true }),
      ),
    )}
    <div class="row"><span class="grow"></span><button class="primary" id="more-save" @click=${() => saveMore(schema)}>保存并生效</button></div>`,
    main(),
  );
}
TABS.more = renderMore;

async function saveMore(schema) {
  const values = Object.fromEntries(MORE.map((name) => [name, readForm("sec-" + name, sectionModel(schema, name))]));
  const ok = await saveConfig((cfg) => {
    for (const name of MORE) Object.assign(cfg[name], values[name]);
  }, "设置");
  if (ok) await renderMore();
}
