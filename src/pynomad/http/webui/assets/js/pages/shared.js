// Pieces several pages show: allocation tables, job diffs, placement failures, deployments.
import { h, when, shortId, allocResources, mhz, mib } from "../dom.js";
import { put } from "../api.js";
import { badge, table, confirmButton, section, kv, emptyState } from "../components.js";
import { allocHref, allocLink, jobLink, nodeLink, groupHref } from "../links.js";

export function allocStatus(a) {
  if (a.ClientStatus === "running" && a.DesiredStatus !== "run") return badge("pending", "stopping");
  return badge(a.ClientStatus);
}

// `spec`: the job the allocations belong to, whose groups' resources stand in for the
// allocations' own (list endpoints leave AllocatedResources out).
export function allocTable(allocs, { job = false, node = true, group = true, empty = "No allocations", spec = null } = {}) {
  const res = (a) => {
    const own = allocResources(a);
    if (own.cpu || own.memory || !spec) return own;
    const g = (spec.TaskGroups || []).find((x) => x.Name === a.TaskGroup);
    return g ? resourcesOf(g) : own;
  };
  const sorted = [...allocs].sort((a, b) => (b.CreateIndex || 0) - (a.CreateIndex || 0));
  return table([
    { title: "ID", class: "id", render: (a) => allocLink(a.ID) },
    job ? { title: "Job", render: (a) => jobLink(a.JobID, a.Namespace) } : null,
    group ? { title: "Task group", render: (a) => a.JobID && !job
      ? h("a", { href: groupHref(a.JobID, a.Namespace, a.TaskGroup) }, a.TaskGroup) : a.TaskGroup } : null,
    { title: "Created", class: "nowrap", render: (a) => when(a.CreateTime) },
    { title: "Modified", class: "nowrap hide-narrow", render: (a) => when(a.ModifyTime) },
    { title: "Status", render: allocStatus },
    { title: "Version", class: "num hide-narrow", render: (a) => String(a.JobVersion ?? a.Job?.Version ?? "–") },
    node ? { title: "Client", render: (a) => nodeLink(a.NodeID, a.NodeName) } : null,
    { title: "CPU", class: "num hide-narrow", render: (a) => mhz(res(a).cpu) },
    { title: "Memory", class: "num hide-narrow", render: (a) => mib(res(a).memory) },
  ].filter(Boolean), sorted, { empty, rowHref: (a) => allocHref(a.ID), label: "Allocations" });
}

// ---- job diffs (Nomad's JobDiff: Type, Fields, Objects, TaskGroups[].Tasks) ----------------

const MARK = { Added: "+", Deleted: "-", Edited: "~", None: " " };

function fieldLine(f) {
  const cls = `d-${(f.Type || "none").toLowerCase()}`;
  const value = f.Type === "Added" ? `"${f.New}"` : f.Type === "Deleted" ? `"${f.Old}"`
    : f.Type === "Edited" ? `"${f.Old}" => "${f.New}"` : `"${f.New}"`;
  return h("div.diff-line", { class: cls }, `${MARK[f.Type] || " "} ${f.Name}: ${value}`,
    (f.Annotations || []).length ? h("span.d-annot", `(${f.Annotations.join(", ")})`) : null);
}

function objectBlock(o, { showNone = false } = {}) {
  const cls = `d-${(o.Type || "none").toLowerCase()}`;
  const fields = (o.Fields || []).filter((f) => showNone || f.Type !== "None");
  return h("div", h("div.diff-line", { class: cls }, `${MARK[o.Type] || " "} ${o.Name} {`),
    h("div.d-indent", fields.map(fieldLine), (o.Objects || []).map((x) => objectBlock(x, { showNone }))),
    h("div.diff-line", { class: cls }, "  }"));
}

function groupBlock(g, updates) {
  const cls = `d-${(g.Type || "none").toLowerCase()}`;
  const counts = Object.entries(g.Updates || updates || {}).filter(([, n]) => n)
    .map(([k, n]) => `${n} ${k.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}`);
  return h("div",
    h("div.diff-line", { class: cls }, `${MARK[g.Type] || " "} Task Group: "${g.Name}"`,
      counts.length ? h("span.d-annot", `(${counts.join(", ")})`) : null),
    h("div.d-indent",
      (g.Fields || []).filter((f) => f.Type !== "None").map(fieldLine),
      (g.Objects || []).map((o) => objectBlock(o)),
      (g.Tasks || []).map((t) => h("div",
        h("div.diff-line", { class: `d-${(t.Type || "none").toLowerCase()}` },
          `${MARK[t.Type] || " "} Task: "${t.Name}"`,
          (t.Annotations || []).length ? h("span.d-annot", `(${t.Annotations.join(", ")})`) : null),
        h("div.d-indent", (t.Fields || []).filter((f) => f.Type !== "None").map(fieldLine),
          (t.Objects || []).filter((o) => o.Type !== "None").map((o) => objectBlock(o)))))));
}

// `desired`: the plan's Annotations.DesiredTGUpdates (placement counts per group).
export function diffView(diff, desired = {}) {
  if (!diff || (diff.Type === "None" && !(diff.TaskGroups || []).some((g) => g.Type !== "None"))) {
    return h("p.muted", "No changes.");
  }
  return h("div.diff",
    h("div.diff-line", { class: `d-${diff.Type.toLowerCase()}` }, `${MARK[diff.Type] || " "} Job: "${diff.ID}"`),
    h("div.d-indent",
      (diff.Fields || []).filter((f) => f.Type !== "None").map(fieldLine),
      (diff.Objects || []).map((o) => objectBlock(o)),
      (diff.TaskGroups || []).map((g) => groupBlock(g, desired[g.Name]))));
}

// ---- placement failures (an evaluation's or a plan's FailedTGAllocs) -------------------------

export function placementFailures(failed) {
  const groups = Object.entries(failed || {});
  if (!groups.length) return null;
  return h("div.notice.tone-warn", h("strong", "Placement failures"),
    groups.map(([group, m]) => h("div", { style: { marginTop: "6px" } },
      h("div", h("strong", group), `: ${m.CoalescedFailures + 1} unplaced`),
      h("ul.small", { style: { margin: "4px 0 0", paddingLeft: "20px" } }, failureReasons(m).map((r) => h("li", r))))));
}

export function failureReasons(m) {
  const out = [];
  if (!m.NodesEvaluated && !m.NodesInPool) out.push("No nodes were eligible for evaluation");
  else out.push(`${m.NodesEvaluated} of ${m.NodesInPool || m.NodesEvaluated} nodes evaluated`);
  for (const [dc, n] of Object.entries(m.NodesAvailable || {})) out.push(`${n} nodes available in ${dc}`);
  for (const [c, n] of Object.entries(m.ClassFiltered || {})) out.push(`Class "${c}" filtered ${n} nodes`);
  for (const [c, n] of Object.entries(m.ConstraintFiltered || {})) out.push(`Constraint "${c}" filtered ${n} nodes`);
  if (m.NodesExhausted) out.push(`Resources exhausted on ${m.NodesExhausted} nodes`);
  for (const [c, n] of Object.entries(m.ClassExhausted || {})) out.push(`Class "${c}" exhausted on ${n} nodes`);
  for (const [d, n] of Object.entries(m.DimensionExhausted || {})) out.push(`Dimension "${d}" exhausted on ${n} nodes`);
  for (const [q] of Object.entries(m.QuotaExhausted || {})) out.push(`Quota limit hit "${q}"`);
  return out;
}

// ---- deployments -------------------------------------------------------------------------------

export function deploymentStatus(d) {
  if (d.Status === "running" && Object.values(d.TaskGroups || {}).some((g) => g.DesiredCanaries > 0 && !g.Promoted)) {
    return badge("requires promotion", "Requires promotion");
  }
  return badge(d.Status);
}

export function deploymentGroups(d) {
  return table([
    { title: "Task group", render: ([name]) => name },
    { title: "Promoted", render: ([, g]) => g.DesiredCanaries ? (g.Promoted ? "Yes" : "No") : "–" },
    { title: "Auto revert", class: "hide-narrow", render: ([, g]) => (g.AutoRevert ? "Yes" : "No") },
    { title: "Desired canaries", class: "num", render: ([, g]) => String(g.DesiredCanaries || 0) },
    { title: "Desired", class: "num", render: ([, g]) => String(g.DesiredTotal || 0) },
    { title: "Placed", class: "num", render: ([, g]) => String(g.PlacedAllocs || 0) },
    { title: "Healthy", class: "num", render: ([, g]) => String(g.HealthyAllocs || 0) },
    { title: "Unhealthy", class: "num", render: ([, g]) => String(g.UnhealthyAllocs || 0) },
    { title: "Progress deadline", class: "nowrap hide-narrow", render: ([, g]) => when(g.RequireProgressBy) },
  ], Object.entries(d.TaskGroups || {}), { label: "Deployment task groups" });
}

export function deploymentActions(d) {
  if (d.Status !== "running" && d.Status !== "paused") return [];
  const needsPromotion = Object.values(d.TaskGroups || {}).some((g) => g.DesiredCanaries > 0 && !g.Promoted);
  return [
    needsPromotion ? confirmButton("Promote", async () => {
      await put(`/v1/deployment/promote/${d.ID}`, { DeploymentID: d.ID, All: true });
      return "Deployment promoted";
    }, { confirm: "Yes, promote canaries" }) : null,
    confirmButton("Fail", async () => {
      await put(`/v1/deployment/fail/${d.ID}`, { DeploymentID: d.ID });
      return "Deployment marked as failed";
    }, { danger: true, confirm: "Yes, fail deployment" }),
  ].filter(Boolean);
}

export function deploymentCard(d, title = "Latest deployment") {
  if (!d) return section(title, emptyState("No deployments", "This job has no deployment yet."));
  return section(title, [
    h("div.inline-kv",
      h("span", h("span.k", "ID"), h("span.mono", { title: d.ID }, shortId(d.ID))),
      h("span", h("span.k", "Version"), String(d.JobVersion)),
      h("span", h("span.k", "Status"), deploymentStatus(d)),
      d.StatusDescription ? h("span.muted", d.StatusDescription) : null),
    deploymentGroups(d),
  ], { actions: deploymentActions(d), id: "latest-deployment" });
}

export function resourcesOf(group) {
  let cpu = 0, memory = 0, disk = group.EphemeralDisk?.SizeMB || 0;
  for (const t of group.Tasks || []) { cpu += t.Resources?.CPU || 0; memory += t.Resources?.MemoryMB || 0; }
  return { cpu, memory, disk };
}

export function metaTable(meta) {
  const pairs = Object.entries(meta || {});
  if (!pairs.length) return emptyState("No metadata");
  return kv(pairs.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [h("span.mono", k), h("span.mono", v)]));
}
