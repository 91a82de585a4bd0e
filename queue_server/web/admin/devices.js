// 设备管理: pairing codes for new devices, the registered devices and their health.

import { S, TABS, api, del, html, nothing, render, main, toast, guarded, when, $ } from "./ui.js";

const ROLE_LABELS = { kiosk: "自助取号机", display: "大厅显示屏", evaluator: "评价器" };
const LEVEL_TAGS = {
  ok: ["ok", "正常"],
  warn: ["warn", "注意"],
  unknown: ["off", "未上报"],
  offline: ["bad", "离线"],
  error: ["bad", "故障"],
};

async function pair() {
  const w = $("#pair-window").value;
  const r = await api.post("/admin/devices/pairing-codes", {
    role: $("#pair-role").value,
    name: $("#pair-name").value,
    window: w ? Number(w) : null,
  });
  render(
    html`<div class="alert calm" style="margin-top:10px">${ROLE_LABELS[r.role]} ${r.name} 的配对码：<b style="font-size:24px;letter-spacing:2px">${r.code}</b>（10 分钟内有效）<br>
    <span class="muted">设备端：POST /api/v1/devices/pair {"code": "${r.code}"}</span></div>`,
    $("#pair-out"),
  );
}

async function revoke(id) {
  if (!confirm("注销该设备？其令牌将立即失效。")) return;
  await del(`/admin/devices/${id}`);
  toast("设备已注销");
  await renderDevices();
}

async function renderDevices() {
  const list = await api.get("/admin/devices");
  if (S.tab !== "devices") return;
  render(
    html`<h2>设备管理</h2>
    <div class="card"><h3 style="margin-top:0">登记新设备</h3>
      <div class="row"><label>类型 <select id="pair-role">${Object.entries(ROLE_LABELS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select></label>
      <label>名称 <input id="pair-name" placeholder="如 kiosk-2" size="12"></label>
      <label>窗口 <select id="pair-window"><option value="">不绑定</option>${S.cfg.windows.map((w) => html`<option value=${w.no}>${w.no} 号</option>`)}</select></label>
      <button class="primary" id="pair-go" @click=${() => guarded(pair)}>生成配对码</button></div>
      <div id="pair-out"></div>
      <p class="muted">在设备上输入配对码（10 分钟内有效，仅能使用一次），设备即获得自己的访问令牌，无需手工复制令牌。评价器须绑定窗口。</p></div>
    <div class="card"><h3 style="margin-top:0">已登记设备</h3><table><thead><tr><th>名称</th><th>类型</th><th>窗口</th><th>状态</th><th>健康情况</th><th>最后心跳</th><th></th></tr></thead>
      <tbody>${
        list.length
          ? list.map((d) => {
              const [cls, label] = LEVEL_TAGS[d.level] || LEVEL_TAGS.error;
              return html`<tr><td>${d.name}</td><td>${d.role_label}</td><td>${d.window ? d.window + " 号" : "—"}</td>
          <td><span class="tag ${cls}">${label}</span></td><td>${d.summary}</td><td>${when(d.last_seen, 5, 19)}</td>
          <td>${d.token_id ? html`<button class="small danger" data-revoke=${d.token_id} @click=${() => guarded(() => revoke(d.token_id))}>注销</button>` : nothing}</td></tr>`;
            })
          : html`<tr><td colspan="7" class="muted">没有设备</td></tr>`
      }</tbody></table></div>`,
    main(),
  );
}
TABS.devices = renderDevices;
