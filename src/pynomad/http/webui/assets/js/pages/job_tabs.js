// The job page's tabs other than the overview.
import { h, fill, when, shortId, pluralize } from "../dom.js";
import { get, post, live, jobPath, url } from "../api.js";
import { navigate, setQuery } from "../router.js";
import { badge, section, table, confirmButton, emptyState, codeBlock, select, searchInput, field,
  actionButton, errorBox } from "../components.js";
import { jobHref, nodeLink, evalHref } from "../links.js";
import { allocTable, diffView, deploymentCard, placementFailures, failureReasons } from "./shared.js";

export async function definition(ctx, job, body) {
  let submission = null;
  try {
    submission = await get(jobPath(job, "submission", { version: job.Version }), { signal: ctx.signal });
  } catch { /* jobs registered as JSON have no submission */ }
  const view = h("div");
  const format = ctx.query.format || (submission?.Format === "hcl2" ? "hcl" : "json");
  const show = (fmt) => {
    setQuery({ format: fmt });
    fill(view, fmt === "hcl" && submission ? codeBlock(submission.Source, "definition")
      : codeBlock(JSON.stringify(job, null, 2), "definition"));
  };
  fill(body, section("Job definition", view, { actions: [
    submission ? select([["hcl", "HCL (as submitted)"], ["json", "JSON"]], format, show, { "aria-label": "Format" }) : null,
    h("a.btn.btn-small", { href: url("/ui/jobs/run", { job: job.ID, namespace: job.Namespace }) }, "Edit"),
  ] }));
  show(format);
}

export async function versions(ctx, job, body) {
  await live(ctx, jobPath(job, "versions", { diffs: "true" }), (data) => {
    const list = data.Versions || [];
    const diffs = data.Diffs || [];
    fill(body, section(`Versions (${list.length})`, h("div.stack", list.map((v, i) =>
      versionCard(job, v, diffs[i], i === 0)))));
  });
}

function versionCard(job, v, diff, current) {
  const changes = diff ? countChanges(diff) : 0;
  const details = h("details", h("summary", !diff ? "First version" : changes ? pluralize(changes, "change") : "No changes from the previous version"),
    h("div", { style: { marginTop: "8px" } }, diff ? diffView(diff) : h("p.muted", "First version.")));
  return h("div.card", { style: { marginBottom: "0" }, dataset: { version: v.Version } },
    h("div.card-head",
      h("div.row", h("strong", `Version #${v.Version}`), v.Stable ? badge("successful", "Stable") : badge("pending", "Not stable"),
        h("span.muted.small", "Submitted ", when(v.SubmitTime))),
      h("div.card-actions", current ? h("span.muted.small", "Current version")
        : confirmButton("Revert", async () => {
          await post(jobPath(job, "revert"), { JobID: job.ID, JobVersion: v.Version, Namespace: job.Namespace });
          return `Reverted to version ${v.Version}`;
        }, { confirm: `Yes, revert to #${v.Version}` }))),
    h("div.card-body", details));
}

function countChanges(diff) {
  let n = 0;
  const walk = (o) => {
    for (const f of o.Fields || []) if (f.Type !== "None") n++;
    for (const x of o.Objects || []) walk(x);
    for (const g of o.TaskGroups || []) walk(g);
    for (const t of o.Tasks || []) walk(t);
  };
  walk(diff);
  return n;
}

export async function deployments(ctx, job, body) {
  await live(ctx, jobPath(job, "deployments"), (list) => {
    if (!list.length) return fill(body, section("Deployments", emptyState("No deployments")));
    const sorted = [...list].sort((a, b) => b.CreateIndex - a.CreateIndex);
    fill(body, deploymentCard(sorted[0], `Deployment ${shortId(sorted[0].ID)} · version ${sorted[0].JobVersion}`),
      sorted.length > 1 ? section("Earlier deployments", table([
        { title: "ID", class: "id", render: (d) => h("span", { title: d.ID }, shortId(d.ID)) },
        { title: "Version", class: "num", render: (d) => String(d.JobVersion) },
        { title: "Status", render: (d) => badge(d.Status) },
        { title: "Description", render: (d) => d.StatusDescription },
      ], sorted.slice(1), { label: "Deployments" })) : null);
  });
}

export async function allocations(ctx, job, body) {
  const f = { status: ctx.query.status || "", group: ctx.query.group || "", search: ctx.query.search || "" };
  let list = [];
  const tableSlot = h("div");
  const groups = (job.TaskGroups || []).map((g) => g.Name);
  const redraw = () => {
    const term = f.search.toLowerCase();
    const shown = list.filter((a) => (!f.status || a.ClientStatus === f.status) && (!f.group || a.TaskGroup === f.group) &&
      (!term || a.ID.startsWith(term) || (a.NodeName || "").toLowerCase().includes(term)));
    fill(tableSlot, h("div.cards-table", allocTable(shown, { empty: "No allocations match", spec: job })));
  };
  const set = (k) => (v) => { f[k] = v; setQuery({ [k]: v }); redraw(); };
  fill(body, h("div.toolbar",
    searchInput(f.search, set("search"), "Search by ID or client"),
    h("label.filter-group", h("span", "Status"), select([["", "Any"], ...["pending", "running", "complete", "failed", "lost"].map((s) => [s, s])], f.status, set("status"), { "aria-label": "Status" })),
    h("label.filter-group", h("span", "Task group"), select([["", "Any"], ...groups.map((g) => [g, g])], f.group, set("group"), { "aria-label": "Task group" }))),
  tableSlot);
  await live(ctx, jobPath(job, "allocations"), (data) => { list = data; redraw(); });
}

export async function evaluations(ctx, job, body) {
  await live(ctx, jobPath(job, "evaluations"), (list) => {
    const sorted = [...list].sort((a, b) => b.CreateIndex - a.CreateIndex);
    const failing = sorted.find((e) => e.FailedTGAllocs && (e.Status === "blocked" || e === sorted[0]));
    fill(body, failing ? placementFailures(failing.FailedTGAllocs) : null,
      section("Evaluations", evalTable(sorted)));
  });
}

export function evalTable(list, { job = false } = {}) {
  return table([
    { title: "ID", class: "id", render: (e) => h("a.mono", { href: evalHref(e.ID), title: e.ID }, shortId(e.ID)) },
    job ? { title: "Job", render: (e) => h("a", { href: jobHref(e.JobID, e.Namespace) }, e.JobID) } : null,
    { title: "Priority", class: "num", render: (e) => String(e.Priority) },
    { title: "Created", class: "nowrap", render: (e) => when(e.CreateTime) },
    { title: "Triggered by", render: (e) => e.TriggeredBy },
    { title: "Status", render: (e) => badge(e.Status) },
    { title: "Placement failures", render: (e) => {
      const groups = Object.entries(e.FailedTGAllocs || {});
      if (!groups.length) return e.Status === "blocked" ? "Blocked" : "None";
      return h("span", { title: groups.map(([g, m]) => `${g}: ${failureReasons(m).join("; ")}`).join("\n") },
        badge("failed", `${groups.length} group${groups.length > 1 ? "s" : ""}`));
    } },
  ].filter(Boolean), list, { empty: "No evaluations", rowHref: (e) => evalHref(e.ID), label: "Evaluations" });
}

export async function clients(ctx, job, body) {
  await live(ctx, jobPath(job, "allocations"), (allocs) => {
    const byNode = new Map();
    for (const a of allocs) {
      const entry = byNode.get(a.NodeID) || { id: a.NodeID, name: a.NodeName, counts: {} };
      entry.counts[a.ClientStatus] = (entry.counts[a.ClientStatus] || 0) + 1;
      byNode.set(a.NodeID, entry);
    }
    fill(body, section("Clients running this job", table([
      { title: "Client", render: (n) => nodeLink(n.id, n.name) },
      { title: "ID", class: "id hide-narrow", render: (n) => shortId(n.id) },
      { title: "Allocations", render: (n) => h("span", Object.entries(n.counts).map(([s, c]) => [badge(s, `${c} ${s}`), " "])) },
    ], [...byNode.values()], { empty: "This job has no allocations on any client", rowHref: (n) => `/ui/clients/${n.id}`, label: "Clients" })));
  });
}

export async function services(ctx, job, body) {
  const declared = [];
  for (const g of job.TaskGroups || []) {
    for (const s of g.Services || []) declared.push({ ...s, group: g.Name, task: "" });
    for (const t of g.Tasks || []) for (const s of t.Services || []) declared.push({ ...s, group: g.Name, task: t.Name });
  }
  const regs = {};
  await Promise.all([...new Set(declared.map((s) => s.Name))].map(async (name) => {
    try {
      regs[name] = (await get(url(`/v1/service/${encodeURIComponent(name)}`, { namespace: job.Namespace }), { signal: ctx.signal }))
        .filter((r) => r.JobID === job.ID);
    } catch { regs[name] = []; }
  }));
  fill(body, section("Services", table([
    { title: "Name", render: (s) => h("a", { href: `/ui/services/${encodeURIComponent(s.Name)}?namespace=${encodeURIComponent(job.Namespace)}` }, s.Name) },
    { title: "Provider", render: (s) => s.Provider || "consul" },
    { title: "Task group", render: (s) => s.group },
    { title: "Task", render: (s) => s.task || "–" },
    { title: "Port", render: (s) => s.PortLabel || "–" },
    { title: "Tags", render: (s) => (s.Tags || []).map((t) => h("span.tag", t)) },
    { title: "Registrations", class: "num", render: (s) => String((regs[s.Name] || []).length) },
  ], declared, { empty: "This job declares no services", label: "Services" })));
}

export async function dispatch(ctx, job, body) {
  const p = job.ParameterizedJob;
  if (!p) return fill(body, emptyState("Not a parameterized job", "Only parameterized jobs can be dispatched."));
  const inputs = {};
  const metaField = (name, required) => field(`${name}${required ? " (required)" : ""}`,
    inputs[name] = h("input.input", { name, required }));
  const payload = h("textarea.input", { rows: 8, placeholder: p.Payload === "forbidden" ? "Payloads are forbidden" : "Payload",
    disabled: p.Payload === "forbidden", "aria-label": "Payload" });
  const errors = h("div");
  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    const meta = {};
    for (const [k, el] of Object.entries(inputs)) if (el.value) meta[k] = el.value;
    try {
      const resp = await post(jobPath(job, "dispatch"), {
        JobID: job.ID, Meta: meta, Payload: payload.value ? btoa(unescape(encodeURIComponent(payload.value))) : undefined });
      navigate(jobHref(resp.DispatchedJobID, job.Namespace).slice(3));
    } catch (err) {
      fill(errors, errorBox(err, "dispatch this job"));
    }
  } },
  (p.MetaRequired || []).map((n) => metaField(n, true)),
  (p.MetaOptional || []).map((n) => metaField(n, false)),
  field(`Payload (${p.Payload || "optional"})`, payload),
  errors,
  h("button.btn.btn-primary", { type: "submit" }, "Dispatch"));
  fill(body, section("Dispatch a new instance", form));
}

