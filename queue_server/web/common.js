// Shared by the staff console, hall display and window evaluator: API calls and the event
// stream (EventSource with ?access_token=, resumed with Last-Event-ID after a cut).

export const API = "/api/v1";

export const EVENT_TYPES = [
  "ticket.issued", "ticket.called", "ticket.recalled", "ticket.skipped", "ticket.finished",
  "ticket.transferred", "ticket.reactivated", "ticket.cancelled", "ticket.renumbered",
  "window.paused", "window.resumed", "window.opened", "window.closed",
  "evaluation.created", "day.rolled", "config.changed",
];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** JSON API calls with a bearer token; 401 calls onUnauthorized (e.g. back to login). */
export class Api {
  constructor(token, { onUnauthorized = null, onNetwork = null } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.onNetwork = onNetwork;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(API + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (this.onNetwork) this.onNetwork(false);
      throw new ApiError(0, "network", "无法连接服务器，请稍后再试");
    }
    if (this.onNetwork) this.onNetwork(true);
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok) {
      const e = (data && data.error) || {};
      if (res.status === 401 && this.onUnauthorized) this.onUnauthorized(e.message);
      throw new ApiError(res.status, e.code || "http_" + res.status, e.message || `请求失败（${res.status}）`);
    }
    return data;
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body === undefined ? {} : body); }
}

/**
 * The live event stream. On every (re)connect it takes a fresh snapshot (resync) and holds
 * the events that arrive meanwhile, then applies them in order, so the page never shows a
 * state older than the server's. A browser reconnect sends Last-Event-ID itself; when the
 * EventSource gives up (CLOSED), a new one resumes with ?last_event_id=.
 */
export class EventStream {
  constructor(token, { onEvent, resync, onOnline, onUnauthorized, extraTypes = [] }) {
    this.token = token;
    this.types = [...EVENT_TYPES, ...extraTypes]; // a page may listen to more (admin: followup.*)
    this.onEvent = onEvent;
    this.resync = resync;
    this.onOnline = onOnline || (() => {});
    this.onUnauthorized = onUnauthorized;
    this.lastId = null;
    this.buffering = false;
    this.pending = [];
    this.es = null;
    this.stopped = false;
    this.retryTimer = null;
  }

  start() {
    this.stopped = false;
    this._open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
    this.es = null;
  }

  _open() {
    let url = `${API}/events?access_token=${encodeURIComponent(this.token)}`;
    if (this.lastId !== null) url += `&last_event_id=${this.lastId}`;
    const es = new EventSource(url);
    this.es = es;
    es.onopen = () => {
      this.onOnline(true);
      this._resync();
    };
    es.onerror = () => {
      this.onOnline(false);
      if (es.readyState === EventSource.CLOSED && !this.stopped) {
        es.close();
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this._checkThenOpen(), 3000);
      }
    };
    for (const type of this.types) {
      es.addEventListener(type, (msg) => this._receive(type, msg));
    }
  }

  async _checkThenOpen() {
    if (this.stopped) return;
    try {
      const res = await fetch(`${API}/me`, { headers: { Authorization: `Bearer ${this.token}` } });
      if (res.status === 401 && this.onUnauthorized) {
        this.onUnauthorized();
        return;
      }
    } catch (_) {
      /* still offline: try the stream anyway, it will fail and come back here */
    }
    if (!this.stopped) this._open();
  }

  _receive(type, msg) {
    const id = Number(msg.lastEventId);
    if (Number.isFinite(id) && id > 0) {
      if (this.lastId !== null && id <= this.lastId) return; // already seen
      this.lastId = id;
    }
    let data = {};
    try { data = JSON.parse(msg.data); } catch (_) { return; }
    const ev = { id, type, data, live: !this.buffering };
    if (this.buffering) this.pending.push(ev);
    else this.onEvent(ev);
  }

  async _resync() {
    this.buffering = true;
    this.pending = [];
    try {
      await this.resync();
    } catch (err) {
      console.warn("resync failed", err);
    } finally {
      const held = this.pending;
      this.pending = [];
      this.buffering = false;
      for (const ev of held) this.onEvent(ev);
    }
  }
}

/** The token a device page was given: ?access_token= in its URL, remembered per device. */
export function deviceToken(storageKey) {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("access_token");
  if (fromUrl) {
    try { localStorage.setItem(storageKey, fromUrl); } catch (_) { /* private mode */ }
    return fromUrl;
  }
  try { return localStorage.getItem(storageKey); } catch (_) { return null; }
}

export function $(sel, root = document) { return root.querySelector(sel); }

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Date and time in the hall's time zone (the page's machine may be set to UTC). */
export function clockText(timeZone, d = new Date()) {
  const opts = { year: "numeric", month: "numeric", day: "numeric", weekday: "short",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  let parts;
  try {
    parts = new Intl.DateTimeFormat("zh-CN", { ...opts, timeZone: timeZone || undefined }).formatToParts(d);
  } catch (_) {
    parts = new Intl.DateTimeFormat("zh-CN", opts).formatToParts(d);
  }
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return `${v.year}年${v.month}月${v.day}日 ${v.weekday.replace("周", "星期")} ${v.hour}:${v.minute}:${v.second}`;
}

/** Run fn at most once per `ms`, trailing (for refetching lists after bursts of events). */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}

/** Report this device's state to the server now and then (admin sees stale devices). */
export function heartbeat(api, state) {
  const beat = () => api.post("/devices/heartbeat", { health: {}, state: state() }).catch(() => {});
  beat();
  return setInterval(beat, 60000);
}
