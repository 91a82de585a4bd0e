// Small inline SVG bar charts (lit-html svg templates: labels are text, never markup).

import { html, nothing, fmt, pct } from "./ui.js";
import { svg } from "./vendor/lit-html.js";

const COLORS = ["#1d5fbf", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];

function niceMax(v) {
  // Four grid steps of a round size (1, 2, 2.5 or 5 × 10^k) that cover v.
  const raw = v / 4,
    p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return 4 * m * p;
  return 40 * p;
}

export function barChart(labels, series, opts = {}) {
  const W = opts.width || 620,
    H = opts.height || 220,
    L = 44,
    B = 42,
    T = 14,
    R = 10;
  const max = Math.max(1, opts.max || 0, ...series.flatMap((s) => s.values.map((v) => v || 0)), opts.line || 0);
  const nice = niceMax(max);
  const iw = W - L - R,
    ih = H - T - B;
  const gw = iw / Math.max(1, labels.length),
    bw = Math.max(3, Math.min(28, (gw * 0.75) / series.length));
  const show = (v) => (opts.percent ? Math.round(v * 100) + "%" : fmt(v));
  const grid = [0, 1, 2, 3, 4].map((i) => {
    const y = T + ih - (ih * i) / 4,
      v = (nice * i) / 4;
    return svg`<line x1=${L} x2=${W - R} y1=${y} y2=${y} stroke="#e5e7eb"/>
      <text x=${L - 6} y=${y + 4} text-anchor="end">${opts.percent ? Math.round(v * 100) + "%" : +v.toFixed(2)}</text>`;
  });
  const bars = labels.map((lab, i) => {
    const x0 = L + gw * i + (gw - bw * series.length) / 2;
    const lx = L + gw * i + gw / 2;
    return svg`${series.map((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return nothing;
      const h = (ih * v) / nice,
        x = x0 + j * bw,
        y = T + ih - h;
      return svg`<rect x=${x.toFixed(1)} y=${y.toFixed(1)} width=${(bw - 1).toFixed(1)} height=${h.toFixed(1)} fill=${s.color || COLORS[j]} rx="2"><title>${lab} ${s.name}：${opts.percent ? pct(v) : fmt(v)}</title></rect>
        ${labels.length <= 12 && series.length <= 2 ? svg`<text x=${(x + bw / 2).toFixed(1)} y=${(y - 3).toFixed(1)} text-anchor="middle">${show(v)}</text>` : nothing}`;
    })}<text x=${lx.toFixed(1)} y=${H - B + 16} text-anchor="middle">${String(lab).slice(0, 8)}</text>`;
  });
  const line = opts.line
    ? (() => {
        const y = T + ih - (ih * opts.line) / nice;
        return svg`<line x1=${L} x2=${W - R} y1=${y} y2=${y} stroke="#c62828" stroke-dasharray="5 4"/><text x=${W - R} y=${y - 4} text-anchor="end" fill="#c62828">${opts.lineLabel || ""}</text>`;
      })()
    : nothing;
  return html`<div class="legend">${series.map((s, j) => html`<span><i style=${"background:" + (s.color || COLORS[j])}></i>${s.name}</span>`)}</div>
    <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${opts.title || "图表"}>${grid}${bars}${line}<line x1=${L} x2=${W - R} y1=${T + ih} y2=${T + ih} stroke="#9ca3af"/></svg>`;
}
