// Window staff console (窗口工作台): one big button per action, F1–F8 shortcuts, the current
// ticket and this window's queue kept in step with the event stream (never a stale ticket).
import { $, Api, ApiError, EventStream, clockText, el, throttle } from "./common.js";

const SESSION_KEY = "hall.staff.session";
const IDLE_WARN_S = 20;

let session = null; // {token, window, name, staff_no, idle_minutes}
let api = null;
let stream = null;
const state = {
  window: null, // window view
  current: null, // full ticket view of the ticket called at this window, or null
  queue: [], // this window's waiting tickets in the order it will call them (server-computed)
  queueTotal: 0,
  noShow: [], // today's 过号 tickets skipped at this window
  services: [],
  classes: {},
  busy: false,
  online: true,
  epoch: 0, // bumped by every event about this window: a reply older than it is stale
};
window.__staff = { state };

// -- session ----------------------------------------------------------------------------------
function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); } catch (_) { return null; }
}

function showLogin(message) {
  if (stream) stream.stop();
  stream = null;
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  $("#console").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#password").value = "";
  $("#username").focus();
}

async function login(ev) {
  ev.preventDefault();
  const body = { username: $("#username").value.trim(), password: $("#password").value };
  const w = $("#login-window").value.trim();
  if (w) body.window = Number(w);
  const btn = $("#login-form button[type=submit]");
  btn.disabled = true;
  try {
    const res = await new Api(null).post("/login", body);
    if (res.role !== "staff" && res.role !== "admin") throw new ApiError(403, "role", "此账号不能使用窗口工作台");
    if (!res.window) throw new ApiError(422, "window", "请填写窗口号");
    session = { token: res.token, window: res.window, name: res.name, staff_no: res.staff_no, idle_minutes: res.idle_minutes, username: body.username };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    start();
  } catch (err) {
    $("#login-error").textContent = err.message;
    $("#password").value = "";
    $("#password").focus();
  } finally {
    btn.disabled = false;
  }
}

async function logout() {
  // The session ends here: answers still in flight for it (a poll refused once the token is
  // revoked) must not replace the reason shown on the login screen.
  const ending = api;
  api = null;
  if (ending) await ending.post("/logout").catch(() => {});
  showLogin("已退出登录");
}

// -- idle logout (the server expires the session too; this warns first) ------------------------
let lastActivity = Date.now();
function touch() {
  lastActivity = Date.now();
  const dlg = $("#dlg-idle");
  if (dlg.open) dlg.close();
}
function checkIdle() {
  if (!session) return;
  const limit = (session.idle_minutes || 30) * 60;
  const idle = (Date.now() - lastActivity) / 1000;
  const left = Math.ceil(limit - idle);
  const dlg = $("#dlg-idle");
  if (left <= 0) {
    if (dlg.open) dlg.close();
    logout().then(() => { $("#login-error").textContent = "长时间未操作，已自动退出登录"; });
  } else if (left <= IDLE_WARN_S) {
    $("#idle-left").textContent = left;
    if (!dlg.open) dlg.showModal();
  }
}

function tickClock() {
  $("#clock").textContent = clockText(state.timezone).slice(-8);
}

// -- rendering --------------------------------------------------------------------------------
function toast(text, kind = "info") {
  const t = $("#toast");
  t.textContent = text;
  t.className = `toast ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; t.className = "toast"; }, 6000);
}

function setOnline(ok) {
  state.online = ok;
  $("#offline").hidden = ok;
}

function renderHeader() {
  const w = state.window;
  $("#window-label").textContent = `${session.window}号窗口`;
  $("#window-name").textContent = w ? w.name : "";
  $("#staff-label").textContent = `${session.name}${session.staff_no ? `（工号 ${session.staff_no}）` : ""}`;
  const status = w ? w.status : "open";
  const label = { open: "办理中", paused: "暂停服务", closed: "已关闭" }[status] || status;
  const badge = $("#window-status");
  badge.textContent = label;
  badge.className = `status ${status}`;
  $("#pause-btn").lastChild.textContent = status === "paused" ? "恢复" : "暂停";
  $("#paused-banner").hidden = status !== "paused";
  document.body.classList.toggle("paused", status === "paused");
}

function isPaused() {
  return !!state.window && state.window.status === "paused";
}

function renderCurrent() {
  const t = state.current;
  const box = $("#current");
  box.classList.toggle("empty", !t);
  box.classList.toggle("priority", !!t && t.priority !== "ordinary");
  $("#cur-number").textContent = t ? t.number : "—";
  if (!t) {
    $("#cur-service").textContent = isPaused()
      ? "本窗口已暂停服务，按 F7 恢复后才能叫号"
      : "当前没有办理中的号票，按 F1 叫下一位";
    $("#cur-extra").replaceChildren();
    $("#cur-reason").textContent = "";
  } else {
    $("#cur-service").textContent = t.service_name;
    const extra = [el("span", { class: `tag ${t.priority === "ordinary" ? "" : "prio"}`, text: t.priority_label })];
    if (t.name_masked || t.id_masked) extra.push(el("span", { class: "tag", text: `实名 ${t.name_masked || ""} ${t.id_masked || ""}`.trim() }));
    if (t.call_count > 1) extra.push(el("span", { class: "tag", text: `已呼叫 ${t.call_count} 次` }));
    if (t.transfers) extra.push(el("span", { class: "tag", text: "转移而来" }));
    $("#cur-extra").replaceChildren(...extra);
    $("#cur-reason").textContent = t.call_reason && t.call_reason.text ? `叫号依据：${t.call_reason.text}` : "";
  }
  for (const b of document.querySelectorAll("#actions button")) {
    const needs = ["recall", "skip", "finish", "transfer"].includes(b.dataset.action);
    b.disabled = state.busy || (needs && !t);
  }
}

function renderQueue() {
  $("#queue-count").textContent = state.queueTotal;
  const items = state.queue.slice(0, 50).map((t) =>
    el("li", { class: t.priority !== "ordinary" ? "prio" : "", "data-id": t.id },
      el("span", { class: "pos", text: t.position }),
      el("b", { text: t.number }),
      el("span", { class: "qs", text: t.service_name }),
      t.priority !== "ordinary" ? el("span", { class: "tag prio", text: t.priority_label }) : null,
      t.target_window ? el("span", { class: "tag", text: "转入本窗口" }) : null,
      el("span", { class: "qt", text: (t.issued_at || "").slice(11, 16) })));
  if (!items.length) items.push(el("li", { class: "none", text: "暂无等候" }));
  $("#queue").replaceChildren(...items);
}

function renderNoShow() {
  $("#noshow-count").textContent = state.noShow.length;
  const items = state.noShow.map((t) =>
    el("li", { class: t.reactivatable ? "" : "expired", "data-id": t.id },
      el("b", { text: t.number }),
      el("span", { class: "qs", text: t.service_name }),
      el("span", { class: "qt", text: (t.skipped_at || "").slice(11, 16) }),
      t.reactivatable
        ? el("span", { class: "acts" },
          el("button", { type: "button", class: "small secondary", "data-noshow": "call", text: "特呼" }),
          el("button", { type: "button", class: "small plain", "data-noshow": "requeue", text: "重新排队" }))
        : el("span", { class: "tag", text: "已超时" })));
  if (!items.length) items.push(el("li", { class: "none", text: "暂无过号" }));
  $("#noshow").replaceChildren(...items);
}

async function renderToday() {
  try {
    const d = await api.get(`/windows/${session.window}/today`);
    const rows = [
      ["已叫号", d.called], ["已办结", d.done], ["过号", d.no_show],
      ["平均办理", d.avg_service_min === null ? "—" : `${d.avg_service_min} 分钟`],
      ["评价", d.ratings], ["差评", d.ratings_bad],
    ];
    $("#today").replaceChildren(...rows.map(([k, v]) => el("div", { class: "stat" }, el("span", { text: k }), el("b", { text: v }))));
  } catch (_) { /* keep the last figures */ }
}

// -- data -------------------------------------------------------------------------------------
// What this window sees is one server operation: its waiting tickets in calling order (the
// same scoring as call-next) and its 过号 list.
const refreshQueue = throttle(async () => {
  try {
    const q = await api.get(`/windows/${session.window}/queue?limit=200`);
    state.queue = q.waiting;
    state.queueTotal = q.waiting_total;
    state.noShow = q.no_show;
    renderQueue();
    renderNoShow();
  } catch (_) { /* offline */ }
}, 1000);
const refreshToday = throttle(renderToday, 1000);

async function snapshot() {
  const [win, services, hall] = await Promise.all([
    api.get(`/windows/${session.window}`), api.get("/services"), api.get("/hall"),
  ]);
  state.window = win;
  state.services = services;
  state.classes = hall.classes || {};
  state.timezone = hall.timezone;
  tickClock();
  document.title = `${session.window}号窗口 · ${hall.name}`;
  state.current = win.current ? await api.get(`/tickets/${win.current.id}`) : null;
  renderHeader();
  renderCurrent();
  refreshQueue();
  refreshToday();
  refreshDevices();
}

/** Hall devices staff should know about: a display that cannot speak means silent calls. */
async function refreshDevices() {
  let list = [];
  try { list = await api.get("/devices/attention"); } catch (_) { return; }
  const box = $("#device-alerts");
  box.replaceChildren(...list.map((d) => el("div", { text: `⚠ ${d.summary}` })));
  box.hidden = list.length === 0;
}

function onEvent(ev) {
  const d = ev.data;
  const mine = session && d.window === session.window;
  if (mine || (state.current && d.id === state.current.id) || d.no === session.window) state.epoch += 1;
  switch (ev.type) {
    case "ticket.called":
      if (mine) state.current = d;
      else if (state.current && state.current.id === d.id) state.current = null;
      break;
    case "ticket.recalled":
      if (state.current && state.current.id === d.id) state.current = d;
      break;
    case "ticket.finished":
    case "ticket.skipped":
    case "ticket.transferred":
    case "ticket.cancelled":
      if (state.current && state.current.id === d.id) state.current = null;
      break;
    case "ticket.renumbered": // the kiosk printed another number for it: show that one
      if (state.current && state.current.id === d.id) state.current = d.status === "called" ? d : null;
      break;
    case "window.paused":
    case "window.resumed":
    case "window.opened":
    case "window.closed":
      if (d.no === session.window) {
        state.window = d;
        if (d.status !== "paused" && $("#dlg-paused").open) $("#dlg-paused").close();
      }
      renderHeader();
      break;
    case "config.changed":
      // The administrator changed the hall live: this window's services, names, classes.
      snapshot().catch(() => {});
      return;
    default:
      break;
  }
  renderCurrent();
  if (ev.type.startsWith("ticket.")) refreshQueue();
  if (mine || ev.type === "evaluation.created") refreshToday();
}

// -- actions ----------------------------------------------------------------------------------
async function act(fn) {
  if (state.busy) return;
  state.busy = true;
  renderCurrent();
  try {
    await fn();
  } catch (err) {
    toast(err.message, "error");
  } finally {
    state.busy = false;
    renderCurrent();
  }
}

/** Take an action's reply as the current ticket, unless the event stream has already said
 * something newer about this window (another tab's call): then the stream is right. */
function setCurrent(epoch, ticket) {
  if (state.epoch === epoch) state.current = ticket;
}

const actions = {
  // While paused F1 never resumes silently: it asks (恢复并叫号 / 取消).
  next: () => (isPaused() ? openDialog("#dlg-paused", () => {}) : act(async () => {
    const epoch = state.epoch;
    const t = await api.post(`/windows/${session.window}/call-next`);
    setCurrent(epoch, t);
    if (t === null) toast("当前没有等候的号票", "info");
    else toast(`已呼叫 ${t.number}`, "ok");
  })),
  recall: () => state.current && act(async () => {
    const epoch = state.epoch;
    const t = await api.post(`/tickets/${state.current.id}/recall`);
    setCurrent(epoch, t);
    toast(`已重呼 ${t.number}`, "ok");
  }),
  skip: () => state.current && act(async () => {
    const epoch = state.epoch;
    const t = await api.post(`/tickets/${state.current.id}/skip`);
    setCurrent(epoch, null);
    toast(`${t.number} 已过号`, "ok");
  }),
  finish: () => state.current && act(async () => {
    const epoch = state.epoch;
    const t = await api.post(`/tickets/${state.current.id}/finish`);
    setCurrent(epoch, null);
    toast(`${t.number} 已办结，请群众在评价器上评价`, "ok");
  }),
  special: () => openDialog("#dlg-special", () => { $("#special-number").value = ""; $("#special-error").textContent = ""; $("#special-number").focus(); }),
  transfer: () => state.current && openDialog("#dlg-transfer", () => {
    const t = state.current;
    $("#transfer-number").textContent = t.number;
    $("#transfer-error").textContent = "";
    $("#transfer-services").replaceChildren();
    $("#transfer-windows").replaceChildren();
    loadTransferTargets(t);
  }),
  pause: () => act(async () => {
    const paused = state.window && state.window.status === "paused";
    state.window = await api.post(`/windows/${session.window}/${paused ? "resume" : "pause"}`);
    renderHeader();
    toast(paused ? "已恢复叫号" : "已暂停，本窗口不再接收叫号", "ok");
  }),
  issue: () => openDialog("#dlg-issue", () => {
    $("#issue-error").textContent = "";
    $("#issue-result").hidden = true;
    $("#issue-idnumber").value = "";
    $("#issue-name").value = "";
    const served = new Set(state.window ? state.window.services : []);
    fillChoices("#issue-services", "issue-service", [...state.services].sort((a, b) => served.has(b.code) - served.has(a.code)));
    const sel = $("#issue-priority");
    sel.replaceChildren(...Object.entries(state.classes).map(([code, label]) => el("option", { value: code, text: label })));
    sel.value = "ordinary";
  }),
};

/** Only what can serve the ticket (the server decides): services some open window serves,
 * other than its own; open windows other than this one that serve its service. */
async function loadTransferTargets(t) {
  try {
    const got = await api.get(`/tickets/${t.id}/transfer-targets`);
    if (!state.current || state.current.id !== t.id) return;
    const choice = (value, text) => el("label", { class: "choice" },
      el("input", { type: "radio", name: "transfer-target", value }), el("span", { text }));
    const none = (text) => el("p", { class: "none", text });
    $("#transfer-services").replaceChildren(...(got.services.length
      ? got.services.map((s) => choice(`service:${s.code}`, `${s.prefix} ${s.name}`))
      : [none("没有其他开放窗口办理的事项")]));
    $("#transfer-windows").replaceChildren(...(got.windows.length
      ? got.windows.map((w) => choice(`window:${w.no}`, `${w.no} 号 ${w.name}`))
      : [none("没有其他开放窗口办理此事项")]));
  } catch (err) {
    $("#transfer-error").textContent = err.message;
  }
}

function fillChoices(box, name, services) {
  $(box).replaceChildren(...services.map((s, i) =>
    el("label", { class: "choice" },
      el("input", { type: "radio", name, value: s.code, checked: i === 0 && name === "issue-service" }),
      el("span", { text: `${s.prefix} ${s.name}${s.real_name ? "（实名）" : ""}` }))));
}

function openDialog(sel, prepare) {
  const dlg = $(sel);
  prepare();
  dlg.showModal();
}

async function submitSpecial(ev) {
  ev.preventDefault();
  const number = $("#special-number").value.trim().toUpperCase();
  if (!number) return;
  try {
    const epoch = state.epoch;
    const t = await api.post(`/windows/${session.window}/call-ticket`, { number });
    setCurrent(epoch, t);
    $("#dlg-special").close();
    renderCurrent();
    toast(`已特呼 ${t.number}`, "ok");
  } catch (err) {
    $("#special-error").textContent = err.message;
  }
}

async function submitTransfer(ev) {
  ev.preventDefault();
  if (!state.current) return;
  const picked = document.querySelector("input[name=transfer-target]:checked");
  if (!picked) {
    $("#transfer-error").textContent = "请选择转入的事项或窗口";
    return;
  }
  const [kind, value] = picked.value.split(":");
  const body = kind === "window" ? { window: Number(value) } : { service: value };
  try {
    const epoch = state.epoch;
    const t = await api.post(`/tickets/${state.current.id}/transfer`, body);
    setCurrent(epoch, null);
    $("#dlg-transfer").close();
    renderCurrent();
    toast(`${t.number} 已转移${body.window ? `到 ${body.window} 号窗口` : `到${t.service_name}`}`, "ok");
  } catch (err) {
    $("#transfer-error").textContent = err.message;
  }
}

async function submitPaused(ev) {
  ev.preventDefault();
  submitPaused.resuming = true;
  $("#dlg-paused").close();
  act(async () => {
    state.window = await api.post(`/windows/${session.window}/resume`);
    renderHeader();
    const epoch = state.epoch;
    const t = await api.post(`/windows/${session.window}/call-next`);
    setCurrent(epoch, t);
    toast(t === null ? "已恢复服务；当前没有等候的号票" : `已恢复服务并呼叫 ${t.number}`, "ok");
  });
}

async function noShowAction(ev) {
  const b = ev.target.closest("button[data-noshow]");
  if (!b) return;
  const id = Number(b.closest("li").dataset.id);
  const t = state.noShow.find((x) => x.id === id);
  if (!t) return;
  if (b.dataset.noshow === "call") {
    if (isPaused()) { toast("本窗口已暂停服务，请先按 F7 恢复", "error"); return; }
    act(async () => {
      const epoch = state.epoch;
      const called = await api.post(`/windows/${session.window}/call-ticket`, { ticket_id: id });
      setCurrent(epoch, called);
      toast(`已特呼过号 ${called.number}`, "ok");
    });
  } else {
    act(async () => {
      const back = await api.post(`/tickets/${id}/reactivate`);
      toast(`${back.number} 已重新排队`, "ok");
      refreshQueue();
    });
  }
}

async function submitIssue(ev) {
  ev.preventDefault();
  const svc = document.querySelector("input[name=issue-service]:checked");
  if (!svc) { $("#issue-error").textContent = "请选择事项"; return; }
  const body = { service: svc.value, channel: "counter", priority: $("#issue-priority").value,
    idempotency_key: `counter-${session.window}-${Date.now()}-${Math.random().toString(36).slice(2)}` };
  const idn = $("#issue-idnumber").value.trim();
  if (idn) body.id_card = { id_number: idn, name: $("#issue-name").value.trim() || null };
  try {
    const t = await api.post("/tickets", body);
    $("#issue-error").textContent = "";
    const box = $("#issue-result");
    box.hidden = false;
    box.replaceChildren(el("b", { text: t.number }), ` ${t.service_name}，前面 ${t.ahead} 人`);
    $("#issue-idnumber").value = "";
    $("#issue-name").value = "";
  } catch (err) {
    $("#issue-error").textContent = err.message;
  }
}

const KEYS = { F1: "next", F2: "recall", F3: "skip", F4: "finish", F5: "special", F6: "transfer", F7: "pause", F8: "issue" };

function onKey(ev) {
  touch();
  if (!session || document.querySelector("dialog[open]")) return;
  const action = KEYS[ev.key];
  if (action) {
    ev.preventDefault();
    if (!ev.repeat) actions[action]();
  }
}

// -- start ------------------------------------------------------------------------------------
function start() {
  $("#login").hidden = true;
  $("#console").hidden = false;
  touch();
  const mine = new Api(session.token, {
    onUnauthorized: (msg) => { if (api === mine) showLogin(msg || "登录已失效，请重新登录"); },
    onNetwork: setOnline,
  });
  api = mine;
  renderHeader();
  renderCurrent();
  stream = new EventStream(session.token, {
    onEvent,
    resync: snapshot,
    onOnline: setOnline,
    onUnauthorized: () => showLogin("登录已失效，请重新登录"),
  });
  stream.start();
}

function main() {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#actions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b && !b.disabled) actions[b.dataset.action]();
  });
  $("#form-special").addEventListener("submit", submitSpecial);
  $("#form-transfer").addEventListener("submit", submitTransfer);
  $("#form-issue").addEventListener("submit", submitIssue);
  $("#form-paused").addEventListener("submit", submitPaused);
  $("#dlg-paused").addEventListener("close", () => {
    if (!submitPaused.resuming) toast("窗口仍在暂停，未叫号", "info");
    submitPaused.resuming = false;
  });
  $("#noshow").addEventListener("click", noShowAction);
  for (const b of document.querySelectorAll("[data-close]")) b.addEventListener("click", () => b.closest("dialog").close());
  $("#idle-stay").addEventListener("click", touch);
  document.addEventListener("keydown", onKey, true);
  for (const t of ["pointerdown", "wheel"]) document.addEventListener(t, touch, { passive: true });
  setInterval(() => { tickClock(); checkIdle(); }, 1000);
  setInterval(() => { if (session && api) refreshQueue(); }, 30000); // 过号 re-activation windows run out
  setInterval(() => { if (session && api) refreshDevices(); }, 10000); // a display's health changes
  const params = new URLSearchParams(location.search);
  if (params.get("window")) $("#login-window").value = params.get("window");
  session = loadSession();
  if (session) start();
  else showLogin("");
}

main();
