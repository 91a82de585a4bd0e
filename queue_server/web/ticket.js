// The ticket's QR page (评价二维码) on the citizen's phone: progress while waiting, the way to
// the window when called (智能引导), and after 办结 the five national levels (nothing
// preselected), the hall's coded reasons for a 差评 (the same list as the evaluator and the
// kiosk, from the server), an optional comment and an optional phone number for a 回访. No
// token: the code in the page's address is the credential (POST /evaluations, channel "qr").
// Chinese first, English beneath; 大字 switches to the elder-friendly text size.
import { $, Api, el } from "./common.js";

const code = decodeURIComponent(location.pathname.split("/t/")[1] || "");
const api = new Api(null, { onNetwork: (ok) => { $("#offline").hidden = ok; } });
const POLL_ACTIVE_S = 10; // waiting or called: the window may call any moment
const POLL_DONE_S = 30; // done, not rated: notice a rating made at the window meanwhile
const PHONE = /^1[3-9]\d{9}$/;
const state = { view: null, level: null, reasons: new Set(), submitting: false, finished: false };
window.__ticket = { state };
let pollTimer = null;

function largeText(on) {
  document.documentElement.classList.toggle("large", on);
  $("#text-size").setAttribute("aria-pressed", on ? "true" : "false");
  try { localStorage.setItem("hall.ticket.large", on ? "1" : "0"); } catch (_) { /* private mode */ }
}

function storedLarge() {
  try { return localStorage.getItem("hall.ticket.large") === "1"; } catch (_) { return false; }
}

function stateLines(t) {
  if (t.status === "waiting") {
    return [t.ahead > 0 ? `等候中，前面还有 ${t.ahead} 人` : "等候中，马上轮到您",
      t.ahead > 0 ? `Waiting: ${t.ahead} ahead of you` : "Waiting: you are next"];
  }
  if (t.status === "called") return [`请到 ${t.window_guide} 办理`, `Please go to ${t.window_guide_en}`];
  if (t.status === "done") return ["已办结，感谢您的耐心", "Done, thank you for your patience"];
  return [t.status_text, t.status_text_en];
}

function renderTicket(view) {
  const t = view.ticket;
  document.body.dataset.status = t.status;
  $("#hall-name").textContent = view.hall.name;
  $("#number").textContent = t.number;
  $("#service").textContent = t.service_name;
  document.title = `${t.number} · ${view.hall.name}`;
  const [zh, en] = stateLines(t);
  $("#state-line").textContent = zh;
  $("#state-line-en").textContent = en;
  const waiting = t.status === "waiting";
  $("#facts").hidden = !waiting;
  $("#refresh-note").hidden = !waiting;
  if (waiting) {
    $("#ahead").replaceChildren(el("span", { class: "zh" }, `${t.ahead} 人`),
      el("span", { class: "en" }, `${t.ahead} people`));
    $("#wait").replaceChildren(el("span", { class: "zh" }, t.wait_text),
      el("span", { class: "en" }, t.wait_text_en));
  }
}

function renderRating(view) {
  if (state.finished) return;
  const r = view.rating;
  if (r.open) {
    if ($("#rate").hidden) buildForm(view.hall.ratings);
    $("#rate").hidden = false;
    $("#done").hidden = true;
  } else if (r.rated) {
    finish("本次服务已评价", "一次办理只能评价一次，感谢您的参与。",
      "This visit has been rated already. Thank you.");
  } else {
    $("#rate").hidden = true;
  }
}

function buildForm(vocab) {
  state.vocab = vocab;
  state.level = null;
  state.reasons.clear();
  $("#levels").replaceChildren(...vocab.levels.map(({ level, label, label_en }) =>
    el("button", { type: "button", role: "radio", "aria-checked": "false", class: `level l${level}`,
      "data-level": level, onclick: () => chooseLevel(level) },
    el("span", { class: "zh" }, label), el("span", { class: "en" }, label_en))));
  $("#reason-list").replaceChildren(...vocab.reasons.filter((x) => x.channels.includes("qr"))
    .map(({ code: c, label, label_en }) =>
      el("button", { type: "button", class: "reason", "aria-pressed": "false", "data-code": c,
        onclick: (e) => toggleReason(c, e.currentTarget) },
      el("span", { class: "zh" }, label), el("span", { class: "en" }, label_en))));
  updateForm();
}

function chooseLevel(level) {
  state.level = level;
  for (const b of document.querySelectorAll("#levels .level")) {
    b.setAttribute("aria-checked", Number(b.dataset.level) === level ? "true" : "false");
  }
  $("#rate-error").textContent = "";
  updateForm();
}

function toggleReason(c, button) {
  if (state.reasons.has(c)) state.reasons.delete(c); else state.reasons.add(c);
  button.setAttribute("aria-pressed", state.reasons.has(c) ? "true" : "false");
  updateForm();
}

function needsReason() {
  return state.level !== null && state.level <= state.vocab.reason_threshold;
}

function updateForm() {
  $("#reasons").hidden = !needsReason();
  $("#submit").disabled = state.submitting || state.level === null ||
    (needsReason() && state.reasons.size === 0);
}

function phoneValue() {
  let v = $("#phone").value.replace(/[\s-]/g, "");
  if (v.startsWith("+86")) v = v.slice(3);
  return v;
}

async function submit() {
  if (state.level === null || state.submitting) return;
  const phone = phoneValue();
  if (phone && !PHONE.test(phone)) {
    $("#rate-error").textContent = "手机号码格式不正确，应为11位手机号 (11-digit mobile number)";
    $("#phone").focus();
    return;
  }
  const reasons = needsReason() ? [...state.reasons] : [];
  const body = { ticket_id: state.view.ticket.id, level: state.level, reasons,
    comment: $("#comment").value.trim(), channel: "qr", code };
  if (phone) body.contact_phone = phone;
  state.submitting = true;
  updateForm();
  try {
    const ev = await api.post("/evaluations", body);
    const masked = ev.contact_phone_masked;
    finish("感谢您的评价！",
      masked ? `您的意见是我们改进工作的动力。我们将通过 ${masked} 与您联系回访。` : "您的意见是我们改进工作的动力。",
      "Thank you for your rating.");
  } catch (err) {
    if (err.status === 409) {
      finish("无法再次评价", err.message, "This visit cannot be rated again.");
    } else if (err.status === 403 || err.status === 404) {
      finish("评价未能提交", err.message, "The rating was not accepted: please scan the ticket's QR code again.");
    } else {
      $("#rate-error").textContent = err.message;
    }
  } finally {
    state.submitting = false;
    updateForm();
  }
}

function finish(title, text, textEn) {
  state.finished = true;
  $("#rate").hidden = true;
  $("#done").hidden = false;
  $("#done-title").textContent = title;
  $("#done-text").textContent = text;
  $("#done-text-en").textContent = textEn;
  $("#done").scrollIntoView({ block: "nearest" });
}

async function refresh() {
  clearTimeout(pollTimer);
  let next = POLL_ACTIVE_S;
  try {
    const view = await api.get(`/public/tickets/${encodeURIComponent(code)}`);
    state.view = view;
    renderTicket(view);
    renderRating(view);
    const s = view.ticket.status;
    if (s === "done") next = view.rating.open && !state.finished ? POLL_DONE_S : 0;
    else if (s !== "waiting" && s !== "called") next = 0;
  } catch (err) {
    if (err.status === 404) {
      $("#state-line").textContent = err.message;
      $("#state-line-en").textContent = "No such ticket: please scan the QR code on your ticket again.";
      next = 0;
    }
  }
  if (next) pollTimer = setTimeout(refresh, next * 1000);
}

function main() {
  largeText(storedLarge());
  $("#text-size").addEventListener("click", () =>
    largeText(!document.documentElement.classList.contains("large")));
  $("#submit").addEventListener("click", submit);
  // a number being corrected: the error about the old one goes
  $("#phone").addEventListener("input", () => { $("#rate-error").textContent = ""; });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !state.finished) refresh(); });
  refresh();
}

main();
