// 窗口管理: windows, the services each serves with a weight, their staff, open / close now.
// The window's own fields are a form generated from the schema of the Window model.

import {
  S,
  TABS,
  api,
  patch,
  html,
  render,
  main,
  toast,
  guarded,
  openModal,
  closeModal,
  saveConfig,
  loadSchema,
  $,
  $$,
} from "./ui.js";
import { model, schemaForm, readForm, CHOICES } from "./forms.js";

function stateTag(st) {
  if (st === "open") return html`<span class="tag ok">开放</span>`;
  if (st === "paused") return html`<span class="tag warn">暂停</span>`;
  return html`<span class="tag off">关闭</span>`;
}

async function renderWindows() {
  const [accounts, live] = await Promise.all([api.get("/admin/accounts"), api.get("/windows")]);
  S.accounts = accounts;
  if (S.tab !== "windows") return;
  const status = Object.fromEntries(live.map((w) => [w.no, w.status]));
  const names = Object.fromEntries(S.cfg.services.map((s) => [s.code, s.name]));
  const openClose = (no, open) =>
    guarded(async () => {
      await api.post(`/windows/${no}/${open ? "open" : "close"}`);
      toast(`${no} 号窗口已${open ? "开启" : "关闭"}`);
      await renderWindows();
    });
  const del = (w) => {
    if (!confirm(`删除 ${w.no} 号窗口？`)) return;
    saveConfig((cfg) => {
      cfg.windows = cfg.windows.filter((x) => x.no !== w.no);
    }, "删除窗口").then((ok) => ok && renderWindows());
  };
  render(
    html`<h2>窗口管理</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">权重越高越优先叫该事项；潮汐窗口在排队过长时开启。</span><span class="grow"></span>
    <button class="primary" id="win-new" @click=${() => guarded(() => editWindow(-1))}>新增窗口</button></div>
    <div class="scroll" style="max-height:560px"><table><thead><tr><th>窗口号</th><th>名称</th><th>类型</th><th>受理事项（权重）</th><th>工作人员</th><th>当前状态</th><th></th></tr></thead>
    <tbody>${S.cfg.windows.map((w, i) => {
      const staff = S.accounts.filter((a) => a.window === w.no && !a.disabled).map((a) => a.name);
      const st = status[w.no];
      return html`<tr><td><b>${w.no}</b></td><td style="white-space:nowrap">${w.name}</td><td style="white-space:nowrap">${CHOICES.kind[w.kind]}</td>
        <td>${Object.entries(w.services).map(([c, wt], k) => html`${k ? "，" : ""}${names[c] || c}<span class="muted">×${wt}</span>`)}</td>
        <td>${staff.length ? staff.join("、") : html`<span class="muted">—</span>`}</td>
        <td>${stateTag(st)}</td>
        <td style="white-space:nowrap"><button class="small" data-edit=${i} @click=${() => guarded(() => editWindow(i))}>编辑</button>
          ${
            st === "closed"
              ? html`<button class="small" data-open=${w.no} @click=${() => openClose(w.no, true)}>开启</button>`
              : html`<button class="small" data-close=${w.no} @click=${() => openClose(w.no, false)}>关闭</button>`
          }
          <button class="small danger" data-del=${i} @click=${() => del(w)}>删除</button></td></tr>`;
    })}</tbody></table></div></div>`,
    main(),
  );
}
TABS.windows = renderWindows;

async function editWindow(i) {
  const def = model(await loadSchema(), "Window");
  const w =
    i >= 0
      ? S.cfg.windows[i]
      : {
          no: Math.max(0, ...S.cfg.windows.map((x) => x.no)) + 1,
          name: "",
          kind: "comprehensive",
          services: {},
          status: "open",
        };
  const staffOpts = (S.accounts || []).filter((a) => a.role === "staff" && !a.disabled);
  openModal(html`<h2>${i >= 0 ? w.no + " 号窗口" : "新增窗口"}</h2>
    ${schemaForm("win-form", def, w, { readonly: i >= 0 ? ["no"] : [], placeholders: { name: "如 综合窗口", floor: "如 3（显示为3楼）", zone: "如 B（显示为B区）", department: "如 区税务局" } })}
    <h3>受理事项与权重</h3><div class="scroll" style="max-height:230px"><table id="win-svcs"><tbody>
      ${S.cfg.services.map(
        (
          s,
        ) => html`<tr><td><label><input type="checkbox" name="svc" value=${s.code} ?checked=${s.code in w.services}> ${s.name}</label></td>
        <td><input type="number" name=${"wt-" + s.code} .value=${String(w.services[s.code] || 1)} min="0.1" max="100" step="0.5" style="width:80px"></td></tr>`,
      )}
    </tbody></table></div>
    <h3>工作人员（登录时默认绑定此窗口）</h3><div class="row" id="win-staff" style="gap:8px 14px">
      ${
        staffOpts.length
          ? staffOpts.map(
              (a) =>
                html`<label><input type="checkbox" name="staff" value=${a.id} ?checked=${a.window === w.no}> ${a.name}<span class="muted">${a.window && a.window !== w.no ? "（现 " + a.window + " 号）" : ""}</span></label> `,
            )
          : html`<span class="muted">没有工作人员账号</span>`
      }</div>
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="win-cancel" @click=${closeModal}>取消</button>
      <button class="primary" id="win-save" @click=${() => guarded(() => save(def, i))}>保存并生效</button></div>`);
}

async function save(def, i) {
  const v = readForm("win-form", def);
  const services = {};
  $$("#win-svcs [name=svc]")
    .filter((c) => c.checked)
    .forEach((c) => {
      services[c.value] = Number($(`#win-svcs [name="wt-${c.value}"]`).value) || 1;
    });
  if (!Object.keys(services).length) throw new Error("请至少选择一个受理事项");
  const win = { ...v, services };
  const ok = await saveConfig(
    (cfg) => {
      if (i >= 0) cfg.windows[i] = win;
      else cfg.windows.push(win);
    },
    i >= 0 ? "窗口修改" : "新增窗口",
  );
  if (!ok) return;
  for (const c of $$("#win-staff [name=staff]")) {
    const a = S.accounts.find((x) => x.id === +c.value);
    if (c.checked && a.window !== win.no) await patch(`/admin/accounts/${a.id}`, { window: win.no });
    if (!c.checked && a.window === win.no) await patch(`/admin/accounts/${a.id}`, { window: 0 });
  }
  closeModal();
  await renderWindows();
}
