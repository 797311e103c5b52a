// History-API routing under /ui/: patterns like "/jobs/:job/:tab" and "/fs/*path".

export const BASE = "/ui";

let routes = [];
let current = null;
let renderer = null;

export function setRoutes(table, render) {
  routes = table.map((r) => ({ ...r, ...compile(r.path) }));
  renderer = render;
}

function compile(pattern) {
  const names = [];
  const source = pattern.split("/").map((part) => {
    if (part.startsWith(":")) { names.push(part.slice(1)); return "([^/]+)"; }
    if (part.startsWith("*")) { names.push(part.slice(1)); return "?(.*)"; }
    return part.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  return { regex: new RegExp(`^${source}/?$`), names };
}

export function match(pathname) {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) || "/" : pathname;
  for (const route of routes) {
    const m = route.regex.exec(path);
    if (m) {
      const params = {};
      route.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1] || ""); });
      return { route, params };
    }
  }
  return null;
}

// Go to a UI path ("/jobs?namespace=x" or "/ui/jobs"); `replace` keeps history short.
export function navigate(to, { replace = false } = {}) {
  const href = to.startsWith(BASE) ? to : BASE + to;
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  render();
}

// Change the query string of the current page (filters, tabs) without a new history entry.
export function setQuery(changes) {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === "") params.delete(k);
    else params.set(k, v);
  }
  const qs = params.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : ""));
}

export function query() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

// Stop the current page's live queries (before deleting the object it shows).
export function stopPage() {
  current?.abort();
}

export function render() {
  if (current) current.abort();
  current = new AbortController();
  renderer(match(location.pathname), current.signal);
}

export function start() {
  window.addEventListener("popstate", render);
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest?.("a[href]");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey ||
        ev.shiftKey || ev.altKey || a.target || a.hasAttribute("download")) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin || !u.pathname.startsWith(BASE + "/") ||
        u.pathname.startsWith(BASE + "/assets/")) return;
    ev.preventDefault();
    navigate(u.pathname + u.search);
  });
  render();
}

// Build a UI href: link("/jobs", "web@default") → "/ui/jobs/web%40default".
export function href(...parts) {
  const [first, ...rest] = parts;
  return BASE + first + rest.map((p) => "/" + encodeURIComponent(p).replace(/%40/g, "@")).join("");
}
