// A job: header with actions, tabs, and the overview (summary, groups, deployment, allocations).
import { h, fill, when, mhz, mib } from "../dom.js";
import { get, post, del, live, jobPath, url } from "../api.js";
import { navigate, stopPage } from "../router.js";
import { badge, pageHeader, section, tabs, table, summaryBar, summaryTotals, confirmButton,
  actionButton, emptyState, toast } from "../components.js";
import { parseJobKey, jobHref, groupHref, crumbs, jobLink } from "../links.js";
import { allocTable, deploymentCard, resourcesOf, placementFailures } from "./shared.js";

const TABS = ["definition", "versions", "deployments", "allocations", "evaluations", "clients",
  "services", "dispatch"];

export async function jobPage(ctx) {
  const key = parseJobKey(ctx.params.job);
  const tab = ctx.params.tab || "";
  if (tab && !TABS.includes(tab)) {
    const { groupPage } = await import("./task_group.js");
    return groupPage(ctx, key, tab);
  }
  ctx.title(`${key.ID}${tab ? ` · ${tab}` : ""}`);
  const head = h("div");
  const body = h("div");
  ctx.el.append(head, body);
  const job = await get(jobPath(key), { signal: ctx.signal });
  ctx.job = job;
  const header = live(ctx, jobPath(key), (j) => fill(head, jobHeader(j, tab)));
  const content = tab ? import("./job_tabs.js").then((m) => m[tab](ctx, job, body)) : overview(ctx, job, body);
  await Promise.all([header, content]);
}

export function jobHeader(job, active) {
  const ns = job.Namespace;
  const parent = job.ParentID ? [["Jobs", "/ui/jobs"], [job.ParentID, jobHref(job.ParentID, ns)], [job.ID]]
    : [["Jobs", `/ui/jobs${ns !== "default" ? `?namespace=${encodeURIComponent(ns)}` : ""}`], [job.ID]];
  const items = [["", "Overview", jobHref(job.ID, ns)],
    ["definition", "Definition", jobHref(job.ID, ns, "definition")],
    ["versions", "Versions", jobHref(job.ID, ns, "versions")],
    job.Type === "service" ? ["deployments", "Deployments", jobHref(job.ID, ns, "deployments")] : null,
    ["allocations", "Allocations", jobHref(job.ID, ns, "allocations")],
    ["evaluations", "Evaluations", jobHref(job.ID, ns, "evaluations")],
    ["clients", "Clients", jobHref(job.ID, ns, "clients")],
    ["services", "Services", jobHref(job.ID, ns, "services")],
    job.ParameterizedJob && !job.ParentID ? ["dispatch", "Dispatch", jobHref(job.ID, ns, "dispatch")] : null];
  return h("div", crumbs(...parent),
    pageHeader(job.Name && job.Name !== job.ID ? `${job.ID} (${job.Name})` : job.ID, {
      badges: [badge(job.Status), job.Stop ? badge("dead", "Stopped") : null],
      actions: jobActions(job),
    }),
    tabs(items, active));
}

function jobActions(job) {
  const path = (q) => jobPath(job, "", q);
  const out = [];
  if (job.Periodic && !job.ParentID && !job.Stop) {
    out.push(actionButton("Force launch", async () => {
      await post(jobPath(job, "periodic/force"));
      return "Periodic job launched";
    }));
  }
  if (job.ParameterizedJob && !job.ParentID) {
    out.push(h("a.btn", { href: jobHref(job.ID, job.Namespace, "dispatch") }, "Dispatch"));
  }
  out.push(h("a.btn", { href: url("/ui/jobs/run", { job: job.ID, namespace: job.Namespace }) }, "Edit"));
  if (job.Stop) {
    out.push(actionButton("Start", async () => {
      const fresh = await get(path());
      fresh.Stop = false;
      await post(url("/v1/jobs", { namespace: job.Namespace }), { Job: fresh });
      return "Job started";
    }, { primary: true }));
  } else {
    out.push(confirmButton("Stop", async () => { await del(path()); return "Job stopped"; },
      { danger: true, confirm: "Yes, stop job" }));
  }
  out.push(confirmButton("Purge", async () => {
    stopPage();
    await del(path({ purge: "true" }));
    toast(`Job ${job.ID} purged`, "good");
    navigate("/jobs");
  }, { danger: true, confirm: "Yes, purge job" }));
  return out;
}

async function overview(ctx, job, body) {
  const summarySlot = h("div");
  const deploySlot = h("div");
  const groupsSlot = h("div");
  const allocSlot = h("div");
  const childrenSlot = h("div");
  const parent = (job.Periodic || job.ParameterizedJob) && !job.ParentID;
  fill(body,
    h("div.stat-row.compact",
      stat("Type", job.Periodic ? `${job.Type} · periodic` : job.ParameterizedJob ? `${job.Type} · parameterized` : job.Type),
      stat("Priority", job.Priority), stat("Namespace", job.Namespace),
      stat("Datacenters", (job.Datacenters || []).join(", ")), stat("Node pool", job.NodePool || "default"),
      stat("Version", job.Version), stat("Submitted", when(job.SubmitTime))),
    job.Periodic ? h("div.notice.tone-info", h("strong", "Periodic"), `Cron: ${job.Periodic.Spec || (job.Periodic.Specs || []).join(", ")}` +
      `${job.Periodic.TimeZone ? ` (${job.Periodic.TimeZone})` : ""}${job.Periodic.ProhibitOverlap ? " · overlap prohibited" : ""}`) : null,
    summarySlot, parent ? childrenSlot : null,
    job.Type === "service" && !parent ? deploySlot : null,
    groupsSlot, parent ? null : allocSlot);

  let summary = null;
  let allocs = [];
  const drawGroups = () => fill(groupsSlot, groupsCard(job, summary, allocs));
  const waits = [
    live(ctx, jobPath(job, "summary"), (s) => {
      summary = s;
      fill(summarySlot, parent ? childrenSummary(s) : section("Allocation summary", summaryBar(summaryTotals(s), { legend: true })));
      drawGroups();
    }),
  ];
  if (parent) {
    waits.push(live(ctx, url("/v1/jobs", { prefix: `${job.ID}/`, namespace: job.Namespace, meta: "true" }), (jobs) =>
      fill(childrenSlot, childrenCard(jobs.filter((j) => j.ParentID === job.ID)))));
  } else {
    waits.push(live(ctx, jobPath(job, "allocations"), (list) => {
      allocs = list;
      fill(allocSlot, section("Recent allocations", allocTable(list.slice().sort((a, b) => b.CreateIndex - a.CreateIndex).slice(0, 10),
        { empty: "No allocations placed yet", spec: job }), { actions: [h("a.btn.btn-small", { href: jobHref(job.ID, job.Namespace, "allocations") }, "View all")] }));
      drawGroups();
    }));
    waits.push(lastFailures(ctx, job, allocSlot));
  }
  if (job.Type === "service" && !parent) {
    waits.push(live(ctx, jobPath(job, "deployment"), (d) => fill(deploySlot, deploymentCard(d))));
  }
  await Promise.all(waits);
}

// The latest evaluation's placement failures, shown above the allocations.
async function lastFailures(ctx, job, anchor) {
  const slot = h("div");
  anchor.before(slot);
  await live(ctx, jobPath(job, "evaluations"), (evals) => {
    const latest = evals.filter((e) => e.Status !== "canceled").sort((a, b) => b.CreateIndex - a.CreateIndex)[0];
    const blocked = evals.find((e) => e.Status === "blocked");
    fill(slot, blocked || (latest && latest.FailedTGAllocs) ? placementFailures((blocked || latest).FailedTGAllocs) : null);
  });
}

const stat = (label, value) => h("div.stat", h("div.stat-label", label), h("div.stat-value", { class: "small" }, value ?? "–"));

function groupsCard(job, summary, allocs) {
  const groups = job.TaskGroups || [];
  return section("Task groups", table([
    { title: "Name", render: (g) => h("a", { href: groupHref(job.ID, job.Namespace, g.Name) }, g.Name) },
    { title: "Count", class: "num", render: (g) => String(g.Count) },
    { title: "Allocation status", class: "wide", render: (g) => summaryBar(summary?.Summary?.[g.Name] || {}, { compact: true }) },
    { title: "Running", class: "num", render: (g) => String(allocs.filter((a) => a.TaskGroup === g.Name && a.ClientStatus === "running").length) },
    { title: "Reserved CPU", class: "num hide-narrow", render: (g) => mhz(resourcesOf(g).cpu) },
    { title: "Reserved memory", class: "num hide-narrow", render: (g) => mib(resourcesOf(g).memory) },
    { title: "Reserved disk", class: "num hide-narrow", render: (g) => mib(resourcesOf(g).disk) },
  ], groups, { rowHref: (g) => groupHref(job.ID, job.Namespace, g.Name), label: "Task groups" }));
}

function childrenSummary(s) {
  const c = s?.Children || {};
  const counts = { Queued: c.Pending || 0, Running: c.Running || 0, Complete: c.Dead || 0 };
  return section("Children", h("div.sbar-block", summaryBar(counts),
    h("ul.legend", h("li", h("span.dot.seg-queued"), "Pending ", h("strong", String(c.Pending || 0))),
      h("li", h("span.dot.seg-running"), "Running ", h("strong", String(c.Running || 0))),
      h("li", h("span.dot.seg-complete"), "Dead ", h("strong", String(c.Dead || 0))))));
}

function childrenCard(jobs) {
  if (!jobs.length) return section("Child jobs", emptyState("No child jobs", "Launched or dispatched jobs appear here."));
  return section("Child jobs", table([
    { title: "Name", render: (j) => jobLink(j.ID, j.Namespace) },
    { title: "Submitted", class: "nowrap", render: (j) => when(j.SubmitTime) },
    { title: "Status", render: (j) => badge(j.Status) },
    { title: "Summary", class: "wide", render: (j) => summaryBar(summaryTotals(j.JobSummary), { compact: true }) },
  ], jobs.sort((a, b) => (b.SubmitTime || 0) - (a.SubmitTime || 0)), { rowHref: (j) => jobHref(j.ID, j.Namespace), label: "Child jobs" }));
}
