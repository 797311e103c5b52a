// An allocation and one of its tasks: states, events, utilization, lifecycle actions.
import { h, fill, when, shortId, timestamp, bytes, mhz, mib, toDate } from "../dom.js";
import { get, post, put, live, poll } from "../api.js";
import { badge, pageHeader, section, table, kv, confirmButton, lineChart, emptyState, tabs } from "../components.js";
import { crumbs, jobHref, groupHref, allocHref, taskHref, nodeLink, allocLink } from "../links.js";

const SAMPLES = 60;

function allocCrumbs(a, task) {
  return crumbs(["Jobs", "/ui/jobs"], [a.JobID, jobHref(a.JobID, a.Namespace)],
    [a.TaskGroup, groupHref(a.JobID, a.Namespace, a.TaskGroup)],
    [shortId(a.ID), task ? allocHref(a.ID) : null], task ? [task] : null);
}

function reserved(a, task) {
  const tasks = a.AllocatedResources?.Tasks || {};
  const pick = task ? [tasks[task]].filter(Boolean) : Object.values(tasks);
  return { cpu: pick.reduce((n, t) => n + (t.Cpu?.CpuShares || 0), 0),
    memory: pick.reduce((n, t) => n + (t.Memory?.MemoryMB || 0), 0) };
}

const running = (a) => a.ClientStatus === "running" || a.ClientStatus === "pending";

// CPU (MHz) and memory (bytes) charts from the client's stats API, sampled every 2s.
function utilization(ctx, a, task) {
  const box = h("div.grid");
  const cpu = [], mem = [];
  const limits = reserved(a, task);
  const draw = () => fill(box,
    h("div", lineChart([{ label: "Used", values: cpu, color: "#18a566" }],
      { label: `CPU (reserved ${mhz(limits.cpu)})`, max: Math.max(limits.cpu, ...cpu) * 1.1 || undefined, format: (v) => mhz(Math.round(v)) })),
    h("div", lineChart([{ label: "Used", values: mem, color: "#3a7bd5" }],
      { label: `Memory (reserved ${mib(limits.memory)})`, max: Math.max(limits.memory * 1048576, ...mem) * 1.1 || undefined, format: bytes })));
  draw();
  if (!running(a)) return section("Resource utilization", emptyState("Not running", "Utilization is shown while the allocation runs."));
  poll(`/v1/client/allocation/${a.ID}/stats`, (stats) => {
    const usage = task ? stats.Tasks?.[task]?.ResourceUsage : stats.ResourceUsage;
    if (!usage) return;
    cpu.push(usage.CpuStats?.TotalTicks || 0);
    mem.push(usage.MemoryStats?.RSS || usage.MemoryStats?.Usage || 0);
    if (cpu.length > SAMPLES) { cpu.shift(); mem.shift(); }
    draw();
  }, { signal: ctx.signal, ms: 2000, onError: () => true });
  return section("Resource utilization", box);
}

function lastEvent(state) {
  const events = state?.Events || [];
  return events[events.length - 1];
}

export async function allocPage(ctx) {
  const id = ctx.params.alloc;
  ctx.title(`Allocation ${shortId(id)}`);
  const head = h("div");
  const info = h("div");
  const tasksSlot = h("div");
  let statsSlot = null;
  ctx.el.append(head, info);
  await live(ctx, `/v1/allocation/${id}`, (a) => {
    if (!statsSlot) {
      statsSlot = utilization(ctx, a, null);
      ctx.el.append(statsSlot, tasksSlot);
    }
    fill(head, allocCrumbs(a), pageHeader(`Allocation ${shortId(a.ID)}`, {
      subtitle: a.Name, badges: [badge(a.ClientStatus)], actions: allocActions(a) }));
    fill(info, section("Details", kv([
      ["ID", h("span.mono", a.ID)], ["Job", h("a", { href: jobHref(a.JobID, a.Namespace) }, a.JobID)],
      ["Task group", a.TaskGroup], ["Job version", String(a.Job?.Version ?? "–")],
      ["Client", nodeLink(a.NodeID, a.NodeName)], ["Desired", `${a.DesiredStatus}${a.DesiredDescription ? ` — ${a.DesiredDescription}` : ""}`],
      ["Client status", `${a.ClientStatus}${a.ClientDescription ? ` — ${a.ClientDescription}` : ""}`],
      ["Created", h("span", timestamp(a.CreateTime), " (", when(a.CreateTime), ")")],
      a.PreviousAllocation ? ["Replaces", allocLink(a.PreviousAllocation)] : null,
      a.NextAllocation ? ["Replaced by", allocLink(a.NextAllocation)] : null,
      a.DeploymentStatus ? ["Deployment health", a.DeploymentStatus.Healthy === null || a.DeploymentStatus.Healthy === undefined ? "pending"
        : a.DeploymentStatus.Healthy ? "healthy" : "unhealthy"] : null,
      ports(a) ? ["Ports", ports(a)] : null,
    ])));
    fill(tasksSlot, section("Tasks", tasksTable(a)));
  });
}

function ports(a) {
  const list = [...(a.AllocatedResources?.Shared?.Ports || [])];
  for (const n of a.AllocatedResources?.Shared?.Networks || []) {
    for (const p of [...(n.ReservedPorts || []), ...(n.DynamicPorts || [])]) list.push({ Label: p.Label, Value: p.Value, HostIP: n.IP });
  }
  if (!list.length) return null;
  return h("span", list.map((p) => h("span.tag", `${p.Label}: ${p.HostIP || ""}:${p.Value}`)));
}

function allocActions(a) {
  const live = a.ClientStatus === "running";
  return [
    confirmButton("Restart", async () => { await put(`/v1/client/allocation/${a.ID}/restart`, {}); return "Allocation restarting"; },
      { disabled: !live, confirm: "Yes, restart" }),
    confirmButton("Stop", async () => { await post(`/v1/allocation/${a.ID}/stop`); return "Allocation stopping"; },
      { danger: true, disabled: a.DesiredStatus !== "run", confirm: "Yes, stop" }),
  ];
}

function tasksTable(a) {
  const names = Object.keys(a.TaskStates || {});
  for (const t of (a.Job?.TaskGroups || []).find((g) => g.Name === a.TaskGroup)?.Tasks || []) {
    if (!names.includes(t.Name)) names.push(t.Name);
  }
  return table([
    { title: "Name", render: (n) => h("a", { href: taskHref(a.ID, n) }, n) },
    { title: "State", render: (n) => badge(a.TaskStates?.[n]?.State || "pending") },
    { title: "Last event", render: (n) => lastEvent(a.TaskStates?.[n])?.Type || "–" },
    { title: "Time", class: "nowrap", render: (n) => when(lastEvent(a.TaskStates?.[n])?.Time) },
    { title: "Restarts", class: "num", render: (n) => String(a.TaskStates?.[n]?.Restarts || 0) },
    { title: "", class: "nowrap", render: (n) => h("span.row",
      h("a.btn.btn-small", { href: taskHref(a.ID, n, "logs") }, "Logs"),
      h("a.btn.btn-small", { href: taskHref(a.ID, n, "fs") }, "Files"),
      a.TaskStates?.[n]?.State === "running" ? h("a.btn.btn-small", { href: taskHref(a.ID, n, "exec") }, "Exec") : null) },
  ], names, { empty: "No tasks", rowHref: (n) => taskHref(a.ID, n), label: "Tasks" });
}

export function taskTabs(a, task, active) {
  return tabs([["", "Overview", taskHref(a.ID, task)], ["logs", "Logs", taskHref(a.ID, task, "logs")],
    ["fs", "Files", taskHref(a.ID, task, "fs")], ["exec", "Exec", taskHref(a.ID, task, "exec")]], active);
}

export function taskHead(a, task, active, actions = []) {
  const state = a.TaskStates?.[task];
  return [allocCrumbs(a, task), pageHeader(task, { subtitle: `Task of allocation ${shortId(a.ID)} (${a.Name})`,
    badges: [badge(state?.State || "pending")], actions }), taskTabs(a, task, active)];
}

export async function taskPage(ctx) {
  const { alloc: id, task } = ctx.params;
  ctx.title(`${task} · ${shortId(id)}`);
  const head = h("div");
  const info = h("div");
  const events = h("div");
  let statsSlot = null;
  ctx.el.append(head, info);
  await live(ctx, `/v1/allocation/${id}`, (a) => {
    const state = a.TaskStates?.[task] || {};
    const spec = (a.Job?.TaskGroups || []).find((g) => g.Name === a.TaskGroup)?.Tasks?.find((t) => t.Name === task);
    if (!spec && !a.TaskStates?.[task]) throw Object.assign(new Error(`Allocation has no task "${task}"`), { status: 404 });
    if (!statsSlot) {
      statsSlot = utilization(ctx, a, task);
      ctx.el.append(statsSlot, events);
    }
    fill(head, taskHead(a, task, "", [
      confirmButton("Restart task", async () => {
        await put(`/v1/client/allocation/${a.ID}/restart`, { TaskName: task });
        return `Task ${task} restarting`;
      }, { disabled: state.State !== "running", confirm: "Yes, restart" })]));
    fill(info, section("Details", kv([
      ["Driver", spec?.Driver], ["Lifecycle", spec?.Lifecycle ? spec.Lifecycle.Hook : "main"],
      ["Started", toDate(state.StartedAt) ? h("span", timestamp(state.StartedAt), " (", when(state.StartedAt), ")") : "–"],
      ["Finished", toDate(state.FinishedAt) ? timestamp(state.FinishedAt) : "–"],
      ["Restarts", String(state.Restarts || 0)], ["Failed", state.Failed ? "yes" : "no"],
    ])));
    fill(events, section("Recent events", table([
      { title: "Time", class: "nowrap", render: (e) => timestamp(e.Time) },
      { title: "Type", render: (e) => e.Type },
      { title: "Description", render: (e) => e.DisplayMessage || e.Message || "–" },
    ], [...(state.Events || [])].reverse(), { empty: "No events yet", label: "Task events" })));
  });
}
