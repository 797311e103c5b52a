// DOM building and value formatting shared by every page.

// h("div.card#main", {onclick, title}, child, [children], "text") → an element.
export function h(spec, props, ...children) {
  const parts = spec.split(/(?=[.#])/);
  const el = document.createElement(/^[.#]/.test(parts[0]) ? "div" : parts.shift());
  const classes = [];
  for (const p of parts) {
    if (p[0] === "#") el.id = p.slice(1);
    else classes.push(p.slice(1));
  }
  if (classes.length) el.className = classes.join(" ");
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = [el.className, value].filter(Boolean).join(" ");
    } else if (key === "style" && typeof value === "object") {
      Object.assign(el.style, value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replace an element's content.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const svgNS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(c));
  return el;
}

// ---- formatting -----------------------------------------------------------------------------

export const shortId = (id) => (id || "").slice(0, 8);

// Nomad times are nanoseconds since the epoch, or RFC 3339 strings.
export function toDate(value) {
  if (value === null || value === undefined || value === "" || value === 0) return null;
  if (typeof value === "number") return new Date(value / 1e6);
  if (String(value).startsWith("0001-01-01")) return null;
  const d = new Date(value);
  return isNaN(d) ? null : d;
}

export function ago(value) {
  const d = toDate(value);
  if (!d) return "–";
  const secs = Math.round((Date.now() - d.getTime()) / 1000);
  if (secs < -5) return `in ${ago(Date.now() * 1e6 + (Date.now() - d.getTime()) * 1e6).replace(" ago", "")}`;
  if (secs < 5) return "just now";
  if (secs < 60) return `${secs}s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)}h ago`;
  return `${Math.floor(secs / 86400)}d ago`;
}

export function timestamp(value) {
  const d = toDate(value);
  if (!d) return "–";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// An element showing "3m ago" with the exact time as its tooltip.
export function when(value) {
  return h("time", { title: timestamp(value), datetime: toDate(value)?.toISOString() }, ago(value));
}

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

export const mib = (n) => (n ? bytes(n * 1024 * 1024) : "0 MiB");
export const mhz = (n) => (n >= 1000 ? `${(n / 1000).toFixed(2)} GHz` : `${n || 0} MHz`);

export function duration(ns) {
  if (!ns) return "0s";
  let secs = ns / 1e9;
  const parts = [];
  for (const [unit, size] of [["h", 3600], ["m", 60]]) {
    if (secs >= size) { parts.push(`${Math.floor(secs / size)}${unit}`); secs %= size; }
  }
  if (secs || !parts.length) parts.push(`${Math.round(secs * 10) / 10}s`);
  return parts.join("");
}

export function pluralize(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// Sum of the task resources of an allocation (AllocatedResources, else Resources).
export function allocResources(alloc) {
  let cpu = 0, memory = 0;
  const tasks = alloc.AllocatedResources?.Tasks || {};
  for (const t of Object.values(tasks)) {
    cpu += t.Cpu?.CpuShares || 0;
    memory += t.Memory?.MemoryMB || 0;
  }
  if (!cpu && !memory && alloc.Resources) {
    cpu = alloc.Resources.CPU || 0;
    memory = alloc.Resources.MemoryMB || 0;
  }
  return { cpu, memory };
}
