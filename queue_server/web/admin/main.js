// 管理后台: an ES module page on common.js (API helper, event stream with resync), one module
// per tab, lit-html templates. Talks only to /api/v1 (see docs/ADMIN.md).

import { API, EventStream, throttle } from "../common.js";
import { S, TABS, api, hooks, setToken, toast, guarded, closeModal, modalOpen, loadConfig, setVocabulary, $, $$ } from "./ui.js";
import "./floor.js";
import "./reports.js";
import "./followup.js";
import "./services.js";
import "./windows.js";
import "./accounts.js";
import "./devices.js";
import "./broadcasts.js";
import "./config.js";

let stream = null;

// -- login --------------------------------------------------------------------------------
function showLogin() {
  $("#app").hidden = true;
  $("#login").hidden = false;
}

/** Forget the session (token, stream) and show the login form. */
function endSession() {
  setToken("");
  sessionStorage.removeItem("admin_token");
  if (stream) stream.stop();
  stream = null;
  showLogin();
}

function logout() {
  if (S.token) api.post("/logout").catch(() => {});
  endSession();
}
hooks.onUnauthorized = () => {
  if (S.token) endSession(); // the session ended (expired, revoked): back to the login form
};

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $("#login-error").textContent = "";
  let data;
  try {
    data = await api.post("/login", { username: f.get("username"), password: f.get("password") });
  } catch (e) {
    $("#login-error").textContent = e.message || "登录失败";
    return;
  }
  if (data.role !== "admin") {
    $("#login-error").textContent = "需要管理员账号才能进入管理后台";
    return;
  }
  setToken(data.token);
  sessionStorage.setItem("admin_token", data.token);
  sessionStorage.setItem("admin_name", data.name);
  start();
});
$("#logout").addEventListener("click", logout);

async function start() {
  let who;
  try {
    who = await api.get("/me");
  } catch (_) {
    showLogin();
    return;
  }
  if (who.role !== "admin") {
    showLogin();
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = who.name;
  await loadConfig();
  const hall = await api.get("/hall");
  S.businessDay = hall.business_day;
  setVocabulary(hall.ratings);
  $("#hall-name").textContent = hall.name + " · 管理后台";
  $("#hall-day").textContent = "营业日 " + hall.business_day;
  document.title = "管理后台 · " + hall.name;
  connectEvents();
  route();
}

// -- live events ----------------------------------------------------------------------------
// Tabs that show live state or lists (not forms being edited) are redrawn after a resync.
const LIVE = new Set(["floor", "ratings", "uploads", "devices", "services", "windows", "accounts", "audit", "broadcasts", "posters"]);

function redraw() {
  if (LIVE.has(S.tab) && !modalOpen()) guarded(() => TABS[S.tab]());
}

const floorSoon = throttle(() => {
  if (S.tab === "floor") guarded(TABS.floor);
}, 400);

function onEvent(ev) {
  if (ev.type.startsWith("ticket.") || ev.type.startsWith("window.")) floorSoon();
  else if (ev.type === "config.changed") {
    if (ev.data.version !== S.version && !S.saving) {
      guarded(async () => {
        await loadConfig();
        toast("配置已更新（版本 " + ev.data.version + "，" + ev.data.by + "）");
        redraw();
      });
    }
  } else if (
    (ev.type === "followup.opened" || ev.type === "evaluation.created") &&
    S.tab === "ratings" &&
    !modalOpen()
  ) {
    guarded(TABS.ratings);
  }
}

/** After a (re)connect: the configuration and what is on screen, fresh from the server. */
async function resync() {
  await loadConfig();
  redraw();
}

function connectEvents() {
  if (stream) stream.stop();
  stream = new EventStream(S.token, {
    onEvent,
    resync,
    extraTypes: ["followup.opened"],
    onOnline: (on) => $("#live-dot").classList.toggle("on", on),
    onUnauthorized: () => hooks.onUnauthorized(),
  });
  stream.start();
}
// Minutes waited and idle grow without events: the floor redraws now and then as well.
setInterval(() => {
  if (S.tab === "floor" && !document.hidden && S.token) guarded(TABS.floor);
}, 60000);

// -- routing between tabs -------------------------------------------------------------------
function route() {
  const tab = (location.hash || "#floor").slice(1);
  S.tab = TABS[tab] ? tab : "floor";
  $$("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === S.tab));
  closeModal();
  $("#toast").hidden = true;
  guarded(() => TABS[S.tab]());
}
window.addEventListener("hashchange", () => {
  if (S.token) route();
});

$("#modal").addEventListener("click", (ev) => {
  if (ev.target.id === "modal") closeModal();
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closeModal();
});

// -- boot -----------------------------------------------------------------------------------
if (S.token) start();
else showLogin();
