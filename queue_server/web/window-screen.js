// Window screen (窗口屏): one window's number, name, the ticket being served, "暂停服务" when
// paused, its services and (when the hall enables it) the staff member on duty.
import { $, Api, EventStream, deviceToken, el, heartbeat, throttle } from "./common.js";

const params = new URLSearchParams(location.search);
const WINDOW_NO = Number.parseInt(params.get("window") || "", 10);

const state = { screen: null, online: true, updates: 0 };
// Exposed for tests and for a technician at the console.
window.__screen = { state };

const token = deviceToken("hall.window-screen.token");
const api = new Api(token, { onNetwork: (ok) => setOnline(ok) });

function setOnline(ok) {
  state.online = ok;
  $("#offline").hidden = ok;
}

/** Shrink an element's text until it fits its box (never below `min` of its CSS size). */
function fit(node, min = 0.35) {
  node.style.fontSize = "";
  if (node.hidden || !node.isConnected) return;
  const base = Number.parseFloat(getComputedStyle(node).fontSize);
  let size = base;
  // Wrapping text (a long window name on a bar screen) must also fit its height.
  const wraps = getComputedStyle(node).whiteSpace === "normal";
  const over = () => node.scrollWidth > node.clientWidth ||
    (wraps && node.scrollHeight > node.clientHeight + 1);
  while (over() && size > base * min) {
    size *= 0.92;
    node.style.fontSize = `${size}px`;
  }
}

function fitAll() {
  // Outer boxes first: their size decides how much room the inner text has.
  for (const id of ["window-no", "window-name", "serving-label", "ticket", "paused",
    "staff-name", "staff-no", "services"]) fit($(`#${id}`));
}

function render() {
  const s = state.screen;
  if (!s) return;
  const w = s.window;
  document.title = `${w.no}号窗口 ${s.hall}`;
  $("#window-no").textContent = `${w.no}号窗口`;
  $("#window-name").textContent = w.name || "";
  const paused = w.status !== "open";
  $("#screen").classList.toggle("is-paused", paused);
  $("#paused").hidden = !paused;
  $("#paused").textContent = w.status === "closed" ? "窗口已关闭" : "暂停服务";
  $("#ticket").hidden = paused;
  $("#serving-label").textContent = paused ? "请到其他窗口办理" : (w.current ? "正在办理" : "请稍候");
  $("#ticket").textContent = w.current ? w.current.number : "—";
  const staff = s.show_staff ? s.staff : null;
  $("#staff").hidden = !staff;
  if (staff) {
    // The initial stays underneath: a photo that fails to load leaves it showing.
    const photo = $("#staff-photo");
    photo.textContent = staff.initial || "";
    if (staff.photo) {
      const img = el("img", { src: staff.photo, alt: "" });
      img.addEventListener("error", () => img.remove());
      photo.append(img);
    }
    $("#staff-name").textContent = staff.name;
    $("#staff-no").textContent = staff.staff_no ? `工号 ${staff.staff_no}` : "";
  }
  $("#services").replaceChildren(
    "办理：",
    ...s.services.flatMap((sv, i) => [i ? "、" : "", el("b", { text: sv.name })]),
  );
  state.updates += 1;
  fitAll();
}

async function snapshot() {
  try {
    state.screen = await api.get(`/windows/${WINDOW_NO}/screen`);
  } catch (err) {
    if (err.status === 404) {
      $("#setup").replaceChildren(el("p", { text: `没有 ${WINDOW_NO} 号窗口，请检查地址中的 window=窗口号。` }));
      $("#setup").hidden = false;
    }
    throw err;
  }
  render();
}

// Staff and services change rarely; one refetch after a burst of events is enough.
const refresh = throttle(() => snapshot().catch(() => {}), 1000);

function onEvent(ev) {
  const s = state.screen;
  if (!s) return;
  const d = ev.data;
  const w = s.window;
  switch (ev.type) {
    case "ticket.called":
    case "ticket.recalled":
      if (d.window === WINDOW_NO) {
        w.current = { id: d.id, number: d.number, service: d.service };
        render();
        refresh(); // the staff member on duty may have changed with the call
      } else if (w.current && w.current.id === d.id) {
        w.current = null; // called to another window
        render();
      }
      break;
    case "ticket.finished":
    case "ticket.skipped":
    case "ticket.transferred":
    case "ticket.cancelled":
      if (w.current && w.current.id === d.id) {
        w.current = null;
        render();
      }
      break;
    case "window.paused":
    case "window.resumed":
    case "window.opened":
    case "window.closed":
      if (d.no === WINDOW_NO) {
        s.window = { ...w, ...d };
        render();
        refresh();
      }
      break;
    case "day.rolled":
    case "config.changed":
      refresh();
      break;
    default:
      break;
  }
}

function main() {
  if (!token || !Number.isInteger(WINDOW_NO) || WINDOW_NO < 1) {
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
  window.__screen.stream = stream;
  heartbeat(api, () => ({ page: "window-screen", window: WINDOW_NO, online: state.online }));
  addEventListener("resize", fitAll);
}

main();
