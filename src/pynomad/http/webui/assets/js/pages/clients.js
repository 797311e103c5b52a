// Clients list: status, eligibility, drain, allocations per node; search and filters.
import { h, fill, shortId, pluralize } from "../dom.js";
import { live, watch } from "../api.js";
import { setQuery } from "../router.js";
import { badge, pageHeader, table, select, searchInput } from "../components.js";
import { nodeHref } from "../links.js";

export function nodeState(n) {
  if (n.Drain) return badge("draining", "Draining");
  if (n.SchedulingEligibility === "ineligible") return badge("ineligible", "Ineligible");
  return badge("eligible", "Eligible");
}

// Running allocations per node, from the allocation list without task states.
export function watchAllocCounts(ctx, onCounts) {
  watch("/v1/allocations?task_states=false&namespace=*", (allocs) => {
    const counts = {};
    for (const a of allocs) {
      if (a.ClientStatus !== "running") continue;
      counts[a.NodeID] = (counts[a.NodeID] || 0) + 1;
    }
    onCounts(counts, allocs);
  }, { signal: ctx.signal });
}

export async function clientsList(ctx) {
  ctx.title("Clients");
  const f = { search: ctx.query.search || "", status: ctx.query.status || "", dc: ctx.query.dc || "",
    eligibility: ctx.query.eligibility || "", pool: ctx.query.pool || "" };
  let nodes = [];
  let counts = null;
  const body = h("div");
  const filters = h("span.row");
  const count = h("span.count");
  const redraw = () => {
    const term = f.search.toLowerCase();
    const shown = nodes.filter((n) => (!term || n.Name.toLowerCase().includes(term) || n.ID.startsWith(term)) &&
      (!f.status || n.Status === f.status) && (!f.dc || n.Datacenter === f.dc) && (!f.pool || n.NodePool === f.pool) &&
      (!f.eligibility || (f.eligibility === "draining" ? n.Drain : n.SchedulingEligibility === f.eligibility && !n.Drain)));
    count.textContent = pluralize(shown.length, "client");
    const uniq = (key) => [...new Set(nodes.map((n) => n[key]))].sort();
    fill(filters, filter("Status", "status", ["initializing", "ready", "down", "disconnected"]),
      filter("State", "eligibility", ["eligible", "ineligible", "draining"]),
      filter("Datacenter", "dc", uniq("Datacenter")), filter("Node pool", "pool", uniq("NodePool")));
    fill(body, h("div.cards-table", table([
      { title: "ID", class: "id", render: (n) => h("a.mono", { href: nodeHref(n.ID), title: n.ID }, shortId(n.ID)) },
      { title: "Name", render: (n) => h("a", { href: nodeHref(n.ID) }, n.Name) },
      { title: "Status", render: (n) => badge(n.Status) },
      { title: "State", render: nodeState },
      { title: "Address", class: "mono hide-narrow", render: (n) => n.Address },
      { title: "Datacenter", render: (n) => n.Datacenter },
      { title: "Node pool", class: "hide-narrow", render: (n) => n.NodePool },
      { title: "Version", class: "hide-narrow", render: (n) => n.Version },
      { title: "Running allocs", class: "num", render: (n) => (counts ? String(counts[n.ID] || 0) : "…") },
    ], shown, { empty: nodes.length ? "No clients match the filters" : "No clients have registered",
      rowHref: (n) => nodeHref(n.ID), label: "Clients" })));
  };
  const filter = (label, key, values) => h("label.filter-group", h("span", label),
    select([["", "Any"], ...values.map((v) => [v, v])], f[key], (v) => { f[key] = v; setQuery({ [key]: v }); redraw(); }, { "aria-label": label }));
  ctx.el.append(pageHeader("Clients"),
    h("div.toolbar", searchInput(f.search, (v) => { f.search = v; setQuery({ search: v }); redraw(); }, "Search clients"), filters, count),
    body);
  watchAllocCounts(ctx, (c) => { counts = c; redraw(); });
  await live(ctx, "/v1/nodes", (data) => { nodes = data.sort((a, b) => a.Name.localeCompare(b.Name)); redraw(); });
}
