// 好差评: the rating records, the 差评 cases (assign → 回访 → 整改 → close; 申诉复核; 转12345;
// what a case may do next comes from the server's transition table) and the provincial upload
// queue.

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
  fmt,
  today,
  when,
  openModal,
  closeModal,
  LEVELS,
  reasonText,
  CHANNELS,
  $,
  $$,
} from "./ui.js";

const RESULTS = { satisfied: "满意", unsatisfied: "不满意", unreachable: "未联系上" };
const APPEAL_KINDS = { mistaken: "误评", malicious: "恶意评价" };
const DECISIONS = { upheld: "申诉成立（不计入好评率）", rejected: "申诉不成立" };

function lateTags(c) {
  if (c.status === "closed") return nothing;
  return html`${c.followup_overdue ? html` <span class="tag bad">回访超期</span>` : nothing}${
    c.rectify_overdue ? html` <span class="tag bad">整改超期</span>` : nothing
  }`;
}

const opts = (list, cur) =>
  list.map(([v, l]) => html`<option value=${v} ?selected=${String(v) === String(cur)}>${l}</option>`);

export async function renderRatings() {
  const q = S.ratingQuery || {
    day_from: today(),
    day_to: today(),
    service: "",
    window: "",
    staff: "",
    level: "",
    channel: "",
  };
  S.ratingQuery = q;
  const cases = await api.get("/admin/cases");
  if (S.tab !== "ratings") return;
  const active = cases.filter((c) => c.status !== "closed");
  const overdue = active.filter((c) => c.overdue).length;
  const fu = S.cfg.followup;
  render(
    html`<h2>评价与差评工单</h2>
    <div class="card"><h3 style="margin-top:0">差评工单 <span class="tag ${overdue ? "bad" : "ok"}">${overdue} 件超期</span>
      <span class="tag info">${active.length} 件未办结</span></h3>
      <div class="row" style="margin-bottom:8px"><label><input type="checkbox" id="show-closed" @change=${() => drawCases(cases, active)}> 显示已办结</label>
      <label><input type="checkbox" id="only-overdue" @change=${() => drawCases(cases, active)}> 只看超期</label>
      <span class="muted">差评（不满意、非常不满意）自动生成工单；核实回访 ${fu.followup_working_days} 个工作日内，整改 ${fu.deadline_working_days} 个工作日内；未回访不能办结。</span></div>
      <div class="scroll" style="max-height:260px"><table id="cases"><thead><tr><th>工单</th><th>号票</th><th>事项</th><th>窗口</th><th>人员</th><th>评价</th><th>原因</th><th>状态</th><th>回访人</th><th>回访期限</th><th>整改期限</th></tr></thead><tbody></tbody></table></div></div>
    <div class="card"><h3 style="margin-top:0">评价记录</h3>
      <div class="row" id="rating-form">
        <label>开始 <input type="date" name="day_from" .value=${q.day_from}></label>
        <label>结束 <input type="date" name="day_to" .value=${q.day_to}></label>
        <label>事项 <select name="service"><option value="">全部</option>${opts(
          S.cfg.services.map((s) => [s.code, s.name]),
          q.service,
        )}</select></label>
        <label>窗口 <select name="window"><option value="">全部</option>${opts(
          S.cfg.windows.map((w) => [w.no, w.no + " 号"]),
          q.window,
        )}</select></label>
        <label>人员 <input name="staff" size="6" .value=${q.staff}></label>
        <label>等级 <select name="level"><option value="">全部</option>${opts(Object.entries(LEVELS).reverse(), q.level)}</select></label>
        <label>渠道 <select name="channel"><option value="">全部</option>${opts(Object.entries(CHANNELS), q.channel)}</select></label>
        <button class="primary" id="rating-go" @click=${() => {
          S.ratingQuery = Object.fromEntries($$("#rating-form [name]").map((i) => [i.name, i.value]));
          guarded(drawRatings);
        }}>筛选</button>
      </div>
      <div class="scroll" style="margin-top:8px;max-height:300px"><table id="ratings"><thead><tr><th>时间</th><th>号票</th><th>事项</th><th>窗口</th><th>人员</th><th>渠道</th><th>评价</th><th>原因与留言</th><th>工单</th></tr></thead><tbody></tbody></table></div></div>`,
    main(),
  );
  drawCases(cases, active);
  await drawRatings();
}
TABS.ratings = renderRatings;

function drawCases(cases, active) {
  let list = $("#show-closed").checked ? cases : active;
  if ($("#only-overdue").checked) list = list.filter((c) => c.overdue && c.status !== "closed");
  render(
    list.length
      ? list.map(
          (c) => html`<tr class="clickable ${c.overdue && c.status !== "closed" ? "overdue" : ""}" data-case=${c.id}
      @click=${() => guarded(() => openCase(c.id))}>
      <td>#${c.id}</td><td>${c.ticket_number}</td><td>${c.service_name}</td><td>${fmt(c.window)}</td><td>${c.staff || "—"}</td>
      <td><span class="tag bad">${LEVELS[c.level]}</span></td><td>${reasonText(c.reasons)}</td>
      <td><span class="tag ${c.status === "closed" ? "ok" : "warn"}">${c.status_label}</span>${lateTags(c)}${c.excluded ? html` <span class="tag info">不计入好评率</span>` : nothing}</td>
      <td>${c.assignee || "—"}</td><td>${c.followup_due_day}</td><td>${c.due_day}</td></tr>`,
        )
      : html`<tr><td colspan="11" class="muted">没有待处理的差评工单</td></tr>`,
    $("#cases tbody"),
  );
}

async function drawRatings() {
  const p = new URLSearchParams(Object.entries(S.ratingQuery).filter(([, v]) => v !== ""));
  const list = await api.get("/admin/evaluations?" + p);
  const body = $("#ratings tbody");
  if (!body) return;
  const svcName = (code) => (S.cfg.services.find((s) => s.code === code) || {}).name || code;
  render(
    list.length
      ? list.map(
          (e) => html`<tr><td>${when(e.created_at)}</td><td>${e.ticket_number}${e.case_no ? html`<br><span class="muted">办件 ${e.case_no}</span>` : nothing}</td>
      <td>${svcName(e.service)}</td><td>${fmt(e.window)}</td><td>${e.staff || "—"}${e.staff_no ? html`<br><span class="muted">工号 ${e.staff_no}</span>` : nothing}</td>
      <td>${CHANNELS[e.channel] || e.channel}${e.device ? html`<br><span class="muted">${e.device}</span>` : nothing}</td>
      <td><span class="tag ${e.level <= 2 ? "bad" : e.level === 3 ? "warn" : "ok"}">${e.level_label}</span>${e.excluded ? html` <span class="tag info" title="申诉成立，不计入好评率">不计入</span>` : nothing}</td>
      <td>${reasonText(e.reasons)}${e.comment ? html` <span class="muted">“${e.comment}”</span>` : nothing}${e.contact_phone_masked ? html`<br><span class="muted">回访电话 ${e.contact_phone_masked}</span>` : nothing}</td>
      <td>${
        e.case_id
          ? html`<a href="#ratings" data-case=${e.case_id} @click=${(ev) => {
              ev.preventDefault();
              guarded(() => openCase(e.case_id));
            }}>#${e.case_id}</a>`
          : nothing
      }</td></tr>`,
        )
      : html`<tr><td colspan="9" class="muted">没有符合条件的评价</td></tr>`,
    body,
  );
}

async function openCase(id) {
  const c = await api.get("/admin/cases/" + id);
  if (!S.accounts.length) S.accounts = await api.get("/admin/accounts").catch(() => []);
  const closed = c.status === "closed";
  const can = (action) => c.actions.includes(action);
  const staffNames = (S.accounts || []).map((a) => a.name);
  const usernames = (S.accounts || []).filter((a) => !a.disabled).map((a) => [a.username, a.name]);
  const fu = S.cfg.followup;
  const step = (path, body, msg) => () =>
    guarded(async () => {
      await api.post(`/admin/cases/${id}/${path}`, body());
      toast(msg);
      if (S.tab === "ratings") await renderRatings();
      await openCase(id);
    });
  const t = (iso) =>
    String(iso || "")
      .slice(0, 16)
      .replace("T", " ");
  openModal(html`<div class="row"><h2 style="margin:0">差评工单 #${c.id}</h2><span class="tag ${closed ? "ok" : "warn"}">${c.status_label}</span>
      ${lateTags(c)}${c.excluded ? html`<span class="tag info">不计入好评率</span>` : nothing}<span class="grow"></span><button class="small" id="case-x" @click=${closeModal}>关闭</button></div>
    <table style="margin:10px 0"><tbody>
      <tr><th>号票</th><td>${c.ticket_number}（${c.business_day}）</td><th>事项</th><td>${c.service_name}</td></tr>
      <tr><th>窗口 / 人员</th><td>${fmt(c.window)} 号 / ${c.staff || "—"}</td><th>渠道</th><td>${CHANNELS[c.channel] || c.channel}</td></tr>
      <tr><th>评价</th><td><span class="tag bad">${LEVELS[c.level]}</span></td><th>评价时间</th><td>${t(c.evaluated_at)}</td></tr>
      <tr><th>原因</th><td colspan="3">${reasonText(c.reasons)}${c.comment ? "；留言：" + c.comment : ""}</td></tr>
      <tr><th>办事人</th><td>${c.citizen || "未实名"}</td><th>联系电话</th><td id="case-contact">${c.contact || html`<span class="muted">未留</span>`}
        ${c.contact && !closed ? html`<button class="small" id="case-reveal" title="仅被指派回访的账号可查看；每次查看都记入审计日志" @click=${() =>
          guarded(async () => {
            const r = await api.post(`/admin/cases/${id}/contact`);
            $("#case-contact").textContent = r.phone;
          })}>查看完整号码</button>` : nothing}</td></tr>
      <tr><th>回访期限</th><td>${c.followup_due_day}（${fu.followup_working_days} 个工作日）</td><th>整改期限</th><td>${c.due_day}（${fu.deadline_working_days} 个工作日）</td></tr>
    </tbody></table>
    <h3>1. 分派回访</h3>
    <div class="row"><input id="case-assignee" list="staff-names" placeholder="回访人姓名" .value=${c.assignee || ""} ?disabled=${!can("assign")}>
      <datalist id="staff-names">${staffNames.map((n) => html`<option value=${n}></option>`)}</datalist>
      <select id="case-account" ?disabled=${!can("assign")} title="回访人账号：只有该账号可查看群众完整号码"><option value="">（不绑定账号）</option>${opts(usernames.map(([u, n]) => [u, `${n}（${u}）`]), c.assignee_account)}</select>
      <button id="case-assign" ?disabled=${!can("assign")} @click=${step("assign", () => ({ assignee: $("#case-assignee").value, account: $("#case-account").value || null }), "已分派回访")}>分派</button>
      ${c.assigned_at ? html`<span class="muted">已于 ${t(c.assigned_at)} 分派</span>` : nothing}
      <span class="grow"></span><button id="case-handoff" ?disabled=${!can("hand_off")} title="转 12345 热线回访（暂存本地队列，发送失败自动重试）"
        @click=${step("handoff", () => ({}), "已转 12345")}>转12345</button></div>
    ${c.hotline ? html`<p id="case-hotline">12345 转办：${c.hotline.status === "sent" ? html`<span class="tag ok">已送达</span> ${t(c.hotline.sent_at)}` : html`<span class="tag warn">待发送</span> 已尝试 ${c.hotline.attempts} 次 ${c.hotline.last_error}`}
      ${c.hotline.outcome_at ? html` · 已收到回访结果 ${t(c.hotline.outcome_at)}` : nothing}</p>` : nothing}
    <h3>2. 回访记录</h3>
    ${c.followup_at ? html`<p>${t(c.followup_at)} ${c.followup_by}：<b>${RESULTS[c.followup_result] || c.followup_result}</b> — ${c.followup_note}</p>` : html`<p class="muted">尚未回访</p>`}
    ${
      !can("follow_up")
        ? nothing
        : html`<div class="row"><select id="case-result">${Object.entries(RESULTS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
      <input id="case-note" placeholder="回访情况，如：已电话回访，群众表示理解" style="flex:1">
      <button id="case-followup" @click=${step("followup", () => ({ result: $("#case-result").value, note: $("#case-note").value }), "已记录回访")}>记录回访</button></div>`
    }
    <h3>3. 整改</h3>
    ${c.rectified_at ? html`<p>${t(c.rectified_at)}：${c.rectification}</p>` : html`<p class="muted">尚未记录整改</p>`}
    ${
      !can("rectify")
        ? nothing
        : html`<div class="row"><input id="case-measures" placeholder="整改措施" style="flex:1">
      <button id="case-rectify" @click=${step("rectify", () => ({ measures: $("#case-measures").value }), "已记录整改")}>记录整改</button></div>`
    }
    <h3>4. 申诉复核</h3>
    ${c.appeal ? html`<p id="case-appeal">${t(c.appeal.filed_at)} ${c.appeal.appellant} 申诉（${c.appeal.kind_label}）：${c.appeal.reason}
      ${c.appeal.decision ? html`<br>${t(c.appeal.decided_at)} ${c.appeal.reviewer} 复核：<b>${DECISIONS[c.appeal.decision]}</b> — ${c.appeal.note}` : nothing}</p>` : nothing}
    ${
      can("appeal") && !c.appeal
        ? html`<div class="row"><select id="case-appeal-kind">${Object.entries(APPEAL_KINDS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
      <input id="case-appeal-reason" placeholder="申诉理由" style="flex:1">
      <button id="case-appeal-go" @click=${step("appeal", () => ({ kind: $("#case-appeal-kind").value, reason: $("#case-appeal-reason").value }), "已提交申诉")}>提出申诉</button></div>`
        : nothing
    }
    ${
      can("uphold")
        ? html`<div class="row"><select id="case-decision">${Object.entries(DECISIONS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
      <input id="case-decision-note" placeholder="复核意见" style="flex:1">
      <button id="case-review" @click=${step("review", () => ({ decision: $("#case-decision").value, note: $("#case-decision-note").value }), "已复核")}>复核</button></div>
      <p class="muted">复核人不能是被评价的工作人员，也不能是申诉人。</p>`
        : !c.appeal
          ? html`<p class="muted">${can("appeal") ? "" : "当前状态不能申诉。"}</p>`
          : nothing
    }
    <h3>5. 办结</h3>
    ${
      closed
        ? html`<p>${t(c.closed_at)} ${c.closed_by}：${c.conclusion}</p>`
        : html`<div class="row"><input id="case-conclusion" placeholder="办结说明" style="flex:1">
      <button class="primary" id="case-close" ?disabled=${!can("close")} title=${c.followup_at ? nothing : "须先记录回访"}
        @click=${step("close", () => ({ conclusion: $("#case-conclusion").value }), "工单已办结")}>办结工单</button></div>
      ${c.followup_at ? nothing : html`<p class="muted">须先记录回访才能办结。</p>`}`
    }`);
}

// -- 省平台上报 -----------------------------------------------------------------------------
function uploadState(r) {
  if (r.status === "sent" && r.outcome === "duplicate")
    return html`<span class="tag ok" title="省平台答复该办件编号已收到（例如此前的应答丢失），视为已送达">已上报（平台已有）</span>`;
  if (r.status === "sent") return html`<span class="tag ok">已上报</span>`;
  return r.attempts ? html`<span class="tag warn">重试中</span>` : html`<span class="tag info">待上报</span>`;
}

async function renderUploads() {
  const q = await api.get("/admin/uploads");
  if (S.tab !== "uploads") return;
  const kpi = (v, l) => html`<div class="kpi"><div class="v">${v}</div><div class="l">${l}</div></div>`;
  render(
    html`<h2>省平台上报</h2>
    <div class="kpis">${kpi(q.summary.pending, "待上报")}${kpi(q.summary.retrying, "失败重试中")}${kpi(q.summary.sent, "已上报")}</div>
    <div class="card row"><span>上报地址：${q.endpoint ? html`<code>${q.endpoint}</code>` : html`<span class="tag warn">未配置（记录保存在本地队列，配置后自动补报）</span>`}</span>
      <span class="grow"></span><a href="#hall">修改上报设置</a><button class="primary" id="retry" @click=${() =>
        guarded(async () => {
          const r = await api.post("/admin/uploads/retry");
          toast(`已重试：成功 ${r.sent} 条，失败 ${r.failed} 条`);
          await renderUploads();
        })}>立即重试</button></div>
    <div class="card"><div class="scroll"><table><thead><tr><th>记录编号</th><th>办件编号</th><th>号票</th><th>事项</th><th>评价</th><th>状态</th><th class="num">尝试</th><th>下次重试</th><th>最近错误</th><th>上报时间</th></tr></thead>
      <tbody>${
        q.records.length
          ? q.records.map(
              (r) => html`<tr><td>${r.record_id}</td><td>${r.record.case_no || r.record_id}</td><td>${r.record.ticket_number}</td><td>${r.record.service_code}</td>
        <td>${LEVELS[r.record.level]}</td><td>${uploadState(r)}</td>
        <td class="num">${r.attempts}</td><td>${r.status === "pending" && r.attempts ? new Date(r.next_attempt_ts * 1000).toLocaleTimeString("zh-CN") : ""}</td>
        <td>${r.last_error}</td><td>${when(r.sent_at)}</td></tr>`,
            )
          : html`<tr><td colspan="10" class="muted">队列为空</td></tr>`
      }</tbody></table></div>
      <p class="muted">每条评价在保存时即写入本地队列（与评价同一事务），失败后按指数退避重试，重启不丢失；记录编号与办件编号固定，省平台按办件编号去重；平台答复“已收到”的记录视为已送达。</p></div>`,
    main(),
  );
}
TABS.uploads = renderUploads;
