// Configuration forms generated from the pydantic JSON schema (GET /admin/config/schema, the
// same models that generate docs/CONFIG.md): one input per field by its type, the field's
// description as help text, its limits (minimum, maximum, pattern) on the input.

import { html, nothing, $ } from "./ui.js";

/** Chinese labels for the configuration keys (the schema's descriptions are the help text). */
export const LABELS = {
  name: "名称",
  timezone: "时区",
  enforce_hours: "按取号时间限制取号",
  notices: "公告（信息发布）",
  staffing: "窗口在岗判定",
  public_base_url: "对外访问地址",
  policy: "叫号规则",
  interleave_n: "交替比例 N",
  elderly_age: "老年人年龄",
  noshow_reactivate_minutes: "过号可恢复(分)",
  holidays: "节假日（不上班）",
  workdays: "调休上班日",
  deadline_working_days: "差评整改期限(工作日)",
  followup_working_days: "差评核实回访期限(工作日)",
  hotline_url: "12345 转办地址",
  hotline_secret_env: "12345 共享密钥所在环境变量",
  hotline_send_phone: "转办时发送完整电话",
  hotline_timeout_s: "12345 超时(秒)",
  hotline_backoff_base_s: "12345 首次重试间隔(秒)",
  hotline_backoff_max_s: "12345 最长重试间隔(秒)",
  hotline_max_skew_s: "回访结果签名时间容差(秒)",
  per_window_alert: "每窗口等候人数预警",
  wait_alert_min: "预计等候预警(分钟)",
  endpoint: "省平台上报地址",
  timeout_s: "超时(秒)",
  backoff_base_s: "首次重试间隔(秒)",
  backoff_max_s: "最长重试间隔(秒)",
  list_separator: "列表分隔符",
  datetime_format: "时间格式",
  date_format: "日期格式",
  sign: "请求签名",
  app_key: "应用标识 AppKey",
  app_secret: "应用密钥 AppSecret",
  app_key_header: "AppKey 请求头",
  timestamp_header: "时间戳请求头",
  nonce_header: "随机数请求头",
  signature_header: "签名请求头",
  result_code_field: "结果码字段",
  ok_codes: "成功结果码（每行一个）",
  duplicate_codes: "重复结果码（每行一个）",
  show_satisfaction: "显示屏公示本月好评率",
  show_rectifications: "显示屏公示差评整改",
  rectifications: "公示整改条数",
  rectification_days: "公示近几天的整改",
  code: "事项编码",
  name_en: "英文名称",
  prefix: "号票字母",
  number_range: "号段（起始号–结束号）",
  daily_quota: "每日限额",
  hours: "取号时间",
  real_name: "实名取号",
  avg_service_min: "平均办理时长(分)",
  guide: "办事指南",
  forms: "示例表单",
  item_codes: "事项实施编码",
  department: "部门",
  floor: "楼层",
  zone: "区域",
  no: "窗口号",
  kind: "类型",
  status: "启动时状态",
};

/** Chinese names for enumerated values. */
export const CHOICES = {
  policy: {
    accumulating: "累积优先（推荐：优先者先叫，普通号不会被饿死）",
    interleave: "N 个优先 : 1 个普通 交替",
    strict: "严格优先（仅供对比，可能饿死普通号）",
  },
  kind: { comprehensive: "综合窗口", dedicated: "专窗", tidal: "潮汐窗口" },
  sign: { none: "不签名", "hmac-sha256": "HMAC-SHA256", "hmac-sm3": "HMAC-SM3（国密）" },
  status: { open: "开放", paused: "暂停", closed: "关闭" },
  staffing: { login: "有人登录才算在岗", open: "开放即算在岗" },
};

/** The schema of a model in $defs (e.g. "HallSection", "Service"). */
export function model(schema, name) {
  const m = schema.$defs && schema.$defs[name];
  if (!m) throw new Error("配置结构中没有 " + name);
  return m;
}

/** A property's own schema: optional values (anyOf with null) unwrapped. */
function prop(p) {
  if (p.anyOf) {
    const real = p.anyOf.filter((x) => x.type !== "null");
    if (real.length === 1) return { ...p, ...real[0], nullable: true };
  }
  return p;
}

/** What input a property gets, or null if a generated form cannot edit it (sections, maps). */
export function kindOf(p) {
  p = prop(p);
  if (p.enum) return "enum";
  if (p.const !== undefined) return "enum";
  if (p.type === "boolean") return "boolean";
  if (p.type === "integer") return "integer";
  if (p.type === "number") return "number";
  if (p.type === "string") return "string";
  if (p.type === "array" && p.prefixItems && p.prefixItems.length === 2) return "pair";
  if (p.type === "array" && p.items && p.items.type === "string") return "lines";
  if (p.type === "array" && p.items && p.items.type === "integer") return "intlines";
  return null;
}

/** The fields of a model a form can edit, in the model's order (or `only`'s). */
export function fieldsOf(def, only = null) {
  const names = only || Object.keys(def.properties);
  return names.filter((n) => def.properties[n] && kindOf(def.properties[n]));
}

function limits(p) {
  return {
    min: p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum : undefined),
    max: p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum : undefined),
  };
}

function input(name, p, v, opts) {
  const kind = kindOf(p);
  p = prop(p);
  const ro = (opts.readonly || []).includes(name);
  if (kind === "boolean") return html`<input type="checkbox" name=${name} ?checked=${!!v}>`;
  if (kind === "enum") {
    const values = p.enum || [p.const];
    return html`<select name=${name}>${values.map((o) => html`<option value=${o} ?selected=${String(o) === String(v)}>${(CHOICES[name] || {})[o] || o}</option>`)}</select>`;
  }
  if (kind === "integer" || kind === "number") {
    const { min, max } = limits(p);
    return html`<input type="number" name=${name} step=${kind === "integer" ? "1" : "any"} min=${min ?? nothing}
      max=${max ?? nothing} .value=${v === null || v === undefined ? "" : String(v)} ?readonly=${ro}>`;
  }
  if (kind === "pair") {
    const [a, b] = Array.isArray(v) ? v : ["", ""];
    return html`<span class="row"><input type="number" step="1" name=${name + ".0"} .value=${String(a)} style="width:100px">
      – <input type="number" step="1" name=${name + ".1"} .value=${String(b)} style="width:100px"></span>`;
  }
  if (kind === "lines" || kind === "intlines") {
    return html`<textarea name=${name} rows=${opts.rows?.[name] || 3} .value=${(v || []).join("\n")}></textarea>`;
  }
  if ((opts.textareas || []).includes(name)) {
    return html`<textarea name=${name} rows="3" .value=${v ?? ""}></textarea>`;
  }
  // A write-only secret comes back masked ("********"); sending the mask keeps it.
  const type = /secret/.test(name) ? "password" : "text";
  return html`<input type=${type} name=${name} .value=${v ?? ""} ?readonly=${ro} autocomplete=${type === "password" ? "new-password" : nothing}
    pattern=${p.pattern ? p.pattern.replace(/^\^|\$$/g, "") : nothing} placeholder=${opts.placeholders?.[name] ?? nothing}>`;
}

/**
 * A form for a model of the schema. opts: only (field names, in order), readonly, textareas,
 * rows, placeholders, hints (Chinese help before the description), labels (overriding
 * LABELS), keys (label each field by its configuration key, as docs/CONFIG.md does).
 */
export function schemaForm(id, def, values, opts = {}) {
  const names = fieldsOf(def, opts.only);
  return html`<div class="form" id=${id} data-model=${def.title || nothing}>${names.map((n) => {
    const p = def.properties[n];
    const label = opts.keys ? html`<code>${n}</code>` : (opts.labels && opts.labels[n]) || LABELS[n] || p.title || n;
    const help = [opts.hints?.[n], p.description].filter(Boolean).join(" · ");
    return html`<label>${label}</label>${input(n, p, values[n], opts)}${help ? html`<div class="help">${help}</div>` : nothing}`;
  })}</div>`;
}

/** The values of a generated form, typed by the schema. */
export function readForm(id, def, only = null) {
  const out = {};
  for (const n of fieldsOf(def, only)) {
    const kind = kindOf(def.properties[n]);
    if (kind === "pair") {
      const a = $(`#${id} [name="${n}.0"]`),
        b = $(`#${id} [name="${n}.1"]`);
      if (a && b) out[n] = [Number(a.value), Number(b.value)];
      continue;
    }
    const el = $(`#${id} [name="${n}"]`);
    if (!el) continue;
    if (kind === "boolean") out[n] = el.checked;
    else if (kind === "integer" || kind === "number") out[n] = el.value === "" ? null : Number(el.value);
    else if (kind === "lines")
      out[n] = el.value
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (kind === "intlines")
      out[n] = el.value
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean)
        .map(Number);
    else if (kind === "enum") out[n] = el.value;
    else out[n] = el.value.trim();
  }
  return out;
}
