// Hall display (大厅显示屏): latest calls, what each window serves, waiting per service,
// notices, and the spoken call ("请 A023 号 到 3 号窗口 办理", twice, never cut off).
import { $, API, Api, EventStream, clockText, deviceToken, el, heartbeat, throttle } from "./common.js";

const RECENT = 8;
const STALE_CALL_MS = 60000; // a replayed call older than this is shown, not spoken
const BACKLOG = 2; // more calls than this waiting to be spoken: say each once, not twice
// ?voice=off for a second screen in the same hall: only one display should speak.
const VOICE_ON = new URLSearchParams(location.search).get("voice") !== "off";

const state = {
  hall: null,
  windows: new Map(), // no -> window view (with .current {id, number, service})
  services: [],
  recent: [], // [{id, number, window, at}] newest first
  online: true,
};
// Exposed for tests and for a technician at the console.
window.__hall = { state, announced: [], played: [], soundBlocked: false };

const token = deviceToken("hall.display.token");
const api = new Api(token, { onNetwork: (ok) => setOnline(ok) });

function setOnline(ok) {
  state.online = ok;
  $("#offline").hidden = ok;
  document.body.classList.toggle("is-offline", !ok);
}

// -- voice ------------------------------------------------------------------------------------
const voice = { queue: [], playing: false, unlocked: false };

function announce(number, windowNo) {
  if (!VOICE_ON) return;
  window.__hall.announced.push({ number, window: windowNo });
  voice.queue.push({ number, window: windowNo });
  pumpVoice();
}

async function pumpVoice() {
  if (voice.playing || voice.queue.length === 0) return;
  voice.playing = true;
  const item = voice.queue[0];
  const repeats = voice.queue.length > BACKLOG ? 1 : 2;
  const url = `${API}/voice/announce?number=${encodeURIComponent(item.number)}&window=${item.window}` +
    `&repeats=${repeats}&access_token=${encodeURIComponent(token)}`;
  const audio = new Audio(url);
  try {
    await audio.play();
    voice.unlocked = true;
    window.__hall.played.push(item);
    await new Promise((resolve) => {
      audio.onended = resolve;
      audio.onerror = resolve;
      // Never wedge the queue on a stuck stream: no announcement is longer than 20 s.
      setTimeout(resolve, 20000);
    });
    voice.queue.shift();
  } catch (err) {
    if (err && err.name === "NotAllowedError") {
      // Autoplay blocked (not started in kiosk mode): ask once for a click, keep the queue.
      window.__hall.soundBlocked = true;
      $("#sound-prompt").hidden = false;
      voice.playing = false;
      return;
    }
    voice.queue.shift(); // unplayable (server error): drop it, go on with the next
  }
  voice.playing = false;
  pumpVoice();
}

$("#sound-enable").addEventListener("click", () => {
  $("#sound-prompt").hidden = true;
  window.__hall.soundBlocked = false;
  // Only the latest calls are still worth saying after a wait for the click.
  voice.queue = voice.queue.slice(-2);
  pumpVoice();
});

// -- rendering --------------------------------------------------------------------------------
function renderLatest(flash) {
  const top = state.recent[0];
  $("#latest-number").textContent = top ? top.number : "—";
  $("#latest-window").textContent = top ? top.window : "—";
  if (flash) {
    const box = $("#latest");
    box.classList.remove("flash");
    void box.offsetWidth; // restart the animation
    box.classList.add("flash");
  }
  const list = $("#recent");
  list.replaceChildren(
    ...state.recent.slice(1, RECENT + 1).map((c) =>
      el("li", {}, el("span", { class: "n", text: c.number }), el("span", { text: `${c.window}号窗口` })),
    ),
  );
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
    const range = s.waiting === 0 ? "无需等候" : `${est.low_min}–${est.high_min} 分钟`;
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
  const fromServer = called
    .filter((t) => t.window)
    .sort((a, b) => (b.called_at || "").localeCompare(a.called_at || ""))
    .map((t) => ({ id: t.id, number: t.number, window: t.window, at: t.called_at }));
  // Keep calls we saw that are now finished (they still belong on the "recent" list).
  const seen = new Set(fromServer.map((c) => c.id));
  state.recent = [...fromServer, ...state.recent.filter((c) => !seen.has(c.id))]
    .sort((a, b) => (b.at || "").localeCompare(a.at || ""))
    .slice(0, RECENT + 1);
  renderLatest(false);
  renderWindows();
  renderServices();
  renderNotices();
  tick();
}

function onEvent(ev) {
  const d = ev.data;
  switch (ev.type) {
    case "ticket.called":
    case "ticket.recalled": {
      if (!d.window) break;
      const w = state.windows.get(d.window);
      if (w) w.current = { id: d.id, number: d.number, service: d.service };
      state.recent = [{ id: d.id, number: d.number, window: d.window, at: d.called_at },
        ...state.recent.filter((c) => c.id !== d.id)].slice(0, RECENT + 1);
      const fresh = ev.live || Date.now() - Date.parse(d.called_at || 0) < STALE_CALL_MS;
      renderLatest(fresh);
      renderWindows();
      if (fresh) announce(d.number, d.window);
      break;
    }
    case "ticket.finished":
    case "ticket.skipped":
    case "ticket.transferred":
    case "ticket.cancelled":
      for (const w of state.windows.values()) {
        if (w.current && w.current.id === d.id) w.current = null;
      }
      renderWindows();
      break;
    case "window.paused":
    case "window.resumed":
    case "window.opened":
    case "window.closed":
      if (d.no) state.windows.set(d.no, d);
      renderWindows();
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

function tick() {
  $("#clock").textContent = clockText(state.hall && state.hall.timezone);
}

function main() {
  tick();
  setInterval(tick, 1000);
  if (!token) {
    $("#setup").hidden = false;
    return;
  }
  const stream = new EventStream(token, {
    onEvent,
    resync: snapshot,
    onOnline: setOnline,
    onUnauthorized: () => { $("#setup").hidden = false; },
  });
  stream.start();
  window.__hall.stream = stream;
  heartbeat(api, () => ({ page: "display", online: state.online, voice_queue: voice.queue.length }));
  // Estimates drift with time even when nothing happens.
  setInterval(refreshServices, 30000);
}

main();
