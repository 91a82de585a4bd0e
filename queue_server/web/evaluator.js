// Window evaluator tablet (窗口评价器, 好差评): idle shows the staff on duty; when the window
// finishes a ticket with 办结 (ticket.finished, not an implicit finish by the next call) it asks
// for one of the five national levels, nothing preselected; 不满意/非常不满意 need at least one
// reason; then thanks, then idle again. Prompts are spoken; before going back to idle it offers
// more time (再等一会). A ticket rated first through its QR code is not rated again here: the
// page says so (the server's 409 message) and goes back to idle.
import { $, Api, EventStream, deviceToken, el, heartbeat } from "./common.js";

const params = new URLSearchParams(location.search);
// ?timeout=S shortens the wait for a rating (a hall's choice; the tests use 2 s).
const RATE_TIMEOUT_S = Number(params.get("timeout")) || 60;
const REASONS_TIMEOUT_S = Math.max(RATE_TIMEOUT_S, 90);
const THANKS_S = 5;
// The last seconds of a countdown show a warning with a 再等一会 button that restarts it.
const WARN_S = Math.min(15, Math.ceil(RATE_TIMEOUT_S / 2));
// The rating vocabulary (levels, the 差评 threshold, reason codes and labels) comes from
// GET /hall, the hall's own list (halldomain/ratings.py, [ratings] reasons); the page sends codes.
const vocab = { levels: {}, threshold: 2, reasons: [] };

const windowNo = Number(params.get("window"));
const token = deviceToken(`hall.evaluator.token.${windowNo}`);
const api = new Api(token, { onNetwork: (ok) => setOnline(ok) });
const state = { screen: "idle", ticket: null, level: null, reasons: new Set(), staff: null, online: true };
const spoken = []; // every prompt queued to be spoken, for the tests
window.__evaluator = { state, spoken };
let timer = null;

/** Speak a prompt with the tablet's speech synthesis (zh-CN), where the browser has one. */
function speak(text) {
  spoken.push(text);
  const synth = window.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
  try {
    synth.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = "zh-CN";
    u.rate = 0.9;
    synth.speak(u);
  } catch (_) { /* no voice on this device: the screen still says it */ }
}

function setOnline(ok) {
  state.online = ok;
  $("#offline").hidden = ok;
}

function show(screen) {
  state.screen = screen;
  for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== `screen-${screen}`;
  document.body.dataset.screen = screen;
}

function countdown(seconds, onDone) {
  clearInterval(timer);
  let left = seconds;
  const box = $("#timer");
  const render = () => {
    const warn = left <= WARN_S;
    $("#timer-left").textContent = Math.max(0, left);
    if (warn && !box.classList.contains("warn")) speak("如需更多时间，请点击再等一会");
    box.classList.toggle("warn", warn);
    $("#more-time").hidden = !warn;
  };
  box.hidden = false;
  countdown.restart = () => countdown(seconds, onDone);
  render();
  timer = setInterval(() => {
    left -= 1;
    render();
    if (left <= 0) {
      clearInterval(timer);
      onDone();
    }
  }, 1000);
}

function stopCountdown() {
  clearInterval(timer);
  const box = $("#timer");
  box.hidden = true;
  box.classList.remove("warn");
  $("#more-time").hidden = true;
}

function idle() {
  stopCountdown();
  state.ticket = null;
  state.level = null;
  state.reasons.clear();
  show("idle");
}

function renderStaff() {
  const s = state.staff;
  $("#staff-initial").textContent = s ? s.initial : "—";
  $("#staff-name").textContent = s ? s.name : "暂无工作人员";
  $("#staff-no").textContent = s && s.staff_no ? `工号 ${s.staff_no}` : "";
}

async function refreshStaff() {
  try {
    state.staff = await api.get(`/windows/${windowNo}/staff`);
    renderStaff();
  } catch (_) { /* keep showing the last one */ }
}

function askRating(ticket) {
  if (state.screen === "setup") return;
  state.ticket = ticket;
  state.level = null;
  state.reasons.clear();
  $("#rate-number").textContent = ticket.number;
  $("#rate-service").textContent = ticket.service_name || "";
  $("#rate-staff").textContent = ticket.staff || (state.staff && state.staff.name) || "";
  for (const b of document.querySelectorAll("#levels button")) b.blur();
  show("rate");
  speak(`请您对本次服务进行评价，号码 ${ticket.number}`);
  countdown(RATE_TIMEOUT_S, idle);
}

function chooseLevel(level) {
  state.level = level;
  if (level <= vocab.threshold) {
    state.reasons.clear();
    $("#reasons-level").textContent = vocab.levels[level];
    $("#reasons-error").textContent = "";
    renderReasons();
    show("reasons");
    speak("很抱歉让您不满意，请选择原因，可以多选");
    countdown(REASONS_TIMEOUT_S, idle);
  } else {
    submit();
  }
}

function renderReasons() {
  $("#reason-list").replaceChildren(...vocab.reasons.map(({ code, label }) =>
    el("button", { type: "button", class: "reason", "data-code": code,
      "aria-pressed": state.reasons.has(code) ? "true" : "false",
      onclick: () => { state.reasons.has(code) ? state.reasons.delete(code) : state.reasons.add(code); renderReasons(); } },
    label)));
  $("#reasons-submit").disabled = state.reasons.size === 0;
}

async function submit() {
  const t = state.ticket;
  if (!t || !state.level) return;
  stopCountdown();
  const body = { ticket_id: t.id, level: state.level, reasons: [...state.reasons], channel: "window" };
  try {
    await api.post("/evaluations", body);
    thanks("感谢您的评价！", "您的意见是我们改进工作的动力。");
  } catch (err) {
    // A rating that came first (the citizen scanned the ticket's QR code) wins: say so, with
    // the server's reason, never drop the tap silently.
    if (err.status === 409) thanks("本次服务已评价", err.message || "一次办理只能评价一次，感谢您的参与。");
    else if (err.status === 422 && state.screen === "reasons") $("#reasons-error").textContent = err.message;
    else thanks("评价未能提交", `${err.message}。如需评价，请联系工作人员。`);
  }
}

function thanks(title, text) {
  $("#thanks-title").textContent = title;
  $("#thanks-text").textContent = text;
  show("thanks");
  speak(title);
  stopCountdown();
  timer = setTimeout(idle, THANKS_S * 1000);
}

async function snapshot() {
  const [win, hall, me] = await Promise.all([
    api.get(`/windows/${windowNo}`), api.get("/hall"), api.get("/me"),
  ]);
  if (me.window && me.window !== windowNo) {
    $("#setup-text").textContent = `此评价器令牌属于 ${me.window} 号窗口，不能用于 ${windowNo} 号窗口。` +
      `请打开 /evaluator?window=${me.window}，或为 ${windowNo} 号窗口生成新令牌。`;
    show("setup");
    return;
  }
  $("#win-no").textContent = `${win.no}号窗口`;
  $("#win-name").textContent = win.name;
  $("#hall-name").textContent = hall.name;
  setVocabulary(hall.ratings);
  document.title = `${win.no}号窗口评价器`;
  await refreshStaff();
}

/** Levels and the window channel's reasons from the hall's vocabulary (GET /hall). */
function setVocabulary(ratings) {
  vocab.threshold = ratings.reason_threshold;
  vocab.reasons = ratings.reasons.filter((r) => r.channels.includes("window"));
  for (const { level, label } of ratings.levels) {
    vocab.levels[level] = label;
    const button = document.querySelector(`#levels [data-level="${level}"]`);
    if (button) button.textContent = label;
  }
}

function onEvent(ev) {
  const d = ev.data;
  if (ev.type === "ticket.finished" && d.window === windowNo) {
    // A ticket finished implicitly (the window called the next one without 办结) is not
    // rated here: the person at the counter now is the next citizen. It can still be rated
    // through the QR link on the ticket.
    if (d.implicit) return;
    // Only ask for a finish that just happened, not for one replayed after a long cut.
    const age = Date.now() - Date.parse(d.finished_at || 0);
    if (ev.live || age < RATE_TIMEOUT_S * 1000) askRating(d);
  } else if (ev.type === "evaluation.created" && state.ticket && d.ticket_id === state.ticket.id &&
             d.channel === "qr" && (state.screen === "rate" || state.screen === "reasons")) {
    // Rated on the citizen's phone while this tablet was asking: one rating per visit.
    thanks("本次服务已评价", `号票 ${d.ticket_number} 已通过扫码评价过，一次办理只能评价一次（一次一评）`);
  } else if ((ev.type === "ticket.called" && d.window === windowNo) ||
             (ev.type.startsWith("window.") && d.no === windowNo)) {
    refreshStaff();
  }
}

function main() {
  if (!token || !windowNo) {
    show("setup");
    return;
  }
  $("#win-no").textContent = `${windowNo}号窗口`;
  $("#levels").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-level]");
    if (b && state.screen === "rate") chooseLevel(Number(b.dataset.level));
  });
  $("#reasons-back").addEventListener("click", () => {
    show("rate");
    countdown(RATE_TIMEOUT_S, idle);
  });
  $("#more-time").addEventListener("click", () => {
    if (countdown.restart) countdown.restart();
  });
  $("#reasons-submit").addEventListener("click", () => {
    if (state.reasons.size === 0) {
      $("#reasons-error").textContent = "请至少选择一项原因";
      return;
    }
    submit();
  });
  idle();
  const stream = new EventStream(token, {
    onEvent,
    resync: snapshot,
    onOnline: setOnline,
    onUnauthorized: () => show("setup"),
  });
  stream.start();
  heartbeat(api, () => ({ page: "evaluator", window: windowNo, screen: state.screen }));
  setInterval(refreshStaff, 60000);
}

main();
