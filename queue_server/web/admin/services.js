// 事项管理: the services (事项) and the windows that serve them. The service form is generated
// from the schema of the Service model.

import {
  S,
  TABS,
  html,
  nothing,
  render,
  main,
  guarded,
  openModal,
  closeModal,
  saveConfig,
  loadSchema,
  $$,
} from "./ui.js";
import { model, schemaForm, readForm } from "./forms.js";

const HINTS = {
  code: "大写字母开头，如 HJ；创建后不建议修改",
  prefix: "一到两个大写字母，各事项不能重复",
  number_range: "号码位数按结束号补零，如 999 → M001",
  daily_quota: "0 表示不限（以号段为准）",
  hours: "每行一个时段，HH:MM-HH:MM",
  forms: "每行一个表单名称或链接",
  item_codes: "每行一个事项实施编码（实施主体统一社会信用代码18位 + 事项基本编码），好差评上报用",
  department: "实施部门，如 区税务局；好差评上报用",
};

/** A new record's values: the schema's defaults (lists default by factory, given here). */
export function defaults(def, extra = {}) {
  const out = {};
  for (const [k, p] of Object.entries(def.properties)) if ("default" in p) out[k] = structuredClone(p.default);
  return { ...out, ...extra };
}

function renderServices() {
  const del = (s) => {
    if (!confirm(`删除事项“${s.name}”？受理该事项的窗口将不再受理它。`)) return;
    saveConfig((cfg) => {
      cfg.services = cfg.services.filter((x) => x.code !== s.code);
      cfg.windows.forEach((w) => delete w.services[s.code]);
    }, "删除事项").then((ok) => ok && renderServices());
  };
  render(
    html`<h2>事项管理</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">修改后立即生效，无需重启；并通过事件流（config.changed）通知取号机和显示屏。</span><span class="grow"></span>
    <button class="primary" id="svc-new" @click=${() => guarded(() => editService(-1))}>新增事项</button></div>
    <table><thead><tr><th>编码</th><th>名称</th><th>字母</th><th>号段</th><th class="num">每日限额</th><th>取号时间</th><th>实名</th><th>受理窗口</th><th></th></tr></thead>
    <tbody>${S.cfg.services.map((s, i) => {
      const wins = S.cfg.windows.filter((w) => s.code in w.services).map((w) => w.no);
      return html`<tr><td>${s.code}</td><td>${s.name}</td><td>${s.prefix}</td><td>${s.number_range[0]}–${s.number_range[1]}</td>
        <td class="num">${s.daily_quota || "不限"}</td><td>${s.hours.join("，")}</td><td>${s.real_name ? "是" : "否"}</td>
        <td>${wins.length ? wins.join("、") : html`<span class="tag warn">无窗口</span>`}</td>
        <td style="white-space:nowrap"><button class="small" data-edit=${i} @click=${() => guarded(() => editService(i))}>编辑</button>
          <button class="small danger" data-del=${i} @click=${() => del(s)}>删除</button></td></tr>`;
    })}</tbody></table></div>`,
    main(),
  );
}
TABS.services = renderServices;

async function editService(i) {
  const def = model(await loadSchema(), "Service");
  const s = i >= 0 ? S.cfg.services[i] : defaults(def, { hours: ["08:30-12:00", "13:30-17:30"], forms: [] });
  openModal(html`<h2>${i >= 0 ? "编辑事项：" + s.name : "新增事项"}</h2>
    ${schemaForm("svc-form", def, s, { hints: HINTS, textareas: ["guide"], rows: { hours: 2, forms: 2, item_codes: 2 }, placeholders: { code: "如 LNYL", name: "如 老年优待证办理", prefix: "如 M" } })}
    <h3>受理窗口</h3><div class="row" id="svc-wins" style="gap:8px 14px">${S.cfg.windows.map((w) => html`<label><input type="checkbox" name="win" value=${w.no} ?checked=${!!s.code && s.code in w.services}> ${w.no}</label> `)}</div>
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="svc-cancel" @click=${closeModal}>取消</button>
      <button class="primary" id="svc-save" @click=${() => save(def, i)}>保存并生效</button></div>`);
}

async function save(def, i) {
  const v = readForm("svc-form", def);
  const svc = { ...v, code: v.code.toUpperCase(), prefix: v.prefix.toUpperCase(), daily_quota: v.daily_quota || 0 };
  if (svc.avg_service_min === null) delete svc.avg_service_min;
  const wins = $$("#svc-wins [name=win]")
    .filter((c) => c.checked)
    .map((c) => +c.value);
  const ok = await saveConfig(
    (cfg) => {
      if (i >= 0) {
        const old = cfg.services[i].code;
        cfg.services[i] = svc;
        cfg.windows.forEach((w) => {
          if (old !== svc.code && old in w.services) {
            w.services[svc.code] = w.services[old];
            delete w.services[old];
          }
        });
      } else cfg.services.push(svc);
      cfg.windows.forEach((w) => {
        if (wins.includes(w.no)) {
          if (!(svc.code in w.services)) w.services[svc.code] = 1;
        } else delete w.services[svc.code];
      });
    },
    i >= 0 ? "事项修改" : "新增事项",
  );
  if (ok) {
    closeModal();
    renderServices();
  }
}
