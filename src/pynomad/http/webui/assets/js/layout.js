// The application shell: top bar (label, search, token), left navigation, content area.
import { h, fill } from "./dom.js";
import { get, post, token, ApiError } from "./api.js";
import { href } from "./router.js";

// What the UI knows of the signed-in token: acl (null until known), the token itself.
export const session = { aclEnabled: null, token: null };

const NAV = [
  ["Workload", [["jobs", "Jobs", "/ui/jobs"], ["evaluations", "Evaluations", "/ui/evaluations"],
    ["services", "Services", "/ui/services"]]],
  ["Cluster", [["clients", "Clients", "/ui/clients"], ["servers", "Servers", "/ui/servers"],
    ["topology", "Topology", "/ui/topology"]]],
  ["Configuration", [["variables", "Variables", "/ui/variables"]]],
  ["Access control", [["tokens", "ACL tokens", "/ui/settings/tokens"],
    ["administration", "Administration", "/ui/administration"]]],
];

let els = null;

export function shell() {
  if (els) return els;
  const label = labelConfig();
  const tokenSlot = h("div.token-slot");
  const nav = h("nav.sidebar#sidebar", { "aria-label": "Main" },
    NAV.map(([title, items]) => h("div.nav-group",
      h("p.nav-title", title),
      h("ul", items.map(([key, text, link]) => h("li", h("a.nav-link", { href: link, dataset: { nav: key } }, text)))))));
  const toggle = h("button.nav-toggle", { "aria-label": "Menu", "aria-controls": "sidebar", "aria-expanded": "false",
    onclick: () => {
      const open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", String(open));
    } }, h("span"), h("span"), h("span"));
  const content = h("main.content#content", { tabindex: -1 });
  const bar = h("header.topbar",
    toggle,
    h("a.brand", { href: "/ui/jobs", "aria-label": "Nomad home" }, h("span.brand-mark", "N"), h("span.brand-name", "Nomad")),
    label ? h("span.cluster-label", { style: { background: label.background_color || "",
      color: label.text_color || "" } }, label.text || "") : null,
    searchBox(),
    tokenSlot);
  fill(document.getElementById("app"), h("a.skip", { href: "#content" }, "Skip to content"), bar,
    h("div.frame", nav, content));
  nav.addEventListener("click", (ev) => {
    if (ev.target.closest("a")) document.body.classList.remove("nav-open");
  });
  els = { content, nav, tokenSlot };
  window.addEventListener("nomad:token", () => refreshSession());
  return els;
}

// The agent's settings for the UI (index.html's meta tag): {label, aclEnabled}.
export function uiConfig() {
  const meta = document.querySelector('meta[name="nomad-ui"]');
  try { return JSON.parse(meta.content) || {}; } catch { return {}; }
}

const labelConfig = () => uiConfig().label;

export function setActive(section) {
  for (const a of els.nav.querySelectorAll("a.nav-link")) {
    const on = a.dataset.nav === section;
    a.classList.toggle("active", on);
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

// Learn whether ACLs are on and who the token is; redraw the token corner.
export async function refreshSession() {
  session.token = null;
  session.tokenError = null;
  session.aclEnabled = uiConfig().aclEnabled === true;
  if (session.aclEnabled && token.get()) {
    try {
      session.token = await get("/v1/acl/token/self");
    } catch (err) {
      session.tokenError = err instanceof ApiError ? err.message : String(err);
    }
  }
  drawToken();
}

function drawToken() {
  if (!els) return;
  const t = session.token;
  if (session.aclEnabled === false) return fill(els.tokenSlot);
  fill(els.tokenSlot, t
    ? h("a.token-chip", { href: "/ui/settings/tokens", title: "Signed in" },
      h("span.token-dot"), t.Name || (t.Type === "management" ? "Management token" : "Token"))
    : h("a.btn.btn-small.btn-light", { href: "/ui/settings/tokens" }, "Sign in"));
}

// Jump to a job, allocation, node or evaluation by ID or name prefix (/v1/search).
function searchBox() {
  const list = h("ul.search-results", { role: "listbox", hidden: true });
  let timer = null;
  const input = h("input.input.topsearch", { type: "search", placeholder: "Jump to job, client, allocation…",
    "aria-label": "Search", autocomplete: "off",
    oninput: () => { clearTimeout(timer); timer = setTimeout(run, 200); },
    onkeydown: (ev) => {
      const items = [...list.querySelectorAll("a")];
      const i = items.indexOf(document.activeElement);
      if (ev.key === "ArrowDown") { ev.preventDefault(); items[Math.min(i + 1, items.length - 1)]?.focus(); }
      if (ev.key === "Escape") { list.hidden = true; }
    } });
  list.addEventListener("keydown", (ev) => {
    const items = [...list.querySelectorAll("a")];
    const i = items.indexOf(document.activeElement);
    if (ev.key === "ArrowDown") { ev.preventDefault(); items[Math.min(i + 1, items.length - 1)]?.focus(); }
    if (ev.key === "ArrowUp") { ev.preventDefault(); (i <= 0 ? input : items[i - 1]).focus(); }
    if (ev.key === "Escape") { list.hidden = true; input.focus(); }
  });
  list.addEventListener("click", () => { list.hidden = true; input.value = ""; });
  async function run() {
    const prefix = input.value.trim();
    if (!prefix) { list.hidden = true; return; }
    try {
      const res = await post("/v1/search?namespace=*", { Prefix: prefix, Context: "all" });
      const m = res.Matches || {};
      const rows = [
        ...(m.jobs || []).map((id) => ["Job", id, href("/jobs", `${id}@default`)]),
        ...(m.nodes || []).map((id) => ["Client", id, href("/clients", id)]),
        ...(m.allocs || []).map((id) => ["Allocation", id, href("/allocations", id)]),
        ...(m.evals || []).map((id) => ["Evaluation", id, `/ui/evaluations?eval=${id}`]),
      ].slice(0, 12);
      fill(list, rows.length ? rows.map(([kind, id, link]) =>
        h("li", h("a", { href: link, role: "option" }, h("span.search-kind", kind), id)))
        : h("li.search-none", "No matches"));
      list.hidden = false;
    } catch {
      list.hidden = true;
    }
  }
  document.addEventListener("click", (ev) => { if (!ev.target.closest(".search")) list.hidden = true; });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "/" && !ev.target.closest("input, textarea, select, .xterm")) { ev.preventDefault(); input.focus(); }
  });
  return h("div.search", input, list);
}
