// Jobs list: status, type, priority, allocation summary; namespace, search and filters.
import { h, fill, pluralize } from "../dom.js";
import { get, live, url } from "../api.js";
import { setQuery, render as rerender } from "../router.js";
import { badge, pageHeader, table, select, searchInput, summaryBar, summaryTotals, emptyState } from "../components.js";
import { jobHref } from "../links.js";

const PAGE_SIZE = 50;
const TYPES = ["service", "batch", "system", "sysbatch"];
const STATUSES = ["pending", "running", "dead"];

export async function namespaceOptions(signal) {
  try {
    const list = await get("/v1/namespaces", { signal });
    return list.map((n) => n.Name);
  } catch {
    return ["default"];
  }
}

export function namespaceSwitcher(names, current, onchange) {
  const opts = [["*", "All namespaces"], ...names.map((n) => [n, n])];
  if (!opts.some(([v]) => v === current)) opts.push([current, current]);
  return h("label.filter-group", h("span", "Namespace"), select(opts, current, onchange, { "aria-label": "Namespace" }));
}

function jobKind(job) {
  if (job.Periodic) return "periodic";
  if (job.ParameterizedJob) return "parameterized";
  return job.Type;
}

export function filterJobs(jobs, f) {
  const term = (f.search || "").toLowerCase();
  return jobs.filter((j) => !j.ParentID &&
    (!term || j.ID.toLowerCase().includes(term) || (j.Name || "").toLowerCase().includes(term)) &&
    (!f.type || j.Type === f.type) &&
    (!f.status || j.Status === f.status) &&
    (!f.dc || (j.Datacenters || []).includes(f.dc)));
}

export async function jobsList(ctx) {
  ctx.title("Jobs");
  const f = { namespace: ctx.query.namespace || "default", search: ctx.query.search || "",
    type: ctx.query.type || "", status: ctx.query.status || "", dc: ctx.query.dc || "", page: 0 };
  let jobs = [];
  const names = await namespaceOptions(ctx.signal);
  const body = h("div");
  const count = h("span.count");
  const dcSlot = h("span");

  const redraw = () => {
    const shown = filterJobs(jobs, f);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    f.page = Math.min(f.page, pages - 1);
    count.textContent = pluralize(shown.length, "job");
    const dcs = [...new Set(jobs.flatMap((j) => j.Datacenters || []))].sort();
    fill(dcSlot, filter("Datacenter", "dc", dcs));
    if (!jobs.length) {
      return fill(body, emptyState("No jobs", f.namespace === "*" ? "No job runs in any namespace yet."
        : `No job runs in namespace "${f.namespace}" yet.`), h("p.center", h("a.btn.btn-primary", { href: "/ui/jobs/run" }, "Run a job")));
    }
    const rows = shown.slice(f.page * PAGE_SIZE, (f.page + 1) * PAGE_SIZE);
    fill(body, h("div.cards-table", table(columns(f.namespace === "*"), rows, {
      empty: "No jobs match the filters", rowHref: (j) => jobHref(j.ID, j.Namespace), label: "Jobs" })),
    pages > 1 ? pager(f.page, pages, (p) => { f.page = p; redraw(); }) : null);
  };

  const filter = (label, key, values) => h("label.filter-group", h("span", label),
    select([["", "Any"], ...values.map((v) => [v, v])], f[key], (v) => { f[key] = v; f.page = 0; setQuery({ [key]: v }); redraw(); },
      { "aria-label": label }));

  ctx.el.append(
    pageHeader("Jobs", { actions: [h("a.btn.btn-primary", { href: "/ui/jobs/run" }, "Run job")] }),
    h("div.toolbar",
      searchInput(f.search, (v) => { f.search = v; f.page = 0; setQuery({ search: v }); redraw(); }, "Search jobs"),
      namespaceSwitcher(names, f.namespace, (v) => { setQuery({ namespace: v === "default" ? "" : v }); rerender(); }),
      filter("Type", "type", TYPES), filter("Status", "status", STATUSES), dcSlot, count),
    body);

  await live(ctx, url("/v1/jobs", { meta: "true", namespace: f.namespace }), (data) => { jobs = data; redraw(); });
}

function columns(allNamespaces) {
  return [
    { title: "Name", render: (j) => h("div", h("a.strong", { href: jobHref(j.ID, j.Namespace) }, j.ID),
      j.Name && j.Name !== j.ID ? h("div.small.muted", j.Name) : null) },
    allNamespaces ? { title: "Namespace", render: (j) => j.Namespace } : null,
    { title: "Status", render: (j) => badge(j.Status) },
    { title: "Type", render: (j) => jobKind(j) },
    { title: "Node pool", class: "hide-narrow", render: (j) => j.NodePool || "default" },
    { title: "Priority", class: "num", render: (j) => String(j.Priority) },
    { title: "Groups", class: "num hide-narrow", render: (j) => String(Object.keys(j.JobSummary?.Summary || {}).length) },
    { title: "Summary", class: "wide", render: (j) => j.Periodic || j.ParameterizedJob
      ? childSummary(j.JobSummary?.Children) : summaryBar(summaryTotals(j.JobSummary), { compact: true }) },
  ].filter(Boolean);
}

function childSummary(children = {}) {
  return h("span.small.muted", `${children.Running || 0} running · ${children.Pending || 0} pending · ${children.Dead || 0} dead children`);
}

function pager(page, pages, go) {
  return h("div.toolbar.pager", { style: { marginTop: "12px" } },
    h("button.btn.btn-small", { disabled: page === 0, onclick: () => go(page - 1) }, "Previous"),
    h("span.muted.small", `Page ${page + 1} of ${pages}`),
    h("button.btn.btn-small", { disabled: page >= pages - 1, onclick: () => go(page + 1) }, "Next"));
}
