// 语音广播 and 信息发布: announcements said through the displays' audio (now, once at a time,
// or daily at HH:MM on working days), and the posters the display shows in rotation.

import { API } from "../common.js";
import { S, TABS, api, patch, del, html, nothing, render, main, toast, guarded, when, $ } from "./ui.js";

const SCHEDULES = { now: "立即播出", once: "定时一次", daily: "每日定时" };
const PRESETS = ["本厅将于17:00停止取号，请尚未取号的群众明日再来", "请保管好随身物品", "请在等候区就座，留意叫号"];

function scheduleText(b) {
  if (b.schedule === "daily") return `每日 ${b.time}${b.working_days_only ? "（工作日）" : ""}`;
  if (b.schedule === "once") return `${when(b.at, 0, 16)} 一次`;
  return "立即";
}

async function sendBroadcast() {
  const schedule = $("#bc-schedule").value;
  const body = {
    text: $("#bc-text").value,
    schedule,
    repeats: Number($("#bc-repeats").value),
  };
  if (schedule === "once") body.at = $("#bc-at").value;
  if (schedule === "daily") {
    body.time = $("#bc-time").value;
    body.working_days_only = $("#bc-workdays").checked;
  }
  await api.post("/admin/broadcasts", body);
  toast(schedule === "now" ? "广播已发送，显示屏将在当前叫号播完后播出" : "广播已排定");
  $("#bc-text").value = "";
  await renderBroadcasts();
}

function scheduleChanged() {
  const v = $("#bc-schedule").value;
  $("#bc-once").hidden = v !== "once";
  $("#bc-daily").hidden = v !== "daily";
}

async function renderBroadcasts() {
  const list = await api.get("/admin/broadcasts");
  if (S.tab !== "broadcasts") return;
  const action = async (fn, msg) => {
    await fn();
    toast(msg);
    await renderBroadcasts();
  };
  render(
    html`<h2>语音广播</h2>
    <div class="card"><h3 style="margin-top:0">新广播</h3>
      <label style="display:block">内容 <textarea id="bc-text" rows="2" maxlength="200" style="width:100%" placeholder="如：请保管好随身物品"></textarea></label>
      <div class="row">${PRESETS.map((p) => html`<button class="small" @click=${() => { $("#bc-text").value = p; }}>${p.slice(0, 12)}…</button>`)}</div>
      <div class="row" style="margin-top:8px">
        <label>播出 <select id="bc-schedule" @change=${scheduleChanged}>${Object.entries(SCHEDULES).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select></label>
        <span id="bc-once" hidden><label>时间 <input id="bc-at" type="datetime-local"></label></span>
        <span id="bc-daily" hidden><label>每日 <input id="bc-time" type="time" value="17:00"></label>
          <label><input id="bc-workdays" type="checkbox" checked> 仅工作日</label></span>
        <label>播报 <select id="bc-repeats"><option value="1">1 遍</option><option value="2" selected>2 遍</option><option value="3">3 遍</option></select></label>
        <button class="primary" id="bc-send" @click=${() => guarded(sendBroadcast)}>发送</button>
      </div>
      <p class="muted">广播通过显示屏的语音播出：排在尚未播完的叫号之后，不会打断叫号。定时广播在营业日历的工作日按时播出；服务器停机错过超过 ${S.cfg.broadcast ? S.cfg.broadcast.late_minutes : 10} 分钟的不再补播。</p></div>
    <div class="card"><h3 style="margin-top:0">广播列表</h3><table><thead><tr><th>内容</th><th>播出</th><th>状态</th><th class="num">已播次数</th><th>最近播出</th><th>创建人</th><th></th></tr></thead>
      <tbody>${
        list.length
          ? list.map(
              (b) => html`<tr data-broadcast=${b.id}><td>${b.text}</td><td>${scheduleText(b)}</td>
          <td>${b.schedule === "now" ? html`<span class="tag ok">已播出</span>` : b.enabled ? html`<span class="tag ok">启用</span>` : html`<span class="tag off">暂停</span>`}</td>
          <td class="num">${b.sent_count}</td><td>${when(b.last_sent_at, 5, 19) || "—"}</td><td>${b.created_by}</td>
          <td style="white-space:nowrap"><button class="small" @click=${() => guarded(() => action(() => api.post(`/admin/broadcasts/${b.id}/send`), "已再次播出"))}>再播一次</button>
            ${b.schedule === "now" ? nothing : html`<button class="small" @click=${() => guarded(() => action(() => patch(`/admin/broadcasts/${b.id}`, { enabled: !b.enabled }), b.enabled ? "已暂停" : "已启用"))}>${b.enabled ? "暂停" : "启用"}</button>`}
            <button class="small danger" @click=${() => guarded(() => confirm("删除这条广播？") && action(() => del(`/admin/broadcasts/${b.id}`), "已删除"))}>删除</button></td></tr>`,
            )
          : html`<tr><td colspan="7" class="muted">还没有广播</td></tr>`
      }</tbody></table></div>`,
    main(),
  );
}
TABS.broadcasts = renderBroadcasts;

// -- 信息发布 --------------------------------------------------------------------------------
/** Upload the chosen file's bytes as they are; the server checks the type from the bytes. */
async function uploadImage(file) {
  const r = await fetch(API + "/admin/media", {
    method: "POST",
    headers: { Authorization: "Bearer " + S.token, "Content-Type": "application/octet-stream" },
    body: file,
  });
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (!r.ok) throw new Error((data && data.error && data.error.message) || `上传失败（${r.status}）`);
  return data;
}

async function addPoster() {
  const file = $("#pt-file").files[0];
  if (!file) throw new Error("请选择图片文件（PNG、JPEG 或 WebP）");
  const max = S.cfg.posters ? S.cfg.posters.max_kib : 2048;
  if (file.size > max * 1024) throw new Error(`图片过大（${Math.ceil(file.size / 1024)} KiB），上限 ${max} KiB`);
  const img = await uploadImage(file);
  await api.post("/admin/posters", {
    title: $("#pt-title").value || file.name.replace(/\.[^.]*$/, ""),
    sha256: img.sha256,
    position: Number($("#pt-position").value || 0),
    seconds: Number($("#pt-seconds").value || 15),
    valid_from: $("#pt-from").value || null,
    valid_to: $("#pt-to").value || null,
  });
  toast("图片公告已发布");
  await renderPosters();
}

async function renderPosters() {
  const list = await api.get("/admin/posters");
  if (S.tab !== "posters") return;
  const max = S.cfg.posters ? S.cfg.posters : { max_kib: 2048, max_pixels: 4096 };
  const move = async (p, position) => {
    await patch(`/admin/posters/${p.id}`, { position });
    await renderPosters();
  };
  render(
    html`<h2>信息发布</h2>
    <div class="card"><h3 style="margin-top:0">发布图片公告</h3>
      <div class="row"><label>图片 <input id="pt-file" type="file" accept="image/png,image/jpeg,image/webp"></label>
        <label>标题 <input id="pt-title" size="16" maxlength="100" placeholder="如 医保政策告知"></label>
        <label>顺序 <input id="pt-position" type="number" min="0" value=${list.length + 1} style="width:5em"></label>
        <label>每次显示 <input id="pt-seconds" type="number" min="3" max="600" value="15" style="width:5em"> 秒</label></div>
      <div class="row" style="margin-top:8px"><label>开始日期 <input id="pt-from" type="date"></label>
        <label>结束日期 <input id="pt-to" type="date"></label>
        <button class="primary" id="pt-add" @click=${() => guarded(addPoster)}>上传并发布</button></div>
      <p class="muted">只接受 PNG、JPEG、WebP 图片（按文件内容识别，不接受 SVG、HTML），不超过 ${max.max_kib} KiB、边长不超过 ${max.max_pixels} 像素。显示屏在右侧一栏按顺序轮播有效期内的图片；竖版海报效果最好。</p></div>
    <div class="card"><h3 style="margin-top:0">轮播列表</h3><table><thead><tr><th>图片</th><th>标题</th><th class="num">顺序</th><th class="num">秒</th><th>有效期</th><th>尺寸</th><th></th></tr></thead>
      <tbody>${
        list.length
          ? list.map(
              (p) => html`<tr data-poster=${p.id}><td><img src=${`${p.url}?access_token=${encodeURIComponent(S.token)}`} alt=${p.title} style="height:64px;max-width:96px;object-fit:contain"></td>
          <td>${p.title}</td><td class="num">${p.position}</td><td class="num">${p.seconds}</td>
          <td>${p.valid_from ? when(p.valid_from, 0, 16) : "即日"} 至 ${p.valid_to ? when(p.valid_to, 0, 16) : "长期"}</td><td>${p.width}×${p.height}</td>
          <td style="white-space:nowrap"><button class="small" @click=${() => guarded(() => move(p, Math.max(0, p.position - 1)))}>上移</button>
            <button class="small" @click=${() => guarded(() => move(p, p.position + 1))}>下移</button>
            <button class="small danger" @click=${() => guarded(async () => { if (!confirm(`撤下“${p.title}”？`)) return; await del(`/admin/posters/${p.id}`); toast("已撤下"); await renderPosters(); })}>撤下</button></td></tr>`,
            )
          : html`<tr><td colspan="7" class="muted">还没有图片公告</td></tr>`
      }</tbody></table></div>`,
    main(),
  );
}
TABS.posters = renderPosters;
