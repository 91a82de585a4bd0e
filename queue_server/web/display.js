// Hall display (大厅显示屏): the calls still valid (who should walk to which window now),
// what each window serves, waiting per service, notices, and the spoken call ("请 A023 号 到
// 3 号窗口 办理", twice; under load "A023 三号窗口" once, as the server's plan says; never cut off),
// and the administrator's broadcasts (语音广播), said only when no call is waiting to be said.
import { $, API, Api, EventStream, clockText, deviceToken, el, throttle } from "./common.js";

const RECENT = 8;
const STALE_CALL_MS = 60000; // a replayed call older than this is shown, not spoken
const HEARTBEAT_MS = 60000;
// ?voice=off for a second screen in the same hall: only one display should speak.
const VOICE_ON = new URLSearchParams(location.search).get("voice") !== "off";

const state = {
  hall: null,
  windows: new Map(), // no -> window view (with .current {id, number, service})
  services: [],
  recent: [], // [{id, number, window, at}] newest first; shown only while still valid
  online: true,
};
// Exposed for tests and for a technician at the console.
// `timeline`: every audio played, {kind: "call"|"broadcast", what, start, end} (performance.now()).
window.__hall = { state, announced: [], played: [], plans: [], timeline: [], soundBlocked: false, beats: 0 };

const token = deviceToken("hall.display.token");
const api = new Api(token, { onNetwork: (ok) => setOnline(ok) });

function setOnline(ok) {
  state.online = ok;
  $("#offline").hidden = ok;
  document.body.classList.toggle("is-offline", !ok);
}

/** A call still tells someone where to go: its ticket is still called at that window and the
 * window is open. Skipped, transferred, finished (the person is already there), cancelled
 * tickets and paused or closed windows take it off the screen. */
function isValid(call) {
  const w = state.windows.get(call.window);
  return Boolean(w && w.status === "open" && w.current && w.current.id === call.id);
}

function validCalls() {
  return state.recent.filter(isValid);
}

// -- device health ----------------------------------------------------------------------------
// The display reports to the server like every device; "sound blocked" shows on the admin's
// device list and floor, so staff learn that the calls are silent.
function beat() {
  const audio = window.__hall.soundBlocked
    ? { status: "warn", detail: "浏览器阻止了声音，语音叫号未播放：请在显示屏上点一下，或以 kiosk 模式启动（见 docs/WEB.md）" }
    : { status: "ok" };
  const body = {
    health: VOICE_ON ? { audio } : {},
    state: { page: "display", online: state.online, voice_queue: voice.queue.length, voice: VOICE_ON },
  };
  return api.post("/devices/heartbeat", body).then(() => { window.__hall.beats += 1; }).catch(() => {});
}

function setSoundBlocked(blocked) {
  if (window.__hall.soundBlocked === blocked) return;
  window.__hall.soundBlocked = blocked;
  $("#sound-prompt").hidden = !blocked;
  beat();
}

// -- voice ------------------------------------------------------------------------------------
// The queue holds calls not yet said; the server plans what to say next (POST /voice/next:
// one call in full twice while the hall is quiet, the second reading queued behind new
// calls; several in the short form under load).
const voice = { queue: [], broadcasts: [], playing: false };
const STALE_BROADCAST_MS = 120000; // a replayed broadcast older than this is not said

function announce(call, recall) {
  if (!VOICE_ON) return;
  window.__hall.announced.push({ number: call.number, window: call.window });
  voice.queue.push({ id: call.id, number: call.number, window: call.window, recall });
  pumpVoice();
}

/** Calls that are no longer valid are not said (never send someone to the wrong window). */
function dropInvalidVoice() {
  voice.queue = voice.queue.filter((q) => isValid(q));
}

/** Start the audio (rejects with NotAllowedError when the browser blocks sound); resolves
 * to { ended }, a promise of its end. */
async function play(url) {
  const audio = new Audio(`${url}&access_token=${encodeURIComponent(token)}`);
  await audio.play();
  const ended = new Promise((resolve) => {
    audio.onended = resolve;
    audio.onerror = resolve;
    // Never wedge the queue on a stuck stream: no announcement is longer than 30 s.
    setTimeout(resolve, 30000);
  });
  return { ended };
}

/** A broadcast waits behind every call still to be said (a call is never cut into, and a
 * broadcast never delays someone being sent to a window). */
function queueBroadcast(b) {
  if (!VOICE_ON) return;
  voice.broadcasts.push(b);
  pumpVoice();
}

async function playBroadcast() {
  const b = voice.broadcasts.shift();
  voice.playing = true;
  const entry = { kind: "broadcast", what: b.text, id: b.id, start: null, end: null };
  try {
    const { ended } = await play(b.url);
    setSoundBlocked(false);
    entry.start = performance.now();
    window.__hall.timeline.push(entry);
    showBroadcast(b.text);
    await ended;
    entry.end = performance.now();
  } catch (err) {
    if (err && err.name === "NotAllowedError") {
      voice.broadcasts.unshift(b);
      setSoundBlocked(true);
      voice.playing = false;
      return;
    }
  }
  showBroadcast("");
  voice.playing = false;
  pumpVoice();
}

function showBroadcast(text) {
  const box = $("#broadcast");
  box.hidden = !text;
  $("#broadcast-text").textContent = text;
}

async function pumpVoice() {
  if (voice.playing) return;
  if (voice.queue.length === 0) {
    if (voice.broadcasts.length) playBroadcast();
    return;
  }
  voice.playing = true;
  const queued = voice.queue.slice();
  let plan = null;
  try {
    plan = await api.post("/voice/next", {
      pending: queued.map((q) => ({
        number: q.number, window: q.window, ticket: String(q.id || ""), recall: q.recall, repeat: Boolean(q.repeat),
      })),
    });
  } catch (_) {
    // No plan (server away or refused): drop the oldest call and try the rest a little later.
    voice.queue = voice.queue.filter((q) => q !== queued[0]);
    voice.playing = false;
    setTimeout(pumpVoice, 1000);
    return;
  }
  const settled = plan ? plan.done.map((i) => queued[i]) : queued;
  if (plan) {
    window.__hall.plans.push(plan);
    try {
      const { ended } = await play(plan.url);
      setSoundBlocked(false);
      window.__hall.played.push(...plan.calls);
      const entry = { kind: "call", what: plan.text, start: performance.now(), end: null };
      window.__hall.timeline.push(entry);
      await ended;
      entry.end = performance.now();
    } catch (err) {
      if (err && err.name === "NotAllowedError") {
        // Autoplay blocked (not started in kiosk mode): a small prompt, keep the queue.
        setSoundBlocked(true);
        voice.playing = false;
        return;
      }
      // unplayable (server error): drop it, go on with the next
    }
  }
  voice.queue = voice.queue.filter((q) => !settled.includes(q));
  // The second reading goes behind whatever was called meanwhile (under load it is dropped).
  if (plan && plan.again) {
    for (const q of plan.said.map((i) => queued[i])) {
      if (isValid(q)) voice.queue.push({ ...q, recall: false, repeat: true });
    }
  }
  voice.playing = false;
  pumpVoice();
}

function enableSound() {
  if (!window.__hall.soundBlocked) return;
  $("#sound-prompt").hidden = true;
  // Only the latest calls are still worth saying after a wait for the tap.
  voice.queue = voice.queue.slice(-2);
  pumpVoice();
}
// Any tap on the screen is the user gesture the browser waits for.
document.addEventListener("click", enableSound);

// -- rendering --------------------------------------------------------------------------------
function renderLatest(flash) {
  const calls = validCalls();
  const top = calls[0];
  $("#latest").hidden = !top;
  $("#welcome").hidden = Boolean(top);
  $("#latest-number").textContent = top ? top.number : "";
  $("#latest-window").textContent = top ? top.window : "";
  // 智能引导: where the window is, when the hall file gives it a floor and zone
  const where = top ? located(top.window) : "";
  $("#latest-where").textContent = where;
  $("#latest-where").hidden = !where;
  if (flash && top) {
    const box = $("#latest");
    box.classList.remove("flash");
    void box.offsetWidth; // restart the animation
    box.classList.add("flash");
  }
  const list = $("#recent");
  $(".recent-title").hidden = calls.length < 2;
  list.replaceChildren(
    ...calls.slice(1, RECENT + 1).map((c) =>
      el("li", {}, el("span", { class: "n", text: c.number }), el("span", { text: `${c.window}号窗口` })),
    ),
  );
}

/** "3楼B区12号窗口" for a window with a configured location, else "". */
function located(no) {
  const w = state.windows.get(no);
  return w && (w.floor || w.zone) ? w.guide : "";
}

function renderWindows() {
  const cells = [...state.windows.values()]
    .sort((a, b) => a.no - b.no)
    .map((w) => {
      let cls = "wcell";
      let cur;
      if (w.status !== "open") {
        cls += ` ${w.status}`;
        cur = w.status === "paused" ? "暂停服务" : "未开放";
      } else if (w.current) {
        cur = w.current.number;
      } else {
        cls += " idle";
        cur = "空闲";
      }
      return el("div", { class: cls, "data-window": w.no },
        el("span", { class: "no", text: `${w.no}号` }), el("span", { class: "cur", text: cur }));
    });
  $("#windows").replaceChildren(...cells);
}

function renderServices() {
  const rows = state.services.map((s) => {
    const est = s.wait_estimate || { low_min: 0, high_min: 0 };
    // One rule and one wording with the kiosk: nobody waiting (or no wait expected) is 无需等候.
    const range = s.waiting === 0 || est.high_min === 0 ? "无需等候" : `${est.low_min}–${est.high_min} 分钟`;
    return el("div", { class: "scell", "data-service": s.code },
      el("div", { class: "sname" }, el("b", { text: s.prefix }), ` ${s.name}`),
      el("div", { class: "sfig" },
        el("span", { class: "waiting", text: `等候 ${s.waiting} 人` }),
        el("span", { class: "range", text: range })));
  });
  const grid = $("#services");
  grid.replaceChildren(...rows);
  // Many services: fall back to smaller cards rather than hide any.
  grid.classList.remove("compact");
  const box = grid.parentElement;
  if (box.scrollHeight > box.clientHeight + 1) grid.classList.add("compact");
}

function renderNotices() {
  const notices = (state.hall && state.hall.notices) || [];
  const ticker = $("#notices");
  ticker.replaceChildren(...notices.map((n) => el("span", { text: n })));
  const chars = notices.join("").length;
  ticker.style.setProperty("--ticker-s", `${Math.max(20, chars * 0.35)}s`);
}

// -- 好差评公开 ----------------------------------------------------------------------------------
// The month's 好评率 and recent 整改 results, when the hall publishes them ([publication]).
const PUBLICATION_MS = 300000;

function renderPublication(pub) {
  const sat = pub && pub.satisfaction;
  const fixes = pub && pub.rectifications;
  const rate = $("#pub-rate");
  rate.hidden = !sat;
  if (sat) {
    rate.replaceChildren(
      el("span", { class: "t", text: `${Number(sat.month.slice(5))}月好评率` }),
      el("span", { class: "v", text: sat.rate_pct }),
      el("span", { class: "n", text: `${sat.ratings} 条评价` }),
    );
  }
  const box = $("#pub-fixes");
  box.hidden = !fixes || fixes.length === 0;
  if (fixes && fixes.length) {
    box.replaceChildren(
      el("h2", { text: "差评整改公示" }),
      el("ul", {}, ...fixes.map((f) => el("li", {},
        el("span", { class: "d", text: f.day.slice(5) }),
        el("span", { class: "s", text: f.service }),
        `（${f.reasons.join("、")}）：${f.measures}`))),
    );
  }
  $("#publication").hidden = rate.hidden && box.hidden;
  window.__hall.publication = pub;
}

async function refreshPublication() {
  try {
    renderPublication(await api.get("/publication"));
  } catch (_) { /* offline or not allowed: keep what is shown */ }
}

// -- 信息发布: posters in rotation ----------------------------------------------------------
const posters = { list: [], index: -1, timer: null };

function withToken(url) {
  return `${url}${url.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
}

/** Show the next poster for its own seconds; none valid: the column goes. */
function rotatePosters() {
  clearTimeout(posters.timer);
  const list = posters.list;
  $("#posters").hidden = list.length === 0;
  document.body.classList.toggle("has-posters", list.length > 0);
  if (!list.length) return;
  posters.index = (posters.index + 1) % list.length;
  const p = list[posters.index];
  $("#poster-img").src = withToken(p.url);
  $("#poster-img").alt = p.title;
  $("#poster-title").textContent = p.title;
  window.__hall.poster = p.id;
  posters.timer = setTimeout(rotatePosters, p.seconds * 1000);
}

async function refreshPosters() {
  let list;
  try {
    list = await api.get("/posters");
  } catch (_) {
    return; // offline: keep showing what we have
  }
  if (JSON.stringify(list) === JSON.stringify(posters.list)) return; // let the shown one finish
  posters.list = list;
  posters.index = -1;
  rotatePosters();
  renderServices(); // the services column is narrower or wider now
}

// -- data -------------------------------------------------------------------------------------
const refreshServices = throttle(async () => {
  try {
    state.services = await api.get("/services");
    renderServices();
  } catch (_) { /* offline: keep the last figures */ }
}, 1000);

async function snapshot() {
  const [hall, windows, services, called] = await Promise.all([
    api.get("/hall"), api.get("/windows"), api.get("/services"),
    api.get("/tickets?status=called&limit=50"),
  ]);
  state.hall = hall;
  document.title = `${hall.name} 叫号显示屏`;
  $("#hall-name").textContent = hall.name;
  state.windows = new Map(windows.map((w) => [w.no, w]));
  state.services = services;
  // The server's called tickets are the calls: whatever was shown before and has since been
  // skipped, transferred or finished (while this screen was away) goes.
  state.recent = called
    .filter((t) => t.window)
    // called_at has whole seconds: within one second, the later ticket is taken as called later
    .sort((a, b) => (b.called_at || "").localeCompare(a.called_at || "") || b.id - a.id)
    .map((t) => ({ id: t.id, number: t.number, window: t.window, at: t.called_at }));
  dropInvalidVoice();
  renderLatest(false);
  renderWindows();
  renderServices();
  renderNotices();
  tick();
  refreshPublication();
  refreshPosters();
}

function onEvent(ev) {
  const d = ev.data;
  switch (ev.type) {
    case "ticket.called":
    case "ticket.recalled": {
      if (!d.window) break;
      const w = state.windows.get(d.window);
      if (w) w.current = { id: d.id, number: d.number, service: d.service };
      const call = { id: d.id, number: d.number, window: d.window, at: d.called_at };
      // One call per window: a window's new call replaces its previous one.
      state.recent = [call, ...state.recent.filter((c) => c.id !== d.id && c.window !== d.window)];
      const fresh = ev.live || Date.now() - Date.parse(d.called_at || 0) < STALE_CALL_MS;
      renderLatest(fresh);
      renderWindows();
      if (fresh) announce(call, ev.type === "ticket.recalled");
      break;
    }
    case "ticket.finished":
    case "ticket.skipped":
    case "ticket.transferred":
    case "ticket.cancelled":
    case "ticket.renumbered": // takes its printed number and waits again: the old call is void
      for (const w of state.windows.values()) {
        if (w.current && w.current.id === d.id) w.current = null;
      }
      state.recent = state.recent.filter((c) => c.id !== d.id);
      dropInvalidVoice();
      renderLatest(false);
      renderWindows();
      break;
    case "window.paused":
    case "window.resumed":
    case "window.opened":
    case "window.closed":
      if (d.no) state.windows.set(d.no, d);
      dropInvalidVoice();
      renderLatest(false);
      renderWindows();
      break;
    case "broadcast.announced":
      if (ev.live || Date.now() - Date.parse(d.at || 0) < STALE_BROADCAST_MS) {
        queueBroadcast({ id: d.id, text: d.text, url: d.url });
      }
      break;
    case "posters.changed":
      refreshPosters();
      break;
    case "day.rolled":
    case "config.changed":
      snapshot().catch(() => {});
      break;
    default:
      break;
  }
  if (ev.type.startsWith("ticket.") || ev.type.startsWith("window.")) refreshServices();
}

/** Not set up (no token, or a revoked one): instructions for the installer, written into the
 * page only then, so a working public screen carries no technical text. */
function showSetup() {
  $("#setup").replaceChildren(el("p", {},
    "此显示屏尚未配置访问令牌。请在地址后加上 ", el("code", { text: "?access_token=显示屏令牌" }),
    "（由 ", el("code", { text: "hall token --role display" }), " 生成）。"));
  $("#setup").hidden = false;
}

function tick() {
  $("#clock").textContent = clockText(state.hall && state.hall.timezone);
}

function main() {
  tick();
  setInterval(tick, 1000);
  if (!token) {
    showSetup();
    return;
  }
  const stream = new EventStream(token, {
    onEvent,
    resync: snapshot,
    onOnline: setOnline,
    onUnauthorized: showSetup,
    extraTypes: ["broadcast.announced", "posters.changed"],
  });
  stream.start();
  window.__hall.stream = stream;
  beat();
  setInterval(beat, HEARTBEAT_MS);
  // Estimates drift with time even when nothing happens; posters start and end by the clock.
  setInterval(refreshServices, 30000);
  setInterval(refreshPublication, PUBLICATION_MS);
  setInterval(refreshPosters, 300000);
}

main();
