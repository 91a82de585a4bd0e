// What every admin tab shares: the session state, the API (common.js), toasts, the modal,
// the live configuration and number formatting. Templates are lit-html: every ${value}
// lands in the page as text or an attribute value, never as markup.

import { API, Api, $ } from "../common.js";
import { html, render, nothing } from "./vendor/lit-html.js";

export { html, render, nothing, $ };
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** The session: token, live configuration and its version, the tab on screen. */
export const S = {
  token: sessionStorage.getItem("admin_token") || "",
  cfg: null,
  version: 0,
  schema: null,
  tab: "",
  saving: false,
  accounts: [],
  businessDay: "",
};

export const TABS = {};
export const main = () => $("#main");
export const hooks = { onUnauthorized: () => {} };

export const api = new Api(S.token, { onUnauthorized: () => hooks.onUnauthorized() });
export const put = (path, body) => api.request("PUT", path, body);
export const patch = (path, body) => api.request("PATCH", path, body);
export const del = (path) => api.request("DELETE", path);

export function setToken(token) {
  S.token = token;
  api.token = token;
}

/** A GET that answers text or a file (TOML, CSV) rather than JSON. */
export async function download(path) {
  const r = await fetch(API + path, { headers: { Authorization: "Bearer " + S.token } });
  if (!r.ok) throw new Error("导出失败");
  return r;
}

export function saveFile(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
}

let toastTimer = null;
export function toast(msg, err = false) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "toast" + (err ? " err" : "");
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(
    () => {
      t.hidden = true;
    },
    err ? 6000 : 3500,
  );
}

export async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    toast(e.message, true);
    return undefined;
  }
}

export function openModal(tpl) {
  render(nothing, $("#modal-body")); // a fresh form each time, not the last one's typing
  render(tpl, $("#modal-body"));
  $("#modal").hidden = false;
}
export function closeModal() {
  $("#modal").hidden = true;
  render(nothing, $("#modal-body"));
}
export const modalOpen = () => !$("#modal").hidden;

export function fmt(v, digits = 1) {
  if (v === null || v === undefined || v === "") return "—";
  return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v);
}
export function pct(v) {
  return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%";
}
export function today() {
  const d = new Date(Date.now() + 8 * 3600e3); // the hall's day (Asia/Shanghai) until /hall says otherwise
  return S.businessDay || d.toISOString().slice(0, 10);
}
export const when = (iso, from = 5, to = 16) =>
  String(iso || "")
    .slice(from, to)
    .replace("T", " ");

export async function loadConfig() {
  const snap = await api.get("/admin/config");
  S.cfg = snap.config;
  S.version = snap.version;
}

export async function loadSchema() {
  if (!S.schema) S.schema = await api.get("/admin/config/schema");
  return S.schema;
}

/** Change the live configuration: mutate a copy, PUT it with the version it was based on. */
export async function saveConfig(mutate, what) {
  const cfg = structuredClone(S.cfg);
  mutate(cfg);
  S.saving = true;
  const res = await guarded(() => put("/admin/config", { config: cfg, version: S.version }));
  if (res) await guarded(loadConfig);
  S.saving = false;
  if (!res) return false;
  toast(res.changes.length ? `${what}已生效（${res.changes.length} 项变更，配置版本 ${res.version}）` : "没有变更");
  return true;
}

// The rating vocabulary (levels, reason labels) comes from GET /hall (halldomain/ratings.py).
export const LEVELS = {};
const REASON_LABELS = new Map();
export function setVocabulary(ratings) {
  for (const lv of ratings.levels) LEVELS[lv.level] = lv.label;
  for (const r of ratings.reasons) REASON_LABELS.set(r.code, r.label);
}
/** Reason codes as their labels, joined with 、 (a code no longer listed shows as is). */
export const reasonText = (codes) => codes.map((c) => REASON_LABELS.get(c) || c).join("、");
export const CHANNELS = { window: "窗口评价器", kiosk: "自助终端", qr: "扫码评价" };
