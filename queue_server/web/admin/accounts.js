// 人员账号: staff and admin accounts (create, edit, disable, reset a password).

import { S, TABS, api, patch, html, nothing, render, main, toast, guarded, openModal, closeModal, $ } from "./ui.js";

function stateTag(a) {
  if (a.disabled) return html`<span class="tag off">已停用</span>`;
  return a.locked ? html`<span class="tag bad">已锁定</span>` : html`<span class="tag ok">正常</span>`;
}

async function renderAccounts() {
  S.accounts = await api.get("/admin/accounts");
  if (S.tab !== "accounts") return;
  render(
    html`<h2>人员账号</h2><div class="card"><div class="row" style="margin-bottom:8px"><span class="muted">密码至少 8 位且含字母和数字；停用、改角色或重置密码会让该账号的登录立即失效。</span><span class="grow"></span>
    <button class="primary" id="acc-new" @click=${() => editAccount(null)}>新增账号</button></div>
    <table><thead><tr><th>账号</th><th>姓名</th><th>角色</th><th>窗口</th><th>工号</th><th>状态</th><th></th></tr></thead>
    <tbody>${S.accounts.map(
      (a) => html`<tr><td>${a.username}</td><td>${a.name}</td><td>${a.role === "admin" ? "管理员" : "窗口人员"}</td>
      <td>${a.window ? a.window + " 号" : "—"}</td><td>${a.staff_no}</td><td>${stateTag(a)}</td>
      <td><button class="small" data-edit=${a.id} @click=${() => editAccount(a)}>编辑</button></td></tr>`,
    )}</tbody></table></div>`,
    main(),
  );
}
TABS.accounts = renderAccounts;

function editAccount(a) {
  const win = String((a && a.window) || 0);
  const role = a ? a.role : "staff";
  const field = (label, input, help) =>
    html`<label>${label}</label>${input}${help ? html`<div class="help">${help}</div>` : nothing}`;
  openModal(html`<h2>${a ? "编辑账号：" + a.username : "新增账号"}</h2>
    <div class="form" id="acc-form">
      ${field("账号", html`<input name="username" .value=${a ? a.username : ""} ?readonly=${!!a}>`)}
      ${field("姓名", html`<input name="name" .value=${a ? a.name : ""}>`)}
      ${field(
        "角色",
        html`<select name="role">${[
          ["staff", "窗口人员"],
          ["admin", "管理员"],
        ].map(([v, l]) => html`<option value=${v} ?selected=${v === role}>${l}</option>`)}</select>`,
      )}
      ${field("默认窗口", html`<select name="window">${[["0", "不绑定"], ...S.cfg.windows.map((w) => [String(w.no), w.no + " 号窗口"])].map(([v, l]) => html`<option value=${v} ?selected=${v === win}>${l}</option>`)}</select>`)}
      ${field("工号", html`<input name="staff_no" .value=${a ? a.staff_no : ""}>`)}
      ${field(a ? "重置密码" : "初始密码", html`<input name="password" .value=${""}>`, a ? "留空则不修改" : "至少 8 位，含字母和数字")}
      ${a ? field("停用账号", html`<input type="checkbox" name="disabled" ?checked=${a.disabled}>`) : nothing}
    </div>
    <div class="row" style="margin-top:14px"><span class="grow"></span><button id="acc-cancel" @click=${closeModal}>取消</button>
      <button class="primary" id="acc-save" @click=${() => guarded(() => save(a))}>保存</button></div>`);
}

async function save(a) {
  const v = (n) => $(`#acc-form [name="${n}"]`);
  const window = Number(v("window").value) || 0;
  const form = {
    name: v("name").value.trim(),
    role: v("role").value,
    staff_no: v("staff_no").value.trim(),
    password: v("password").value.trim(),
  };
  if (a) {
    const body = { name: form.name, role: form.role, window, staff_no: form.staff_no, disabled: v("disabled").checked };
    if (body.role === a.role) delete body.role;
    if (form.password) body.password = form.password;
    await patch(`/admin/accounts/${a.id}`, body);
  } else {
    await api.post("/admin/accounts", { username: v("username").value.trim(), ...form, window: window || null });
  }
  toast("账号已保存");
  closeModal();
  await renderAccounts();
}
