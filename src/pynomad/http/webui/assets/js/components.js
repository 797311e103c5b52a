// Reusable pieces of the pages: badges, tables, tabs, bars, charts, confirm buttons, toasts.
import { h, fill, s } from "./dom.js";
import { navigate } from "./router.js";

const TONES = {
  good: ["running", "ready", "successful", "complete", "alive", "eligible", "healthy", "leader",
    "success", "true"],
  info: ["pending", "starting", "queued", "initializing", "promoted", "canceled"],
  warn: ["blocked", "draining", "paused", "ineligible", "unhealthy", "degraded",
    "unknown", "requires promotion", "left", "suspect", "waiting"],
  bad: ["failed", "lost", "down", "error", "disconnected", "false"],
};

export function tone(status) {
  const key = String(status || "").toLowerCase();
  for (const [name, list] of Object.entries(TONES)) if (list.includes(key)) return name;
  return "neutral";
}

export function badge(status, label) {
  return h("span.badge", { class: `tone-${tone(status)}` }, label ?? status ?? "–");
}

export function pageHeader(title, { subtitle, badges = [], actions = [] } = {}) {
  return h("header.page-header",
    h("div.page-title", h("h1", title), badges, subtitle ? h("p.subtitle", subtitle) : null),
    actions.length ? h("div.page-actions", actions) : null);
}

export function section(title, body, { actions, id } = {}) {
  return h("section.card", { id },
    title ? h("div.card-head", h("h2", title), actions ? h("div.card-actions", actions) : null) : null,
    h("div.card-body", body));
}

// columns: [{title, render(row) → node|text, class, sort(row) → value}]
export function table(columns, rows, { empty = "Nothing to show", rowHref, label } = {}) {
  if (!rows.length) return emptyState(empty);
  return h("div.table-wrap",
    h("table.table", { "aria-label": label },
      h("thead", h("tr", columns.map((c) => h("th", { class: c.class, scope: "col" }, c.title)))),
      h("tbody", rows.map((row) => {
        const link = rowHref ? rowHref(row) : null;
        const tr = h("tr", { class: link ? "clickable" : null },
          columns.map((c) => h("td", { class: c.class }, c.render(row))));
        if (link) {
          tr.addEventListener("click", (ev) => {
            if (ev.target.closest("a, button, input, select, label")) return;
            navigate(link);
          });
        }
        return tr;
      }))));
}

export function emptyState(title, detail) {
  return h("div.empty", h("p.empty-title", title), detail ? h("p.empty-detail", detail) : null);
}

export function errorBox(err, what = "") {
  const status = err.status;
  const title = status === 403 ? "Not authorized"
    : status === 404 ? "Not found" : "Something went wrong";
  const detail = status === 403
    ? h("span", `Your ACL token may not ${what || "see this"}. `,
      h("a", { href: "/ui/settings/tokens" }, "Sign in with a token"), " that may.")
    : err.message;
  return h("div.notice.tone-bad", { role: "alert" }, h("strong", title), h("div", detail));
}

export function kv(pairs) {
  return h("dl.kv", pairs.filter(Boolean).map(([k, v]) => [h("dt", k), h("dd", v ?? "–")]));
}

export function tabs(items, active) {
  return h("nav.tabs", { "aria-label": "Sections" },
    items.filter(Boolean).map(([key, label, link]) =>
      h("a.tab", { href: link, class: key === active ? "active" : null,
        "aria-current": key === active ? "page" : null }, label)));
}

export function link(text, hrefValue, cls) {
  return h("a", { href: hrefValue, class: cls }, text);
}

// Allocation counts as one stacked bar with a legend.
export const SUMMARY_KEYS = [
  ["Queued", "queued"], ["Starting", "starting"], ["Running", "running"],
  ["Complete", "complete"], ["Failed", "failed"], ["Lost", "lost"], ["Unknown", "unknown"],
];

export function summaryTotals(summary) {
  const totals = Object.fromEntries(SUMMARY_KEYS.map(([k]) => [k, 0]));
  for (const group of Object.values(summary?.Summary || {})) {
    for (const [k] of SUMMARY_KEYS) totals[k] += group[k] || 0;
  }
  return totals;
}

export function summaryBar(counts, { legend = false, compact = false } = {}) {
  const total = SUMMARY_KEYS.reduce((n, [k]) => n + (counts[k] || 0), 0);
  const label = SUMMARY_KEYS.filter(([k]) => counts[k]).map(([k]) => `${counts[k]} ${k.toLowerCase()}`)
    .join(", ") || "no allocations";
  const bar = h("div.sbar", { class: compact ? "compact" : null, role: "img", "aria-label": label, title: label },
    total ? SUMMARY_KEYS.filter(([k]) => counts[k]).map(([k, cls]) =>
      h("span", { class: `seg seg-${cls}`, style: { flexGrow: counts[k] } })) : h("span.seg.seg-none"));
  if (!legend) return bar;
  return h("div.sbar-block", bar, h("ul.legend",
    SUMMARY_KEYS.map(([k, cls]) => h("li", h("span", { class: `dot seg-${cls}` }), `${k} `,
      h("strong", String(counts[k] || 0))))));
}

// A meter: used/total as a thin bar with a label.
export function meter(used, total, label) {
  const pct = total ? Math.min(100, (used / total) * 100) : 0;
  return h("div.meter", { title: label },
    h("div.meter-bar", h("span", { style: { width: `${pct}%` }, class: pct > 90 ? "hot" : null })),
    h("span.meter-label", label));
}

// A button that asks "Yes, stop?" before acting; the action's errors become a toast.
export function confirmButton(label, action, { confirm = `Yes, ${label.toLowerCase()}`, danger = false,
  disabled = false, title } = {}) {
  const wrap = h("span.confirm");
  const idle = () => fill(wrap, h("button.btn", { class: danger ? "btn-danger" : null, disabled, title,
    onclick: () => fill(wrap,
      h("span.confirm-q", "Are you sure?"),
      h("button.btn.btn-primary", { class: danger ? "btn-danger-solid" : null,
        onclick: async (ev) => { ev.target.disabled = true; await run(action, label); idle(); } }, confirm),
      h("button.btn.btn-ghost", { onclick: idle }, "Cancel")) }, label));
  idle();
  return wrap;
}

export function actionButton(label, action, { primary = false, disabled = false, title } = {}) {
  return h("button.btn", { class: primary ? "btn-primary" : null, disabled, title,
    onclick: async (ev) => {
      ev.currentTarget.disabled = true;
      const btn = ev.currentTarget;
      await run(action, label);
      btn.disabled = false;
    } }, label);
}

async function run(action, label) {
  try {
    const message = await action();
    if (message) toast(message, "good");
  } catch (err) {
    toast(`${label} failed: ${err.message}`, "bad");
  }
}

export function toast(message, kind = "info") {
  let box = document.getElementById("toasts");
  if (!box) document.body.append(box = h("div#toasts", { role: "status", "aria-live": "polite" }));
  const t = h("div.toast", { class: `tone-${kind}` }, message,
    h("button.toast-close", { "aria-label": "Dismiss", onclick: () => t.remove() }, "×"));
  box.append(t);
  setTimeout(() => t.remove(), kind === "bad" ? 10000 : 5000);
}

// A line chart of recent samples: series [{label, values: [number], color}], max for the y axis.
export function lineChart(series, { max, height = 120, format = String, label = "" } = {}) {
  const width = 480;
  const n = Math.max(2, ...series.map((x) => x.values.length));
  const top = max || Math.max(1, ...series.flatMap((x) => x.values)) * 1.15;
  const px = (i) => (i / (n - 1)) * width;
  const py = (v) => height - (v / top) * (height - 8) - 2;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "chart-svg",
    role: "img", "aria-label": label },
  [0.25, 0.5, 0.75].map((f) => s("line", { x1: 0, x2: width, y1: py(top * f), y2: py(top * f), class: "grid" })),
  series.map((x) => {
    if (!x.values.length) return null;
    const offset = n - x.values.length;
    const pts = x.values.map((v, i) => `${px(i + offset).toFixed(1)},${py(v).toFixed(1)}`);
    return [
      s("polygon", { points: `${px(offset)},${height} ${pts.join(" ")} ${px(n - 1)},${height}`,
        fill: x.color, "fill-opacity": 0.12 }),
      s("polyline", { points: pts.join(" "), fill: "none", stroke: x.color, "stroke-width": 2,
        "vector-effect": "non-scaling-stroke" }),
    ];
  }));
  const last = series.map((x) => h("span.chart-value", h("span.dot", { style: { background: x.color } }),
    `${x.label} `, h("strong", x.values.length ? format(x.values[x.values.length - 1]) : "–")));
  return h("figure.chart", h("figcaption", label, h("span.chart-legend", last)), svg,
    h("div.chart-axis", h("span", format(top)), h("span", "0")));
}

// A labelled form field.
export function field(labelText, input, hint) {
  return h("label.field", h("span.field-label", labelText), input, hint ? h("span.field-hint", hint) : null);
}

export function select(options, value, onchange, attrs = {}) {
  return h("select.input", { ...attrs, onchange: (ev) => onchange(ev.target.value) },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export function searchInput(value, oninput, placeholder = "Search") {
  return h("input.input.search", { type: "search", value: value || "", placeholder, "aria-label": placeholder,
    oninput: (ev) => oninput(ev.target.value) });
}

export function loading(text = "Loading…") {
  return h("div.loading", { role: "status" }, h("span.spinner"), text);
}

// A monospace block of code or JSON.
export function codeBlock(text, cls = "") {
  return h("pre.code", { class: cls, tabindex: 0 }, text);
}
